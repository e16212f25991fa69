"""The report page /partner/reports as an affiliate sees it: the filters, groupings and columns
it offers (only the affiliate's own objects), the table (grouper names, chosen columns in the
chosen order, money with its currency, totals), conversion, pagination, field errors (never a
500, fuzzed), a report too large for the page, export controls, and the sub-affiliates tab."""
import datetime as dt
import re
import string
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from billing.models import SubAffiliateLevel
from campaigns.models import PartnerConnection
from reports.columns import COLUMNS
from reports.forms import column_label
from reports.models import RequestedReport
from tests.campaigns.factories import CampaignFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.partners.factories import AffiliateFactory, UserFactory
from tests.reports.factories import DailyStatFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db

URL = "/partner/reports"
RANGE = {"from": "2026-03-01", "to": "2026-04-30"}


# --- reading the page ---------------------------------------------------------------------------

class ReportTableParser(HTMLParser):
    """The report table as data: header labels, body rows and totals rows, each cell with its
    text and data attributes."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self.totals = [], [], []
        self._in_table = self._section = None
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "report-table":
            self._in_table = True
        if not self._in_table:
            return
        if tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "text": "", **{k: v for k, v in attrs.items() if k.startswith("data-")}}

    def handle_endtag(self, tag):
        if not self._in_table:
            return
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            target = {"thead": self.headers, "tbody": self.rows, "tfoot": self.totals}[self._section]
            target.append(self._row)
            self._row = None
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def table_of(response) -> ReportTableParser:
    parser = ReportTableParser()
    parser.feed(response.content.decode())
    return parser


def header_labels(table) -> list[str]:
    return [cell["text"] for cell in table.headers[0]]


def get(client, params) -> object:
    return client.get(f"{URL}?{urlencode(params, doseq=True)}")


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- data -----------------------------------------------------------------------------------------

@pytest.fixture
def world(client):
    user = UserFactory(affiliate__name="Alpha Media", affiliate__default_report_currency="EUR")
    affiliate = user.affiliate
    spring = CampaignFactory(affiliate=affiliate, name="Spring slots", brand__name="Lucky Star")
    poker = CampaignFactory(affiliate=affiliate, name="Poker nights", brand__name="River Poker")
    p1 = PromoFactory(campaign=spring, title="Spring banner", promo_code="SPRING")
    p2 = PromoFactory(campaign=poker, title="Poker text link")
    other = PromoFactory(campaign__name="Someone else's campaign", campaign__brand__name="Foreign Brand",
                         promo_code="FOREIGN")
    sign_in(client, user)
    return {"user": user, "affiliate": affiliate, "spring": spring, "poker": poker, "p1": p1, "p2": p2,
            "other": other}


@pytest.fixture
def stats(world):
    DailyStatFactory(promo=world["p1"], date=dt.date(2026, 3, 2), visits_count=100, registrations_count=10,
                     first_deposits_count=2, deposits_sum=Decimal("1234.50"), bets_sum=Decimal("900"),
                     wins_sum=Decimal("400"))
    DailyStatFactory(promo=world["p1"], date=dt.date(2026, 4, 3), visits_count=50, registrations_count=5,
                     first_deposits_count=1, deposits_sum=Decimal("100"), bets_sum=Decimal("300"),
                     wins_sum=Decimal("100"))
    DailyStatFactory(promo=world["p2"], date=dt.date(2026, 3, 9), visits_count=30, registrations_count=3,
                     first_deposits_count=0, deposits_sum=Decimal("0"))
    # Another affiliate's traffic never counts.
    DailyStatFactory(promo=world["other"], date=dt.date(2026, 3, 2), visits_count=9999,
                     deposits_sum=Decimal("9999"))


# --- what the form offers ----------------------------------------------------------------------------

def test_the_form_offers_the_affiliates_own_filters_groupings_and_every_column(client, world):
    VisitFactory(promo=world["p1"], params={"sub_id": "abc", "utm_source": "news"})
    VisitFactory(promo=world["other"], params={"foreign_tag": "x"})

    response = client.get(URL)

    assert response.status_code == 200
    text = page_text(response)
    # filters: the affiliate's brands, plans, campaigns, promos and promo codes, no one else's
    for own in ("Lucky Star", "River Poker", "Spring slots", "Poker nights", "Spring banner", "Poker text link",
                world["spring"].commission_plan.name, ">SPRING<"):
        assert own in text
    for foreign in ("Foreign Brand", "Someone else", "FOREIGN"):
        assert foreign not in text
    # groupings, from the engine's attributes: periods, dimensions and the affiliate's tags
    for value in ("year", "month", "week", "day", "brand", "campaign", "promo", "strategy", "player",
                  "player_country", "dynamic_tag_sub_id", "dynamic_tag_utm_source"):
        assert f'name="group_by[]" value="{value}"' in text
    assert "dynamic_tag_foreign_tag" not in text
    assert "Tag: sub_id" in text
    # every column of the catalogue can be chosen; the default ones are ticked
    for name in COLUMNS:
        assert f'value="{name}"' in text
    assert re.search(r'name="columns\[\]" value="visits_count" checked', text)
    assert not re.search(r'name="columns\[\]" value="wager" checked', text)
    # currency: the affiliate's default currency is preselected, conversion off
    assert re.search(r'<option value="EUR" selected>', text)
    assert not re.search(r'id="report-convert" name="convert_all_currencies" value="1" checked', text)


def test_the_default_report_is_this_months_totals(client, world):
    response = client.get(URL)
    table = table_of(response)
    assert header_labels(table)[1:] == [column_label(c) for c in
                                        ("visits_count", "registrations_count", "first_deposits_count",
                                         "deposits_sum", "ngr")]
    assert [cell["text"] for cell in table.totals[0]][0] == "Total"


def test_grouped_by_month_and_campaign_with_names_totals_and_money(client, world, stats):
    response = get(client, {**RANGE, "group_by[]": ["month", "campaign"],
                            "columns[]": ["visits_count", "deposits_sum", "ggr"]})

    table = table_of(response)
    assert header_labels(table) == ["Month", "Campaign", "Visits", "Deposits sum", "GGR"]
    rows = [[cell["text"] for cell in row] for row in table.rows]
    spring, poker = world["spring"].pk, world["poker"].pk
    assert rows == [  # ordered by month, then campaign (Spring slots was created first)
        ["2026-03", f"Spring slots #{spring}", "100", "1,234.50 EUR", "500.00 EUR"],
        ["2026-03", f"Poker nights #{poker}", "30", "0.00 EUR", "0.00 EUR"],
        ["2026-04", f"Spring slots #{spring}", "50", "100.00 EUR", "200.00 EUR"],
    ]
    totals = [cell["text"] for cell in table.totals[0]]
    assert totals == ["Total", "180", "1,334.50 EUR", "700.00 EUR"]
    # the form shows back what was chosen
    text = page_text(response)
    assert 'name="group_by[]" value="month" checked' in text
    assert 'name="group_by[]" value="campaign" checked' in text


@pytest.mark.parametrize("grouper,expected", [
    ("brand", {"Lucky Star", "River Poker"}),
    ("promo", {"Spring banner", "Poker text link"}),
])
def test_relations_show_names_not_bare_ids(client, world, stats, grouper, expected):
    table = table_of(get(client, {**RANGE, "group_by[]": [grouper], "columns[]": ["visits_count"]}))
    assert {row[0]["text"].split(" #")[0] for row in table.rows} == expected


def test_filters_narrow_the_report(client, world, stats):
    base = {**RANGE, "columns[]": ["visits_count"]}
    visits = lambda params: table_of(get(client, {**base, **params})).totals[0][1]["text"]  # noqa: E731
    assert visits({}) == "180"
    assert visits({"campaign_ids[]": [world["poker"].pk]}) == "30"
    assert visits({"promo_ids[]": [world["p1"].pk]}) == "150"
    assert visits({"brand_ids[]": [world["poker"].brand_id]}) == "30"
    assert visits({"plan_ids[]": [world["spring"].commission_plan_id]}) == "150"
    assert visits({"promo_codes[]": ["spring"]}) == "150"
    assert visits({"from": "2026-04-01"}) == "50"
    # the chosen filters stay selected in the form
    text = page_text(get(client, {**base, "campaign_ids[]": [world["poker"].pk]}))
    assert re.search(rf'<option value="{world["poker"].pk}" selected>Poker nights', text)


def test_the_column_order_chosen_is_the_table_order(client, world, stats):
    chosen = ["ngr", "visits_count", "deposits_sum"]
    response = get(client, {**RANGE, "columns[]": chosen})
    assert header_labels(table_of(response))[1:] == ["NGR", "Visits", "Deposits sum"]
    # and the chooser lists the chosen columns first, in that order
    listed = re.findall(r'data-column="([a-z_]+)"', response.content.decode().split('id="report-columns"')[1])
    assert listed[:3] == chosen
    reordered = get(client, {**RANGE, "columns[]": ["deposits_sum", "ngr", "visits_count"]})
    assert header_labels(table_of(reordered))[1:] == ["Deposits sum", "NGR", "Visits"]


def test_without_conversion_there_is_a_totals_row_per_currency(client, world, stats):
    DailyStatFactory(promo=world["p2"], date=dt.date(2026, 3, 10), currency="USD", deposits_sum=Decimal("40"))
    table = table_of(get(client, {**RANGE, "group_by[]": ["brand"], "columns[]": ["deposits_sum"]}))
    totals = {row[0]["text"]: row[1]["text"] for row in table.totals}
    assert totals == {"Total EUR": "1,334.50 EUR", "Total USD": "40.00 USD"}


def test_convert_all_currencies_to_one_currency_at_a_rates_date(client, world, stats):
    DailyStatFactory(promo=world["p2"], date=dt.date(2026, 3, 10), currency="USD", deposits_sum=Decimal("40"))
    ExchangeRateFactory(date=dt.date(2026, 3, 31), base="USD", quote="EUR", rate="0.5")

    response = get(client, {**RANGE, "columns[]": ["deposits_sum"], "convert_all_currencies": ["0", "1"],
                            "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31"})

    table = table_of(response)
    assert [[c["text"] for c in row] for row in table.totals] == [["Total", "1,354.50 EUR"]]
    text = page_text(response)
    assert 'id="report-convert" name="convert_all_currencies" value="1" checked' in text
    assert 'value="2026-03-31"' in text


def test_the_currency_select_alone_does_not_convert_when_the_box_is_unticked(client, world, stats):
    DailyStatFactory(promo=world["p2"], date=dt.date(2026, 3, 10), currency="USD", deposits_sum=Decimal("40"))
    # what the form sends with the box unticked: the hidden 0, and the select's value
    table = table_of(get(client, {**RANGE, "group_by[]": ["brand"], "columns[]": ["deposits_sum"],
                                  "convert_all_currencies": "0", "conversion_currency": "USD"}))
    assert len(table.totals) == 2


def test_convert_all_without_a_currency_uses_the_default_report_currency(client, world, stats):
    world["affiliate"].default_report_currency = "USD"
    world["affiliate"].save(update_fields=["default_report_currency"])
    ExchangeRateFactory(date=dt.date(2026, 3, 31), base="EUR", quote="USD", rate="2")
    table = table_of(get(client, {**RANGE, "columns[]": ["deposits_sum"], "convert_all_currencies": "1",
                                  "exchange_rates_date": "2026-03-31"}))
    assert table.totals[0][1]["text"] == "2,669.00 USD"


def test_pagination_keeps_the_settings(client, world, stats):
    response = get(client, {**RANGE, "group_by[]": ["day"], "columns[]": ["visits_count"], "per_page": "1"})
    text = page_text(response)
    assert "Page 1 of 3" in text
    next_link = re.search(r'href="([^"]+)" rel="next"', response.content.decode()).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(next_link).query)
    assert query["page"] == ["2"] and query["group_by[]"] == ["day"] and query["per_page"] == ["1"]
    second = client.get(f"{URL}{next_link}" if next_link.startswith("?") else next_link)
    assert [row[0]["text"] for row in table_of(second).rows] == ["2026-03-09"]
    # totals are of every page
    assert table_of(second).totals[0][1]["text"] == "180"


# --- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("params,place,message", [
    ({"from": "2026-02-30"}, "report-dates-error", "no such day"),
    ({"from": "2026-04-01", "to": "2026-03-01"}, "report-dates-error", "from is after to"),
    ({"columns[]": ["visits_count", "bogus"]}, "report-columns-error", "unknown column"),
    ({"group_by[]": ["month", "day"]}, "report-group-by-error", "one of year, month, week, day"),
    ({"group_by[]": ["player"], "columns[]": ["visits_count"]}, "report-columns-error", "not available"),
    ({"conversion_currency": "XXX"}, "report-currency-error", "unknown currency"),
    ({"per_page": "0"}, "report-per-page-error", "per_page"),
    ({"campaign_ids[]": ["abc"]}, "report-campaigns-error", "not an id"),
])
def test_a_wrong_setting_is_shown_next_to_its_control(client, world, params, place, message):
    response = get(client, params)
    assert response.status_code == 200
    text = page_text(response)
    error = re.search(rf'id="{place}">([^<]*)<', text)
    assert error and message in error.group(1)
    assert 'id="report-table"' not in text
    assert "Correct the settings marked above" in text


def test_another_affiliates_objects_are_refused_by_name(client, world, stats):
    other = world["other"]
    for params, place in (({"brand_ids[]": [other.brand_id]}, "report-brands-error"),
                          ({"campaign_ids[]": [other.campaign_id]}, "report-campaigns-error"),
                          ({"promo_ids[]": [other.pk]}, "report-promos-error"),
                          ({"plan_ids[]": [other.campaign.commission_plan_id]}, "report-plans-error"),
                          ({"promo_codes[]": ["FOREIGN"]}, "report-promo-codes-error")):
        text = page_text(get(client, params))
        assert re.search(rf'id="{place}">[^<]*not', text), params
        assert "9999" not in text


def test_a_missing_exchange_rate_is_an_error_on_the_currency(client, world, stats):
    DailyStatFactory(promo=world["p2"], date=dt.date(2026, 3, 10), currency="USD", deposits_sum=Decimal("40"))
    text = page_text(get(client, {**RANGE, "columns[]": ["deposits_sum"], "convert_all_currencies": "1",
                                  "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31"}))
    assert re.search(r'id="report-currency-error">No exchange rate for USD', text)


_chars = st.text(alphabet=string.printable + "€ü[]", max_size=12)
_names = st.sampled_from(["from", "to", "group_by[]", "columns[]", "brand_ids[]", "plan_ids[]", "campaign_ids[]",
                          "promo_ids[]", "promo_codes[]", "conversion_currency", "convert_all_currencies",
                          "exchange_rates_date", "page", "per_page", "group_by", "columns", "strategy_ids[]",
                          "dynamic_tags[sub_id][]", "exclude_dynamic_tags[x][]", "dynamic_tags[a__b][]",
                          "tag_filter_param", "tag_filter_values", "tag_filter_mode"])
_values = st.one_of(_chars, st.sampled_from(["2026-03-01", "month", "campaign", "player", "dynamic_tag_x",
                                             "ngr", "visits_count", "1", "0", "EUR", "9" * 30, "-1", ""]))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(_names, _values), max_size=8))
def test_no_query_string_makes_the_page_fail(client, world, pairs):
    response = client.get(f"{URL}?{urlencode(pairs)}")
    assert response.status_code == 200


# --- too large, files -----------------------------------------------------------------------------------

def test_a_report_too_large_for_the_page_is_offered_as_a_file(client, world, stats, settings):
    settings.REPORT_PAGE_MAX_ROWS = 2
    params = {**RANGE, "group_by[]": ["day"], "columns[]": ["visits_count"]}

    response = get(client, params)

    text = page_text(response)
    assert "Too large to show here" in text and "more than 2 rows" in text
    assert 'id="report-table"' not in text
    form = re.search(r'<form method="post" action="([^"]+)" class="toolbar" id="report-build">.*?</form>', text)
    assert form.group(1) == reverse("reports:request_report")
    assert 'name="group_by[]" value="day"' in form.group(0) and 'name="from" value="2026-03-01"' in form.group(0)

    # when: the affiliate has it built as a file, with the form's fields
    fields = dict(re.findall(r'<input type="hidden" name="(from|to)" value="([^"]+)"', form.group(0)))
    built = client.post(form.group(1), {**fields, "group_by[]": ["day"], "columns[]": ["visits_count"],
                                        "name": "Daily March"})

    assert built.status_code == 302
    requested = RequestedReport.objects.get(affiliate=world["affiliate"])
    assert requested.name == "Daily March" and requested.requested_by == world["user"]
    assert requested.params["group_by[]"] == ["day"] and requested.params["from"] == "2026-03-01"
    # a report that fits is shown as usual
    settings.REPORT_PAGE_MAX_ROWS = 3
    assert 'id="report-table"' in page_text(get(client, params))


def test_the_row_count_of_raw_data_groupers_is_checked_too(client, world, settings):
    from tests.campaigns.factories import PlayerFactory

    for country in ("FI", "SE", "NO"):
        PlayerFactory(visit=VisitFactory(promo=world["p1"]), country=country,
                      sign_up_at=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    params = {**RANGE, "group_by[]": ["player_country"], "columns[]": ["registrations_count"]}
    settings.REPORT_PAGE_MAX_ROWS = 2
    assert "Too large to show here" in page_text(get(client, params))
    settings.REPORT_PAGE_MAX_ROWS = 3
    table = table_of(get(client, params))
    assert sorted(row[0]["text"] for row in table.rows) == ["FI", "NO", "SE"]


def _route(name, **kwargs):
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def test_export_and_feed_links_carry_the_report_settings(client, world, stats):
    params = {**RANGE, "group_by[]": ["month"], "columns[]": ["ngr", "visits_count"]}
    text = response_text = get(client, params).content.decode()
    export = _route("reports:export", fmt="xlsx")
    feed = _route("reports:feed", fmt="json")
    if export is None and feed is None:
        assert "Export report" not in text
        pytest.skip("the export and feed routes are not there yet")
    if export:
        link = re.search(rf'href="({re.escape(export)}\?[^"]+)"', response_text).group(1).replace("&amp;", "&")
        query = parse_qs(urlsplit(link).query)
        assert query["columns[]"] == ["ngr", "visits_count"] and query["group_by[]"] == ["month"]
        assert query["from"] == ["2026-03-01"] and "token" not in query
    if feed:
        from partners.services.tokens import statistic_token_reveal

        world["user"].refresh_from_db()
        token = statistic_token_reveal(world["user"])
        link = re.search(rf'value="(http://testserver{re.escape(feed)}\?[^"]+)"', response_text).group(1)
        link = link.replace("&amp;", "&")
        query = parse_qs(urlsplit(link).query)
        assert query["token"] == [token] and query["columns[]"] == ["ngr", "visits_count"]
        # the feed link opens without a session and gives this report
        client.logout()
        feed_response = client.get(link.removeprefix("http://testserver"))
        assert feed_response.status_code == 200
        body = b"".join(feed_response.streaming_content).decode()
        assert '"visits_count"' in body and '"ngr"' in body
    if _route("reports:request_report"):
        assert f'action="{reverse("reports:request_report")}"' in text


# --- tag filters --------------------------------------------------------------------------------------

@pytest.fixture
def tagged(world):
    from tests.campaigns.factories import PlayerFactory

    for user_id, params in (("p-a", {"sub_id": "spring-a"}), ("p-b", {"sub_id": "spring-b"}),
                            ("p-c", {"utm_source": "news"})):
        visit = VisitFactory(promo=world["p1"], params=params, created_at=dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC))
        PlayerFactory(visit=visit, user_id=user_id, sign_up_at=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    VisitFactory(promo=world["other"], params={"foreign_tag": "x"})


def test_the_tag_filter_offers_the_tags_of_the_affiliates_clicks(client, world, tagged):
    text = page_text(client.get(URL))
    assert 'name="tag_filter_param"' in text and 'name="tag_filter_values"' in text
    names = re.search(r'<datalist id="report-tag-names">(.*?)</datalist>', text).group(1)
    assert re.findall(r'value="([^"]+)"', names) == ["sub_id", "utm_source"]


def test_a_tag_filter_narrows_the_report_and_links_carry_it(client, world, tagged):
    params = {**RANGE, "group_by[]": ["player"], "columns[]": ["registrations_count"],
              "tag_filter_param": "sub_id", "tag_filter_values": "spring-a, spring-b", "tag_filter_mode": "include"}
    response = get(client, params)
    assert sorted(row[0]["text"] for row in table_of(response).rows) == ["p-a", "p-b"]
    text = page_text(response)
    # the filter applied comes back as ticked boxes under its API name; the "add" row is blank again
    assert re.findall(r'name="dynamic_tags\[sub_id\]\[\]" value="([^"]+)" checked', text) == ["spring-a", "spring-b"]
    assert re.search(r'name="tag_filter_values" value=""', text)
    # the same filter by its API name, also excluding
    excluded = get(client, {**RANGE, "group_by[]": ["player"], "columns[]": ["registrations_count"],
                            "exclude_dynamic_tags[sub_id][]": ["spring-a"]})
    assert sorted(row[0]["text"] for row in table_of(excluded).rows) == ["p-b", "p-c"]
    assert "is none of" in page_text(excluded)
    export = _route("reports:export", fmt="csv")
    if export:
        link = re.search(rf'href="({re.escape(export)}\?[^"]+)"', response.content.decode()).group(1)
        query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
        assert query["dynamic_tags[sub_id][]"] == ["spring-a", "spring-b"]
        assert "tag_filter_param" not in query


def test_a_favorite_keeps_the_tag_filters(client, world, tagged):
    from reports.models import ReportFavorite

    response = client.post(reverse("reports:report_favorite_save"), {
        **RANGE, "group_by[]": ["player"], "columns[]": ["registrations_count"],
        "exclude_dynamic_tags[sub_id][]": ["spring-a"], "name": "No spring-a", "period": "fixed"})
    assert response.status_code == 302
    favorite = ReportFavorite.objects.get(affiliate=world["affiliate"])
    assert favorite.params["exclude_dynamic_tags[sub_id][]"] == ["spring-a"]
    loaded = client.get(reverse("reports:report_favorite_load", args=[favorite.pk]), follow=True)
    assert sorted(row[0]["text"] for row in table_of(loaded).rows) == ["p-b", "p-c"]


@pytest.mark.parametrize("params,message", [
    ({"tag_filter_values": "a"}, "choose the tag"),
    ({"tag_filter_param": "sub id", "tag_filter_values": "a"}, "not a tracking-link parameter name"),
    ({"tag_filter_param": "sub_id"}, "give one or more values"),
    ({"tag_filter_param": "sub_id", "tag_filter_values": "a", "tag_filter_mode": "maybe"}, "include or exclude"),
    ({"dynamic_tags[a__b][]": "x"}, "not a tracking-link parameter name"),
])
def test_a_wrong_tag_filter_is_shown_at_the_tag_filter(client, world, params, message):
    text = page_text(get(client, params))
    error = re.search(r'id="report-tags-error">([^<]*)<', text)
    assert error and message in error.group(1)
    assert 'id="report-table"' not in text


def test_the_page_is_for_signed_in_affiliates_only(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/partner/login" in response["Location"]


# --- sub-affiliates tab --------------------------------------------------------------------------------

def test_no_subaffiliates_no_tab(client, world):
    assert "Sub-affiliates" not in page_text(client.get(URL))
    assert client.get(reverse("reports:report_subaffiliates")).status_code == 404


def test_the_subaffiliates_tab_lists_each_with_activity_and_commission(client, world):
    spring = world["spring"]
    SubAffiliateLevel.objects.create(plan=spring.commission_plan, level=1, percent=Decimal("5"))
    child = AffiliateFactory(name="Beta Traffic")
    grandchild = AffiliateFactory(name="Gamma Leads")
    PartnerConnection.objects.create(parent=world["affiliate"], child=child, level=1, campaign=spring,
                                     promo=world["p1"])
    PartnerConnection.objects.create(parent=world["affiliate"], child=grandchild, level=2, campaign=spring,
                                     promo=world["p1"])
    PartnerConnection.objects.create(parent=AffiliateFactory(), child=AffiliateFactory(name="Not mine"), level=1)
    child_promo = PromoFactory(campaign__affiliate=child)
    DailyStatFactory(promo=child_promo, date=dt.date(2026, 3, 5), registrations_count=7, first_deposits_count=2,
                     deposits_sum=Decimal("300"), bets_sum=Decimal("500"), wins_sum=Decimal("200"))
    DailyStatFactory(promo=child_promo, date=dt.date(2026, 5, 5), registrations_count=100)

    assert "Sub-affiliates" in page_text(client.get(URL))
    response = client.get(reverse("reports:report_subaffiliates"), {"from": "2026-03-01", "to": "2026-03-31"})

    assert response.status_code == 200
    text = page_text(response)
    assert "Not mine" not in text
    row = re.search(rf'<tr data-subaffiliate="{child.pk}">(.*?)</tr>', text).group(1)
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    assert cells[0] == ["Beta", "Traffic"] and cells[1] == ["1"] and cells[2] == ["Spring", "slots"]
    assert cells[3] == ["Spring", "banner"]
    assert cells[5:9] == [["7"], ["2"], ["300.00", "EUR"], ["300.00", "EUR"]]
    assert "5% of level 1 income" in " ".join(cells[9])
    grand = re.search(rf'<tr data-subaffiliate="{grandchild.pk}">(.*?)</tr>', text).group(1)
    assert "no commission on level 2" in grand


def test_subaffiliates_tab_shows_a_date_error_and_falls_back(client, world):
    PartnerConnection.objects.create(parent=world["affiliate"], child=AffiliateFactory(), level=1)
    response = client.get(reverse("reports:report_subaffiliates"), {"from": "nope"})
    assert response.status_code == 200
    assert 'id="sub-dates-error"' in response.content.decode()


def test_the_page_with_feed_links_is_never_cached(client):
    from django.urls import reverse

    from tests.conftest import sign_in
    from tests.partners.factories import UserFactory

    sign_in(client, UserFactory())

    assert "no-store" in client.get(reverse("reports:report"))["Cache-Control"]
