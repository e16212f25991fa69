"""Shapes of the ingestion API's request bodies: JSON in, typed and checked values out.

Hand-written rather than DRF serializers: one /api/v1/activity batch holds up to 10,000
items and is checked in well under a second this way. Every check names what it refused
with the path an operator can find in the body (`items[3].bets_sum_cents`), and never
lets an input reach the database that the database would refuse.

Money arrives as integer minor units and becomes an exact Decimal here
(backoffice.money.from_minor_units: 2 places for fiat, 8 for crypto). JSON numbers with a
fraction are parsed as Decimal (never float) and refused where an integer is expected.
"""
import datetime as dt
import json
import re
from decimal import Decimal

from django.utils.dateparse import parse_datetime

from backoffice.money import CURRENCIES, from_minor_units, places
from campaigns.errors import CampaignsError
from campaigns.models import Deposit, PlayerActivity
from campaigns.services.ingestion import ActivityIn, DepositIn, ItemError, PlayerIn, SyncedLinkIn

MAX_MINOR_UNITS = 10**20 - 1  # fits (20, 2) money columns; bounds the Decimal arithmetic
MAX_COUNT = 2_147_483_647  # PositiveIntegerField on every database
MAX_TEXT = 64  # user_id, tag, deposit_id columns
_CURRENCY_SET = frozenset(CURRENCIES)

# Wire name -> PlayerActivity field (api-facts §2). Other *_cents / *_count keys (sportsbook
# sb_*_cents ...) are kept in PlayerActivity.extra.
ACTIVITY_MONEY = {
    "bets_sum_cents": "bets_sum",
    "wins_sum_cents": "wins_sum",
    "wager_cents": "wager_sum",
    "bonus_issues_sum_cents": "bonus_issues_sum",
    "additional_deductions_sum_cents": "additional_deductions_sum",
    "chargebacks_sum_cents": "chargebacks_sum",
    "deposits_sum_cents": "deposits_sum",
    "cashouts_sum_cents": "cashouts_sum",
    "game_provider_fees_sum_cents": "game_provider_fees_sum",
    "payment_system_fees_sum_cents": "payment_system_fees_sum",
    "jackpot_fees_sum_cents": "jackpot_fees_sum",
}
ACTIVITY_COUNTS = {
    "rounds_count": "rounds_count",
    "chargebacks_count": "chargebacks_count",
    "deposits_count": "deposits_count",
    "cashouts_count": "cashouts_count",
}
# The places each money column keeps (read from the model, so widening a column to crypto
# precision needs no change here).
_STORED_PLACES = {name: PlayerActivity._meta.get_field(name).decimal_places for name in ACTIVITY_MONEY.values()}
_STORED_DIGITS = {name: PlayerActivity._meta.get_field(name).max_digits for name in ACTIVITY_MONEY.values()}
_DEPOSIT_AMOUNT = Deposit._meta.get_field("amount")
# Keys kept in PlayerActivity.extra: plain names only (they end up as JSON keys in the database).
_EXTRA_KEY_RE = re.compile(r"[a-z0-9_]{1,58}_(cents|count)", re.ASCII)


class IngestionError(CampaignsError):
    """The request as a whole is refused: 400 (not JSON), 401, 413, 422 (a top-level field)."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message, field=field)
        self.status = status

    def as_dict(self) -> dict:
        return {"error": self.message, "field": self.field}


# --- the body --------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json_object(body: bytes) -> dict:
    """The body as a JSON object; numbers with a fraction become Decimal, never float."""
    if not body.strip():
        raise IngestionError("the request body is empty; send a JSON object", status=400)
    try:
        payload = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int limits
        raise IngestionError(f"the request body is not valid JSON: {_short(exc)}", status=400) from None
    if not isinstance(payload, dict):
        raise IngestionError("the request body must be a JSON object", status=400)
    return payload


def _short(exc: Exception) -> str:
    return str(exc)[:200]


def item_list(payload: dict, name: str, *, max_items: int) -> list:
    value = payload.get(name)
    if value is None:
        raise IngestionError(f'"{name}" is required: a list of objects', field=name)
    if not isinstance(value, list):
        raise IngestionError(f'"{name}" must be a list of objects', field=name)
    if len(value) > max_items:
        raise IngestionError(
            f'"{name}" has {len(value)} entries; at most {max_items} per request: split the batch',
            field=name, status=413,
        )
    return value


def moment(value, *, name: str) -> dt.datetime:
    """An ISO 8601 date-time (or date, meaning its midnight) as an aware UTC datetime.

    A time without an offset is taken as UTC (platforms report in UTC; documented).
    Raises ValueError with a message for the person who sent it.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be an ISO 8601 date-time string, e.g. 2024-05-01T12:00:00Z")
    text = value.strip()
    if len(text) > 40:
        raise ValueError(f"{name} is too long for an ISO 8601 date-time")
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = dt.date.fromisoformat(text)
            parsed = dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001 - made UTC below
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} is not an ISO 8601 date-time: {text!r}") from None


