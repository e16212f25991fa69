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

    @staticmethod
    def _params(date_from: str, date_to: str, columns: list[str], group_by: list[str],
                currency: str | None) -> list[tuple[str, str]]:
        params = [("from", date_from), ("to", date_to)]
        params += [("columns[]", c) for c in columns] + [("group_by[]", g) for g in group_by]
        if currency:
            params += [("conversion_currency", currency), ("convert_all_currencies", "1")]
        return params

    def report(self, *, date_from: str, date_to: str, columns: list[str], group_by: list[str],
               currency: str | None = None, per_page: int = 2) -> tuple[list[dict], list[dict], dict]:
        """Every row of every page as {cell name: parsed value}, the totals, the campaigns."""
        params = [*self._params(date_from, date_to, columns, group_by, currency),
                  ("async", "false"), ("per_page", str(per_page))]
        rows, page, campaigns = [], 1, {}
        while True:
            body = self._get("/report", [*params, ("page", str(page))])
            rows += [self._parse(row) for row in body["rows"]["data"]]
            campaigns.update({c["id"]: c for c in body["relations"]["campaigns"]})
            if body["current_page"] >= body["total_pages"]:
                break
            page += 1
        return rows, [self._parse(row) for row in body["totals"]["data"]], campaigns

    def report_async(self, *, date_from: str, date_to: str, columns: list[str], group_by: list[str]) -> str:
        """async=true: the status_url to poll."""
        params = [*self._params(date_from, date_to, columns, group_by, None), ("async", "true")]
        response = self.http.get(f"{self.base_path}/report?{urlencode(params)}", **self.headers)
        assert response.status_code == 202, response.content
        return response.json()["status_url"]

    def download_when_built(self, status_url: str) -> bytes:
        """Poll the status_url until the report is built, download the XLSX."""
        for _ in range(10):
            status = self.http.get(status_url, **self.headers).json()
            if status["status"] != "processing":
                break
        assert status["status"] == "successful", status
        download = self.http.get(status["download_urls"]["xlsx"], **self.headers)
        assert download.status_code == 200
        return b"".join(download.streaming_content)

    @staticmethod
    def _parse(row: list[dict]) -> dict:
        parsed = {}
        for cell in row:
            value = cell["value"]
            if cell["type"] == "money":
                amount = Decimal(value["amount"])
                assert Decimal(value["amount_cents"]) == amount * 100
                value = (amount, value["currency"])
            elif cell["type"] == "date" and value is not None:  # a cohort cell is null for "no FTD yet"
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


def test_an_affilka_consumer_reads_cohorts_and_its_income(client):
    from billing.models import CommissionPlan, Qualification
    from reports.rollups import stats_rebuild
    from tests.billing.factories import PlayerActivityFactory
    from tests.campaigns.factories import CommissionPlanFactory, PlayerFactory, VisitFactory

    user = UserFactory()
    token = statistic_token_issue(user=user, actor=None)
    campaign = CampaignFactory(affiliate=user.affiliate, name="Spring")
    plan = CommissionPlanFactory(brand=campaign.brand, currency="EUR", kind=CommissionPlan.Kind.HYBRID,
                                 revshare_percent=Decimal("25"), admin_fee_percent=Decimal("20"))
    campaign.commission_plan = plan
    campaign.save(update_fields=["commission_plan"])
    promo = PromoFactory(campaign=campaign)

    def at(day: int, month: int = 3) -> dt.datetime:
        return dt.datetime(2026, month, day, 10, tzinfo=dt.UTC)

    january = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(5, 1)), sign_up_at=at(5, 1),
                            first_deposit_at=at(6, 1))
    march = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(2)), sign_up_at=at(2))
    PlayerActivityFactory(player=january, period_start=at(3), period_end=at(4), bets_sum=Decimal("200"))
    PlayerActivityFactory(player=march, period_start=at(3), period_end=at(4), bets_sum=Decimal("50"),
                          wins_sum=Decimal("90"))
    Qualification.objects.create(plan=plan, player=march, affiliate=user.affiliate, qualified_at=at(31),
                                 payable_from=dt.date(2026, 3, 31), amount=Decimal("30"))
    stats_rebuild(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31))

    api = AffilkaReportClient(client, token)
    groupers = api.attributes()["available_groupers"]
    assert {"sign_up_at_month", "first_deposit_month", "sign_up_at_week", "first_deposit_day"} <= set(groupers)
    columns = ["real_ngr", "admin_fee", "ngr", "fixed", "ngr_percent", "partner_income"]
    rows, totals, _ = api.report(date_from="2026-03-01", date_to="2026-03-31", columns=columns,
                                 group_by=["sign_up_at_month", "first_deposit_month"])
    eur = lambda amount: (Decimal(amount), "EUR")  # noqa: E731
    assert rows == [
        {"sign_up_at": dt.date(2026, 1, 1), "first_deposit_at": dt.date(2026, 1, 1), "real_ngr": eur("200.00"),
         "admin_fee": eur("40.00"), "ngr": eur("160.00"), "fixed": eur("0.00"), "ngr_percent": eur("40.00"),
         "partner_income": eur("40.00")},
        {"sign_up_at": dt.date(2026, 3, 1), "first_deposit_at": None, "real_ngr": eur("-40.00"),
         "admin_fee": eur("-8.00"), "ngr": eur("-32.00"), "fixed": eur("30.00"), "ngr_percent": eur("-8.00"),
         "partner_income": eur("22.00")},
    ]
    # The same totals as the month's report without cohorts (the rollups).
    month, month_totals, _ = api.report(date_from="2026-03-01", date_to="2026-03-31", columns=columns,
                                        group_by=["month"])
    assert totals == month_totals
    assert month == [{"date": dt.date(2026, 3, 1), **month_totals[0]}]
    assert month_totals[0]["partner_income"] == eur("62.00")


def test_an_affilka_consumer_fetches_a_large_report_asynchronously(client, django_capture_on_commit_callbacks):
    import io

    import openpyxl

    user = UserFactory()
    token = statistic_token_issue(user=user, actor=None)
    promo = PromoFactory(campaign=CampaignFactory(affiliate=user.affiliate))
    for day in range(1, 6):
        DailyStatFactory(promo=promo, date=dt.date(2026, 3, day), visits_count=day)
    api = AffilkaReportClient(client, token)
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit queues the build
        status_url = api.report_async(date_from="2026-03-01", date_to="2026-03-31", columns=["visits_count"],
                                      group_by=["day"])
    workbook = api.download_when_built(status_url)
    sheets = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    values = [row for row in sheets[sheets.sheetnames[0]].iter_rows(values_only=True)]
    assert len(values) == 6  # a header and 5 days
