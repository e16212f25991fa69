"""manage.py sync_integrations [--connection ID] [--since YYYY-MM-DD] [--kind KIND]

Runs the sync of every enabled connection (or one) now, in this process, and prints each run's
outcome. The same code the scheduler and the admin's "Sync now" run.
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Connection, SyncRun
from integrations.services import connection_sync


class Command(BaseCommand):
    help = "Sync integrations now (all enabled connections, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, help="Connection id (default: every enabled connection).")
        parser.add_argument("--since", help="Re-read from this date (YYYY-MM-DD) instead of the saved cursor.")
        parser.add_argument("--kind", action="append", help="Only this kind of sync (repeatable).")

    def handle(self, *args, connection=None, since=None, kind=None, **options):
        try:
            since_date = dt.date.fromisoformat(since) if since else None
        except ValueError as exc:
            raise CommandError(f"--since must be a date like 2026-01-31, not {since!r}") from exc
        connections = Connection.objects.all() if connection else Connection.objects.filter(enabled=True)
        if connection:
            connections = connections.filter(pk=connection)
            if not connections.exists():
                raise CommandError(f"There is no connection {connection}.")
        failed = False
        for conn in connections:
            runs = connection_sync(connection=conn, since=since_date, kinds=kind, trigger=SyncRun.Trigger.COMMAND)
            if not runs:
                self.stdout.write(f"{conn}: already syncing elsewhere, skipped")
            for run in runs:
                self.stdout.write(
                    f"{conn} {run.kind}: {run.status} — fetched {run.fetched}, created {run.created}, "
                    f"updated {run.updated}, skipped {run.skipped}, failed {run.failed}"
                    + (f" — {run.error}" if run.error else "")
                )
                failed |= run.status == SyncRun.Status.FAILED
        if failed:
            raise CommandError("At least one run failed (see above and the admin's sync runs).")
