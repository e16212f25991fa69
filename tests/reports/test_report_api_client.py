"""A client written the way existing Affilka API consumers are (ETL scripts, dashboards): it
sends `columns[]` / `group_by[]` as repeated parameters, the raw statistic token in
Authorization, `Version: HTTP/1.0` and `Accept: application/json`, walks the pages, and reads
rows.data cells by name and money objects. It runs against our API through Django's test client
in place of `requests`: if it works here unchanged, the scripts do too."""
import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from partners.services.tokens import statistic_token_issue
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory

pytestmark = pytest.mark.django_db


class AffilkaReportClient:
    """What a consumer's `requests`-based client looks like, minus the network."""

    base_path = "/api/customer/v1/partner"

    def __init__(self, http, token: str):
        self.http = http
        self.headers = {"HTTP_AUTHORIZATION": token, "HTTP_VERSION": "HTTP/1.0", "HTTP_ACCEPT": "application/json"}

    def _get(self, path: str, params: list[tuple[str, str]]):
        # requests encodes {"columns[]": [...]} as repeated columns%5B%5D=... pairs
        response = self.http.get(f"{self.base_path}{path}?{urlencode(params)}", **self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.json().get('error')}")
        return response.json()

    def attributes(self) -> dict:
        return self._get("/report/attributes", [])

    def report(self, *, date_from: str, date_to: str, columns: list[str], group_by: list[str],
               currency: str | None = None, per_page: int = 2) -> tuple[list[dict], list[dict], dict]:
        """Every row of every page as {cell name: parsed value}, the totals, the campaigns."""
        params = [("from", date_from), ("to", date_to), ("async", "false"), ("per_page", str(per_page))]
        params += [("columns[]", c) for c in columns] + [("group_by[]", g) for g in group_by]
        if currency:
            params += [("conversion_currency", currency), ("convert_all_currencies", "1")]
        rows, page, campaigns = [], 1, {}
        while True:
            body = self._get("/report", [*params, ("page", str(page))])
            rows += [self._parse(row) for row in body["rows"]["data"]]
            campaigns.update({c["id"]: c for c in body["relations"]["campaigns"]})
            if body["current_page"] >= body["total_pages"]:
                break
            page += 1
        return rows, [self._parse(row) for row in body["totals"]["data"]], campaigns

    @staticmethod
    def _parse(row: list[dict]) -> dict:
        parsed = {}
        for cell in row:
            value = cell["value"]
            if cell["type"] == "money":
                amount = Decimal(value["amount"])
                assert Decimal(value["amount_cents"]) == amount * 100
                value = (amount, value["currency"])
            elif cell["type"] == "date":
                value = dt.date.fromisoformat(value)
            parsed[cell["name"]] = value
        return parsed


def test_an_affilka_consumer_reads_our_report_unchanged(client):
    user = UserFactory()
    token = statistic_token_issue(user=user, actor=None)
    spring = CampaignFactory(affiliate=user.affiliate, name="Spring")
    poker = CampaignFactory(affiliate=user.affiliate, name="Poker")
    for campaign, day, visits, deposits, currency in [
        (spring, dt.date(2026, 3, 2), 10, "100.10", "EUR"),
        (spring, dt.date(2026, 3, 3), 5, "5.00", "USD"),
        (poker, dt.date(2026, 3, 2), 1, "0.99", "EUR"),
    ]:
        DailyStatFactory(promo=PromoFactory(campaign=campaign), date=day, visits_count=visits, currency=currency,
                         deposits_count=1, deposits_sum=Decimal(deposits))

    api = AffilkaReportClient(client, token)
    attributes = api.attributes()
    assert {"visits_count", "deposits_sum"} <= set(attributes["available_columns"])
    assert {"day", "campaign"} <= set(attributes["available_groupers"])

    rows, totals, campaigns = api.report(date_from="2026-03-01", date_to="2026-03-31",
                                         columns=["visits_count", "deposits_sum"], group_by=["day", "campaign"])
    assert rows == [
        {"date": dt.date(2026, 3, 2), "campaign": spring.pk, "visits_count": 10,
         "deposits_sum": (Decimal("100.10"), "EUR")},
        {"date": dt.date(2026, 3, 2), "campaign": poker.pk, "visits_count": 1,
         "deposits_sum": (Decimal("0.99"), "EUR")},
        {"date": dt.date(2026, 3, 3), "campaign": spring.pk, "visits_count": 5,
         "deposits_sum": (Decimal("5.00"), "USD")},
    ]
    assert totals == [{"visits_count": 11, "deposits_sum": (Decimal("101.09"), "EUR")},
                      {"visits_count": 5, "deposits_sum": (Decimal("5.00"), "USD")}]
    assert {campaigns[spring.pk]["name"], campaigns[poker.pk]["name"]} == {"Spring", "Poker"}
    assert campaigns[spring.pk]["strategy"] == spring.commission_plan.name


def test_an_affilka_consumer_gets_an_error_it_can_show(client):
    api = AffilkaReportClient(client, "not-a-token")
    with pytest.raises(RuntimeError, match="^401: "):
        api.attributes()
