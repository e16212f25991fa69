"""Cohort groupers (sign_up_at_* / first_deposit_*) and the activity columns of the raw-data
reports: the range selects the activity, the grouper buckets it by each player's sign-up or
first-deposit period; the totals equal the rollups' for the same range whatever the grouper."""
import datetime as dt
from decimal import Decimal

import pytest

from billing.models import CommissionPlan, Qualification
from reports.engine import ReportQuery, report_run
from reports.rollups import stats_rebuild
from tests.billing.factories import PlayerActivityFactory
from tests.campaigns.factories import (
    BrandFactory,
    CampaignFactory,
    CommissionPlanFactory,
    PlayerFactory,
    PromoFactory,
    VisitFactory,
)
from tests.partners.factories import AffiliateFactory
from tests.reports.factories import ExchangeRateFactory
from tests.reports.queries import report_query

pytestmark = pytest.mark.django_db

COLUMNS = ["registrations_count", "first_deposits_count", "deposits_sum", "ggr", "casino_active_players_count"]


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def q(**params) -> ReportQuery:
    return report_query(params, today=dt.date(2026, 3, 31))


def table(result) -> list[dict]:
    return [{cell["name"]: cell["value"]["amount"] if isinstance(cell["value"], dict) else cell["value"]
             for cell in row} for row in result.rows]


def _deposit(player, amount, day, *, currency="EUR", first=False):
    from campaigns.models import Deposit

    return Deposit.objects.create(brand=player.brand, player=player, deposit_id=f"d-{Deposit.objects.count()}",
                                  amount=Decimal(amount), currency=currency, is_first=first, processed_at=at(day))


@pytest.fixture
def cohorts():
    """Alice signed up in January (FTD in February), Bob in February (FTD in March), Carol in
    March (no deposit); their March activity."""
    affiliate = AffiliateFactory()
    brand = BrandFactory(base_currency="EUR")
    plan = CommissionPlanFactory(brand=brand, currency="EUR", kind=CommissionPlan.Kind.HYBRID,
                                 revshare_percent=Decimal("30"), admin_fee_percent=Decimal("10"),
                                 cpa_amount=Decimal("25"))
    spring = CampaignFactory(affiliate=affiliate, brand=brand, commission_plan=plan, name="Spring")
    poker = CampaignFactory(affiliate=affiliate, brand=brand, commission_plan=plan, name="Poker")
    p1, p2 = PromoFactory(campaign=spring), PromoFactory(campaign=poker)

    def player(promo, signed_up, first_deposit=None):
        return PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(signed_up, 9)),
                             sign_up_at=at(signed_up, 10), first_deposit_at=first_deposit and at(first_deposit))

    alice = player(p1, dt.date(2026, 1, 15), dt.date(2026, 2, 3))
    bob = player(p2, dt.date(2026, 2, 10), dt.date(2026, 3, 5))
    carol = player(p1, dt.date(2026, 3, 2))
    PlayerFactory(visit=VisitFactory(created_at=at(dt.date(2026, 3, 2))), sign_up_at=at(dt.date(2026, 3, 2)))  # theirs
    _deposit(alice, "80", dt.date(2026, 2, 3), first=True)  # before the range
    _deposit(alice, "20", dt.date(2026, 3, 2))
    _deposit(bob, "30", dt.date(2026, 3, 5), first=True)
    for who, day, bets, wins in ((alice, dt.date(2026, 3, 2), "100", "40"), (bob, dt.date(2026, 3, 6), "50", "0"),
                                 (carol, dt.date(2026, 3, 3), "10", "0"), (alice, dt.date(2026, 4, 1), "999", "0")):
        PlayerActivityFactory(player=who, period_start=at(day, 0), period_end=at(day, 23), bets_sum=Decimal(bets),
                              wins_sum=Decimal(wins))
    Qualification.objects.create(plan=plan, player=bob, affiliate=affiliate, qualified_at=at(dt.date(2026, 3, 31), 22),
                                 payable_from=dt.date(2026, 3, 31), amount=Decimal("25"))
    return {"affiliate": affiliate, "spring": spring, "poker": poker, "alice": alice, "bob": bob, "carol": carol}


def test_sign_up_at_month_buckets_the_ranges_activity_by_the_players_sign_up_month(cohorts):
    result = report_run(affiliate=cohorts["affiliate"], query=q(group_by=["sign_up_at_month"], columns=COLUMNS))
    assert table(result) == [
        {"sign_up_at": "2026-01-01", "registrations_count": 0, "first_deposits_count": 0, "deposits_sum": "20.00",
         "ggr": "60.00", "casino_active_players_count": 1},
        {"sign_up_at": "2026-02-01", "registrations_count": 0, "first_deposits_count": 1, "deposits_sum": "30.00",
         "ggr": "50.00", "casino_active_players_count": 1},
        {"sign_up_at": "2026-03-01", "registrations_count": 1, "first_deposits_count": 0, "deposits_sum": "0.00",
         "ggr": "10.00", "casino_active_players_count": 1},
    ]
    assert result.rows[0][0] == {"name": "sign_up_at", "value": "2026-01-01", "type": "date"}


