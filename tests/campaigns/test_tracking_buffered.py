"""TRACKING_BUFFERED_WRITES: on PostgreSQL a click's visit gets its id at once and is written
in bulk by a background thread; elsewhere (SQLite, inside a transaction) it falls back to the
direct INSERT. Most tests need PostgreSQL; the writer thread's connection must see the test's
rows, hence transaction=True."""
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import tracking
from campaigns.models import Landing, Visit
from campaigns.services import visit_buffer
from campaigns.services.visit_buffer import visits_buffer_stop, visits_flush
from campaigns.services.visits import visit_record
from tests.campaigns.factories import PromoFactory

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"
BASE_DIR = Path(__file__).resolve().parents[2]

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="buffered writes apply on PostgreSQL only (run with DATABASE_URL=postgres://...)",
)


@pytest.fixture(autouse=True)
def _buffered(settings):
    settings.TRACKING_BUFFERED_WRITES = True
    tracking.tracking_cache_clear()
    yield
    # Before the database is emptied or dropped: no writer thread or connection may outlive a test.
    visits_buffer_stop()
    tracking.tracking_cache_clear()


def make_promo(url="https://aurora.example/welcome?lang=de"):
    promo = PromoFactory()
    Landing.objects.filter(pk=promo.landing_id).update(url=url)
    return promo


