"""The report page and the Partner Report API answer the same query string with the same
figures: each row's grouper values and column values (with their currencies), in the same
order, the same totals, and the same pages."""
import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from partners.services.tokens import statistic_token_issue
from tests.campaigns.factories import CampaignFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory, ExchangeRateFactory
from tests.reports.test_report_page import table_of

pytestmark = pytest.mark.django_db

API = "/api/customer/v1/partner/report"
PAGE = "/partner/reports"


@pytest.fixture
def world(client):
    user = UserFactory(affiliate__default_report_currency="EUR")
    affiliate = user.affiliate
    token = statistic_token_issue(user=user, actor=None)
    slots = CampaignFactory(affiliate=affiliate, name="Slots", brand__name="Lucky Star")
    poker = CampaignFactory(affiliate=affiliate, name="Poker", brand__name="River Poker",
                            brand__base_currency="USD")
    p1 = PromoFactory(campaign=slots, promo_code="SPIN")
    p2 = PromoFactory(campaign=poker)
    for day, promo, currency, visits, regs, ftd, deposits, bets, wins in (
        (dt.date(2026, 3, 2), p1, "EUR", 120, 12, 3, "450.10", "1000", "620.55"),
        (dt.date(2026, 3, 20), p1, "EUR", 80, 4, 1, "99.99", "300", "410"),
        (dt.date(2026, 4, 1), p1, "EUR", 40, 2, 0, "0", "50", "10"),
        (dt.date(2026, 3, 5), p2, "USD", 60, 6, 2, "700", "900", "300"),
        (dt.date(2026, 4, 9), p2, "USD", 10, 1, 1, "25", "0", "0"),
    ):
        DailyStatFactory(promo=promo, date=day, currency=currency, visits_count=visits, registrations_count=regs,
                         first_deposits_count=ftd, deposits_sum=Decimal(deposits), bets_sum=Decimal(bets),
                         wins_sum=Decimal(wins))
    ExchangeRateFactory(date=dt.date(2026, 4, 30), base="USD", quote="EUR", rate="0.9175")
    # raw data for the player groupers
    visit = VisitFactory(promo=p1, params={"sub_id": "summer"})
    PlayerFactory(visit=visit, country="FI", sign_up_at=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    PlayerFactory(visit=VisitFactory(promo=p2), country="SE", sign_up_at=dt.datetime(2026, 4, 3, 12, tzinfo=dt.UTC))
    sign_in(client, user)
    return {"token": token, "slots": slots, "poker": poker}


def _api_value(cell: dict) -> tuple:
    value = cell["value"]
    if isinstance(value, dict):
        return cell["name"], value["amount"], value["currency"]
    return cell["name"], "" if value is None else str(value), ""


def _page_value(cell: dict) -> tuple:
    return cell["data-column"], cell.get("data-value", ""), cell.get("data-currency", "")


def _page_rows(rows: list[list[dict]]) -> list[list[tuple]]:
    # Without groupers each row starts with a label cell (the dates), which the API does not have.
    return [[_page_value(cell) for cell in row if cell["tag"] == "td"] for row in rows]


def _api_rows(rows: list[list[dict]], group_by: list[str]) -> list[list[tuple]]:
    out = []
    for row in rows:
        cells = [_api_value(cell) for cell in row]
        # the page names a grouper cell after its grouper; the API calls a date bucket "date"
        out.append([(group_by[i], *cells[i][1:]) if i < len(group_by) else cells[i] for i in range(len(cells))])
    return out


PARAMS = [
    {"group_by[]": ["month", "campaign"],
     "columns[]": ["visits_count", "deposits_sum", "ngr", "first_deposits_conversion_rate"]},
    {"group_by[]": ["brand"], "columns[]": ["ngr", "registrations_count", "average_first_deposit_amount"]},
    {"group_by[]": ["campaign", "day"], "columns[]": ["ggr", "visits_count"], "per_page": "2", "page": "2"},
    {"group_by[]": ["week"], "columns[]": ["deposits_sum"], "convert_all_currencies": "1",
     "conversion_currency": "EUR", "exchange_rates_date": "2026-04-30"},
    {"group_by[]": ["promo"], "columns[]": ["visits_count", "first_deposits_count"], "promo_codes[]": ["spin"]},
    {"columns[]": ["visits_count", "registrations_count"]},
    {"group_by[]": ["player_country"], "columns[]": ["registrations_count"]},
    {"group_by[]": ["dynamic_tag_sub_id", "month"], "columns[]": ["visits_count", "registrations_count"]},
    {"group_by[]": ["year", "strategy"], "columns[]": ["net_deposits", "ngr"], "convert_all_currencies": "1",
     "exchange_rates_date": "2026-04-30", "to": "2026-03-31"},
]


@pytest.mark.parametrize("extra", PARAMS, ids=lambda p: "+".join(p.get("group_by[]", ["none"])))
def test_the_page_shows_what_the_api_answers(client, world, extra):
    params = {"from": "2026-03-01", "to": "2026-04-30", **extra}
    query = urlencode(params, doseq=True)

    api = client.get(f"{API}?{query}", HTTP_AUTHORIZATION=world["token"])
    page = client.get(f"{PAGE}?{query}")

    assert api.status_code == 200, api.content
    assert page.status_code == 200
    body, table = api.json(), table_of(page)
    group_by = params.get("group_by[]", [])
    assert table.rows or not body["rows"]["data"], "the page shows a table"
    assert _page_rows(table.rows) == _api_rows(body["rows"]["data"], group_by)
    assert _page_rows(table.totals) == _api_rows(body["totals"]["data"], [])
    if body["total_pages"] > 1:
        assert f"Page {body['current_page']} of {body['total_pages']}" in page.content.decode()


def test_the_values_are_not_trivially_equal(client, world):
    """The comparison above is of real figures: the page shows money with its currency."""
    query = urlencode({"from": "2026-03-01", "to": "2026-04-30", "group_by[]": ["campaign"],
                       "columns[]": ["deposits_sum"]}, doseq=True)
    table = table_of(client.get(f"{PAGE}?{query}"))
    shown = {row[0]["text"].split(" #")[0]: row[1]["text"] for row in table.rows}
    assert shown == {"Slots": "550.09 EUR", "Poker": "725.00 USD"}