def test_first_deposit_month_and_players_without_a_first_deposit(cohorts):
    result = report_run(affiliate=cohorts["affiliate"], query=q(group_by=["first_deposit_month"], columns=COLUMNS))
    assert table(result) == [
        {"first_deposit_at": None, "registrations_count": 1, "first_deposits_count": 0, "deposits_sum": "0.00",
         "ggr": "10.00", "casino_active_players_count": 1},  # Carol: no first deposit yet
        {"first_deposit_at": "2026-02-01", "registrations_count": 0, "first_deposits_count": 0,
         "deposits_sum": "20.00", "ggr": "60.00", "casino_active_players_count": 1},
        {"first_deposit_at": "2026-03-01", "registrations_count": 0, "first_deposits_count": 1,
         "deposits_sum": "30.00", "ggr": "50.00", "casino_active_players_count": 1},
    ]


@pytest.mark.parametrize(("grouper", "alice", "cell"), [
    ("sign_up_at_day", "2026-01-15", "sign_up_at"),
    ("sign_up_at_week", "2026-01-12", "sign_up_at"),  # the Monday
    ("sign_up_at_year", "2026-01-01", "sign_up_at"),
    ("first_deposit_day", "2026-02-03", "first_deposit_at"),
    ("first_deposit_week", "2026-02-02", "first_deposit_at"),
    ("first_deposit_year", "2026-01-01", "first_deposit_at"),
])
def test_every_period_of_both_cohort_families(cohorts, grouper, alice, cell):
    rows = table(report_run(affiliate=cohorts["affiliate"], query=q(group_by=[grouper, "player"],
                                                                     columns=["ggr"])))
    assert {"player": cohorts["alice"].user_id, cell: alice, "ggr": "60.00"} in rows


def test_cohorts_combine_with_date_and_dimension_groupers_and_filters(cohorts):
    result = report_run(affiliate=cohorts["affiliate"], query=q(
        group_by=["month", "sign_up_at_month", "campaign"], columns=["ggr", "deposits_count"]))
    assert table(result) == [
        {"date": "2026-03-01", "sign_up_at": "2026-01-01", "campaign": cohorts["spring"].pk, "ggr": "60.00",
         "deposits_count": 1},
        {"date": "2026-03-01", "sign_up_at": "2026-02-01", "campaign": cohorts["poker"].pk, "ggr": "50.00",
         "deposits_count": 1},
        {"date": "2026-03-01", "sign_up_at": "2026-03-01", "campaign": cohorts["spring"].pk, "ggr": "10.00",
         "deposits_count": 0},
    ]
    assert {c["name"] for c in result.relations["campaigns"]} == {"Spring", "Poker"}
    only_poker = report_run(affiliate=cohorts["affiliate"], query=q(
        group_by=["sign_up_at_month"], columns=["ggr"], campaign_ids=[cohorts["poker"].pk]))
    assert table(only_poker) == [{"sign_up_at": "2026-02-01", "ggr": "50.00"}]


def test_cohort_report_converted_to_one_currency(cohorts):
    _deposit(cohorts["bob"], "10", dt.date(2026, 3, 7), currency="USD")
    ExchangeRateFactory(date=dt.date(2026, 3, 31), base="USD", quote="EUR", rate="0.5")
    by_currency = report_run(affiliate=cohorts["affiliate"], query=q(group_by=["sign_up_at_month"],
                                                                      columns=["deposits_sum"]))
    assert [(r[0]["value"], r[1]["value"]["amount"], r[1]["value"]["currency"]) for r in by_currency.rows] == [
        ("2026-01-01", "20.00", "EUR"), ("2026-02-01", "30.00", "EUR"), ("2026-02-01", "10.00", "USD")]
    converted = report_run(affiliate=cohorts["affiliate"], query=q(
        group_by=["sign_up_at_month"], columns=["deposits_sum"], conversion_currency="EUR",
        exchange_rates_date="2026-03-31"))
    assert table(converted) == [{"sign_up_at": "2026-01-01", "deposits_sum": "20.00"},
                                {"sign_up_at": "2026-02-01", "deposits_sum": "35.00"}]
    assert converted.totals[0][0]["value"]["amount"] == "55.00"


ALL_BUT_VISITS = ["registrations_count", "first_deposits_count", "first_deposits_sum", "deposits_count",
                  "deposits_sum", "cashouts_sum", "casino_total_bets_sum", "casino_total_wins_sum", "ggr",
                  "real_ngr", "admin_fee", "ngr", "fixed", "ngr_percent", "partner_income", "qualified_players_count"]


@pytest.mark.parametrize("grouper", ["sign_up_at_month", "first_deposit_week", "player", "player_country"])
def test_raw_report_totals_equal_the_rollups_totals(cohorts, grouper):
    stats_rebuild(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 4, 30))
    rollups = report_run(affiliate=cohorts["affiliate"], query=q(columns=ALL_BUT_VISITS))
    raw = report_run(affiliate=cohorts["affiliate"], query=q(group_by=[grouper], columns=ALL_BUT_VISITS))
    assert table(rollups)[0] == {c["name"]: c["value"]["amount"] if isinstance(c["value"], dict) else c["value"]
                                 for c in raw.totals[0]}
    totals = table(rollups)[0]
    # NGR 120 − 10 % fee = 108, RevShare 30 % of it = 32.40; Bob's CPA 25 on the qualification day.
    assert (totals["real_ngr"], totals["admin_fee"], totals["ngr"]) == ("120.00", "12.00", "108.00")
    assert (totals["ngr_percent"], totals["fixed"], totals["partner_income"]) == ("32.40", "25.00", "57.40")
