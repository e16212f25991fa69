"""Contract tests: the real AffilaeConnector against the fake Affilae on loopback —
partnerships history per sync date, commissions per date (cents → Decimal, currencies),
incremental look-back, failures (429, 5xx, malformed JSON, odd shapes), resume and replay."""
import datetime as dt
import logging
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
import time_machine
from django.core.management import CommandError, call_command

from integrations.affilae.client import AffilaeClient, items_of
from integrations.affilae.models import AffiliateProfile, CommissionDay, PartnershipSnapshot
from integrations.client import RejectedError, RemoteError
from integrations.models import Connection, SyncItemError, SyncRun
from integrations.services import connection_save, connection_sync
from tests.fakes.affilae import FakeAffilae
from tests.fakes.network import Reply, route

pytestmark = pytest.mark.django_db

KEY = "affilae-live-7f3e9c1b2a"
TODAY = dt.date(2026, 3, 10)
FAST = {"retries": 2, "backoff_factor": 0, "max_retry_after": 0.05}
S = SyncRun.Status


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)) as traveller:
        yield traveller


@pytest.fixture
def fake():
    # Pages of two, so every list with more than two things is read in several pages.
    with FakeAffilae(keys={KEY}, page_size=2) as server:
        yield server


@pytest.fixture
def ids(fake):
    blog = fake.add_profile("Casino Guide")
    news = fake.add_profile("Bet News")
    return SimpleNamespace(
        blog=blog, news=news,
        lucky=fake.add_partnership(blog, program="Lucky Spins", advertiser="Spins Ltd"),
        reels=fake.add_partnership(blog, program="Golden Reels", status="pending"),
        royal=fake.add_partnership(blog, program="Royal Jackpot", status="blocked"),
        goal=fake.add_partnership(news, program="Goal Bet", group="VIP"),
    )


def make_connection(fake, name="Affilae", **options) -> Connection:
    connection = Connection(network="affilae", name=name, base_url=fake.url,
                            options={"start_date": days_ago(5).isoformat(), "lookback_days": 2, **options})
    return connection_save(connection=connection, secret=KEY)


@pytest.fixture
def connection(fake, ids):
    return make_connection(fake)


def sync(connection, **kwargs) -> dict[str, SyncRun]:
    return {run.kind: run for run in connection_sync(connection=connection, **FAST, **kwargs)}


def seed_activity(fake, ids):
    """Six days of activity on Lucky Spins, clicks without sales on Goal Bet."""
    for n in range(6):
        day = days_ago(n)
        fake.add_traffic(ids.lucky, day, clicks=40 + n, impressions=900 + n)
        fake.add_conversion(ids.lucky, day, amount=10000, commission=1000)
        fake.add_conversion(ids.lucky, day, amount=5050, commission=234)
        fake.add_traffic(ids.goal, day, clicks=7, impressions=0)


def table(connection) -> list[tuple]:
    return sorted(CommissionDay.objects.filter(connection=connection).values_list(
        "date", "partnership_id", "profile__profile_id", "clicks", "impressions", "conversions", "commissions",
        "revenue", "currency"))


def kpi_requests(fake, start: int = 0):
    return [r for r in fake.requests[start:] if r.path == "/publisher/partnerships.kpis"]


def kpi_days(fake, start: int = 0) -> list[str]:
    return sorted({r.arg("from")[:10] for r in kpi_requests(fake, start)})


# --- partnerships_history ----------------------------------------------------------------------

def test_a_sync_stores_every_partnership_of_every_profile_as_of_today(connection, ids, fake):
    runs = sync(connection, kinds=["partnerships"])

    assert runs["partnerships"].status == S.SUCCEEDED
    assert (runs["partnerships"].fetched, runs["partnerships"].created) == (4, 4)
    lucky = PartnershipSnapshot.objects.get(partnership_id=ids.lucky)
    assert lucky.snapshot_date == TODAY
    assert (lucky.program_name, lucky.status, lucky.advertiser, lucky.tracking_id) == (
        "Lucky Spins", "active", "Spins Ltd", fake.partnership(ids.lucky)["trackingId"])
    assert lucky.program_id == fake.partnership(ids.lucky)["program"]["id"]
    assert lucky.profile.name == "Casino Guide" and lucky.profile.profile_id == ids.blog
    assert PartnershipSnapshot.objects.get(partnership_id=ids.goal).group_name == "VIP"
    assert set(AffiliateProfile.objects.values_list("name", flat=True)) == {"Casino Guide", "Bet News"}
    # Casino Guide's three partnerships came in two pages of two.
    offsets = [r.arg("offset") for r in fake.requests if r.path.endswith("partnerships.list")
               and r.arg("affiliateProfile") == ids.blog]
    assert offsets == ["0", "2"]
    assert all(r.arg("withProgramsDetails") == "true" for r in fake.requests if r.path.endswith("partnerships.list"))


