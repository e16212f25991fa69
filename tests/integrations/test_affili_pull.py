"""Contract tests: the real AffiliConnector pulls conversions from the fake Affili on loopback —
status and wage stored, Jalali times converted, Gregorian filters, pagination with or without
meta, an interrupted pull resumed, and every failure mode the client must survive."""
import datetime as dt
import logging
import time
from decimal import Decimal

import pytest

from integrations.affili.client import AffiliClient
from integrations.affili.models import AffiliConversion
from integrations.client import AuthError, RejectedError
from integrations.models import Connection, Network, SyncItemError, SyncRun
from integrations.services import connection_sync, connection_test
from tests.fakes.affili import FakeAffili

pytestmark = pytest.mark.django_db

KEY = "affili-access-id-9f8e7d"
FAST = {"retries": 2, "backoff_factor": 0, "max_retry_after": 0.5, "timeout": (2.0, 5.0)}


@pytest.fixture
def fake():
    with FakeAffili(keys={KEY}, forbidden_keys={"read-only-id"}) as fake:
        yield fake


def make_connection(fake, *, key=KEY, **options) -> Connection:
    connection = Connection(network=Network.AFFILI, name="Affili", base_url=fake.url,
                            options={"page_size": 10, **options})
    connection.set_secret(key)
    connection.save()
    return connection


@pytest.fixture
def connection(fake):
    return make_connection(fake)


def pull(connection, **kwargs) -> SyncRun:
    [run] = connection_sync(connection=connection, kinds=["conversions_pull"], **FAST, **kwargs)
    connection.refresh_from_db()
    return run


def list_requests(fake):
    return [r for r in fake.requests if r.method == "GET" and r.path == "/api/merchants/conversions"]


def test_pull_stores_status_wage_and_the_jalali_times_in_utc(fake, connection):
    # given the documented sample, served verbatim (its times in Jalali, its type an integer)
    fake.add_conversion(external_id="1234", amount=200, status=1, wage=40, affili_id="eroxr", is_closed=1,
                        checked_out=1, extra={"created_at": "1399-01-17 12:46:38", "updated_at": "1399-02-10 19:30:50",
                                              "type": 6})

    run = pull(connection)

    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 1
    conversion = AffiliConversion.objects.get(connection=connection, external_id="1234")
    assert conversion.affili_id == "eroxr"
    assert conversion.status == AffiliConversion.Status.APPROVED
    assert conversion.wage == Decimal("40.00") and conversion.amount == Decimal("200.00")
    assert conversion.created_at == dt.datetime(2020, 4, 5, 8, 16, 38, tzinfo=dt.UTC)
    assert conversion.updated_at == dt.datetime(2020, 4, 29, 15, 0, 50, tzinfo=dt.UTC)
    assert conversion.conversion_type == "6"
    assert conversion.is_closed and conversion.checked_out
    assert conversion.publisher_id == "0j18r"


def test_every_status_and_both_shapes_of_type_are_taken(fake, connection):
    fake.generate(5)  # statuses 0, 1, 1, 2, 3; types buy, 6, buy, 6, buy

    pull(connection)

    rows = {c.external_id: c for c in AffiliConversion.objects.filter(connection=connection)}
    assert [rows[f"order-{i}"].status for i in range(5)] == ["pending", "approved", "approved", "rejected",
                                                              "duplicated"]
    assert [rows[f"order-{i}"].conversion_type for i in range(2)] == ["buy", "6"]
    assert rows["order-1"].wage == Decimal(fake.render(fake.by_external["order-1"])["wage"])


@pytest.mark.parametrize(("paging", "expected_pages"), [
    ("bare", [1, 2, 3]),  # no meta: a full second page says nothing, so a third (empty) one is asked
    ("meta", [1, 2]),  # meta says page 2 of 2
    ("laravel", [1, 2]),  # the paginator object around the list
])
def test_pages_are_followed_with_or_without_pagination_meta(fake, connection, paging, expected_pages):
    fake.paging = paging
    fake.generate(20)

    run = pull(connection)

    assert [int(r.arg("page")) for r in list_requests(fake)] == expected_pages
    assert {r.arg("per_page") for r in list_requests(fake)} == {"10"}
    assert run.fetched == 20 and run.created == 20
    assert AffiliConversion.objects.filter(connection=connection).count() == 20


def test_a_short_page_ends_the_pass(fake, connection):
    fake.generate(25)

    pull(connection)

    assert [int(r.arg("page")) for r in list_requests(fake)] == [1, 2, 3]
    assert AffiliConversion.objects.filter(connection=connection).count() == 25


