"""Affili's conversion as it comes over the wire, read into an AffiliConversion, and our
amounts as Affili takes them. Kept apart from the connector so the benchmark and the tests
read conversions exactly as a sync does."""
from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from django.core.serializers.json import DjangoJSONEncoder

from integrations.affili.jalali import jalali_to_utc
from integrations.affili.models import AffiliConversion

STATUSES = {
    0: AffiliConversion.Status.PENDING, 1: AffiliConversion.Status.APPROVED,
    2: AffiliConversion.Status.REJECTED, 3: AffiliConversion.Status.DUPLICATED,
}
# What a pull refreshes on a conversion we already hold; the links to our deposit, player and
# referral, and pushed_at, are ours and stay as they are.
PULLED_FIELDS = ["affili_id", "conversion_type", "amount", "status", "wage", "is_closed", "checked_out",
                 "publisher_id", "created_at", "updated_at", "raw", "last_pulled_at"]
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal(10) ** 18  # money_field: 20 digits, 2 of them decimals


def wire_amount(amount: Decimal) -> str:
    """A Decimal as Affili takes it: a plain string without trailing zeros ("2000", "12.5")."""
    return format(amount.normalize(), "f")


def money(value) -> Decimal | None:
    """An amount from Affili (or one of ours) as Decimal to the cent; ValueError if out of range."""
    if value is None or value == "":
        return None
    if isinstance(value, float):  # the client parses JSON floats as Decimal; this is a safety net
        value = str(value)
    amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    if not amount.is_finite() or abs(amount) >= MONEY_LIMIT:
        raise ValueError(f"amount out of range: {value!r}")
    return amount


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _status(value) -> str:
    if isinstance(value, str) and not value.strip().isdigit():
        name = value.strip().lower()
        if name in AffiliConversion.Status.values:
            return name
        raise ValueError(f"unknown status {value!r}")
    try:
        return STATUSES[int(value)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"unknown status {value!r}") from None


def _time(value) -> dt.datetime | None:
    return jalali_to_utc(value) if value not in (None, "") else None


def conversion_from_wire(item: dict, *, connection_id: int, now: dt.datetime) -> AffiliConversion:
    """An (unsaved) AffiliConversion from one item of Affili's list; ValueError if unreadable."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    affili_id = str(item.get("id") or "").strip()
    external_id = str(item.get("external_id") or "").strip() or (f"affili:{affili_id}" if affili_id else "")
    if not external_id:
        raise ValueError("neither an id nor an external_id")
    if len(external_id) > 120 or len(affili_id) > 64:
        raise ValueError("id too long")
    kind = item.get("type")
    publisher = item.get("publisher") if isinstance(item.get("publisher"), dict) else {}
    return AffiliConversion(
        connection_id=connection_id, external_id=external_id, affili_id=affili_id,
        conversion_type="" if kind is None else str(kind)[:20],
        amount=money(item.get("amount")), status=_status(item.get("status", 0)), wage=money(item.get("wage")),
        is_closed=_flag(item.get("is_closed")), checked_out=_flag(item.get("checked_out")),
        publisher_id=str(publisher.get("id") or "")[:64],
        created_at=_time(item.get("created_at")), updated_at=_time(item.get("updated_at")),
        raw=item, last_pulled_at=now,
    )


def json_safe(value):
    """The item as plain JSON (the client reads numbers as Decimal; SyncItemError stores JSON)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
