"""The Affelios wire format: our rows → customer and transaction payloads, and Affelios's
answers → what we store (computed customer figures, which items of a bulk batch it refused).

Money stays Decimal up to `wire_number`, the last step before JSON: Affelios is an ASP.NET
service whose default JSON reader refuses a string where a number is expected, so amounts go
out as JSON numbers, and only when the number prints back to exactly the same decimal.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from backoffice.money import quantize
from integrations.client import _message_of

DEPOSIT_TYPE = "deposit"
REVENUE_TYPE = "revenue"

# Exactly representable: any decimal of at most 15 significant digits survives a float.
_FLOAT_SAFE_DIGITS = 15


def zulu(moment: dt.datetime) -> str:
    """ISO-8601 Zulu with milliseconds, as Affelios's docs show: 2025-06-28T19:29:48.174Z."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_zulu(value) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def wire_number(amount: Decimal):
    """A Decimal as a JSON number: int when whole, else a float that prints back as the same
    decimal (checked); an amount too long for that goes as its exact string."""
    if not isinstance(amount, Decimal):
        raise TypeError("money must be Decimal")
    amount = amount.normalize()
    if amount == amount.to_integral_value():
        return int(amount)
    digits = len(amount.as_tuple().digits)
    if digits <= _FLOAT_SAFE_DIGITS:
        number = float(amount)
        if Decimal(repr(number)) == amount:
            return number
    return str(amount)


def customer_payload(*, player, external_brand_id: str, click_key: str) -> dict:
    payload = {
        "externalId": str(player.pk),
        "externalBrandId": external_brand_id,
        "registrationDate": zulu(player.sign_up_at),
        # The docs name the field ClickKey in the field list and clickId in the sample body;
        # ASP.NET ignores the one it does not bind, so both carry the value.
        "clickKey": click_key,
        "clickId": click_key,
    }
    if player.country:
        payload["country"] = player.country
        payload["country_code"] = player.country
    return payload


def deposit_payload(*, deposit, customer, types: dict, product_id: str = "") -> dict:
    return _transaction(
        external_id=f"dep-{deposit.pk}", type_=types.get("deposit", DEPOSIT_TYPE), customer=customer,
        date=deposit.processed_at, country=customer.country, product_id=product_id,
        amounts={"depositAmount": quantize(deposit.amount, deposit.currency)},
    )


def revenue_amounts(activity) -> dict[str, Decimal]:
    """GGR (bets − wins) and the amount wagered (bets) of a window; Affelios applies its own
    deductions to reach net revenue."""
    return {"gross_revenue": activity.bets_sum - activity.wins_sum, "wagered_amount": activity.bets_sum}


def revenue_external_id(activity_id: int, revision: int) -> str:
    return f"act-{activity_id}" if revision == 0 else f"act-{activity_id}-r{revision}"


def revenue_payload(*, activity, customer, revision: int, amounts: dict[str, Decimal], types: dict,
                    product_id: str = "") -> dict:
    return _transaction(
        external_id=revenue_external_id(activity.pk, revision), type_=types.get("revenue", REVENUE_TYPE),
        customer=customer, date=activity.period_end, country=customer.country, product_id=product_id,
        amounts={"grossRevenue": quantize(amounts["gross_revenue"], activity.currency),
                 "wageredAmount": quantize(amounts["wagered_amount"], activity.currency)},
    )


def _transaction(*, external_id, type_, customer, date, country, product_id, amounts) -> dict:
    payload = {
        "externalId": external_id,
        "type": type_,
        "externalCustomerId": customer.external_id,
        "externalBrandId": customer.external_brand_id,
        "transactionDate": zulu(date),
        **{name: wire_number(value) for name, value in amounts.items()},
    }
    if product_id:
        payload["externalProductId"] = product_id
    if country:
        payload["country"] = country
    return payload


# --- answers ---------------------------------------------------------------------------------

def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _bool(value) -> bool | None:
    return value if isinstance(value, bool) else None


def customer_figures(body: dict) -> dict:
    """The model fields Affelios computed, from a Customer object (missing keys stay None)."""
    tracking = body.get("tracking") if isinstance(body.get("tracking"), dict) else {}
    name, ident = tracking.get("affiliateName") or "", tracking.get("affiliateId") or ""
    raw = {k: v for k, v in body.items() if k != "transactions"}
    return {
        "has_deposited": _bool(body.get("hasDeposited")),
        "ftd_date": parse_zulu(body.get("ftdDate")),
        "first_deposit_amount": _decimal(body.get("firstDepositAmount")),
        "lifetime_deposits": _decimal(body.get("lifetimeDeposits")),
        "lifetime_revenue": _decimal(body.get("lifetimeRevenue")),
        "lifetime_commission": _decimal(body.get("lifetimeCommission")),
        "cpa_qualified": _bool(body.get("cpaQualified")),
        "cpa_qualification_date": parse_zulu(body.get("cpaQualificationDate")),
        "affiliate_ref": (f"{name} ({ident})" if name and ident else str(name or ident))[:200],
        "raw": _json_safe(raw),
    }


