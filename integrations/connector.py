"""What a network connector is, and the run context it reports progress through.

A connector (integrations/<network>/connector.py) subclasses Connector:

    class AffiliConnector(Connector):
        network = Network.AFFILI
        kinds = ("referrals", "conversions_push", "conversions_pull")   # run in this order
        client_class = AffiliClient

        def test(self) -> str: ...          # one cheap authenticated call; a sentence for the admin
        def run(self, kind, ctx) -> None:   # one kind of sync

Inside `run`, a connector works page by page:

    state = ctx.state                       # where the last run of this kind stopped ({} first)
    for page in ...:
        with transaction.atomic():
            ... upsert rows by external id ...; ctx.created += 1 / ctx.updated += 1 ...
            ctx.item_failed(external_id, message, status_code=..., payload=...)   # per-item error
            ctx.checkpoint({"page": n + 1, ...})   # saved with the page's rows
    ctx.checkpoint({"since": "..."}) once a pass is complete (the next run starts from there)

`ctx.since` (manage.py sync_integrations --since) wins over the saved state: re-read from that
date. Raise an IntegrationError (from integrations.client) to fail the whole run with a message
for the manager; per-item problems go to ctx.item_failed and make the run "partial".

Counters and the cursor reach the database at each checkpoint, in the page's transaction:
an interrupted run leaves its cursor at the last committed page, and the next run resumes
from it without creating duplicates (the upserts are idempotent anyway).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import Connection, SyncItemError, SyncRun

# Item errors kept per run (the count goes on): a run where everything fails stays readable.
MAX_ITEM_ERRORS = 500


def _json_safe(payload):
    """A network's row as stored with its error: the client decodes numbers with a fraction to
    Decimal, which a JSONField cannot store as such; they are kept as exact strings."""
    if payload is None:
        return None
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


class RunContext:
    def __init__(self, *, run: SyncRun, connection: Connection, since: dt.date | None, lock_token: str = "",
                 lock_ttl: dt.timedelta | None = None):
        self.run = run
        self.lock_token = lock_token
        self.lock_ttl = lock_ttl
        self.connection = connection
        self.since = since
        self.state: dict = dict((connection.cursors or {}).get(run.kind) or {})
        self.fetched = self.created = self.updated = self.skipped = self.failed = 0
        self._flushed = dict.fromkeys(("fetched", "created", "updated", "skipped", "failed"), 0)
        self._errors: list[SyncItemError] = []
        self._errors_kept = 0

    def item_failed(self, external_id, message: str, *, status_code: int | None = None, payload=None) -> None:
        self.failed += 1
        if self._errors_kept < MAX_ITEM_ERRORS:
            self._errors_kept += 1
            self._errors.append(SyncItemError(
                run=self.run, external_id=str(external_id or "")[:120], message=str(message)[:2000],
                status_code=status_code, payload=_json_safe(payload),
            ))

    def checkpoint(self, state: dict | None = None) -> None:
        """Save counters, item errors and (if given) the new cursor. Call it inside the page's
        transaction so rows and cursor commit together."""
        if state is not None:
            self.state = dict(state)
        with transaction.atomic():
            deltas = {name: getattr(self, name) - self._flushed[name] for name in self._flushed}
            SyncRun.objects.filter(pk=self.run.pk).update(
                cursor=self.state, **{name: F(name) + delta for name, delta in deltas.items() if delta},
            )
            self._flushed = {name: getattr(self, name) for name in self._flushed}
            if self._errors:
                SyncItemError.objects.bulk_create(self._errors)
                self._errors = []
            if self.lock_token and self.lock_ttl:
                # A run that checkpoints is alive: keep its lock from expiring under it.
                Connection.objects.filter(pk=self.connection.pk, lock_token=self.lock_token).update(
                    lock_expires_at=timezone.now() + self.lock_ttl,
                )
            if state is not None:
                # Only this kind's cursor changes; other kinds' cursors are left as they are.
                connection = Connection.objects.select_for_update().get(pk=self.connection.pk)
                cursors = dict(connection.cursors or {})
                cursors[self.run.kind] = self.state
                Connection.objects.filter(pk=connection.pk).update(cursors=cursors)
                self.connection.cursors = cursors


class Connector:
    network: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ()
    client_class: ClassVar[type] = None

    def __init__(self, connection: Connection, **client_kwargs):
        self.connection = connection
        self.client = self.client_class.for_connection(connection, **client_kwargs)

    def test(self) -> str:
        raise NotImplementedError

    def run(self, kind: str, ctx: RunContext) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.client.close()