def test_a_status_change_between_two_syncs_leaves_one_row_per_sync_date(connection, ids, fake, today):
    sync(connection, kinds=["partnerships"])
    fake.set_status(ids.reels, "active")
    today.move_to(dt.datetime(2026, 3, 11, 9, tzinfo=dt.UTC))

    sync(connection, kinds=["partnerships"])

    history = list(PartnershipSnapshot.objects.filter(partnership_id=ids.reels)
                   .order_by("snapshot_date").values_list("snapshot_date", "status"))
    assert history == [(TODAY, "pending"), (dt.date(2026, 3, 11), "active")]
    assert PartnershipSnapshot.objects.count() == 8


def test_a_second_sync_on_the_same_date_updates_that_dates_rows(connection, ids, fake):
    sync(connection, kinds=["partnerships"])
    fake.set_status(ids.royal, "cancelled")

    run = sync(connection, kinds=["partnerships"])["partnerships"]

    assert (run.created, run.updated, run.skipped) == (0, 1, 3)
    assert PartnershipSnapshot.objects.count() == 4
    assert PartnershipSnapshot.objects.get(partnership_id=ids.royal).status == "cancelled"


# --- commissions -------------------------------------------------------------------------------

def test_commissions_per_date_and_partnership_in_decimal_with_their_currency(connection, ids, fake):
    seed_activity(fake, ids)
    fake.add_conversion(ids.lucky, days_ago(1), amount=99900, commission=9990, status="refused")

    runs = sync(connection)

    assert runs["commissions"].status == S.SUCCEEDED, runs["commissions"].error
    row = CommissionDay.objects.get(date=days_ago(1), partnership_id=ids.lucky)
    assert (row.clicks, row.impressions, row.conversions) == (41, 901, 2)
    assert row.commissions == Decimal("12.34")  # 1000 + 234 cents; the refused one is not counted
    assert row.revenue == Decimal("150.50")  # 10000 + 5050 cents
    assert row.currency == "EUR"
    assert (row.profile.profile_id, row.program_name) == (ids.blog, "Lucky Spins")
    goal = CommissionDay.objects.get(date=days_ago(1), partnership_id=ids.goal)
    assert (goal.clicks, goal.conversions, goal.commissions, goal.revenue) == (7, 0, Decimal("0.00"), Decimal("0.00"))
    assert goal.profile.profile_id == ids.news
    # Six dates × two partnerships with activity; the idle ones get no rows.
    assert CommissionDay.objects.count() == 12
    assert kpi_days(fake) == [days_ago(n).isoformat() for n in range(5, -1, -1)]
    connection.refresh_from_db()
    assert connection.cursors["commissions"] == {"synced_through": TODAY.isoformat(), "complete": True}


def test_the_currency_goes_only_with_money_metrics(fake, ids):
    seed_activity(fake, ids)
    fake.add_conversion(ids.goal, days_ago(1), amount=2000, commission=500, currency="USD")
    connection = make_connection(fake, currency="USD")

    runs = sync(connection)

    assert runs["commissions"].status == S.SUCCEEDED, runs["commissions"].error
    sent = {(r.arg("metric"), r.arg("currency")) for r in kpi_requests(fake)}
    assert sent == {("clicks", None), ("impressions", None), ("conversionsTotal", None), ("commissionsTotal", "USD")}
    lucky = CommissionDay.objects.get(date=days_ago(1), partnership_id=ids.lucky)
    # Affilae converts KPI money (12.34 EUR at the fake's 1.10); conversion amounts it does not,
    # so the EUR sales are not USD revenue.
    assert (lucky.currency, lucky.commissions, lucky.revenue) == ("USD", Decimal("13.57"), Decimal("0.00"))
    goal = CommissionDay.objects.get(date=days_ago(1), partnership_id=ids.goal)
    assert (goal.commissions, goal.revenue) == (Decimal("5.00"), Decimal("20.00"))
    assert runs["commissions"].skipped >= 12  # the twelve EUR conversions, left out of USD revenue


