"""The Partner Report API over HTTP: auth (401), parameters (400), rate limit (429), async,
response shape (api-facts §1), scoping by token, traffic_report, and a fuzz over query strings."""
import datetime as dt
import string
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from partners.models import Affiliate
from partners.services.tokens import statistic_token_issue
from tests.campaigns.factories import CampaignFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory

pytestmark = pytest.mark.django_db

REPORT = "/api/customer/v1/partner/report"
ATTRIBUTES = "/api/customer/v1/partner/report/attributes"
TRAFFIC = "/api/customer/v1/partner/traffic_report"
D = dt.date(2026, 3, 2)


@pytest.fixture
def api_user():
    user = UserFactory()
    user.token = statistic_token_issue(user=user, actor=None)
    return user


def get(client, url, token, params=None, **headers):
    query = urlencode(params or {}, doseq=True)
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = token
    return client.get(f"{url}?{query}" if query else url, **headers)


def report_params(**extra):
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    params.update(extra)
    return params


# --- auth -----------------------------------------------------------------------------------

def test_missing_token_is_401_json(client):
    response = get(client, REPORT, None, report_params())
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "Authorization" in response.json()["error"]


def test_unknown_token_is_401(client, api_user):
    assert get(client, REPORT, "0" * 40, report_params()).status_code == 401


def test_a_regenerated_token_stops_working(client, api_user):
    old = api_user.token
    new = statistic_token_issue(user=api_user, actor=api_user)
    assert get(client, REPORT, old, report_params()).status_code == 401
    assert get(client, REPORT, new, report_params()).status_code == 200


def test_blocked_user_or_inactive_affiliate_is_401(client, api_user):
    api_user.is_blocked = True
    api_user.save(update_fields=["is_blocked"])
    assert get(client, REPORT, api_user.token, report_params()).status_code == 401
    api_user.is_blocked = False
    api_user.save(update_fields=["is_blocked"])
    Affiliate.objects.filter(pk=api_user.affiliate_id).update(status=Affiliate.Status.BLOCKED)
    assert get(client, REPORT, api_user.token, report_params()).status_code == 401


def test_token_in_the_query_string_works_for_feed_links(client, api_user):
    response = get(client, REPORT, None, report_params(token=api_user.token))
    assert response.status_code == 200


def test_a_bearer_prefix_is_tolerated(client, api_user):
    assert get(client, REPORT, f"Bearer {api_user.token}", report_params()).status_code == 200


def test_only_get(client, api_user):
    response = client.post(REPORT, HTTP_AUTHORIZATION=api_user.token)
    assert response.status_code == 405


# --- 400 ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "field"), [
    ({"columns[]": ["visits_count", "nope"]}, "columns[]"),
    ({"group_by[]": ["nope"]}, "group_by[]"),
    ({"group_by[]": ["sign_up_at_day", "sign_up_at_month"]}, "group_by[]"),
    ({"group_by[]": ["sign_up_at_day"], "columns[]": ["visits_count"]}, "columns[]"),
    ({"from": "2026-02-31"}, "from"),
    ({"to": "tomorrow"}, "to"),
    ({"from": "2026-04-01"}, "from"),  # after to
    ({"from": "2020-01-01"}, "to"),  # range over the maximum
    ({"per_page": "5000"}, "per_page"),
    ({"page": "0"}, "page"),
    ({"conversion_currency": "EURO"}, "conversion_currency"),
    ({"exchange_rates_date": "2026/03/01"}, "exchange_rates_date"),
    ({"campaign_ids[]": ["x"]}, "campaign_ids[]"),
    ({"async": "true", "columns[]": ["nope"]}, "columns[]"),  # checked before anything is queued
])
def test_bad_parameters_are_400_naming_them(client, api_user, params, field):
    response = get(client, REPORT, api_user.token, report_params(**params))
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field
    assert body["error"]


def test_async_false_is_the_report_itself(client, api_user):
    body = get(client, REPORT, api_user.token, report_params(**{"async": "false"})).json()
    assert body["report_type"] == "partner_report"


# --- 429 ------------------------------------------------------------------------------------

def test_too_many_calls_with_one_token_is_429_with_retry_after(client, api_user, settings):
    settings.REPORT_API_RATE_LIMIT = 3
    other = UserFactory()
    other_token = statistic_token_issue(user=other, actor=None)
    for _ in range(3):
        assert get(client, ATTRIBUTES, api_user.token).status_code == 200
    response = get(client, ATTRIBUTES, api_user.token)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert "error" in response.json()
    # Another token has its own budget.
    assert get(client, ATTRIBUTES, other_token).status_code == 200


# --- shape ----------------------------------------------------------------------------------

