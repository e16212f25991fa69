"""Writes of the integrations framework: connections, their test call, and sync runs.

`connection_sync` is what the scheduler, the admin's "Sync now" and `manage.py
sync_integrations` all call. It takes the connection's lock (a conditional UPDATE, so two
workers — or a worker and a command — never run one connection at once), runs each kind of the
network's connector in order, records a SyncRun per kind and releases the lock. A run that
died without releasing (a killed worker) is marked failed once its lock has expired, and the
next run resumes from that kind's cursor.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.client import IntegrationError
from integrations.connector import RunContext
from integrations.models import Connection, SyncRun
from integrations.registry import connector_for

log = logging.getLogger(__name__)


class IntegrationsError(IntegrationError):
    pass


def _lock_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "INTEGRATIONS_LOCK_SECONDS", 30 * 60))


def connection_save(*, connection: Connection, secret: str | None = None) -> Connection:
    """Save a connection (admin form); a non-empty `secret` replaces the stored one."""
    if secret:
        connection.set_secret(secret.strip())
    if connection.next_sync_at is None:
        connection.schedule_next(after=timezone.now() - dt.timedelta(minutes=connection.sync_interval_minutes or 0))
    connection.save()
    return connection


def connection_test(*, connection: Connection, **client_kwargs) -> str:
    """One cheap authenticated call; returns a sentence for the admin or raises IntegrationError
    with one ("Affilae rejected the credentials (401)")."""
    if not connection.secret:
        raise IntegrationsError(f"{connection.get_network_display()}: no API key is saved for this connection.")
    connector = connector_for(connection, **client_kwargs)
    try:
        return connector.test()
    finally:
        connector.close()


def _lock_acquire(connection: Connection) -> str | None:
    token = str(uuid.uuid4())
    now = timezone.now()
    got = Connection.objects.filter(
        Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lte=now), pk=connection.pk,
    ).update(lock_token=token, lock_expires_at=now + _lock_ttl())
    return token if got else None


def _lock_release(connection: Connection, token: str) -> None:
    Connection.objects.filter(pk=connection.pk, lock_token=token).update(lock_token="", lock_expires_at=None)


def _abandoned_runs_fail(connection: Connection) -> None:
    """Runs still 'running' while we hold the lock were cut off (their lock expired)."""
    SyncRun.objects.filter(connection=connection, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(),
        error="Interrupted: the run stopped without finishing (the next run resumes from its cursor).",
    )


def connection_sync(*, connection: Connection, since: dt.date | None = None, kinds: list[str] | None = None,
                    trigger: str = SyncRun.Trigger.SCHEDULE, **client_kwargs) -> list[SyncRun]:
    """Run the connection's sync kinds; returns their SyncRuns ([] if another run holds the lock)."""
    token = _lock_acquire(connection)
    if token is None:
        log.info("integrations: %s is already syncing; skipped", connection)
        return []
    runs = []
    try:
        _abandoned_runs_fail(connection)
        connection.refresh_from_db()
        connector = connector_for(connection, **client_kwargs)
        try:
            for kind in connector.kinds:
                if kinds and kind not in kinds:
                    continue
                runs.append(_run_kind(connector, connection, kind, since=since, trigger=trigger, token=token))
        finally:
            connector.close()
        now = timezone.now()
        connection.schedule_next(after=now)
        fields = {"next_sync_at": connection.next_sync_at}
        if runs and all(run.status == SyncRun.Status.SUCCEEDED for run in runs):
            fields["last_success_at"] = connection.last_success_at = now
        Connection.objects.filter(pk=connection.pk).update(**fields)
    finally:
        _lock_release(connection, token)
    return runs


def _run_kind(connector, connection, kind, *, since, trigger, token) -> SyncRun:
    resume = (connection.cursors or {}).get(kind) or None
    run = SyncRun.objects.create(connection=connection, kind=kind, trigger=trigger, since=since,
                                 cursor=resume or {}, resumed_from=resume)
    ctx = RunContext(run=run, connection=connection, since=since, lock_token=token, lock_ttl=_lock_ttl())
    status, error = SyncRun.Status.SUCCEEDED, ""
    try:
        connector.run(kind, ctx)
    except IntegrationError as exc:
        status, error = SyncRun.Status.FAILED, exc.message
        log.warning("integrations: %s %s failed: %s", connection, kind, exc.message)
    except Exception as exc:  # a bug must not leave the run 'running' forever; it is logged in full
        status, error = SyncRun.Status.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}"[:2000]
        log.exception("integrations: %s %s crashed", connection, kind)
    with transaction.atomic():
        ctx.checkpoint()  # flush counters and item errors of the last page
    run.refresh_from_db()
    if status == SyncRun.Status.SUCCEEDED and run.failed:
        status = SyncRun.Status.PARTIAL
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run


def connections_due() -> list[int]:
    return [c.pk for c in Connection.objects.filter(enabled=True, sync_interval_minutes__gt=0)
            .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=timezone.now())).only("pk")]