def _json_safe(value):
    """Decimals (the client parses numbers with a fraction as Decimal) as strings for JSONField."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def id_in_conflict(body) -> str:
    """An Affelios id a 409 answer may carry (id, customerId, existingId, or a customer object)."""
    if isinstance(body, dict):
        for key in ("id", "customerId", "existingId", "existingCustomerId"):
            if isinstance(body.get(key), str | int) and str(body[key]).strip():
                return str(body[key])
        for key in ("customer", "existing"):
            if isinstance(body.get(key), dict) and body[key].get("id"):
                return str(body[key]["id"])
    return ""


def is_not_found_problem(body) -> bool:
    """Whether a 404 body is Affelios's own "no such customer": an ASP.NET ProblemDetails
    (RFC 9457) with a `title` and `status` 404 (`type`, `traceId`, `detail` may come with it).
    Another server's 404 — an HTML page, {"message": "no route"}, a proxy's JSON — is not."""
    if not isinstance(body, dict):
        return False
    status = body.get("status")
    title = body.get("title")
    if isinstance(status, bool) or status != 404 or not isinstance(title, str) or not title.strip():
        return False
    return all(isinstance(body.get(key), str) for key in ("type", "traceId", "detail") if key in body)


# How a bulk answer reports refused items is not documented. We read, in this order:
#  - a list of refusals under rejected/failed/failures/invalid/errors, each an object naming
#    the item's externalId (or its index in the batch) with a message and maybe a status, or
#    just the externalId as a string;
#  - a list of per-item results (bare, or under results/items/transactions) where an item
#    with success/accepted false, a status ≥ 400 or an error is refused;
#  - ASP.NET model-state errors {"errors": {"[3].TransactionDate": [...]}} (also "$[3]..."),
#    whose index names the item.
# Items not named are accepted; an answer with no body (plain 202) accepts the whole batch.
_INDEX_KEY = re.compile(r"^\$?\[(\d+)\]|^[A-Za-z_]+\[(\d+)\]")
_REFUSAL_LISTS = ("rejected", "failed", "failures", "invalid", "errors")
_RESULT_LISTS = ("results", "items", "transactions")


def _status_of(entry: dict, default: int) -> int:
    for key in ("status", "statusCode", "code"):
        value = entry.get(key)
        if isinstance(value, int) and 400 <= value < 600:
            return value
        if isinstance(value, str) and value.isdigit() and 400 <= int(value) < 600:
            return int(value)
    return default


def _entry_id(entry: dict, ids: list[str]) -> str | None:
    for key in ("externalId", "external_id", "ExternalId"):
        if entry.get(key) is not None:
            return str(entry[key])
    for key in ("index", "Index"):
        if isinstance(entry.get(key), int) and 0 <= entry[key] < len(ids):
            return ids[entry[key]]
    return None


def refused_items(body, ids: list[str], *, default_status: int = 422) -> dict[str, tuple[int, str]]:
    """externalId → (status, message) of the items of a batch (`ids`, in order) that an answer
    names as refused; {} when it names none."""
    known = set(ids)
    refused: dict[str, tuple[int, str]] = {}

    def add(ext_id, status, message):
        if ext_id in known and ext_id not in refused:
            refused[ext_id] = (status, message or "refused by Affelios")

    if isinstance(body, dict):
        for key in _REFUSAL_LISTS:
            if isinstance(body.get(key), list):
                for entry in body[key]:
                    if isinstance(entry, str | int):
                        add(str(entry), default_status, "")
                    elif isinstance(entry, dict):
                        add(_entry_id(entry, ids), _status_of(entry, default_status), _message_of(entry))
        if isinstance(body.get("errors"), dict):
            for key, messages in body["errors"].items():
                match = _INDEX_KEY.match(str(key))
                if match:
                    index = int(match.group(1) or match.group(2))
                    if index < len(ids):
                        text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
                        add(ids[index], default_status, f"{key}: {text}")
        results = next((body[k] for k in _RESULT_LISTS if isinstance(body.get(k), list)), None)
    else:
        results = body if isinstance(body, list) else None
    for entry in results or []:
        if not isinstance(entry, dict):
            continue
        failed = (entry.get("success") is False or entry.get("accepted") is False
                  or _status_of(entry, 0) >= 400 or bool(entry.get("error")))
        if failed:
            add(_entry_id(entry, ids), _status_of(entry, default_status), _message_of(entry))
    return refused