def test_a_short_first_page_without_meta_is_checked_for_a_cap_on_per_page(fake, connection):
    fake.max_per_page = 4  # the server gives at most 4 whatever we ask, and says nothing
    fake.generate(10)

    run = pull(connection)

    assert [(r.arg("page"), r.arg("per_page")) for r in list_requests(fake)] == [("1", "10"), ("2", "4"), ("3", "4")]
    assert run.created == 10 and AffiliConversion.objects.count() == 10


def test_a_short_first_page_that_is_the_end_costs_one_more_request(fake, connection):
    fake.generate(3)

    pull(connection)

    assert [(r.arg("page"), r.arg("per_page")) for r in list_requests(fake)] == [("1", "10"), ("2", "3")]


def test_next_pull_asks_gregorian_updates_since_the_watermark_and_takes_new_statuses(fake, connection):
    fake.generate(12)  # updated_at up to 2022-01-01 01:50 + 6 h (order-11: 01:50 + 4 h) ...
    first = pull(connection)
    newest = max(AffiliConversion.objects.values_list("updated_at", flat=True))
    assert connection.cursors["conversions_pull"] == {"since": newest.isoformat()}
    assert first.created == 12

    # when Affili approves one conversion and rejects another
    fake.review("order-0", status=1, wage="512.5", at=dt.datetime(2022, 6, 1, 9, tzinfo=dt.UTC))
    fake.review("order-4", status=2, at=dt.datetime(2022, 6, 1, 9, tzinfo=dt.UTC))
    fake.requests.clear()
    second = pull(connection)

    # then every page asks for updates since the watermark less 6 hours, in Gregorian Tehran
    # time (+03:30 in January), and the fake took it
    expected = (newest - dt.timedelta(hours=6)).astimezone(dt.timezone(dt.timedelta(hours=3, minutes=30)))
    assert {r.arg("min_updated_at") for r in list_requests(fake)} == {expected.strftime("%Y-%m-%d %H:%M:%S")}
    assert expected.strftime("%Y-%m-%d") == "2022-01-01"
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.updated == 2 and second.created == 0
    approved = AffiliConversion.objects.get(external_id="order-0")
    assert approved.status == "approved" and approved.wage == Decimal("512.50")
    assert approved.updated_at == dt.datetime(2022, 6, 1, 9, tzinfo=dt.UTC)
    assert AffiliConversion.objects.get(external_id="order-4").status == "rejected"
    assert connection.cursors["conversions_pull"] == {"since": "2022-06-01T09:00:00+00:00"}


def test_since_re_reads_from_a_gregorian_date(fake, connection):
    fake.generate(3)

    pull(connection, since=dt.date(2021, 12, 31))

    assert list_requests(fake)[0].arg("min_updated_at") == "2021-12-31 00:00:00"
    assert AffiliConversion.objects.count() == 3


def test_the_fake_refuses_a_jalali_filter_as_affili_documents(fake):
    client = AffiliClient(secret=KEY, base_url=fake.url, **FAST)

    with pytest.raises(RejectedError, match="Gregorian"):
        client.conversions_list(page=1, per_page=10, filters={"min_updated_at": "1399-01-17 00:00:00"})


def test_a_replayed_pull_creates_nothing(fake, connection):
    fake.generate(30)
    pull(connection)

    replay = pull(connection, since=dt.date(2021, 1, 1))

    assert replay.fetched == 30 and replay.created == 0 and replay.updated == 0 and replay.skipped == 30
    assert AffiliConversion.objects.count() == 30


def test_an_interrupted_pull_resumes_from_its_page_without_duplicates(fake, connection):
    fake.generate(50)
    fake.fail_next(502, times=99, when="page=4")

    broken = pull(connection)

    assert broken.status == SyncRun.Status.FAILED and "502" in broken.error
    assert AffiliConversion.objects.count() == 30  # pages 1-3 were committed with their cursor
    assert connection.cursors["conversions_pull"]["pass"]["page"] == 4

    fake.clear_failures()
    fake.requests.clear()
    resumed = pull(connection)

    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert resumed.resumed_from["pass"]["page"] == 4
    assert [int(r.arg("page")) for r in list_requests(fake)] == [4, 5, 6]
    assert resumed.created == 20
    assert AffiliConversion.objects.count() == 50
    assert "pass" not in connection.cursors["conversions_pull"]