def test_attributes(client, api_user):
    body = get(client, ATTRIBUTES, api_user.token).json()
    assert set(body) == {"available_columns", "available_groupers"}
    assert "ngr" in body["available_columns"] and "visits_count" in body["available_columns"]
    assert body["available_groupers"] == [
        "day", "week", "month", "year", "brand", "campaign", "promo", "strategy", "player", "player_country",
        "sign_up_at_day", "sign_up_at_week", "sign_up_at_month", "sign_up_at_year",
        "first_deposit_day", "first_deposit_week", "first_deposit_month", "first_deposit_year"]
    assert {"partner_income", "admin_fee", "fixed", "ngr_percent"} <= set(body["available_columns"])


def test_response_shape_as_in_api_facts(client, api_user):
    campaign = CampaignFactory(affiliate=api_user.affiliate, name="Spring")
    promo = PromoFactory(campaign=campaign)
    DailyStatFactory(promo=promo, date=D, visits_count=3, deposits_sum=Decimal("12.5"))
    response = get(client, REPORT, api_user.token, report_params(**{
        "columns[]": ["deposits_sum", "visits_count"], "group_by[]": ["day", "campaign"]}))
    assert response.status_code == 200
    assert response.json() == {
        "report_type": "partner_report",
        "rows": {"data": [[
            {"name": "date", "value": "2026-03-02", "type": "date"},
            {"name": "campaign", "value": campaign.pk, "type": "integer"},
            {"name": "deposits_sum", "value": {"amount": "12.50", "amount_cents": "1250.0", "currency": "EUR"},
             "type": "money"},
            {"name": "visits_count", "value": 3, "type": "integer"},
        ]]},
        "totals": {"data": [[
            {"name": "deposits_sum", "value": {"amount": "12.50", "amount_cents": "1250.0", "currency": "EUR"},
             "type": "money"},
            {"name": "visits_count", "value": 3, "type": "integer"},
        ]]},
        "total_pages": 1,
        "current_page": 1,
        "relations": {"campaigns": [{"id": campaign.pk, "name": "Spring",
                                     "strategy": campaign.commission_plan.name}]},
    }


def test_a_token_sees_only_its_own_affiliate(client, api_user):
    mine = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    DailyStatFactory(promo=mine, date=D, visits_count=1)
    theirs = PromoFactory()
    DailyStatFactory(promo=theirs, date=D, visits_count=500)
    other_user = UserFactory(affiliate=theirs.affiliate)
    other_token = statistic_token_issue(user=other_user, actor=None)
    params = report_params(**{"columns[]": ["visits_count"], "group_by[]": ["campaign"]})
    mine_body = get(client, REPORT, api_user.token, params).json()
    theirs_body = get(client, REPORT, other_token, params).json()
    assert [r[1]["value"] for r in mine_body["rows"]["data"]] == [1]
    assert [c["id"] for c in mine_body["relations"]["campaigns"]] == [mine.campaign_id]
    assert [r[1]["value"] for r in theirs_body["rows"]["data"]] == [500]
    filtered = get(client, REPORT, api_user.token, report_params(**{
        "columns[]": ["visits_count"], "campaign_ids[]": [theirs.campaign_id]})).json()
    assert filtered["rows"]["data"] == [[{"name": "visits_count", "value": 0, "type": "integer"}]]


def test_pagination_over_http(client, api_user):
    promo = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    for i in range(3):
        DailyStatFactory(promo=promo, date=D + dt.timedelta(days=i), visits_count=1)
    body = get(client, REPORT, api_user.token, report_params(**{
        "columns[]": ["visits_count"], "group_by[]": ["day"], "per_page": "2", "page": "2"})).json()
    assert (body["total_pages"], body["current_page"]) == (2, 2)
    assert [r[0]["value"] for r in body["rows"]["data"]] == ["2026-03-04"]
    assert body["totals"]["data"][0][0]["value"] == 3


def test_conversion_over_http_and_a_missing_rate_is_400(client, api_user):
    from tests.reports.factories import ExchangeRateFactory

    promo = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    DailyStatFactory(promo=promo, date=D, currency="EUR", deposits_sum=Decimal("10"))
    DailyStatFactory(promo=promo, date=D, currency="USD", deposits_sum=Decimal("10"))
    params = report_params(**{"columns[]": ["deposits_sum"], "conversion_currency": "EUR",
                              "convert_all_currencies": "1", "exchange_rates_date": "2026-03-20"})
    missing = get(client, REPORT, api_user.token, params)
    assert missing.status_code == 400
    assert missing.json()["field"] == "exchange_rates_date"
    ExchangeRateFactory(date=dt.date(2026, 3, 20), base="USD", quote="EUR", rate="0.9")
    body = get(client, REPORT, api_user.token, params).json()
    assert body["rows"]["data"] == [[{"name": "deposits_sum", "type": "money",
                                      "value": {"amount": "19.00", "amount_cents": "1900.0", "currency": "EUR"}}]]


