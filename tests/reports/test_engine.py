"""The report engine on DailyStat rows made directly: groupers, filters, column formulas,
currencies and conversion, pagination, totals, parameter errors, scoping."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict

from reports.columns import COLUMNS
from reports.engine import ReportQuery, report_run
from reports.errors import ReportsError
from tests.campaigns.factories import CampaignFactory, CommissionPlanFactory, PromoFactory
from tests.partners.factories import AffiliateFactory
from tests.reports.factories import DailyStatFactory, ExchangeRateFactory
from tests.reports.queries import report_query

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 2)  # a Monday


@pytest.fixture
def world():
    affiliate = AffiliateFactory(name="Alpha Media")
    c1 = CampaignFactory(affiliate=affiliate, name="Spring slots")
    c2 = CampaignFactory(affiliate=affiliate, name="Poker")
    p1 = PromoFactory(campaign=c1, promo_code="SPRING")
    p2 = PromoFactory(campaign=c1)
    p3 = PromoFactory(campaign=c2)
    other = PromoFactory()  # another affiliate's promo
    return {"affiliate": affiliate, "c1": c1, "c2": c2, "p1": p1, "p2": p2, "p3": p3, "other": other}


def q(**params) -> ReportQuery:
    return report_query(params, today=dt.date(2026, 3, 31))


def values(row: list[dict]) -> dict:
    out = {}
    for cell in row:
        v = cell["value"]
        out[cell["name"]] = v["amount"] if isinstance(v, dict) else v
    return out


def test_column_formulas_with_worked_numbers(world):
    DailyStatFactory(
        promo=world["p1"], date=D, visits_count=100, registrations_count=12, first_deposits_count=3,
        first_deposits_sum=Decimal("150"), deposits_count=5, deposits_sum=Decimal("500"), cashouts_count=2,
        cashouts_sum=Decimal("120"), bets_count=40, bets_sum=Decimal("1000"), wins_sum=Decimal("600"),
        wager_sum=Decimal("900"), bonus_issues_sum=Decimal("50"), taxes_sum=Decimal("10"), chargebacks_count=1,
        chargebacks_sum=Decimal("5"), payment_system_fees_sum=Decimal("3"), game_provider_fees_sum=Decimal("2"),
        jackpot_fees_sum=Decimal("1"), additional_deductions_sum=Decimal("4"), depositing_players_count=4,
        active_players_count=6, qualified_players_count=2, admin_fee_sum=Decimal("32.5"),
        revshare_income_sum=Decimal("87.75"), cpa_income_sum=Decimal("100"),
    )
    result = report_run(affiliate=world["affiliate"], query=q(columns=list(COLUMNS)))
    row = values(result.rows[0])
    assert row == {
        "visits_count": 100, "registrations_count": 12, "first_deposits_count": 3,
        "first_deposits_sum": "150.00", "average_first_deposit_amount": "50.00",
        "deposits_count": 5, "deposits_sum": "500.00", "average_deposit_amount": "100.00",
        "depositing_players_count": 4, "cashouts_count": 2, "cashouts_sum": "120.00", "net_deposits": "380.00",
        "first_deposits_conversion_rate": "25.00", "wager": "900.00", "casino_bets_count": 40,
        "casino_total_bets_sum": "1000.00", "casino_total_wins_sum": "600.00", "bonus_issues_sum": "50.00",
        "additional_deductions_sum": "4.00", "casino_taxes_sum": "10.00", "chargebacks_count": 1,
        "chargebacks_sum": "5.00", "payment_system_fees_sum": "3.00", "game_provider_fees_sum": "2.00",
        "jackpot_fees_sum": "1.00", "ggr": "400.00", "real_ggr": "400.00",
        "real_ngr": "325.00",  # 400 − 50 − 10 − 5 − 3 − 2 − 1 − 4
        "admin_fee": "32.50", "ngr": "292.50",  # real_ngr − admin fee
        "qualified_players_count": 2, "casino_active_players_count": 6,
        "fixed": "100.00", "ngr_percent": "87.75", "partner_income": "187.75",  # CPA + RevShare
    }
    types = {cell["name"]: cell["type"] for cell in result.rows[0]}
    assert types["visits_count"] == "integer"
    assert types["ngr"] == "money"
    assert types["first_deposits_conversion_rate"] == "percent"
    assert result.rows[0][3]["value"] == {"amount": "150.00", "amount_cents": "15000.0", "currency": "EUR"}


def test_ratios_are_of_sums_and_zero_without_a_denominator(world):
    DailyStatFactory(promo=world["p1"], date=D, deposits_count=1, deposits_sum=Decimal("10"), registrations_count=3,
                     first_deposits_count=1)
    DailyStatFactory(promo=world["p1"], date=D + dt.timedelta(days=1), deposits_count=3, deposits_sum=Decimal("50"))
    row = values(report_run(affiliate=world["affiliate"], query=q(
        columns=["average_deposit_amount", "first_deposits_conversion_rate", "average_first_deposit_amount"],
    )).rows[0])
    # (10 + 50) / 4, not the mean of 10 and 16.67
    assert row == {"average_deposit_amount": "15.00", "first_deposits_conversion_rate": "33.33",
                   "average_first_deposit_amount": "0.00"}


@pytest.mark.parametrize(("grouper", "expected"), [
    ("day", ["2026-03-02", "2026-03-04", "2026-03-10"]),
    ("week", ["2026-03-02", "2026-03-09"]),
    ("month", ["2026-03-01"]),
    ("year", ["2026-01-01"]),
])
def test_date_groupers_name_the_cell_date_with_the_period_start(world, grouper, expected):
    for day, visits in [(D, 1), (D + dt.timedelta(days=2), 2), (D + dt.timedelta(days=8), 4)]:
        DailyStatFactory(promo=world["p1"], date=day, visits_count=visits)
    result = report_run(affiliate=world["affiliate"], query=q(group_by=[grouper], columns=["visits_count"]))
    assert [row[0] for row in result.rows] == [{"name": "date", "value": v, "type": "date"} for v in expected]
    assert sum(row[1]["value"] for row in result.rows) == 7


def test_dimension_groupers_and_relations(world):
    DailyStatFactory(promo=world["p1"], date=D, visits_count=1)
    DailyStatFactory(promo=world["p2"], date=D, visits_count=2)
    DailyStatFactory(promo=world["p3"], date=D, visits_count=4)
    affiliate = world["affiliate"]
    by = {}
    for grouper in ("brand", "campaign", "promo", "strategy"):
        result = report_run(affiliate=affiliate, query=q(group_by=[grouper], columns=["visits_count"]))
        by[grouper] = {row[0]["value"]: row[1]["value"] for row in result.rows}
        assert all(row[0]["name"] == grouper for row in result.rows)
        if grouper == "campaign":
            assert result.relations["campaigns"] == [
                {"id": c.pk, "name": c.name, "strategy": c.commission_plan.name}
                for c in sorted([world["c1"], world["c2"]], key=lambda c: c.pk)
            ]
    c1, c2 = world["c1"], world["c2"]
    assert by["campaign"] == {c1.pk: 3, c2.pk: 4}
    assert by["promo"] == {world["p1"].pk: 1, world["p2"].pk: 2, world["p3"].pk: 4}
    assert by["brand"] == {c1.brand_id: 3, c2.brand_id: 4}
    assert by["strategy"] == {c1.commission_plan_id: 3, c2.commission_plan_id: 4}


def test_two_groupers_order_and_cells_before_columns(world):
    DailyStatFactory(promo=world["p1"], date=D, visits_count=1, registrations_count=1)
    DailyStatFactory(promo=world["p3"], date=D, visits_count=4)
    DailyStatFactory(promo=world["p1"], date=D + dt.timedelta(days=31), visits_count=8)
    result = report_run(affiliate=world["affiliate"], query=q(
        to="2026-04-30", group_by=["month", "campaign"], columns=["registrations_count", "visits_count"]))
    names = [[cell["name"] for cell in row] for row in result.rows]
    assert names == [["date", "campaign", "registrations_count", "visits_count"]] * 3
    assert [(r[0]["value"], r[1]["value"], r[3]["value"]) for r in result.rows] == [
        ("2026-03-01", world["c1"].pk, 1), ("2026-03-01", world["c2"].pk, 4), ("2026-04-01", world["c1"].pk, 8)]


@pytest.mark.parametrize("filter_name", ["brand_ids", "plan_ids", "campaign_ids", "promo_ids", "promo_codes"])
def test_filters(world, filter_name):
    DailyStatFactory(promo=world["p1"], date=D, visits_count=1)
    DailyStatFactory(promo=world["p2"], date=D, visits_count=2)
    DailyStatFactory(promo=world["p3"], date=D, visits_count=4)
    p1 = world["p1"]
    value, expected = {
        "brand_ids": ([p1.brand_id], 3), "plan_ids": ([p1.campaign.commission_plan_id], 3),
        "campaign_ids": ([p1.campaign_id], 3), "promo_ids": ([p1.pk, world["p3"].pk], 5),
        "promo_codes": (["spring"], 1),
    }[filter_name]
    result = report_run(affiliate=world["affiliate"], query=q(columns=["visits_count"], **{filter_name: value}))
    assert result.rows[0][0]["value"] == expected


def test_date_range_is_inclusive_of_both_ends(world):
    for day in (dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 1)):
        DailyStatFactory(promo=world["p1"], date=day, visits_count=1)
    result = report_run(affiliate=world["affiliate"], query=q(columns=["visits_count"]))
    assert result.rows[0][0]["value"] == 2


def test_one_row_per_currency_without_conversion(world):
    DailyStatFactory(promo=world["p1"], date=D, currency="EUR", visits_count=5, deposits_sum=Decimal("10"))
    DailyStatFactory(promo=world["p1"], date=D, currency="USD", deposits_sum=Decimal("7.5"))
    DailyStatFactory(promo=world["p1"], date=D, currency="BTC", deposits_sum=Decimal("0.00012345"))
    DailyStatFactory(promo=world["p2"], date=D - dt.timedelta(days=1), currency="USD", deposits_sum=Decimal("1"))
    result = report_run(affiliate=world["affiliate"], query=q(group_by=["day"], columns=["visits_count", "deposits_sum"]))
    assert [(r[1]["value"], r[2]["value"]) for r in result.rows[1:]] == [
        (0, {"amount": "0.00012345", "amount_cents": "12345.0", "currency": "BTC"}),
        (5, {"amount": "10.00", "amount_cents": "1000.0", "currency": "EUR"}),
        (0, {"amount": "7.50", "amount_cents": "750.0", "currency": "USD"}),
    ]
    assert [t[1]["value"]["amount"] + " " + t[1]["value"]["currency"] for t in result.totals] == [
        "0.00012345 BTC", "10.00 EUR", "8.50 USD"]
    # Counts alone are not split by currency: they add up across currencies.
    counts = report_run(affiliate=world["affiliate"], query=q(group_by=["day"], columns=["visits_count"]))
    assert [r[1]["value"] for r in counts.rows] == [0, 5]
    # Without any grouper too: one row per currency, money never added across currencies.
    ungrouped = report_run(affiliate=world["affiliate"], query=q(columns=["deposits_sum"]))
    assert [r[0]["value"]["currency"] for r in ungrouped.rows] == ["BTC", "EUR", "USD"]


def test_pagination_and_totals_over_every_row(world):
    for i in range(5):
        DailyStatFactory(promo=world["p1"], date=D + dt.timedelta(days=i), visits_count=i + 1,
                         deposits_sum=Decimal(i + 1))
    query = q(group_by=["day"], columns=["visits_count", "deposits_sum"], per_page=2, page=3)
    result = report_run(affiliate=world["affiliate"], query=query)
    assert result.total_pages == 3
    assert result.current_page == 3
    assert [row[0]["value"] for row in result.rows] == ["2026-03-06"]
    assert values(result.totals[0]) == {"visits_count": 15, "deposits_sum": "15.00"}
    beyond = report_run(affiliate=world["affiliate"], query=q(group_by=["day"], columns=["visits_count"], page=9))
    assert beyond.rows == []


@pytest.mark.parametrize("in_memory_groups", [10_000, 2])
def test_paging_in_sql_past_the_in_memory_limit_gives_the_same_answer(world, monkeypatch, in_memory_groups):
    monkeypatch.setattr("reports.engine.report.IN_MEMORY_GROUPS", in_memory_groups)
    for i in range(3):
        DailyStatFactory(promo=world["p1"], date=D + dt.timedelta(days=i), currency="EUR", deposits_sum=Decimal(1))
        DailyStatFactory(promo=world["p1"], date=D + dt.timedelta(days=i), currency="USD", deposits_sum=Decimal(2))
    result = report_run(affiliate=world["affiliate"], query=q(group_by=["day"], columns=["deposits_sum"],
                                                              per_page=4, page=2))
    assert result.total_pages == 2
    assert [(r[0]["value"], r[1]["value"]["currency"]) for r in result.rows] == [
        ("2026-03-04", "EUR"), ("2026-03-04", "USD")]
    assert [(t[0]["value"]["amount"], t[0]["value"]["currency"]) for t in result.totals] == [
        ("3.00", "EUR"), ("6.00", "USD")]


def test_an_empty_report_has_a_zero_totals_row(world):
    result = report_run(affiliate=world["affiliate"], query=q(group_by=["day"], columns=["visits_count", "ngr"]))
    assert result.rows == []
    assert values(result.totals[0]) == {"visits_count": 0, "ngr": "0.00"}


def test_scoped_to_the_affiliate(world):
    DailyStatFactory(promo=world["other"], date=D, visits_count=1000)
    DailyStatFactory(promo=world["p1"], date=D, visits_count=1)
    mine = report_run(affiliate=world["affiliate"], query=q(columns=["visits_count"]))
    assert mine.rows[0][0]["value"] == 1
    # Asking for the other affiliate's campaign by id finds nothing.
    theirs = report_run(affiliate=world["affiliate"], query=q(
        columns=["visits_count"], campaign_ids=[world["other"].campaign_id], group_by=["campaign"]))
    assert theirs.rows == []
    assert theirs.relations["campaigns"] == []


def test_conversion_merges_currencies_at_the_rates_of_the_date(world):
    pytest.importorskip("reports.rates")
    ExchangeRateFactory(date=dt.date(2026, 3, 15), base="USD", quote="EUR", rate="0.5")
    ExchangeRateFactory(date=dt.date(2026, 3, 16), base="USD", quote="EUR", rate="0.8")
    DailyStatFactory(promo=world["p1"], date=D, currency="EUR", deposits_count=1, deposits_sum=Decimal("10"))
    DailyStatFactory(promo=world["p1"], date=D, currency="USD", deposits_count=2, deposits_sum=Decimal("7.51"))
    DailyStatFactory(promo=world["p3"], date=D, currency="USD", deposits_count=1, deposits_sum=Decimal("3"))
    query = q(group_by=["campaign"], columns=["deposits_sum", "average_deposit_amount", "deposits_count"],
              conversion_currency="EUR", convert_all_currencies=1, exchange_rates_date="2026-03-15")
    result = report_run(affiliate=world["affiliate"], query=query)
    assert [values(r) for r in result.rows] == [
        # 10 + 7.51 × 0.5 = 13.755 → 13.76; average 13.755 / 3 = 4.585 → 4.59
        {"campaign": world["c1"].pk, "deposits_sum": "13.76", "average_deposit_amount": "4.59", "deposits_count": 3},
        {"campaign": world["c2"].pk, "deposits_sum": "1.50", "average_deposit_amount": "1.50", "deposits_count": 1},
    ]
    assert values(result.totals[0]) == {"deposits_sum": "15.26", "average_deposit_amount": "3.81",
                                        "deposits_count": 4}
    assert result.rows[0][1]["value"]["currency"] == "EUR"


def test_convert_all_currencies_uses_the_affiliates_report_currency(world):
    pytest.importorskip("reports.rates")
    world["affiliate"].default_report_currency = "USD"
    ExchangeRateFactory(date=dt.date(2026, 3, 31), base="EUR", quote="USD", rate="2")
    DailyStatFactory(promo=world["p1"], date=D, currency="EUR", deposits_sum=Decimal("10"))
    result = report_run(affiliate=world["affiliate"], query=q(columns=["deposits_sum"], convert_all_currencies=1,
                                                              exchange_rates_date="2026-03-31"))
    assert result.rows[0][0]["value"] == {"amount": "20.00", "amount_cents": "2000.0", "currency": "USD"}


def test_a_missing_rate_is_an_error_naming_the_rates_date(world):
    pytest.importorskip("reports.rates")
    DailyStatFactory(promo=world["p1"], date=D, currency="USD", deposits_sum=Decimal("10"))
    with pytest.raises(ReportsError) as error:
        report_run(affiliate=world["affiliate"], query=q(columns=["deposits_sum"], conversion_currency="EUR",
                                                         exchange_rates_date="2026-03-15"))
    assert error.value.field


@pytest.mark.parametrize(("params", "field"), [
    ({"columns": ["visits_count", "bogus"]}, "columns[]"),
    ({"group_by": ["colour"]}, "group_by[]"),
    ({"group_by": ["sign_up_at_month", "sign_up_at_day"]}, "group_by[]"),
    ({"group_by": ["first_deposit_week", "first_deposit_year"]}, "group_by[]"),
    ({"group_by": ["dynamic_tag_a__b"]}, "group_by[]"),
    ({"group_by": ["day", "month"]}, "group_by[]"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "01.03.2026"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-03-31", "to": "2026-03-01"}, "from"),
    ({"from": "2024-01-01", "to": "2026-03-01"}, "to"),
    ({"per_page": "1001"}, "per_page"),
    ({"per_page": "0"}, "per_page"),
    ({"page": "-1"}, "page"),
    ({"page": "x"}, "page"),
    ({"conversion_currency": "XXX"}, "conversion_currency"),
    ({"exchange_rates_date": "yesterday"}, "exchange_rates_date"),
    ({"campaign_ids": ["1", "abc"]}, "campaign_ids[]"),
    ({"promo_codes": ["a\x00b"]}, "promo_codes[]"),
])
def test_bad_parameters_name_the_parameter(params, field):
    with pytest.raises(ReportsError) as error:
        q(**params)
    assert error.value.field == field


def test_sign_up_and_first_deposit_groupers_are_accepted_one_period_of_each():
    query = q(group_by=["month", "sign_up_at_week", "first_deposit_day", "campaign"])
    assert query.group_by == ["month", "sign_up_at_week", "first_deposit_day", "campaign"]


def test_defaults_are_this_month_and_a_default_column_set():
    query = ReportQuery.from_params(QueryDict(""), today=dt.date(2026, 3, 17))
    assert (query.date_from, query.date_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 17))
    assert query.columns and query.group_by == []
    assert (query.page, query.per_page) == (1, 100)


def test_the_range_maximum_is_inclusive_of_731_days():
    assert q(**{"from": "2024-03-01", "to": "2026-03-01"}).date_to == dt.date(2026, 3, 1)


def test_plan_filter_is_also_read_as_strategy_ids(world):
    plan = CommissionPlanFactory()
    assert q(strategy_ids=[plan.pk]).plan_ids == [plan.pk]


# --- groupers from the raw tables -------------------------------------------------------------

def _deposit(player, amount, currency="EUR", *, first=False, day=D):
    from campaigns.models import Deposit

    return Deposit.objects.create(brand=player.brand, player=player, deposit_id=f"d-{Deposit.objects.count()}",
                                  amount=Decimal(amount), currency=currency, is_first=first,
                                  processed_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def _at(day=D):
    return dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


def test_player_country_grouper_reads_players_and_deposits(world):
    from tests.campaigns.factories import PlayerFactory, VisitFactory

    de1 = PlayerFactory(visit=VisitFactory(promo=world["p1"], created_at=_at()), country="DE", sign_up_at=_at())
    de2 = PlayerFactory(visit=VisitFactory(promo=world["p3"], created_at=_at()), country="DE", sign_up_at=_at())
    mt = PlayerFactory(visit=VisitFactory(promo=world["p1"], created_at=_at()), country="MT", sign_up_at=_at())
    PlayerFactory(visit=VisitFactory(promo=world["other"], created_at=_at()), country="DE", sign_up_at=_at())
    _deposit(de1, "20", first=True)
    _deposit(de1, "30")
    _deposit(de2, "5", "USD", first=True)
    _deposit(mt, "7", first=True, day=dt.date(2026, 4, 2))  # outside the range
    result = report_run(affiliate=world["affiliate"], query=q(
        group_by=["player_country"],
        columns=["registrations_count", "first_deposits_count", "deposits_sum", "depositing_players_count"]))
    assert [values(r) for r in result.rows] == [
        {"player_country": "DE", "registrations_count": 2, "first_deposits_count": 1, "deposits_sum": "50.00",
         "depositing_players_count": 1},
        {"player_country": "DE", "registrations_count": 0, "first_deposits_count": 1, "deposits_sum": "5.00",
         "depositing_players_count": 1},
        {"player_country": "MT", "registrations_count": 1, "first_deposits_count": 0, "deposits_sum": "0.00",
         "depositing_players_count": 0},
    ]
    assert [r[3]["value"]["currency"] for r in result.rows] == ["EUR", "USD", "EUR"]
    counts = report_run(affiliate=world["affiliate"], query=q(
        group_by=["player_country", "campaign"], columns=["registrations_count", "deposits_count"]))
    assert [values(r) for r in counts.rows] == [
        {"player_country": "DE", "campaign": world["c1"].pk, "registrations_count": 1, "deposits_count": 2},
        {"player_country": "DE", "campaign": world["c2"].pk, "registrations_count": 1, "deposits_count": 1},
        {"player_country": "MT", "campaign": world["c1"].pk, "registrations_count": 1, "deposits_count": 0},
    ]
    assert {c["id"] for c in counts.relations["campaigns"]} == {world["c1"].pk, world["c2"].pk}


def test_dynamic_tag_grouper_reads_the_click_parameters(world):
    from tests.campaigns.factories import PlayerFactory, VisitFactory

    a = VisitFactory(promo=world["p1"], created_at=_at(), params={"sub_id": "spring-a"})
    VisitFactory(promo=world["p1"], created_at=_at(), params={"sub_id": "spring-a"})
    VisitFactory(promo=world["p2"], created_at=_at(), params={"sub_id": "spring-b"})
    VisitFactory(promo=world["p2"], created_at=_at(), params={})
    VisitFactory(promo=world["other"], created_at=_at(), params={"sub_id": "spring-a"})
    player = PlayerFactory(visit=a, sign_up_at=_at())
    _deposit(player, "10", first=True)
    result = report_run(affiliate=world["affiliate"], query=q(
        group_by=["day", "dynamic_tag_sub_id"],
        columns=["visits_count", "registrations_count", "first_deposits_conversion_rate"]))
    assert [values(r) for r in result.rows] == [
        {"date": "2026-03-02", "dynamic_tag_sub_id": "", "visits_count": 1, "registrations_count": 0,
         "first_deposits_conversion_rate": "0.00"},
        {"date": "2026-03-02", "dynamic_tag_sub_id": "spring-a", "visits_count": 2, "registrations_count": 1,
         "first_deposits_conversion_rate": "100.00"},
        {"date": "2026-03-02", "dynamic_tag_sub_id": "spring-b", "visits_count": 1, "registrations_count": 0,
         "first_deposits_conversion_rate": "0.00"},
    ]
    assert values(result.totals[0]) == {"visits_count": 4, "registrations_count": 1,
                                        "first_deposits_conversion_rate": "100.00"}


def test_groupers_by_player_refuse_visits_which_have_no_player(world):
    with pytest.raises(ReportsError, match="not available when grouping by 'player'") as error:
        report_run(affiliate=world["affiliate"], query=q(group_by=["player"], columns=["ngr", "visits_count"]))
    assert error.value.field == "columns[]"
    for grouper in ("player_country", "sign_up_at_month", "first_deposit_day"):
        with pytest.raises(ReportsError, match="visits_count"):
            report_run(affiliate=world["affiliate"], query=q(group_by=[grouper], columns=["visits_count"]))


def test_player_grouper_names_the_operators_player_id(world):
    from tests.campaigns.factories import PlayerFactory, VisitFactory

    player = PlayerFactory(visit=VisitFactory(promo=world["p1"], created_at=_at()), user_id="u-42", sign_up_at=_at())
    _deposit(player, "10")
    _deposit(player, "15")
    result = report_run(affiliate=world["affiliate"], query=q(group_by=["player"],
                                                              columns=["deposits_count", "average_deposit_amount"]))
    assert [values(r) for r in result.rows] == [
        {"player": "u-42", "deposits_count": 2, "average_deposit_amount": "12.50"}]


def test_attributes_offer_the_dynamic_tags_seen_on_the_affiliates_clicks(world):
    from reports.engine import attributes
    from tests.campaigns.factories import VisitFactory

    VisitFactory(promo=world["p1"], params={"sub_id": "x", "utm_source": "mail"})
    VisitFactory(promo=world["other"], params={"theirs": "1"})
    groupers = attributes(affiliate=world["affiliate"])["available_groupers"]
    assert groupers[-2:] == ["dynamic_tag_sub_id", "dynamic_tag_utm_source"]
    assert "player_country" in groupers and "dynamic_tag_theirs" not in groupers


# --- terms: linear columns summed by the database ---------------------------------------------

def test_every_linear_column_is_the_signed_sum_its_formula_says():
    # The database sums a linear column as one expression built from Column.signs; the formula
    # is what the docs and the other engines use. Both must agree for every column.
    from reports.columns import COUNT_SOURCES, MONEY_SOURCES

    sums = {source: Decimal(3 ** i) + Decimal(i) / 7 for i, source in enumerate(sorted(MONEY_SOURCES))}
    sums.update({source: 5 ** i for i, source in enumerate(sorted(COUNT_SOURCES))})
    for column in COLUMNS.values():
        if column.signs is not None:
            assert len(column.signs) == len(column.sources), column.name
            signed = sum(sign * sums[source] for source, sign in zip(column.sources, column.signs, strict=True))
            assert signed == column.compute(sums), column.name


def test_terms_share_counters_and_ratios_read_their_counters():
    from reports.columns import terms_of

    terms = terms_of(("deposits_sum", "average_deposit_amount", "ggr", "real_ggr", "ngr", "deposits_count"))
    assert terms.names == ("deposits_sum", "deposits_count", "t_ggr", "t_ngr")
    assert terms.money == (True, False, True, True)
    assert [term for _, term, _ in terms.columns] == ["deposits_sum", "", "t_ggr", "t_ggr", "t_ngr", "deposits_count"]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite stores and sums decimals as floats")
def test_money_far_beyond_float_precision_stays_exact(world):
    # 15 digits before the point and 8 after: a float (or a float sum) would lose the last
    # places; the report must not, grouped or not, converted or not.
    big = Decimal("123456789012345.12345678")
    DailyStatFactory(promo=world["p1"], date=D, currency="BTC", bets_sum=big, wins_sum=Decimal("0.00000001"),
                     admin_fee_sum=Decimal("0.00000002"), deposits_sum=big)
    DailyStatFactory(promo=world["p2"], date=D, currency="BTC", bets_sum=Decimal("0.00000004"), deposits_sum=big)
    for group_by in ([], ["day"], ["campaign", "day"]):
        result = report_run(affiliate=world["affiliate"], query=q(group_by=group_by, columns=["deposits_sum", "ngr"]))
        assert values(result.totals[0]) == {"deposits_sum": "246913578024690.24691356",
                                            "ngr": "123456789012345.12345679"}, group_by
    ExchangeRateFactory(date=dt.date(2026, 3, 31), base="BTC", quote="EUR", rate="2")
    converted = report_run(affiliate=world["affiliate"], query=q(
        group_by=["day"], columns=["ngr"], conversion_currency="EUR", exchange_rates_date="2026-03-31"))
    assert values(converted.rows[0]) == {"date": "2026-03-02", "ngr": "246913578024690.25"}


def test_a_converted_report_of_counts_adds_every_currency_without_asking_for_rates(world):
    DailyStatFactory(promo=world["p1"], date=D, currency="EUR", visits_count=3, deposits_count=1)
    DailyStatFactory(promo=world["p1"], date=D, currency="USD", deposits_count=2)  # no USD rate exists
    DailyStatFactory(promo=world["p3"], date=D, currency="GBP", deposits_count=4)
    result = report_run(affiliate=world["affiliate"], query=q(
        group_by=["campaign"], columns=["visits_count", "deposits_count"], conversion_currency="EUR"))
    assert [values(r) for r in result.rows] == [
        {"campaign": world["c1"].pk, "visits_count": 3, "deposits_count": 3},
        {"campaign": world["c2"].pk, "visits_count": 0, "deposits_count": 4},
    ]
    assert values(result.totals[0]) == {"visits_count": 3, "deposits_count": 7}
    assert result.currency == "EUR"