def test_an_unreadable_conversion_is_an_item_error_and_the_rest_are_kept(fake, connection):
    fake.generate(3)
    fake.add_conversion(external_id="bad-date", amount=10, extra={"updated_at": "2020-04-05 12:00:00"})
    fake.add_conversion(external_id="bad-status", amount=10, extra={"status": 9})

    run = pull(connection)

    assert run.status == SyncRun.Status.PARTIAL and run.failed == 2
    assert AffiliConversion.objects.count() == 3
    errors = {e.external_id: e.message for e in SyncItemError.objects.filter(run=run)}
    assert "does not look like a Jalali date" in errors["bad-date"]
    assert "unknown status 9" in errors["bad-status"]


def test_a_server_error_is_retried(fake, connection):
    fake.generate(3)
    fake.fail_next(503, times=2)

    run = pull(connection)

    assert run.status == SyncRun.Status.SUCCEEDED and AffiliConversion.objects.count() == 3
    assert [r.arg("page") for r in list_requests(fake)] == ["1", "1", "1", "2"]  # two 503s, then pages 1-2


def test_lasting_server_errors_fail_the_run_with_a_message(fake, connection):
    fake.fail_next(500, times=10)

    run = pull(connection)

    assert run.status == SyncRun.Status.FAILED
    assert "server error 500" in run.error or "gave up" in run.error


def test_rate_limiting_waits_for_retry_after(fake, connection):
    fake.generate(3)
    fake.fail_next(429, retry_after=0.3)

    started = time.monotonic()
    run = pull(connection)

    assert time.monotonic() - started >= 0.3
    assert run.status == SyncRun.Status.SUCCEEDED and AffiliConversion.objects.count() == 3


def test_lasting_rate_limiting_fails_the_run_and_keeps_the_cursor(fake, connection):
    fake.generate(30)
    fake.fail_next(429, times=10, retry_after=0.05, when="page=2")

    run = pull(connection)

    assert run.status == SyncRun.Status.FAILED and "rate limiting" in run.error
    assert connection.cursors["conversions_pull"]["pass"]["page"] == 2


def test_malformed_json_fails_the_run_with_a_message(fake, connection):
    fake.fail_next(200, malformed=True)

    run = pull(connection)

    assert run.status == SyncRun.Status.FAILED and "not JSON" in run.error
    assert AffiliConversion.objects.count() == 0


def test_an_error_envelope_with_status_200_is_a_rejection(fake, connection):
    fake.fail_next(200, body={"status": "error", "message": "Merchant is suspended."})

    run = pull(connection)

    assert run.status == SyncRun.Status.FAILED and "Merchant is suspended." in run.error


def test_connection_test_says_whether_the_access_id_works(fake, connection):
    assert connection_test(connection=connection, **FAST) == "Affili accepted the access ID (no conversions yet)."

    with pytest.raises(AuthError) as rejected:
        connection_test(connection=_renamed(fake, "wrong-id"), **FAST)
    assert rejected.value.message == "Affili rejected the access ID (401): Unauthenticated."

    with pytest.raises(AuthError) as forbidden:
        connection_test(connection=_renamed(fake, "read-only-id"), **FAST)
    assert forbidden.value.message.startswith("Affili: the access ID lacks permission (403)")
    assert [r.header("authorization") for r in fake.requests][:2] == [f"Bearer {KEY}", "Bearer wrong-id"]


def _renamed(fake, key, *, name="") -> Connection:
    connection = Connection(network=Network.AFFILI, name=name or f"Affili {key}", base_url=fake.url)
    connection.set_secret(key)
    connection.save()
    return connection


def test_the_access_id_never_reaches_the_logs_or_the_runs(fake, connection, caplog):
    caplog.set_level(logging.DEBUG)
    fake.generate(15)
    fake.add_conversion(external_id="bad", amount=1, extra={"created_at": "nonsense"})
    fake.fail_next(503, times=1)
    fake.fail_next(429, times=1, retry_after=0.01)

    pull(connection)
    fake.fail_next(500, times=3)
    pull(connection)
    bad_key = _renamed(fake, "wrong-" + KEY, name="Affili (old key)")
    connection_sync(connection=bad_key, **FAST)

    assert SyncRun.objects.filter(status=SyncRun.Status.FAILED).count() == 2
    assert "rejected the access ID (401)" in caplog.text
    stored = " ".join(SyncRun.objects.values_list("error", flat=True)) + " ".join(
        SyncItemError.objects.values_list("message", flat=True))
    assert KEY not in caplog.text and KEY not in stored
    assert "wrong-" not in caplog.text