# --- traffic report -------------------------------------------------------------------------

def test_traffic_report_by_day_has_to_exclusive_and_overall_totals(client, api_user):
    promo = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    for i, visits in enumerate([1, 2, 4]):
        DailyStatFactory(promo=promo, date=D + dt.timedelta(days=i), visits_count=visits, registrations_count=1)
    body = get(client, TRAFFIC, api_user.token, {"from": "2026-03-02", "to": "2026-03-04",
                                                  "date_group_by": "day", "per_page": "1"}).json()
    assert body["total_pages"] == 2
    assert body["rows"]["data"] == [[
        {"name": "date", "value": "2026-03-02", "type": "date"},
        {"name": "visits_count", "value": 1, "type": "integer"},
        {"name": "registrations_count", "value": 1, "type": "integer"},
        {"name": "first_deposits_count", "value": 0, "type": "integer"},
    ]]
    assert body["totals"]["data"][0][0]["value"] == 1
    assert body["overall_totals"]["data"][0][0] == {"name": "visits_count", "value": 3, "type": "integer"}


def test_traffic_report_by_month(client, api_user):
    promo = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    DailyStatFactory(promo=promo, date=D, visits_count=1)
    DailyStatFactory(promo=promo, date=D + dt.timedelta(days=31), visits_count=2)
    body = get(client, TRAFFIC, api_user.token, {"from": "2026-03-01", "to": "2026-05-01",
                                                  "date_group_by": "month"}).json()
    assert [(r[0]["value"], r[1]["value"]) for r in body["rows"]["data"]] == [("2026-03-01", 1), ("2026-04-01", 2)]


def test_traffic_report_by_hour_counts_raw_visits_and_sign_ups(client, api_user):
    promo = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    at = dt.datetime(2026, 3, 2, 10, 15, tzinfo=dt.UTC)
    visit = VisitFactory(promo=promo, created_at=at)
    VisitFactory(promo=promo, created_at=at + dt.timedelta(minutes=30))
    VisitFactory(promo=promo, created_at=at + dt.timedelta(hours=2))
    PlayerFactory(visit=visit, sign_up_at=at + dt.timedelta(minutes=5))
    VisitFactory(created_at=at)  # someone else's
    body = get(client, TRAFFIC, api_user.token, {"from": "2026-03-02", "to": "2026-03-03",
                                                  "date_group_by": "hour"}).json()
    rows = [(r[0]["value"][:13], r[1]["value"], r[2]["value"]) for r in body["rows"]["data"]]
    assert rows == [("2026-03-02T10", 2, 1), ("2026-03-02T12", 1, 0)]
    assert body["overall_totals"]["data"][0][0]["value"] == 3


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-03-02", "to": "2026-03-02"}, "from"),
    ({"date_group_by": "minute"}, "date_group_by"),
    ({"from": "x"}, "from"),
])
def test_traffic_report_errors(client, api_user, params, field):
    response = get(client, TRAFFIC, api_user.token, params)
    assert response.status_code == 400
    assert response.json()["field"] == field


# --- schema and docs ------------------------------------------------------------------------

def test_openapi_schema_and_docs_page_without_cdn(client):
    schema = client.get("/api/customer/v1/partner/schema").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/report", "/report/attributes", "/traffic_report", "/requested_reports/{report_id}",
                                    "/requested_reports/{report_id}/download.zip",
                                    "/requested_reports/{report_id}/download.xlsx"}
    report = schema["paths"]["/report"]["get"]
    columns = next(p for p in report["parameters"] if p["name"] == "columns[]")
    assert "ngr" in columns["schema"]["items"]["enum"] and "partner_income" in columns["schema"]["items"]["enum"]
    assert (columns["style"], columns["explode"]) == ("form", True)  # repeated columns[]=a&columns[]=b
    groupers = next(p for p in report["parameters"] if p["name"] == "group_by[]")
    assert "first_deposit_month" in groupers["schema"]["items"]["enum"]
    # The raw token in Authorization, declared as the security scheme of every operation.
    assert schema["components"]["securitySchemes"]["statisticToken"] == {
        "type": "apiKey", "in": "header", "name": "Authorization", "description": "The raw statistic token, no prefix."}
    assert report["security"] == [{"statisticToken": []}]
    assert set(report["responses"]) == {"200", "202", "400", "401", "429"}
    assert "Retry-After" in report["responses"]["429"]["headers"]
    example = next(iter(report["responses"]["200"]["content"]["application/json"]["examples"].values()))["value"]
    assert example["rows"]["data"][0][0] == {"name": "date", "value": "2026-03-01", "type": "date"}
    page = client.get("/api/customer/v1/partner/docs").content.decode()
    assert "curl -H &#x27;Authorization: YOUR_TOKEN&#x27;" in page or "Authorization: YOUR_TOKEN" in page
    assert "<script" not in page and "https://cdn" not in page