def test_the_fake_refuses_a_currency_on_count_metrics_as_affilae_does(fake):
    client = AffilaeClient(secret=KEY, base_url=fake.url, **FAST)
    with pytest.raises(RejectedError, match=r"\(400\).*currency"):
        client.request("GET", "/publisher/partnerships.kpis",
                       params={"from": "2026-03-01", "to": "2026-03-01", "metric": "clicks", "currency": "EUR"})
    with pytest.raises(RejectedError, match=r"\(400\).*currency"):
        client.request("GET", "/publisher/partnerships.kpis",
                       params={"from": "2026-03-01", "to": "2026-03-01", "metric": "commissionsTotal"})


def test_a_second_run_rereads_only_the_lookback_days_and_updates_them(connection, ids, fake):
    seed_activity(fake, ids)
    sync(connection)
    before = CommissionDay.objects.count()
    refused = next(c["id"] for c in fake.conversions if c["createdAt"].startswith(days_ago(1).isoformat()))
    fake.set_conversion_status(refused, "refused")
    fake.add_traffic(ids.lucky, days_ago(4), clicks=999, impressions=999)  # outside the look-back
    mark = len(fake.requests)

    run = sync(connection)["commissions"]

    assert kpi_days(fake, mark) == [days_ago(1).isoformat(), TODAY.isoformat()]
    assert run.status == S.SUCCEEDED and (run.created, run.updated) == (0, 1)
    assert CommissionDay.objects.count() == before
    changed = CommissionDay.objects.get(date=days_ago(1), partnership_id=ids.lucky)
    assert (changed.conversions, changed.commissions, changed.revenue) == (1, Decimal("2.34"), Decimal("50.50"))
    assert CommissionDay.objects.get(date=days_ago(4), partnership_id=ids.lucky).clicks == 44


def test_a_day_whose_activity_disappears_loses_its_row(connection, ids, fake):
    fake.add_conversion(ids.reels, TODAY, amount=500, commission=50)
    sync(connection)
    assert CommissionDay.objects.filter(partnership_id=ids.reels).count() == 1
    fake.set_conversion_status(fake.conversions[0]["id"], "refused")

    sync(connection)

    assert not CommissionDay.objects.filter(partnership_id=ids.reels).exists()


def test_since_rereads_from_that_date(connection, ids, fake):
    seed_activity(fake, ids)
    sync(connection)
    fake.add_traffic(ids.lucky, days_ago(4), clicks=999, impressions=999)
    mark = len(fake.requests)

    out = StringIO()
    call_command("sync_integrations", "--connection", str(connection.pk), "--since", days_ago(4).isoformat(),
                 "--kind", "commissions", stdout=out)

    assert "commissions: succeeded" in out.getvalue()
    assert kpi_days(fake, mark) == [days_ago(n).isoformat() for n in range(4, -1, -1)]
    assert CommissionDay.objects.get(date=days_ago(4), partnership_id=ids.lucky).clicks == 999
    assert CommissionDay.objects.count() == 12


def test_a_replay_creates_no_duplicates(connection, ids, fake):
    seed_activity(fake, ids)
    sync(connection)
    first = table(connection)
    snapshots = PartnershipSnapshot.objects.count()

    again = sync(connection)
    replay = sync(connection, since=days_ago(5))

    assert table(connection) == first
    assert PartnershipSnapshot.objects.count() == snapshots == 4
    for runs in (again, replay):
        assert all(run.status == S.SUCCEEDED and run.created == 0 and run.updated == 0 for run in runs.values())
    assert replay["commissions"].skipped >= 12


def test_a_long_first_sync_is_split_over_runs(fake, ids):
    seed_activity(fake, ids)
    connection = make_connection(fake, max_days_per_run=4)

    first = sync(connection)["commissions"]
    assert kpi_days(fake) == [days_ago(n).isoformat() for n in range(5, 1, -1)]
    assert first.status == S.SUCCEEDED
    mark = len(fake.requests)

    sync(connection)

    assert kpi_days(fake, mark) == [days_ago(1).isoformat(), TODAY.isoformat()]
    assert CommissionDay.objects.count() == 12


def cursor(connection) -> dict:
    connection.refresh_from_db()
    return connection.cursors.get("commissions")


def conversion_ranges(fake, start: int = 0) -> list[tuple[str, str]]:
    return sorted({(r.arg("from")[:10], r.arg("to")[:10]) for r in fake.requests[start:]
                   if r.path == "/publisher/conversions.list"})