def window(payload: dict) -> tuple[dt.datetime, dt.datetime]:
    """The reporting window {"from", "to"} of activity and synced visits: to after from."""
    bounds = []
    for name in ("from", "to"):
        try:
            bounds.append(moment(payload.get(name), name=f'"{name}"'))
        except ValueError as exc:
            raise IngestionError(str(exc), field=name) from None
    start, end = bounds
    if end <= start:
        raise IngestionError('"to" must be after "from"', field="to")
    return start, end


# --- small field checks (raise ValueError with the message) ------------------------------


def _text(value, *, name: str, max_length: int = MAX_TEXT) -> str:
    """A non-blank string (an integer is accepted and written in decimal: platforms send ids
    as numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    value = value.strip()
    if not value:
        raise ValueError(f"{name} is required")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    if not storable(value):
        raise ValueError(f"{name} must be printable Unicode text (no NUL, no lone surrogates)")
    return value


def storable(value: str) -> bool:
    """Text every database accepts: PostgreSQL refuses NUL, and a lone surrogate (which a
    JSON \\ud800 escape can produce) cannot be encoded at all."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _whole(value, *, name: str, maximum: int) -> int:
    if type(value) is not int:  # not bool, not a Decimal such as 10.0, not "10"
        raise ValueError(f"{name} must be a whole number (JSON integer), not {_json_type(value)}")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    if value > maximum:
        raise ValueError(f"{name} is too large (at most {maximum})")
    return value


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a number"


def _money(minor: int, currency: str, *, name: str, stored_places: int, digits: int) -> Decimal:
    """Minor units as an exact Decimal; refused rather than rounded when the column keeps
    fewer places than the currency has (crypto in a 2-place column)."""
    amount = from_minor_units(minor, currency)
    if amount != amount.quantize(Decimal(1).scaleb(-stored_places)):
        raise ValueError(
            f"{name}: {minor} minor units of {currency} is {amount:f} {currency}, finer than the "
            f"{stored_places} decimal places stored; send a multiple of "
            f"{10 ** (places(currency) - stored_places)} for {currency}"
        )
    if abs(amount) >= Decimal(10) ** (digits - stored_places):
        raise ValueError(f"{name} is too large")
    return amount


# --- players ---------------------------------------------------------------------------

# Accepted on the wire (api-facts §2) and dropped on purpose: personal data we do not need
# for commissions or reports is never stored (see campaigns.models.Player).
DROPPED_PLAYER_FIELDS = ("email", "first_name", "last_name", "date_of_birth", "nickname", "gender")
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}", re.ASCII)
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?", re.ASCII)


def player_items(raw: list) -> tuple[list[PlayerIn], list[ItemError]]:
    items, errors = [], []
    for index, entry in enumerate(raw):
        item_errors: list[ItemError] = []
        item = _player_item(index, entry, item_errors)
        if item_errors:
            errors.extend(item_errors)
        else:
            items.append(item)
    return items, errors


