"""Reading Affilae rows: tolerant of undocumented shapes, strict about figures. A row that
cannot be read raises BadItem, which the connector records as an item error (never a crash).

Amounts are integer cents on the wire and Decimal in the currency's units here; dates are UTC.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from backoffice.money import quantize

# Conversions whose amount is not (or no longer) revenue.
EXCLUDED_CONVERSION_STATUSES = frozenset({"refused", "cancelled", "canceled", "rejected"})


class BadItem(ValueError):
    """A row from Affilae that cannot be taken (an item error, never a crash)."""


def text(value, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("company") or value.get("id") or ""
    return str(value).strip()[:limit]


def id_of(value) -> str:
    """An id sent as a string, or as an object with an `id` (`_id`)."""
    if isinstance(value, dict):
        value = value.get("id") or value.get("_id")
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else ""


def decimal_of(value, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise BadItem(f"{what} is {value!r}, not a number")
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise BadItem(f"{what} is {value!r}, not a number") from None
    if not parsed.is_finite():
        raise BadItem(f"{what} is {value!r}, not a number")
    return parsed


def count(value, what: str) -> int:
    parsed = decimal_of(value, what)
    if parsed < 0 or parsed != parsed.to_integral_value():
        raise BadItem(f"{what} is {value!r}, not a whole number ≥ 0")
    return int(parsed)


def cents_to_decimal(value, currency: str, what: str = "amount") -> Decimal:
    """Affilae money is integer cents; ours is Decimal in the currency's units."""
    return quantize(decimal_of(value, what) / 100, currency)


def utc_date(value) -> dt.date:
    if not isinstance(value, str) or not value:
        raise BadItem(f"date {value!r} is missing or not a string")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadItem(f"date {value!r} is not an ISO date") from None
    if moment.tzinfo is None:  # Affilae dates are UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).date()


def snapshot_values(row) -> dict:
    """The PartnershipSnapshot fields of one `partnerships.list` row (program details or not)."""
    if not isinstance(row, dict):
        raise BadItem(f"a partnership that is a {type(row).__name__}, not an object")
    partnership_id = id_of(row)
    if not partnership_id:
        raise BadItem("a partnership without an id")
    program = row.get("program")
    program = program if isinstance(program, dict) else {"id": program}
    return {
        "partnership_id": partnership_id[:64],
        "program_id": id_of(program)[:64],
        "program_name": text(program.get("name"), 200),
        "program_url": text(program.get("url"), 500),
        "tracking_id": text(row.get("trackingId"), 120),
        "status": text(row.get("status"), 40).lower(),
        "advertiser": text(row.get("advertiser"), 200),
        "group_name": text(row.get("group"), 200),
    }



def conversion_revenue(row, currency: str):
    """((UTC date, partnership id), amount) of a conversion that counts as revenue in
    `currency`, or (None, None) for one that does not (refused, or in another currency)."""
    if not isinstance(row, dict):
        raise BadItem(f"a {type(row).__name__}, not an object")
    partnership_id = id_of(row.get("partnership"))
    if not partnership_id:
        raise BadItem("no partnership")
    day = utc_date(row.get("createdAt") or row.get("date"))
    status = str(row.get("status") or "").lower()
    row_currency = str(row.get("currency") or currency).upper()
    amount = cents_to_decimal(row.get("amount", 0), currency, "amount")
    if status in EXCLUDED_CONVERSION_STATUSES or row_currency != currency:
        return None, None
    return (day, partnership_id), amount


def payload(row):
    """The offending row as JSON (Decimals as strings), small enough to keep with an item error."""
    encoded = json.dumps(row, default=str)
    return json.loads(encoded) if len(encoded) <= 2000 else {"excerpt": encoded[:2000]}