def click(client, promo, query="sub_id=1"):
    response = client.get(f"{reverse('track', kwargs={'code': promo.code})}?{query}",
                          HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.10")
    assert response.status_code == 302
    return response


def tag_of(response) -> str:
    return dict(parse_qsl(urlsplit(response["Location"]).query))["stag"]


def visit_id_of(response) -> int:
    return int(tag_of(response).split("_")[1])


def buffer_of_this_process() -> visit_buffer._VisitBuffer:
    return visit_buffer._buffers[connection.alias]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_tag_names_the_visit_stored_once_flushed_and_the_click_waits_on_no_insert(client):
    promo = make_promo()
    click(client, promo, "sub_id=warm")  # caches the promo, reserves a block of ids

    with CaptureQueriesContext(connection) as queries:
        response = click(client, promo, "sub_id=abc&utm_source=news")
    visits_flush()

    assert queries.captured_queries == []  # no INSERT (nor anything else) in the request
    visit = Visit.objects.get(pk=visit_id_of(response))
    assert tag_of(response) == visit.tag == f"{promo.affiliate_id}_{visit.pk}"
    assert (visit.promo_id, visit.ip, visit.user_agent) == (promo.pk, "198.51.100.10", BROWSER)
    assert visit.params == {"sub_id": "abc", "utm_source": "news"}
    assert Visit.objects.count() == 2


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_stores_clicks_without_being_asked(client):
    promo = make_promo()

    visit_id = visit_id_of(click(client, promo))

    deadline = time.monotonic() + 2.0
    while not Visit.objects.filter(pk=visit_id).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Visit.objects.filter(pk=visit_id).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_clicks_from_many_threads_are_all_stored_once_with_distinct_ids(monkeypatch):
    # Small blocks and batches: threads run out of ids together and flushes overlap clicks.
    monkeypatch.setattr(visit_buffer, "ID_BLOCK_SIZE", 7)
    monkeypatch.setattr(visit_buffer, "FLUSH_ROWS", 10)
    promo = make_promo()
    tags: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def visitor(n: int):
        client = Client()
        try:
            mine = [tag_of(click(client, promo, f"sub_id=t{n}-{i}")) for i in range(30)]
            with lock:
                tags.extend(mine)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    visits_flush()

    assert failures == []
    ids = [int(tag.split("_")[1]) for tag in tags]
    assert len(ids) == 240 and len(set(ids)) == 240
    stored = list(Visit.objects.values_list("pk", "params"))
    assert sorted(pk for pk, _ in stored) == sorted(ids)
    assert len({params["sub_id"] for _, params in stored}) == 240


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_visit_that_cannot_be_stored_does_not_lose_the_others(caplog, monkeypatch):
    monkeypatch.setattr(visit_buffer, "FLUSH_INTERVAL_SECONDS", 60.0)  # one batch, on visits_flush()
    promo = make_promo()
    first = visit_record(promo_id=promo.pk, affiliate_id=promo.affiliate_id, ip=None,
                         user_agent="a", referrer="", params={}, buffered=True)
    # A promo deleted by another process while this one still had it cached.
    orphan = visit_record(promo_id=promo.pk + 1000, affiliate_id=promo.affiliate_id, ip=None,
                          user_agent="b", referrer="", params={}, buffered=True)
    last = visit_record(promo_id=promo.pk, affiliate_id=promo.affiliate_id, ip=None,
                        user_agent="c", referrer="", params={}, buffered=True)

    with caplog.at_level(logging.WARNING, logger="campaigns.services.visit_buffer"):
        visits_flush()

    assert set(Visit.objects.values_list("pk", flat=True)) == {first.pk, last.pk}
    assert f"buffered visit {orphan.pk} (promo {promo.pk + 1000}) could not be stored" in caplog.text


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_failure_other_than_the_database_is_logged_and_the_writer_keeps_going(client, monkeypatch, caplog):
    monkeypatch.setattr(visit_buffer, "FLUSH_INTERVAL_SECONDS", 60.0)  # one batch, on visits_flush()
    promo = make_promo()
    real_insert = visit_buffer._VisitBuffer._insert
    calls = []

    def insert_failing_once(self, rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return real_insert(self, rows)

    monkeypatch.setattr(visit_buffer._VisitBuffer, "_insert", insert_failing_once)
    ids = [visit_id_of(click(client, promo, f"sub_id={i}")) for i in range(3)]

    with caplog.at_level(logging.WARNING, logger="campaigns.services.visit_buffer"):
        visits_flush()
    later = visit_id_of(click(client, promo))
    visits_flush()

    assert calls[:4] == [3, 1, 1, 1]  # the batch, then row by row
    assert set(Visit.objects.values_list("pk", flat=True)) == {*ids, later}
    assert "retrying them one by one" in caplog.text


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_forked_process_starts_its_own_buffer_thread_and_ids(client):
    promo = make_promo()
    click(client, promo)
    visits_flush()
    parent = buffer_of_this_process()
    parents_ids = set(parent.ids)
    assert parents_ids  # the rest of the parent's block

    parent.pid = -1  # as the child of a fork sees its copy: another process's
    child_visit = visit_id_of(click(client, promo))
    visits_flush()

    child = buffer_of_this_process()
    assert child is not parent and child.pid == os.getpid()
    assert child.thread.is_alive() and child.thread is not parent.thread
    assert child_visit not in parents_ids and child_visit > max(parents_ids)
    parent.thread.join(2)
    assert not parent.thread.is_alive()  # a copied buffer writes nothing (a real fork has no thread)
    assert Visit.objects.filter(pk=child_visit).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_fork_hook_forgets_the_parents_buffer(client):
    promo = make_promo()
    click(client, promo)
    visits_flush()
    parent = buffer_of_this_process()

    visit_buffer._after_fork_in_child()
    click(client, promo)

    assert buffer_of_this_process() is not parent
    parent.stop()  # in a real child it would not exist; here it is this process's, still running


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_full_buffer_falls_back_to_a_direct_insert(client, monkeypatch):
    monkeypatch.setattr(visit_buffer, "MAX_BUFFERED_ROWS", 0)
    promo = make_promo()

    visit_id = visit_id_of(click(client, promo))

    assert Visit.objects.filter(pk=visit_id).exists()  # without any flush


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_process_writes_its_buffer_when_it_exits():
    promo = make_promo()
    script = (
        "import django; django.setup()\n"
        "from campaigns.services.visits import visit_record\n"
        f"ids = [visit_record(promo_id={promo.pk}, affiliate_id={promo.affiliate_id}, ip=None, user_agent='x',"
        " referrer='', params={}, buffered=True).pk for _ in range(5)]\n"
        "print(','.join(map(str, ids)))\n"  # and exits at once, well within the flush interval
    )
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings", "DATABASE_URL": url,
           "TRACKING_BUFFERED_WRITES": "true", "LOG_LEVEL": "WARNING"}

    done = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    ids = {int(pk) for pk in done.stdout.strip().split(",")}
    assert set(Visit.objects.values_list("pk", flat=True)) == ids


@pytest.mark.django_db
def test_inside_a_transaction_a_buffered_visit_is_inserted_at_once(client):
    # Any database: the test's transaction is a caller's transaction; the visit joins it.
    promo = make_promo()

    response = click(client, promo)

    assert Visit.objects.get().pk == visit_id_of(response)
    assert visit_buffer._buffers == {}


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the fallback of databases other than PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_buffered_writes_fall_back_to_direct_inserts(client):
    promo = make_promo()

    with CaptureQueriesContext(connection) as queries:
        response = click(client, promo)

    assert Visit.objects.get().pk == visit_id_of(response)  # stored before the redirect, no flush
    assert sum("INSERT" in q["sql"].upper() for q in queries.captured_queries) == 1
    assert visit_buffer._buffers == {}
