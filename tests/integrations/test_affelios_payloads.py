"""The Affelios wire format without a server: Zulu dates, money as exact JSON numbers, and the
answer shapes from which we read which items of a bulk batch Affelios refused."""
import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.affelios.payloads import (
    customer_figures,
    id_in_conflict,
    is_not_found_problem,
    refused_items,
    wire_number,
    zulu,
)

IDS = ["dep-1", "dep-2", "act-3"]


def test_dates_go_out_in_zulu_with_milliseconds():
    moment = dt.datetime(2025, 6, 28, 21, 29, 48, 174999, tzinfo=ZoneInfo("Europe/Berlin"))
    assert zulu(moment) == "2025-06-28T19:29:48.174Z"


@pytest.mark.parametrize("amount, wire", [
    (Decimal("12.34"), "12.34"), (Decimal("100.00"), "100"), (Decimal("-0.10"), "-0.1"),
    (Decimal("0.00000001"), "1e-08"), (Decimal("123456789012.34"), "123456789012.34"),
    (Decimal("1234567890123456.78"), '"1234567890123456.78"'),  # too long for a float: exact string
])
def test_money_goes_out_as_the_same_decimal(amount, wire):
    encoded = json.dumps(wire_number(amount))
    assert encoded == wire
    assert Decimal(json.loads(encoded, parse_float=Decimal) if wire[0] != '"' else json.loads(encoded)) == amount


def test_floats_are_refused():
    with pytest.raises(TypeError):
        wire_number(12.34)


@pytest.mark.parametrize("body, expected", [
    (None, {}),
    ("", {}),
    ({"accepted": 3}, {}),
    ({"rejected": [{"externalId": "dep-2", "status": 422, "title": "Customer unknown"}]},
     {"dep-2": (422, "Customer unknown")}),
    ({"failed": ["act-3"]}, {"act-3": (422, "refused by Affelios")}),
    ({"errors": [{"index": 0, "message": "bad date"}]}, {"dep-1": (422, "bad date")}),
    ([{"externalId": "dep-1", "success": True}, {"externalId": "dep-2", "success": False, "error": "dup"}],
     {"dep-2": (422, "dup")}),
    ({"results": [{"externalId": "act-3", "status": 400, "detail": "grossRevenue missing"}]},
     {"act-3": (400, "grossRevenue missing")}),
    ({"title": "One or more validation errors occurred.", "errors": {"[1].TransactionDate": ["not Zulu"]}},
     {"dep-2": (422, "[1].TransactionDate: not Zulu")}),
    ({"errors": {"$[2].grossRevenue": "not a number"}}, {"act-3": (422, "$[2].grossRevenue: not a number")}),
    ({"rejected": [{"externalId": "someone-else"}]}, {}),  # not in this batch: ignored
    ({"title": "One or more validation errors occurred.", "errors": {"body": ["invalid"]}}, {}),  # names nothing
])
def test_refused_items_are_read_from_every_shape_we_accept(body, expected):
    assert refused_items(body, IDS) == expected


def test_a_conflict_may_carry_the_existing_id():
    assert id_in_conflict({"title": "Conflict", "id": "c-1"}) == "c-1"
    assert id_in_conflict({"customer": {"id": "c-2"}}) == "c-2"
    assert id_in_conflict({"title": "Conflict", "status": 409}) == ""
    assert id_in_conflict("<html>") == ""


def test_customer_figures_tolerate_missing_and_odd_values():
    figures = customer_figures({"cpaQualified": True, "lifetimeCommission": Decimal("12.5"), "lifetimeDeposits": 40,
                                "ftdDate": "2025-06-28T19:29:48.174Z", "hasDeposited": "yes", "tracking": None})
    assert figures["cpa_qualified"] is True and figures["has_deposited"] is None
    assert figures["lifetime_commission"] == Decimal("12.5") and figures["lifetime_deposits"] == Decimal(40)
    assert figures["ftd_date"] == dt.datetime(2025, 6, 28, 19, 29, 48, 174000, tzinfo=dt.UTC)
    assert figures["lifetime_revenue"] is None and figures["affiliate_ref"] == ""
    assert figures["raw"]["lifetimeCommission"] == "12.5"


@pytest.mark.parametrize("body, affelios", [
    ({"type": "https://tools.ietf.org/html/rfc9110#section-15.5.5", "title": "Not Found", "status": 404,
      "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-01"}, True),
    ({"title": "Not Found", "status": 404}, True),
    ({"title": "Not Found", "status": 404, "detail": "No customer 42."}, True),
    ({"message": "no route"}, False),                                  # another server's JSON 404
    ({"title": "Not Found", "status": "404"}, False),                  # a status that is not the number
    ({"title": "Bad Request", "status": 400}, False),                  # a problem, but not "not found"
    ({"status": 404}, False),                                          # no title
    ({"title": "", "status": 404}, False),
    ({"title": "Not Found", "status": 404, "traceId": 7}, False),
    ([{"title": "Not Found", "status": 404}], False),
    ("<html><body>404 Not Found</body></html>", False),
    (None, False),
])
def test_only_an_aspnet_problem_details_404_counts_as_affelios_not_found(body, affelios):
    assert is_not_found_problem(body) is affelios
