"""/partner/dashboard: quick stats (today, yesterday, this month) and quick charts (30 days) in
the affiliate's default report currency, balances and latest news; scoping, query count, and
the vendored assets (no CDN)."""
import datetime as dt
import json
import re
from decimal import Decimal
from html import unescape as html_unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import QueryDict
from django.urls import reverse

from reports.columns import COLUMNS
from reports.dashboard import CHART_DAYS, dashboard_stats
from reports.engine import ReportQuery, report_run
from reports.templatetags.reports_nav import url_if_exists
from tests.billing.factories import fund
from tests.campaigns.factories import BrandFactory, CampaignFactory, PromoFactory
from tests.conftest import sign_in
from tests.partners.factories import NewsArticleFactory, UserFactory
from tests.reports.factories import DailyStatFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db

URL = reverse("reports:dashboard")
TODAY = dt.date(2026, 3, 15)
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _today(time_machine):
    # Noon UTC: the same calendar day in any program time zone within ±11 h.
    time_machine.move_to(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def owner(client):
    user = UserFactory()
    sign_in(client, user)
    return user


@pytest.fixture
def promo(owner):
    return PromoFactory(campaign=CampaignFactory(affiliate=owner.affiliate))


def stat(promo, date, **counters):
    money = {k: Decimal(str(v)) for k, v in counters.items() if k.endswith("_sum")}
    counters.setdefault("currency", promo.brand.base_currency)
    return DailyStatFactory(promo=promo, date=date, **{**counters, **money})


def quick_stat(html: str, key: str) -> dict[str, str]:
    """The figures of one quick-stat card as the page shows them: {column: text}."""
    card = re.search(rf'id="quick-stat-{key}".*?</section>', html, re.S).group(0)
    return {name: " ".join(text.split()) for name, text in re.findall(r'data-column="(\w+)">([^<]*)<', card)}


def chart_json(html: str) -> dict:
    return json.loads(re.search(r'<script id="dashboard-chart-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))


def test_quick_stats_add_up_the_rollups_of_today_yesterday_and_this_month(client, promo):
    stat(promo, TODAY, visits_count=100, registrations_count=10, first_deposits_count=3, first_deposits_sum=150,
         deposits_sum=400, bets_sum=1000, wins_sum=700)
    stat(promo, YESTERDAY, visits_count=50, registrations_count=5, first_deposits_count=1, first_deposits_sum=20,
         deposits_sum=60)
    stat(promo, dt.date(2026, 3, 1), visits_count=7, deposits_sum="1000.5")
    stat(promo, dt.date(2026, 2, 28), visits_count=999, deposits_sum=999)  # last month: not in "this month"
    stat(promo, TODAY + dt.timedelta(days=1), visits_count=555)  # a future day never counts

    html = client.get(URL).content.decode()

    today = quick_stat(html, "today")
    today.pop("partner_income", None)  # shown when the catalogue has it: see the test below
    assert today == {
        "visits_count": "100", "registrations_count": "10", "first_deposits_count": "3",
        "first_deposits_sum": "150.00 EUR", "deposits_sum": "400.00 EUR", "ngr": "300.00 EUR",
    }
    yesterday = quick_stat(html, "yesterday")
    assert (yesterday["visits_count"], yesterday["first_deposits_sum"], yesterday["ngr"]) == ("50", "20.00 EUR",
                                                                                           "0.00 EUR")
    month = quick_stat(html, "month")
    assert month["visits_count"] == "157"
    assert month["registrations_count"] == "15"
    assert month["deposits_sum"] == "1,460.50 EUR"
    assert "2026-03-01 – 2026-03-15" in html


def test_money_of_another_currency_is_converted_into_the_default_report_currency(client, owner, promo):
    affiliate = owner.affiliate
    affiliate.default_report_currency = "USD"
    affiliate.save(update_fields=["default_report_currency"])
    usd_promo = PromoFactory(campaign=CampaignFactory(affiliate=affiliate,
                                                      brand=BrandFactory(base_currency="USD")))
    ExchangeRateFactory(date=TODAY, base="EUR", quote="USD", rate="1.1")
    ExchangeRateFactory(date=TODAY - dt.timedelta(days=3), base="EUR", quote="USD", rate="5")  # an older rate
    stat(promo, TODAY, visits_count=10, first_deposits_count=2, deposits_sum=100, first_deposits_sum="10.01")
    stat(usd_promo, TODAY, visits_count=5, deposits_sum="7.25")

    html = client.get(URL).content.decode()

    today = quick_stat(html, "today")
    assert today["deposits_sum"] == "117.25 USD"  # 100 EUR × 1.1 + 7.25 USD
    assert today["first_deposits_sum"] == "11.01 USD"  # 11.011 rounded half-up to cents
    assert today["visits_count"] == "15"
    assert "In USD" in html
    assert 'id="conversion-notice"' not in html


def test_a_missing_rate_shows_a_notice_and_counts_but_no_half_converted_money(client, owner, promo):
    affiliate = owner.affiliate
    affiliate.default_report_currency = "USD"
    affiliate.save(update_fields=["default_report_currency"])
    gbp_promo = PromoFactory(campaign=CampaignFactory(affiliate=affiliate,
                                                      brand=BrandFactory(base_currency="GBP")))
    ExchangeRateFactory(date=TODAY, base="EUR", quote="USD", rate="1.1")
    stat(promo, TODAY, visits_count=10, deposits_sum=100)
    stat(gbp_promo, TODAY, visits_count=4, registrations_count=2, deposits_sum=50)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="conversion-notice"' in html
    assert "No exchange rate for GBP→USD on or before 2026-03-15" in html
    today = quick_stat(html, "today")
    assert today["visits_count"] == "14"
    assert today["registrations_count"] == "2"
    assert today["deposits_sum"] == "—"
    assert today["ngr"] == "—"
    income = next(s for s in chart_json(html)["series"] if s["type"] == "money")
    assert set(income["data"]) == {None}


def test_a_currency_with_counts_only_needs_no_rate(client, owner):
    gbp_promo = PromoFactory(campaign=CampaignFactory(affiliate=owner.affiliate,
                                                      brand=BrandFactory(base_currency="GBP")))
    stat(gbp_promo, TODAY, visits_count=8)

    html = client.get(URL).content.decode()

    assert 'id="conversion-notice"' not in html
    assert quick_stat(html, "today")["visits_count"] == "8"
    assert quick_stat(html, "today")["deposits_sum"] == "0.00 EUR"


def test_chart_data_covers_the_last_30_days_day_by_day(client, promo):
    stat(promo, TODAY, visits_count=11, registrations_count=3, first_deposits_count=1, bets_sum=80, wins_sum=30)
    stat(promo, TODAY - dt.timedelta(days=29), visits_count=22)  # the first day of the chart
    stat(promo, TODAY - dt.timedelta(days=30), visits_count=33)  # one day too old
    stat(promo, dt.date(2026, 3, 10), visits_count=4, first_deposits_count=2)

    html = client.get(URL).content.decode()

    data = chart_json(html)
    assert data["currency"] == "EUR"
    assert len(data["dates"]) == CHART_DAYS
    assert data["dates"][0] == "2026-02-14"
    assert data["dates"][-1] == "2026-03-15"
    series = {s["key"]: s["data"] for s in data["series"]}
    income = "partner_income" if "partner_income" in COLUMNS else "ngr"
    assert list(series) == ["visits_count", "registrations_count", "first_deposits_count", income]
    assert series["visits_count"][0] == 22
    assert series["visits_count"][-1] == 11
    assert series["visits_count"][data["dates"].index("2026-03-10")] == 4
    assert sum(series["visits_count"]) == 22 + 11 + 4  # the 31st day back is not drawn
    assert series["first_deposits_count"][-6] == 2
    assert series[income][0] == "0.00"  # money as a decimal string, never a float
    if income == "ngr":
        assert series["ngr"][-1] == "50.00"
    # The same numbers in the table for readers without the chart.
    assert '<th scope="row">2026-03-10</th><td class="num mono">4</td>' in html
    assert "<summary>Quick charts as a table</summary>" in html


def test_another_affiliates_stats_are_never_shown(client, promo):
    stat(promo, TODAY, visits_count=1, deposits_sum=2)
    stranger = PromoFactory()
    stat(stranger, TODAY, visits_count=5000, deposits_sum=9000)
    stat(stranger, YESTERDAY, visits_count=6000)
    fund(stranger.affiliate, "777.00", "EUR")

    html = client.get(URL).content.decode()

    assert quick_stat(html, "today")["visits_count"] == "1"
    assert quick_stat(html, "today")["deposits_sum"] == "2.00 EUR"
    assert quick_stat(html, "yesterday")["visits_count"] == "0"
    assert sum(s for s in chart_json(html)["series"][0]["data"]) == 1
    assert "777.00" not in html


def test_the_page_needs_few_queries_however_many_days_and_promos(client, owner, django_assert_max_num_queries):
    affiliate = owner.affiliate
    promos = [PromoFactory(campaign=CampaignFactory(affiliate=affiliate)) for _ in range(3)]
    usd_promo = PromoFactory(campaign=CampaignFactory(affiliate=affiliate, brand=BrandFactory(base_currency="USD")))
    ExchangeRateFactory(date=TODAY, base="USD", quote="EUR", rate="0.9")
    for days_back in range(40):
        day = TODAY - dt.timedelta(days=days_back)
        for promo in promos:
            stat(promo, day, visits_count=1, deposits_sum=1)
        stat(usd_promo, day, visits_count=1, deposits_sum=1)
    fund(affiliate, "10.00", "EUR")
    NewsArticleFactory(title="Spring tournament", is_published=True)

    # Session, user, portal session and affiliate (the sign-in checks), ONE aggregate over the
    # 160 rollup rows, one rate lookup for USD, balances, news.
    with django_assert_max_num_queries(8):
        response = client.get(URL)

    assert response.status_code == 200
    assert quick_stat(response.content.decode(), "today")["visits_count"] == "4"


def test_balances_and_the_latest_news_title_are_shown(client, owner):
    fund(owner.affiliate, "1234.5", "EUR")
    fund(owner.affiliate, "0.00012", "BTC")
    NewsArticleFactory(title="Old news", is_published=True, published_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    NewsArticleFactory(title="New commission plans", is_published=True,
                       published_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    NewsArticleFactory(title="Draft", is_published=False)

    html = client.get(URL).content.decode()

    balance = re.search(r'id="dashboard-balance".*?</section>', html, re.S).group(0)
    assert "<dt>EUR</dt><dd class=\"mono\">1,234.50</dd>" in balance
    assert "<dt>BTC</dt><dd class=\"mono\">0.00012000</dd>" in balance
    news = re.search(r'id="dashboard-news".*?</section>', html, re.S).group(0)
    assert "New commission plans" in news
    assert "Old news" not in news and "Draft" not in news


def test_an_account_without_any_data_sees_zeros_and_empty_states(client, owner):
    html = client.get(URL).content.decode()

    assert quick_stat(html, "month")["visits_count"] == "0"
    assert quick_stat(html, "month")["ngr"] == "0.00 EUR"
    assert "Your balance is empty" in html
    assert "No news yet." in html
    assert f'href="{reverse("reports:report")}"' in html


@pytest.mark.skipif("partner_income" not in COLUMNS, reason="the rollups do not carry commission yet")
def test_partner_income_is_a_quick_stat_and_the_income_chart(client, promo):
    stat(promo, TODAY, cpa_income_sum=25, revshare_income_sum="12.5")
    stat(promo, YESTERDAY, revshare_income_sum=3)

    html = client.get(URL).content.decode()

    assert quick_stat(html, "today")["partner_income"] == "37.50 EUR"
    assert quick_stat(html, "month")["partner_income"] == "40.50 EUR"
    income = chart_json(html)["series"][-1]
    assert (income["key"], income["label"], income["data"][-2:]) == ("partner_income", "Partner income",
                                                                     ["3.00", "37.50"])


def test_partner_income_is_shown_only_when_the_catalogue_has_it(owner):
    stats = dashboard_stats(affiliate=owner.affiliate, today=TODAY)

    names = [f.name for f in stats.quick_stats[0].figures]
    assert ("partner_income" in names) == ("partner_income" in COLUMNS)
    assert stats.chart_columns[-1] == ("partner_income" if "partner_income" in COLUMNS else "ngr")


# --- assets and navigation ------------------------------------------------------------------

def test_the_dashboard_loads_the_vendored_chart_library_and_its_script(client, owner):
    html = client.get(URL).content.decode()

    sources = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert "/static/vendor/chartjs/chart.umd.min.js" in sources
    assert "/static/js/dashboard.js" in sources
    for relative in ("vendor/chartjs/chart.umd.min.js", "vendor/chartjs/LICENSE.md", "js/dashboard.js"):
        assert finders.find(relative), relative


def test_other_portal_pages_do_not_load_the_chart_library(client, owner):
    html = client.get(reverse("partners:profile")).content.decode()

    assert "chart.umd" not in html


def _template_files():
    base = Path(settings.BASE_DIR)
    for path in base.rglob("*.html"):
        if not {".venv", "node_modules", "staticfiles", "var"} & set(path.relative_to(base).parts):
            yield path


def test_no_template_loads_a_script_or_stylesheet_from_another_host():
    offenders = []
    remote = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', re.I)
    files = list(_template_files())
    assert any(p.name == "dashboard.html" for p in files)
    for path in files:
        for match in remote.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path}: {match.group(0)}")
    assert offenders == []


def test_the_navigation_has_the_api_entry_and_marks_the_current_section(client, owner):
    html = client.get(URL).content.decode()

    assert f'<a href="{reverse("reports:dashboard")}" aria-current="page">Dashboard</a>' in html
    assert f'<a href="{reverse("reports:api_docs")}" >API</a>' in html
    requested = url_if_exists("reports:requested_reports")
    assert (">Requested reports</a>" in html) == bool(requested)


def test_url_if_exists_is_empty_for_a_route_that_is_not_there():
    assert url_if_exists("reports:no_such_page") == ""
    assert url_if_exists("reports:dashboard") == "/partner/dashboard"


def test_each_quick_stat_links_to_the_same_numbers_on_the_report_page(client, owner, promo):
    owner.affiliate.default_report_currency = "USD"
    owner.affiliate.save(update_fields=["default_report_currency"])
    ExchangeRateFactory(date=TODAY, base="EUR", quote="USD", rate="1.25")
    stat(promo, TODAY, visits_count=9, deposits_sum="10.10", bets_sum=50)
    stat(promo, dt.date(2026, 3, 2), visits_count=3, first_deposits_count=1, first_deposits_sum=4)

    html = client.get(URL).content.decode()

    for key in ("today", "month"):
        card = re.search(rf'id="quick-stat-{key}".*?</section>', html, re.S).group(0)
        href = html_unescape(re.search(r'<a href="([^"]+)">[^<]* in Reports</a>', card).group(1))
        path, query = href.split("?", 1)
        assert path == reverse("reports:report")
        result = report_run(affiliate=owner.affiliate, query=ReportQuery.from_params(QueryDict(query), today=TODAY))
        totals = {cell["name"]: cell["value"] for cell in result.totals[0]}
        shown = quick_stat(html, key)
        for name, text in shown.items():
            value = totals[name]
            expected = f"{Decimal(value['amount']):,} {value['currency']}" if isinstance(value, dict) else f"{value:,}"
            assert text == expected, (key, name)
