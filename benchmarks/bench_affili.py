"""Affili: import 100,000 conversions, page by page, from the fake Affili into the database.

Ours: the real `conversions_pull` through `connection_sync` (pages of `page_size`, Jalali
times converted, one bulk upsert and one cursor checkpoint per page), then the same pull
replayed (`--since`: every row comes back unchanged; each page is compared with what we hold
and nothing is rewritten).
Baselines, same run, same fake: the fake's raw paging throughput — every page fetched with a
bare requests.Session and decoded, nothing stored (the ceiling the network sets) — and the
naive per-row ORM loop (`update_or_create` per conversion, autocommit) over the first 5,000,
run twice (inserts, then updates of the same rows).

The fake runs in its own process (spawned), as the real Affili would be remote: it does not
compete with the importer for the GIL.

Target (issue 6): at least 2,000 rows/s on PostgreSQL (BENCH_DATABASE_URL=postgres://...).
"""
import datetime as dt
import multiprocessing
import queue
import time

import requests
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from integrations.affili.client import AffiliClient
from integrations.affili.connector import DEFAULTS
from integrations.affili.models import AffiliConversion
from integrations.affili.payloads import PULLED_FIELDS, conversion_from_wire
from integrations.models import Connection, Network, SyncRun
from integrations.services import connection_sync
from tests.fakes.affili import serve

ROWS = 100_000
PAGE_SIZE = DEFAULTS["page_size"]  # the connector's default: the benchmark sets no option
SAMPLE = 5_000
KEY = "bench-affili-key"


def _wait_for(server, ready) -> str:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if not server.is_alive():
            raise RuntimeError(f"the fake Affili died (exit code {server.exitcode})")
        try:
            return ready.get(timeout=2)
        except queue.Empty:
            continue
    raise RuntimeError("the fake Affili did not start within 10 minutes")


def _raw_paging(url: str) -> float:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
    started, page, seen = time.perf_counter(), 1, 0
    while True:
        response = session.get(f"{url}/api/merchants/conversions", params={"page": page, "per_page": PAGE_SIZE},
                               headers=headers, timeout=(5, 60))
        items = response.json()["data"]
        seen += len(items)
        if len(items) < PAGE_SIZE:
            break
        page += 1
    assert seen == ROWS, seen
    return seen / (time.perf_counter() - started)


def _naive(url: str, connection: Connection) -> float:
    client = AffiliClient(secret=KEY, base_url=url)
    started, page, done = time.perf_counter(), 1, 0
    while done < SAMPLE:
        for item in client.conversions_list(page=page, per_page=PAGE_SIZE).items:
            row = conversion_from_wire(item, connection_id=connection.pk, now=timezone.now())
            AffiliConversion.objects.update_or_create(
                connection=connection, external_id=row.external_id,
                defaults={name: getattr(row, name) for name in PULLED_FIELDS},
            )
            done += 1
        page += 1
    client.close()
    return done / (time.perf_counter() - started)


def _connection(name: str, url: str) -> Connection:
    connection = Connection(network=Network.AFFILI, name=name, base_url=url, sync_interval_minutes=0)
    connection.set_secret(KEY)
    connection.save()
    return connection


def _pull(connection: Connection, **kwargs) -> float:
    started = time.perf_counter()
    [run] = connection_sync(connection=connection, kinds=["conversions_pull"], trigger=SyncRun.Trigger.COMMAND,
                            **kwargs)
    elapsed = time.perf_counter() - started
    assert run.status == SyncRun.Status.SUCCEEDED and run.fetched == ROWS, (run.status, run.error, run.fetched)
    return ROWS / elapsed


def run():
    debug, settings.DEBUG = settings.DEBUG, False  # no query log: measure the code, not DEBUG
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(ROWS, {KEY}, ready, stop), daemon=True)
    server.start()
    connections = []
    try:
        url = _wait_for(server, ready)
        ours = _connection("Bench Affili", url)
        naive = _connection("Bench Affili naive", url)
        connections = [ours, naive]
        raw = _raw_paging(url)
        first = _pull(ours)
        assert AffiliConversion.objects.filter(connection=ours).count() == ROWS
        replay = _pull(ours, since=dt.date(2021, 1, 1))
        assert AffiliConversion.objects.filter(connection=ours).count() == ROWS
        baseline = _naive(url, naive)
        baseline_replay = _naive(url, naive)
    finally:
        settings.DEBUG = debug
        for connection in connections:
            AffiliConversion.objects.filter(connection=connection).delete()
            connection.delete()
        stop.set()
        server.join(timeout=30)
    vendor = db.vendor
    per = f"{ROWS:,} conversions, pages of {PAGE_SIZE}"
    return [
        {"name": f"affili: pull {per} vs per-row ORM loop ({vendor})", "ours": first, "baseline": baseline,
         "unit": "rows/s", "lower_is_better": False},
        {"name": f"affili: pull {per} vs bare HTTP paging ({vendor})", "ours": first, "baseline": raw,
         "unit": "rows/s", "lower_is_better": False},
        {"name": f"affili: same pull replayed, all unchanged ({vendor})", "ours": replay, "baseline": baseline_replay,
         "unit": "rows/s", "lower_is_better": False},
    ]
