"""Reports over whole months read MonthlyStat (and the days around them DailyStat), with the
same answer as the daily rows alone; a daily row written behind the rollups' back sends
reports back to the daily rows."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.engine import ReportQuery, report_run
from reports.engine import report as engine_report
from reports.rollups import stats_months_rebuild
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.partners.factories import AffiliateFactory
from tests.reports.factories import DailyStatFactory, ExchangeRateFactory
from tests.reports.queries import report_query

pytestmark = pytest.mark.django_db

COLUMNS = ["visits_count", "deposits_sum", "average_deposit_amount", "ngr", "partner_income"]


def q(**params) -> ReportQuery:
    return report_query(params, today=dt.date(2026, 6, 30), date_from=None, date_to=None)


@pytest.fixture
def affiliate():
    """Rows every 5th day from 2026-01-01 to 2026-06-30 for 3 promos in 2 campaigns, in EUR and
    USD, then MonthlyStat summed from them."""
    affiliate = AffiliateFactory()
    campaigns = [CampaignFactory(affiliate=affiliate), CampaignFactory(affiliate=affiliate)]
    promos = [PromoFactory(campaign=campaigns[0]), PromoFactory(campaign=campaigns[0]),
              PromoFactory(campaign=campaigns[1])]
    day, n = dt.date(2026, 1, 1), 0
    while day <= dt.date(2026, 6, 30):
        for i, promo in enumerate(promos):
            n += 1
            DailyStatFactory(promo=promo, date=day, currency=("EUR", "USD")[n % 2], visits_count=n % 7,
                             deposits_count=n % 3, deposits_sum=Decimal(n) / 4, bets_sum=Decimal(n),
                             wins_sum=Decimal(i), admin_fee_sum=Decimal(n) / 100,
                             revshare_income_sum=Decimal(n) / 10, cpa_income_sum=Decimal(n % 2))
        day += dt.timedelta(days=5)
    ExchangeRateFactory(date=dt.date(2026, 6, 30), base="USD", quote="EUR", rate="0.8")
    stats_months_rebuild()
    return affiliate


def run(affiliate, query, *, monthly: bool, monkeypatch):
    with monkeypatch.context() as patch:
        if not monthly:
            patch.setattr(engine_report, "_monthly_fresh", lambda affiliate: False)
        with CaptureQueriesContext(connection) as queries:
            result = report_run(affiliate=affiliate, query=query)
    read_monthly = any("reports_monthlystat" in q["sql"] and "MAX" not in q["sql"].upper() for q in queries)
    return result, read_monthly


@pytest.mark.parametrize("params", [
    {"from": "2026-01-01", "to": "2026-06-30", "group_by": ["month", "campaign"]},
    {"from": "2026-02-14", "to": "2026-05-03", "group_by": ["month", "promo"]},  # days around whole months
    {"from": "2026-01-01", "to": "2026-06-30", "group_by": ["year"]},
    {"from": "2026-03-01", "to": "2026-03-31"},  # no grouper: one row per currency
    {"from": "2026-03-01", "to": "2026-04-15", "columns": ["visits_count"]},  # no grouper, no money: one row
    {"from": "2026-01-20", "to": "2026-06-30", "group_by": ["strategy", "brand"], "per_page": "1", "page": "2"},
    {"from": "2026-01-01", "to": "2026-06-30", "group_by": ["month", "campaign"], "conversion_currency": "EUR",
     "exchange_rates_date": "2026-06-30"},
    {"from": "2026-02-10", "to": "2026-04-30", "group_by": ["month"], "convert_all_currencies": "1",
     "exchange_rates_date": "2026-06-30"},
    # The date grouper second, days around whole months, converted: month buckets of both tables merge.
    {"from": "2026-02-14", "to": "2026-05-03", "group_by": ["campaign", "month"], "conversion_currency": "EUR",
     "exchange_rates_date": "2026-06-30"},
])
def test_whole_months_from_monthly_rows_give_the_daily_answer(affiliate, monkeypatch, params):
    query = q(**{"columns": COLUMNS, **params})
    monthly, used = run(affiliate, query, monthly=True, monkeypatch=monkeypatch)
    daily, _ = run(affiliate, query, monthly=False, monkeypatch=monkeypatch)
    assert used
    assert monthly == daily
    assert monthly.rows
    if not query.group_by and "deposits_sum" in query.columns and not query.conversion_currency \
            and not query.convert_all_currencies:
        assert [row[1]["value"]["currency"] for row in monthly.rows] == ["EUR", "USD"]


@pytest.mark.parametrize("params", [
    {"from": "2026-01-01", "to": "2026-06-30", "group_by": ["week"]},  # weeks cut through months
    {"from": "2026-01-01", "to": "2026-06-30", "group_by": ["day", "campaign"]},
    {"from": "2026-03-02", "to": "2026-03-30", "group_by": ["month"]},  # no whole month
])
def test_days_weeks_and_part_months_read_the_daily_rows(affiliate, monkeypatch, params):
    _, used = run(affiliate, q(**params, columns=COLUMNS), monthly=True, monkeypatch=monkeypatch)
    assert not used


def test_a_daily_row_written_behind_the_rollups_back_sends_reports_to_the_daily_rows(affiliate, monkeypatch):
    query = q(**{"from": "2026-03-01", "to": "2026-03-31", "columns": ["visits_count"]})
    before, used = run(affiliate, query, monthly=True, monkeypatch=monkeypatch)
    assert used
    promo = PromoFactory(campaign=CampaignFactory(affiliate=affiliate))
    DailyStatFactory(promo=promo, date=dt.date(2026, 3, 9), visits_count=1000)  # not through reports.rollups
    after, used = run(affiliate, query, monthly=True, monkeypatch=monkeypatch)
    assert not used
    assert after.rows[0][0]["value"] == before.rows[0][0]["value"] + 1000
    stats_months_rebuild()
    again, used = run(affiliate, query, monthly=True, monkeypatch=monkeypatch)
    assert used and again == after
