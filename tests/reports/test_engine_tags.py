"""Dynamic-tag filters (dynamic_tags[<param>][] / exclude_dynamic_tags[<param>][]), player counts
that do not depend on the grouper, and the bound on the groups of a raw-data report."""
import datetime as dt
from decimal import Decimal

import pytest

from reports.engine import ReportQuery, report_run
from reports.engine.iteration import report_stream
from reports.errors import ReportsError
from reports.rollups import stats_rebuild
from tests.billing.factories import PlayerActivityFactory
from tests.campaigns.factories import CampaignFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.partners.factories import AffiliateFactory
from tests.reports.queries import report_query

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def q(pairs=(), **params) -> ReportQuery:
    return report_query(params, pairs, today=dt.date(2026, 3, 31))


def cells(row) -> dict:
    return {c["name"]: c["value"]["amount"] if isinstance(c["value"], dict) else c["value"] for c in row}


def _deposit(player, amount, day, *, first=False):
    from campaigns.models import Deposit

    return Deposit.objects.create(brand=player.brand, player=player, deposit_id=f"d-{Deposit.objects.count()}",
                                  amount=Decimal(amount), currency="EUR", is_first=first, processed_at=at(day))


def _bets(player, day, bets):
    PlayerActivityFactory(player=player, period_start=at(day, 0), period_end=at(day, 23), bets_sum=Decimal(bets),
                          wins_sum=Decimal(0))


@pytest.fixture
def tagged():
    """Alice came through sub_id=spring-a, Bob through spring-b, Carol through a click without
    sub_id; each deposits and plays on two days of March (Alice twice on the 2nd)."""
    affiliate = AffiliateFactory()
    promo = PromoFactory(campaign=CampaignFactory(affiliate=affiliate))
    people = {}
    for name, params, country in (("alice", {"sub_id": "spring-a"}, "DE"), ("bob", {"sub_id": "spring-b"}, "MT"),
                                  ("carol", {"utm_source": "mail"}, "DE")):
        visit = VisitFactory(promo=promo, created_at=at(1, 9), params=params)
        people[name] = PlayerFactory(visit=visit, sign_up_at=at(1, 10), country=country, user_id=name)
    VisitFactory(promo=promo, created_at=at(1, 9), params={"sub_id": "spring-a"})  # a click without sign-up
    VisitFactory(promo=PromoFactory(), created_at=at(1, 9), params={"sub_id": "spring-a"})  # another affiliate's
    for name, amounts in (("alice", ("10", "5", "20")), ("bob", ("30", "40")), ("carol", ("7", "8"))):
        player = people[name]
        for i, (day, amount) in enumerate(zip((2, 2, 9) if name == "alice" else (3, 10), amounts, strict=False)):
            _deposit(player, amount, day, first=i == 0)
        for day in (2, 9) if name == "alice" else (3, 10):
            _bets(player, day, "50")
    return {"affiliate": affiliate, **people}


COLUMNS = ["visits_count", "registrations_count", "deposits_count", "deposits_sum", "depositing_players_count",
           "casino_active_players_count", "casino_total_bets_sum"]


def test_include_filter_keeps_the_visits_with_one_of_the_values_and_their_players(tagged):
    result = report_run(affiliate=tagged["affiliate"], query=q([("dynamic_tags[sub_id][]", "spring-a")],
                                                               columns=COLUMNS))
    assert cells(result.totals[0]) == {
        "visits_count": 2, "registrations_count": 1, "deposits_count": 3, "deposits_sum": "35.00",
        "depositing_players_count": 2, "casino_active_players_count": 2, "casino_total_bets_sum": "100.00"}
    both = report_run(affiliate=tagged["affiliate"], query=q(
        [("dynamic_tags[sub_id][]", "spring-a"), ("dynamic_tags[sub_id][]", "spring-b")],
        group_by=["player"], columns=["deposits_sum"]))
    assert [cells(r) for r in both.rows] == [{"player": "alice", "deposits_sum": "35.00"},
                                             {"player": "bob", "deposits_sum": "70.00"}]


