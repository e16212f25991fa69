"""Statistic feeds (/partner/reports/feed.<fmt>?token=...): the report of the token's user's
affiliate as JSON or XML, no session needed or used; 401 for a missing, unknown or
regenerated token; 429 over the per-token rate; 400 naming the parameter."""
import datetime as dt
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from partners.services.tokens import statistic_token_issue
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.conftest import sign_in
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 2)
PARAMS = {"from": "2026-03-01", "to": "2026-03-31", "group_by[]": ["campaign", "day"],
          "columns[]": ["visits_count", "deposits_sum"]}


@pytest.fixture
def world():
    user = UserFactory()
    user.token = statistic_token_issue(user=user, actor=None)
    c1 = CampaignFactory(affiliate=user.affiliate, name="Spring")
    c2 = CampaignFactory(affiliate=user.affiliate, name="Poker")
    for i in range(3):
        DailyStatFactory(promo=PromoFactory(campaign=c1), date=D + dt.timedelta(days=i), visits_count=3 + i,
                         deposits_sum=Decimal("10.50"))
    DailyStatFactory(promo=PromoFactory(campaign=c2), date=D, visits_count=40, deposits_sum=Decimal(1))
    DailyStatFactory(promo=PromoFactory(), date=D, visits_count=999)  # another affiliate's
    return {"user": user, "c1": c1, "c2": c2}


def feed(client, fmt: str, token: str | None, params: dict | None = None):
    query = dict(params if params is not None else PARAMS)
    if token is not None:
        query["token"] = token
    return client.get(f"{reverse('reports:feed', kwargs={'fmt': fmt})}?{urlencode(query, doseq=True)}")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_json_feed_equals_the_export_of_the_same_report(client, world):
    response = feed(client, "json", world["user"].token)

    assert response.status_code == 200
    document = json.loads(body(response))
    sign_in(client, world["user"])
    export = client.get(f"{reverse('reports:export', kwargs={'fmt': 'json'})}?{urlencode(PARAMS, doseq=True)}")
    assert document == json.loads(body(export))
    assert len(document["rows"]["data"]) == 4
    assert document["totals"]["data"][0][0] == {"name": "visits_count", "value": 52, "type": "integer"}
    assert {c["name"] for c in document["relations"]["campaigns"]} == {"Spring", "Poker"}
    assert "Content-Disposition" not in response  # a feed is read by scripts, not downloaded


def test_xml_feed(client, world):
    response = feed(client, "xml", world["user"].token)

    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(body(response))
    rows = root.findall("rows/data/row")
    assert len(rows) == 4
    first = {c.findtext("name"): c.find("value") for c in rows[0].findall("cell")}
    assert first["campaign"].text == str(world["c1"].pk) and first["date"].text == "2026-03-02"
    assert first["deposits_sum"].findtext("amount") == "10.50"
    assert first["deposits_sum"].findtext("currency") == "EUR"


def test_the_query_string_filters_are_applied(client, world):
    params = {**PARAMS, "campaign_ids[]": [str(world["c2"].pk)], "group_by[]": ["day"]}
    document = json.loads(body(feed(client, "json", world["user"].token, params)))
    assert [[c["value"] for c in row][:2] for row in document["rows"]["data"]] == [["2026-03-02", 40]]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_or_unknown_token_is_401(client, world, fmt):
    for token in (None, "", "0" * 40, "not ascii ✓"):
        response = feed(client, fmt, token)
        assert response.status_code == 401, token
        assert "WWW-Authenticate" in response
    assert "token" in feed(client, "json", None).json()["field"]
    assert ET.fromstring(feed(client, "xml", "0" * 40).content).findtext("error")


def test_a_regenerated_token_stops_working(client, world):
    old = world["user"].token
    new = statistic_token_issue(user=world["user"], actor=world["user"])
    assert feed(client, "json", old).status_code == 401
    assert feed(client, "json", new).status_code == 200


def test_a_session_is_not_a_token(client, world):
    sign_in(client, world["user"])
    assert feed(client, "json", None).status_code == 401


def test_blocked_user_token_is_401(client, world):
    world["user"].is_blocked = True
    world["user"].save(update_fields=["is_blocked"])
    assert feed(client, "json", world["user"].token).status_code == 401


def test_throttled_per_token_like_the_api(client, world, settings):
    settings.REPORT_API_RATE_LIMIT = 2
    settings.REPORT_API_RATE_WINDOW = 60
    assert [feed(client, "json", world["user"].token).status_code for _ in range(2)] == [200, 200]
    response = feed(client, "json", world["user"].token)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    other = UserFactory()
    assert feed(client, "json", statistic_token_issue(user=other, actor=None)).status_code == 200


def test_wrong_parameters_are_400_naming_the_field(client, world):
    response = feed(client, "json", world["user"].token, {**PARAMS, "columns[]": ["colour"]})
    assert response.status_code == 400 and response.json()["field"] == "columns[]"
    response = feed(client, "xml", world["user"].token, {**PARAMS, "from": "2026-02-30"})
    assert response.status_code == 400
    assert ET.fromstring(response.content).findtext("field") == "from"


def test_only_get(client, world):
    url = f"{reverse('reports:feed', kwargs={'fmt': 'json'})}?token={world['user'].token}"
    assert client.post(url).status_code == 405
    assert client.get(reverse("reports:feed", kwargs={"fmt": "json"}).replace(".json", ".csv")).status_code == 404
