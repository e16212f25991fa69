"""Celery entry points (thin): the beat-driven scheduler and one connection's sync."""
from celery import shared_task

from integrations.models import Connection, SyncRun
from integrations.services import connection_sync, connections_due


@shared_task(name="integrations.sync_connection", ignore_result=True)
def sync_connection(connection_id: int, trigger: str = SyncRun.Trigger.SCHEDULE, since: str | None = None) -> None:
    import datetime as dt

    connection = Connection.objects.filter(pk=connection_id).first()
    # The scheduler only syncs enabled connections; "Sync now" is a manager's explicit request
    # and runs a disabled one too (as `sync_integrations --connection ID` does).
    if connection is None or (trigger == SyncRun.Trigger.SCHEDULE and not connection.enabled):
        return
    connection_sync(connection=connection, trigger=trigger, since=dt.date.fromisoformat(since) if since else None)


@shared_task(name="integrations.sync_due_connections", ignore_result=True)
def sync_due_connections() -> None:
    """Every minute (beat): queue the connections whose schedule says they are due."""
    for connection_id in connections_due():
        sync_connection.delay(connection_id)