def test_exclude_filter_keeps_visits_without_the_parameter(tagged):
    result = report_run(affiliate=tagged["affiliate"], query=q(
        [("exclude_dynamic_tags[sub_id][]", "spring-a")], group_by=["player"], columns=["deposits_sum"]))
    assert [cells(r) for r in result.rows] == [{"player": "bob", "deposits_sum": "70.00"},
                                               {"player": "carol", "deposits_sum": "15.00"}]
    visits = report_run(affiliate=tagged["affiliate"], query=q(
        [("exclude_dynamic_tags[sub_id][]", "spring-a"), ("exclude_dynamic_tags[sub_id][]", "spring-b")],
        columns=["visits_count", "registrations_count"]))
    assert cells(visits.rows[0]) == {"visits_count": 1, "registrations_count": 1}  # Carol's click


def test_include_and_exclude_combine_with_groupers_and_other_filters(tagged):
    result = report_run(affiliate=tagged["affiliate"], query=q(
        [("dynamic_tags[sub_id][]", "spring-a"), ("dynamic_tags[sub_id][]", "spring-b"),
         ("exclude_dynamic_tags[sub_id][]", "spring-b")], group_by=["day"], columns=["deposits_sum"]))
    assert [cells(r) for r in result.rows] == [{"date": "2026-03-02", "deposits_sum": "15.00"},
                                               {"date": "2026-03-09", "deposits_sum": "20.00"}]
    other_campaign = CampaignFactory(affiliate=tagged["affiliate"])
    nothing = report_run(affiliate=tagged["affiliate"], query=q(
        [("dynamic_tags[sub_id][]", "spring-a")], campaign_ids=[other_campaign.pk], columns=["deposits_count"]))
    assert cells(nothing.rows[0]) == {"deposits_count": 0}