# --- fuzz -----------------------------------------------------------------------------------

_names = st.sampled_from([
    "from", "to", "columns[]", "group_by[]", "async", "conversion_currency", "convert_all_currencies",
    "exchange_rates_date", "campaign_ids[]", "brand_ids[]", "promo_ids[]", "promo_codes[]", "page", "per_page",
    "date_group_by", "token", "columns", "group_by", "dynamic_tags[sub_id][]", "exclude_dynamic_tags[sub_id][]",
    "dynamic_tags[a__b][]", "dynamic_tags", "dynamic_tags[x]",
]) | st.text(max_size=12)
_values = st.sampled_from([
    "2026-03-01", "2026-03-31", "9999-12-31", "0001-01-01", "day", "month", "campaign", "player", "ngr",
    "visits_count", "EUR", "BTC", "1", "0", "-1", "true", "99999999999999999999", "", "dynamic_tag_x",
]) | st.text(alphabet=string.printable + "\x00é€\ud7ff", max_size=20)


@hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs=st.lists(st.tuples(_names, _values), max_size=8))
def test_no_query_string_makes_a_500(client, api_user, pairs):
    cache.clear()
    for url in (REPORT, TRAFFIC, ATTRIBUTES):
        response = client.get(f"{url}?{urlencode(pairs)}", HTTP_AUTHORIZATION=api_user.token)
        # 202: async=true queued a requested report (every other parameter was right).
        assert response.status_code in (200, 202, 400), (pairs, response.content[:200])
        assert "error" in response.json() or response.status_code == 200


# --- dynamic-tag filters and the bound on raw-data reports -----------------------------------

@pytest.fixture
def tagged_players(api_user):
    promo = PromoFactory(campaign=CampaignFactory(affiliate=api_user.affiliate))
    for user_id, sub_id in (("p-a", "spring-a"), ("p-b", "spring-b"), ("p-c", None)):
        visit = VisitFactory(promo=promo, created_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
                             params={"sub_id": sub_id} if sub_id else {})
        PlayerFactory(visit=visit, user_id=user_id, sign_up_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    return promo


def test_dynamic_tag_filters_over_http(client, api_user, tagged_players):
    include = get(client, REPORT, api_user.token, report_params(**{
        "columns[]": ["registrations_count"], "group_by[]": ["player"], "dynamic_tags[sub_id][]": ["spring-a"]}))
    assert include.status_code == 200
    assert [r[0]["value"] for r in include.json()["rows"]["data"]] == ["p-a"]
    exclude = get(client, REPORT, api_user.token, report_params(**{
        "columns[]": ["visits_count", "registrations_count"], "exclude_dynamic_tags[sub_id][]": ["spring-a"]}))
    assert exclude.json()["rows"]["data"] == [[{"name": "visits_count", "value": 2, "type": "integer"},
                                               {"name": "registrations_count", "value": 2, "type": "integer"}]]


@pytest.mark.parametrize("key", ["dynamic_tags[sub__id][]", "exclude_dynamic_tags[sub id][]", "dynamic_tags",
                                 "dynamic_tags[sub_id"])
def test_a_malformed_tag_filter_is_400_naming_it(client, api_user, key):
    response = get(client, REPORT, api_user.token, report_params(**{key: "x"}))
    assert response.status_code == 400
    assert response.json()["field"] == key


def test_a_raw_report_over_the_group_limit_is_400_and_async_still_takes_it(client, api_user, tagged_players,
                                                                           settings):
    settings.REPORT_MAX_RAW_GROUPS = 2
    params = report_params(**{"columns[]": ["registrations_count"], "group_by[]": ["player", "day"]})
    response = get(client, REPORT, api_user.token, params)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "group_by[]"
    assert "shorter range" in body["error"] and "async=true" in body["error"]
    assert get(client, REPORT, api_user.token, {**params, "async": "true"}).status_code == 202


def test_openapi_documents_the_tag_filters(client, api_user):
    report = client.get("/api/customer/v1/partner/schema").json()["paths"]["/report"]["get"]
    names = {p["name"]: p for p in report["parameters"]}
    assert "sub_id" in names["dynamic_tags[<param>][]"]["description"]
    assert "exclude_dynamic_tags[<param>][]" in names
    page = client.get("/api/customer/v1/partner/docs").content.decode()
    assert "exclude_dynamic_tags[&lt;param&gt;][]" in page
    from tests.conftest import sign_in

    sign_in(client, api_user)
    portal_docs = client.get("/partner/api_docs/customer/partner/index.md").content.decode()
    assert "dynamic_tags[&lt;param&gt;][]" in portal_docs and "exclude_dynamic_tags[&lt;param&gt;][]" in portal_docs