def test_since_rereads_through_today_in_one_run_whatever_the_per_run_cap(fake, ids):
    # The review's case: --since far back, with max_days_per_run smaller than the range.
    seed_activity(fake, ids)
    fake.add_traffic(ids.lucky, days_ago(40), clicks=5, impressions=50)
    connection = make_connection(fake, max_days_per_run=4, start_date=TODAY.isoformat())
    sync(connection)
    assert cursor(connection) == {"synced_through": TODAY.isoformat(), "complete": True}
    mark = len(fake.requests)

    out = StringIO()
    call_command("sync_integrations", "--connection", str(connection.pk), "--since", days_ago(40).isoformat(),
                 "--kind", "commissions", stdout=out)

    assert "commissions: succeeded" in out.getvalue()
    assert kpi_days(fake, mark) == [days_ago(n).isoformat() for n in range(40, -1, -1)]
    assert CommissionDay.objects.get(date=days_ago(40), partnership_id=ids.lucky).clicks == 5
    assert CommissionDay.objects.filter(date__gte=days_ago(5)).count() == 12
    # Conversions are read in chunks of at most max_days_per_run dates, end to end.
    ranges = conversion_ranges(fake, mark)
    assert ranges[0][0] == days_ago(40).isoformat() and ranges[-1][1] == TODAY.isoformat()
    assert all((dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days < 4 for a, b in ranges)
    assert cursor(connection) == {"synced_through": TODAY.isoformat(), "complete": True}
    # The scheduled run after it only re-reads the look-back, not a 31-day crawl from the past.
    mark = len(fake.requests)
    sync(connection)
    assert kpi_days(fake, mark) == [days_ago(1).isoformat(), TODAY.isoformat()]


def test_since_finishes_a_capped_pass_it_joins_on_to(fake, ids):
    seed_activity(fake, ids)
    connection = make_connection(fake, max_days_per_run=2)
    sync(connection)
    assert cursor(connection) == {"synced_through": days_ago(4).isoformat(), "complete": False}

    run = sync(connection, since=days_ago(5))["commissions"]

    assert run.status == S.SUCCEEDED
    assert cursor(connection) == {"synced_through": TODAY.isoformat(), "complete": True}
    assert CommissionDay.objects.count() == 12


def test_since_never_moves_the_cursor_back(connection, ids, fake):
    seed_activity(fake, ids)
    sync(connection)
    before = cursor(connection)
    assert before == {"synced_through": TODAY.isoformat(), "complete": True}

    # A re-read that completes, and one interrupted half-way, both leave the cursor where it was.
    assert sync(connection, since=days_ago(5))["commissions"].status == S.SUCCEEDED
    assert cursor(connection) == before
    fake.fail_next(500, times=99, when=f"from={days_ago(2).isoformat()}")
    interrupted = sync(connection, since=days_ago(5))["commissions"]
    assert interrupted.status == S.FAILED
    assert cursor(connection) == before

    fake.clear_failures()
    mark = len(fake.requests)
    sync(connection)
    assert kpi_days(fake, mark) == [days_ago(1).isoformat(), TODAY.isoformat()]


def test_since_after_a_gap_leaves_the_unread_dates_to_the_scheduled_runs(fake, ids):
    seed_activity(fake, ids)
    connection = make_connection(fake, max_days_per_run=2)
    sync(connection)  # days 5 and 4 of a pass capped at two dates per run
    saved = cursor(connection)

    sync(connection, since=days_ago(1))

    assert cursor(connection) == saved == {"synced_through": days_ago(4).isoformat(), "complete": False}
    mark = len(fake.requests)
    sync(connection)
    assert kpi_days(fake, mark) == [days_ago(3).isoformat(), days_ago(2).isoformat()]


def test_a_since_in_the_future_is_refused_and_leaves_the_cursor_alone(connection, ids, fake):
    seed_activity(fake, ids)
    sync(connection)
    before = cursor(connection)
    mark = len(fake.requests)

    out = StringIO()
    with pytest.raises(CommandError, match="At least one run failed"):
        call_command("sync_integrations", "--connection", str(connection.pk), "--since", "2030-01-01",
                     "--kind", "commissions", stdout=out)

    assert ("commissions: failed — fetched 0, created 0, updated 0, skipped 0, failed 0 — Affilae: --since "
            "2030-01-01 is in the future (today is 2026-03-10 UTC); there is nothing to re-read yet, and the saved "
            "position was left as it was.") in out.getvalue()
    assert cursor(connection) == before
    assert fake.requests[mark:] == []


# --- failures ----------------------------------------------------------------------------------

def test_429_with_retry_after_is_waited_out_and_retried(connection, ids, fake):
    seed_activity(fake, ids)
    fake.fail_next(429, retry_after=1, when="metric=clicks")
    fake.fail_next(429, retry_after=1, when="partnerships.list")

    runs = sync(connection)

    assert all(run.status == S.SUCCEEDED for run in runs.values())
    assert CommissionDay.objects.count() == 12
    assert PartnershipSnapshot.objects.count() == 4
    assert len([r for r in kpi_requests(fake) if r.arg("metric") == "clicks"]) == 6 + 1


def test_5xx_that_outlasts_the_retries_fails_the_run_with_a_readable_error(connection, fake):
    fake.fail_next(503, times=99)

    runs = sync(connection)

    for run in runs.values():
        assert run.status == S.FAILED
        assert run.error == ("Affilae GET /publisher/affiliateProfiles.list: server error 503: "
                             "scripted failure 503")
    connection.refresh_from_db()
    assert connection.last_success_at is None


def test_an_answer_that_is_not_json_fails_the_run_and_the_next_run_completes(connection, ids, fake):
    seed_activity(fake, ids)
    fake.fail_next(200, malformed=True, when=f"from={days_ago(3).isoformat()}")

    failed = sync(connection)

    assert failed["partnerships"].status == S.SUCCEEDED
    assert failed["commissions"].status == S.FAILED
    assert "Affilae GET /publisher/partnerships.kpis: the answer is not JSON" in failed["commissions"].error
    assert CommissionDay.objects.filter(date__gte=days_ago(3)).count() == 0

    again = sync(connection)

    assert again["commissions"].status == S.SUCCEEDED
    assert CommissionDay.objects.count() == 12


def test_an_interrupted_run_resumes_from_its_cursor_and_ends_with_exactly_the_right_rows(fake, ids):
    seed_activity(fake, ids)
    connection = make_connection(fake)
    fake.fail_next(500, times=99, when=f"from={days_ago(2).isoformat()}")

    interrupted = sync(connection)["commissions"]

    assert interrupted.status == S.FAILED and "server error 500" in interrupted.error
    assert interrupted.cursor == {"synced_through": days_ago(3).isoformat(), "complete": False}
    assert sorted({row[0] for row in table(connection)}) == [days_ago(5), days_ago(4), days_ago(3)]

    fake.clear_failures()
    mark = len(fake.requests)
    resumed = sync(connection)["commissions"]

    assert resumed.status == S.SUCCEEDED
    assert resumed.resumed_from == {"synced_through": days_ago(3).isoformat(), "complete": False}
    assert kpi_days(fake, mark) == [days_ago(2).isoformat(), days_ago(1).isoformat(), TODAY.isoformat()]
    assert resumed.created == 6
    # The same rows as one uninterrupted sync of the same data.
    clean = make_connection(fake, name="Clean run")
    sync(clean)
    assert len(table(connection)) == 12
    assert table(connection) == table(clean)


def test_an_interrupted_partnerships_run_resumes_with_the_profiles_not_done(connection, ids, fake):
    fake.fail_next(500, times=99, when=f"affiliateProfile={ids.news}")

    failed = sync(connection, kinds=["partnerships"])["partnerships"]

    assert failed.status == S.FAILED
    assert PartnershipSnapshot.objects.count() == 3
    fake.clear_failures()
    mark = len(fake.requests)

    resumed = sync(connection, kinds=["partnerships"])["partnerships"]

    assert resumed.status == S.SUCCEEDED and resumed.created == 1
    asked = {r.arg("affiliateProfile") for r in fake.requests[mark:] if r.path.endswith("partnerships.list")}
    assert asked == {ids.news}
    assert PartnershipSnapshot.objects.count() == 4


def test_a_bad_api_key_fails_the_runs_plainly(connection):
    connection.set_secret("not-the-key")
    connection.save()

    runs = sync(connection)

    assert runs["partnerships"].status == S.FAILED
    assert runs["partnerships"].error.startswith("Affilae rejected the API key (401)")


class OddAffilae(FakeAffilae):
    """Undocumented shapes: a bare list, `data` instead of the named key, extra fields, and
    rows that do not parse."""

    @route("GET", r"/publisher/affiliateProfiles\.list")
    def profiles_list(self, request):
        return Reply(200, [{**p, "createdAt": "2025-01-01", "extra": {"x": 1}} for p in self.profiles])

    @route("GET", r"/publisher/partnerships\.list")
    def partnerships_list(self, request):
        rows = [{k: v for k, v in p.items() if k != "affiliateProfile"} for p in self.partnerships
                if p["affiliateProfile"] == request.arg("affiliateProfile")]
        rows[0]["program"] = rows[0]["program"]["id"]  # no details: a bare program id
        rows.append({"status": "active", "trackingId": "no-id"})  # no id: an item error
        return Reply(200, {"data": rows, "meta": {"version": 2}})

    @route("GET", r"/publisher/partnerships\.kpis")
    def kpis(self, request):
        reply = super().kpis(request)
        rows = reply.body["partnerships"]
        if request.arg("metric") == "impressions":
            rows[0]["value"] = "n/a"
        return Reply(200, {"data": rows, "total": reply.body["total"]})


def test_undocumented_shapes_are_taken_and_rows_that_do_not_parse_are_item_errors(caplog):
    with OddAffilae(keys={KEY}) as fake:
        profile = fake.add_profile("Only profile")
        first = fake.add_partnership(profile, program="First")
        second = fake.add_partnership(profile, program="Second")
        fake.add_traffic(first, TODAY, clicks=3, impressions=30)
        fake.add_traffic(second, TODAY, clicks=5, impressions=50)
        connection = make_connection(fake, start_date=TODAY.isoformat())

        runs = sync(connection)

    assert runs["partnerships"].status == S.PARTIAL and runs["partnerships"].created == 2
    assert PartnershipSnapshot.objects.get(partnership_id=first).program_id == fake.partnership(first)["program"]["id"]
    assert PartnershipSnapshot.objects.get(partnership_id=first).program_name == ""
    errors = list(SyncItemError.objects.filter(run=runs["partnerships"]).values_list("message", flat=True))
    assert errors == ["a partnership without an id"]
    assert runs["commissions"].status == S.PARTIAL
    bad = SyncItemError.objects.filter(run=runs["commissions"]).get()
    assert bad.external_id == f"{first}@{TODAY}"
    assert bad.message == "impressions: impressions is 'n/a', not a number"
    assert bad.payload["value"] == "n/a"
    # The good partnership is stored; the one with a bad figure is left out, not half-written.
    assert list(CommissionDay.objects.values_list("partnership_id", "clicks", "impressions")) == [(second, 5, 50)]


def test_the_api_key_reaches_neither_logs_nor_errors(connection, ids, fake, caplog):
    caplog.set_level(logging.DEBUG)
    seed_activity(fake, ids)
    fake.fail_next(503, times=99, when="metric=impressions")
    fake.fail_next(400, when="partnerships.list")

    sync(connection)
    connection.set_secret(KEY + "-wrong")
    connection.save()
    sync(connection)

    assert SyncRun.objects.filter(status=S.FAILED).exists() and SyncItemError.objects.exists()
    assert KEY not in caplog.text
    for run in SyncRun.objects.all():
        assert KEY not in run.error and KEY not in str(run.cursor)
    for error in SyncItemError.objects.all():
        assert KEY not in error.message and KEY not in str(error.payload)


@pytest.mark.parametrize(("body", "expected"), [
    ({"partnerships": {"total": 3, "data": [{"id": "a"}]}}, ([{"id": "a"}], 3)),
    ({"partnerships": [{"id": "a"}], "total": 1}, ([{"id": "a"}], 1)),
    ({"data": [{"id": "a"}], "meta": {}}, ([{"id": "a"}], None)),
    ([{"id": "a"}], ([{"id": "a"}], None)),
    ({"partnerships": {}}, ([], None)),
    (None, ([], None)),
])
def test_list_answers_are_read_whatever_their_documented_or_undocumented_shape(body, expected):
    assert items_of(body, "partnerships") == expected


def test_an_answer_that_is_not_a_list_at_all_is_a_remote_error():
    with pytest.raises(RemoteError, match="unexpected str"):
        items_of("maintenance", "partnerships")


def test_an_option_that_makes_no_sense_fails_the_run_with_a_sentence(fake, ids):
    connection = make_connection(fake, lookback_days="a week")

    run = sync(connection, kinds=["commissions"])["commissions"]

    assert run.status == S.FAILED
    assert run.error == 'Affilae option "lookback_days" must be a whole number ≥ 0, not \'a week\'.'