def test_a_tag_filter_does_not_read_the_rollups(tagged):
    stats_rebuild(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    everything = report_run(affiliate=tagged["affiliate"], query=q(group_by=["month"], columns=["deposits_sum"]))
    only_a = report_run(affiliate=tagged["affiliate"], query=q([("dynamic_tags[sub_id][]", "spring-a")],
                                                               group_by=["month"], columns=["deposits_sum"]))
    assert (cells(everything.rows[0])["deposits_sum"], cells(only_a.rows[0])["deposits_sum"]) == ("120.00", "35.00")


@pytest.mark.parametrize(("key", "value", "field"), [
    ("dynamic_tags[sub__id][]", "x", "dynamic_tags[sub__id][]"),
    ("dynamic_tags[a b][]", "x", "dynamic_tags[a b][]"),
    ("dynamic_tags[][]", "x", "dynamic_tags[][]"),
    ("dynamic_tags", "x", "dynamic_tags"),
    ("exclude_dynamic_tags[sub_id", "x", "exclude_dynamic_tags[sub_id"),
    ("dynamic_tags[sub_id][]", "x" * 300, "dynamic_tags[sub_id][]"),
    ("dynamic_tags[sub_id][]", "bad\x00value", "dynamic_tags[sub_id][]"),
])
def test_malformed_tag_filters_name_the_parameter(key, value, field):
    with pytest.raises(ReportsError) as error:
        q([(key, value)])
    assert error.value.field == field


def test_tag_filters_are_bounded():
    with pytest.raises(ReportsError, match="at most 100 values") as error:
        q([("dynamic_tags[sub_id][]", str(i)) for i in range(101)])
    assert error.value.field == "dynamic_tags[sub_id][]"
    with pytest.raises(ReportsError, match="at most 10 tag filters"):
        q([(f"dynamic_tags[p{i}][]", "x") for i in range(11)])
    parsed = q([("dynamic_tags[sub_id]", "a"), ("dynamic_tags[sub_id][]", " "), ("exclude_dynamic_tags[x][]", "")])
    assert (parsed.dynamic_tags, parsed.exclude_dynamic_tags) == ({"sub_id": ["a"]}, {})


# --- player counts: the same totals whatever the grouper ----------------------------------------

@pytest.mark.parametrize("group_by", [[], ["month"], ["player_country"], ["dynamic_tag_sub_id"], ["player"],
                                      ["day"], ["sign_up_at_month"]])
def test_player_counts_total_the_same_whatever_the_grouper(tagged, group_by):
    # Alice deposits on the 2nd (twice) and the 9th, Bob and Carol on the 3rd and the 10th;
    # each plays on the same two days: 6 player-days each, as the daily rollups count them.
    stats_rebuild(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    columns = ["depositing_players_count", "casino_active_players_count", "deposits_count"]
    result = report_run(affiliate=tagged["affiliate"], query=q(group_by=group_by, columns=columns))
    assert cells(result.totals[0]) == {"depositing_players_count": 6, "casino_active_players_count": 6,
                                       "deposits_count": 7}
    by_player = report_run(affiliate=tagged["affiliate"], query=q(group_by=["player"], columns=columns))
    assert cells(by_player.rows[0]) == {"player": "alice", "depositing_players_count": 2,
                                        "casino_active_players_count": 2, "deposits_count": 3}


# --- the bound on raw-data groups -----------------------------------------------------------------

def test_a_raw_report_past_the_group_limit_is_refused_naming_group_by(tagged, settings):
    settings.REPORT_MAX_RAW_GROUPS = 3
    query = q(group_by=["player", "day"], columns=["deposits_count"])  # 6 groups
    with pytest.raises(ReportsError, match="more than 3 rows") as error:
        report_run(affiliate=tagged["affiliate"], query=query)
    assert error.value.field == "group_by[]"
    assert "async=true" in error.value.message
    assert len(report_run(affiliate=tagged["affiliate"], query=q(group_by=["player"],
                                                                  columns=["deposits_count"])).rows) == 3


def test_files_of_a_raw_report_use_their_own_bound_and_read_the_groups_once(tagged, settings,
                                                                            django_assert_max_num_queries):
    settings.REPORT_MAX_RAW_GROUPS = 3
    settings.REPORT_MAX_RAW_FILE_GROUPS = 10
    query = q([("exclude_dynamic_tags[sub_id][]", "nope")], group_by=["player", "day"], columns=["deposits_count"])
    stream = report_stream(affiliate=tagged["affiliate"], query=query, chunk=2)
    with django_assert_max_num_queries(0):  # the groups were read when the stream was made
        rows = [cells(row) for row in stream.rows()]
    assert [(r["player"], r["date"], r["deposits_count"]) for r in rows] == [
        ("alice", "2026-03-02", 2), ("alice", "2026-03-09", 1), ("bob", "2026-03-03", 1), ("bob", "2026-03-10", 1),
        ("carol", "2026-03-03", 1), ("carol", "2026-03-10", 1)]
    assert cells(stream.totals[0]) == {"deposits_count": 7}
    settings.REPORT_MAX_RAW_FILE_GROUPS = 5
    with pytest.raises(ReportsError) as error:
        report_stream(affiliate=tagged["affiliate"], query=query)
    assert error.value.field == "group_by[]"


def test_a_tag_filtered_file_grouped_by_rollup_groupers_is_not_read_from_the_rollups(tagged):
    stats_rebuild(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    query = q([("dynamic_tags[sub_id][]", "spring-b")], group_by=["day"], columns=["deposits_sum"])
    rows = [cells(row) for row in report_stream(affiliate=tagged["affiliate"], query=query).rows()]
    assert rows == [{"date": "2026-03-03", "deposits_sum": "30.00"}, {"date": "2026-03-10", "deposits_sum": "40.00"}]


def test_requested_reports_keep_the_tag_filters_and_say_so():
    from reports.exports.layout import parameter_summary
    from reports.services.requested import stored_params

    stored = stored_params(q([("dynamic_tags[sub_id][]", "spring-a"), ("exclude_dynamic_tags[utm_source][]", "x")]))
    assert stored["dynamic_tags[sub_id][]"] == ["spring-a"]
    assert stored["exclude_dynamic_tags[utm_source][]"] == ["x"]
    assert ReportQuery.from_params(stored).dynamic_tags == {"sub_id": ["spring-a"]}  # a stored report reloads
    summary = dict(parameter_summary(stored))
    assert (summary["Tag sub_id"], summary["Tag utm_source"]) == ("is one of spring-a", "is none of x")