def _player_item(index: int, entry, errors: list[ItemError]) -> PlayerIn | None:
    if not isinstance(entry, dict):
        errors.append(ItemError(index, "", "each player must be a JSON object"))
        return None
    item = PlayerIn(index=index, user_id="")
    try:
        item.user_id = _text(entry.get("user_id"), name="user_id")
    except ValueError as exc:
        errors.append(ItemError(index, "user_id", str(exc)))
    # A tag that cannot be ours (wrong type, too long) leaves the player organic: never refused.
    tag = entry.get("tag")
    if isinstance(tag, int) and not isinstance(tag, bool):
        tag = str(tag)
    if isinstance(tag, str) and len(tag.strip()) <= MAX_TEXT and storable(tag):
        item.tag = tag.strip()
    code = entry.get("bonus_code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if isinstance(code, str) and len(code.strip()) <= 50 and storable(code):
        item.bonus_code = code.strip()
    if entry.get("sign_up_at") not in (None, ""):
        try:
            item.sign_up_at = moment(entry["sign_up_at"], name="sign_up_at")
        except ValueError as exc:
            errors.append(ItemError(index, "sign_up_at", str(exc)))
    country = entry.get("country")
    if country not in (None, ""):
        if isinstance(country, str) and _COUNTRY_RE.fullmatch(country.strip()):
            item.country = country.strip().upper()
        else:
            errors.append(ItemError(index, "country", "country must be an ISO 3166-1 alpha-2 code, e.g. DE"))
    language = entry.get("language")
    if language not in (None, ""):
        if isinstance(language, str) and _LANGUAGE_RE.fullmatch(language.strip()) and len(language.strip()) <= 8:
            item.language = language.strip().lower()
        else:
            errors.append(ItemError(index, "language", "language must be a language code, e.g. en or pt-BR"))
    duplicate = entry.get("duplicate")
    if duplicate is not None:
        if isinstance(duplicate, bool):
            item.duplicate = duplicate
        elif type(duplicate) is int and duplicate in (0, 1):
            item.duplicate = bool(duplicate)
        else:
            errors.append(ItemError(index, "duplicate", "duplicate must be true or false"))
    return item


# --- activity --------------------------------------------------------------------------


def activity_items(raw: list) -> tuple[list[ActivityIn], list[ItemError]]:
    items, errors = [], []
    for index, entry in enumerate(raw):
        item_errors: list[ItemError] = []
        item = _activity_item(index, entry, item_errors)
        if item_errors:
            errors.extend(item_errors)
        else:
            items.append(item)
    return items, errors


def _activity_item(index: int, entry, errors: list[ItemError]) -> ActivityIn | None:
    if not isinstance(entry, dict):
        errors.append(ItemError(index, "", "each activity item must be a JSON object"))
        return None
    item = ActivityIn(index=index, user_id="", currency="")
    try:
        item.user_id = _text(entry.get("user_id"), name="user_id")
    except ValueError as exc:
        errors.append(ItemError(index, "user_id", str(exc)))
    currency = entry.get("currency")
    if isinstance(currency, str) and currency.strip().upper() in _CURRENCY_SET:
        item.currency = currency.strip().upper()
    else:
        errors.append(ItemError(index, "currency", f"currency must be one of {', '.join(CURRENCIES)}"))
        return item  # amounts cannot be converted without it
    for key, value in entry.items():
        if value is None:
            continue  # absent: the column keeps its default of 0
        if key in ACTIVITY_MONEY:
            column = ACTIVITY_MONEY[key]
            try:
                minor = _whole(value, name=key, maximum=MAX_MINOR_UNITS)
                item.values[column] = _money(minor, item.currency, name=key,
                                             stored_places=_STORED_PLACES[column], digits=_STORED_DIGITS[column])
            except ValueError as exc:
                errors.append(ItemError(index, key, str(exc)))
        elif key in ACTIVITY_COUNTS:
            try:
                item.values[ACTIVITY_COUNTS[key]] = _whole(value, name=key, maximum=MAX_COUNT)
            except ValueError as exc:
                errors.append(ItemError(index, key, str(exc)))
        elif _EXTRA_KEY_RE.fullmatch(key):  # sb_bets_sum_cents ... kept as sent, exactly
            try:
                if key.endswith("_cents"):
                    minor = _whole(value, name=key, maximum=MAX_MINOR_UNITS)
                    item.extra[key] = f"{from_minor_units(minor, item.currency):f}"
                else:
                    item.extra[key] = _whole(value, name=key, maximum=MAX_COUNT)
            except ValueError as exc:
                errors.append(ItemError(index, key, str(exc)))
        # Any other key (tag, player fields the platform repeats ...) is ignored.
    deposits = entry.get("deposits")
    if deposits is not None:
        if not isinstance(deposits, list):
            errors.append(ItemError(index, "deposits", "deposits must be a list of objects"))
        else:
            seen: dict[str, int] = {}
            for position, raw_deposit in enumerate(deposits):
                deposit = _deposit(index, position, raw_deposit, item.currency, errors)
                if deposit is None:
                    continue
                if deposit.deposit_id in seen:
                    errors.append(ItemError(index, f"deposits[{position}].deposit_id",
                                            f"deposit_id {deposit.deposit_id!r} is listed twice "
                                            f"(also deposits[{seen[deposit.deposit_id]}])"))
                    continue
                seen[deposit.deposit_id] = position
                item.deposits.append(deposit)
    return item


def _deposit(index: int, position: int, raw, currency: str, errors: list[ItemError]) -> DepositIn | None:
    prefix = f"deposits[{position}]"
    if not isinstance(raw, dict):
        errors.append(ItemError(index, prefix, "each deposit must be an object {deposit_id, amount_cents, processed_at}"))
        return None
    before = len(errors)
    deposit_id = amount = processed_at = None
    try:
        deposit_id = _text(raw.get("deposit_id"), name="deposit_id")
    except ValueError as exc:
        errors.append(ItemError(index, f"{prefix}.deposit_id", str(exc)))
    try:
        minor = _whole(raw.get("amount_cents"), name="amount_cents", maximum=MAX_MINOR_UNITS)
        amount = _money(minor, currency, name="amount_cents",
                        stored_places=_DEPOSIT_AMOUNT.decimal_places, digits=_DEPOSIT_AMOUNT.max_digits)
    except ValueError as exc:
        errors.append(ItemError(index, f"{prefix}.amount_cents", str(exc)))
    try:
        processed_at = moment(raw.get("processed_at"), name="processed_at")
    except ValueError as exc:
        errors.append(ItemError(index, f"{prefix}.processed_at", str(exc)))
    if len(errors) > before:
        return None
    return DepositIn(position=position, deposit_id=deposit_id, amount=amount, processed_at=processed_at)


# --- flags, synced visits, partners ------------------------------------------------------

FLAG_OPERATION_RE = re.compile(r"(mark|unmark)_as_(disabled|duplicate|self_excluded)", re.ASCII)


def text_list(payload: dict, name: str, *, max_items: int) -> list[str]:
    """An optional list of strings (ids may come as integers); duplicates dropped, order kept."""
    value = payload.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise IngestionError(f'"{name}" must be a list of strings', field=name)
    if len(value) > max_items:
        raise IngestionError(f'"{name}" has {len(value)} entries; at most {max_items} per request',
                             field=name, status=413)
    out: dict[str, None] = {}
    for position, entry in enumerate(value):
        try:
            out[_text(entry, name=f"{name}[{position}]")] = None
        except ValueError as exc:
            raise IngestionError(str(exc), field=f"{name}[{position}]") from None
    return list(out)


def synced_links(raw: list) -> tuple[list[SyncedLinkIn], list[ItemError]]:
    items, errors = [], []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            errors.append(ItemError(index, "", "each link must be an object {code, affiliate_email, visits_count}"))
            continue
        before = len(errors)
        values = {}
        for name, check in (
            ("code", lambda v, n: _text(v, name=n, max_length=32)),
            ("affiliate_email", lambda v, n: _text(v, name=n, max_length=254)),
            ("visits_count", lambda v, n: _whole(v, name=n, maximum=MAX_COUNT)),
        ):
            try:
                values[name] = check(entry.get(name), name)
            except ValueError as exc:
                errors.append(ItemError(index, name, str(exc)))
        if len(errors) == before:
            items.append(SyncedLinkIn(index=index, **values))
    return items, errors
