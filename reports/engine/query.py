"""Report parameters: ReportQuery and how request parameters become one (each wrong
parameter is a ReportsError naming it)."""
import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models.functions import TruncMonth, TruncWeek, TruncYear

from backoffice.money import CURRENCIES
from reports.columns import COLUMNS, DEFAULT_COLUMNS
from reports.errors import ReportsError

MAX_RANGE_DAYS = 731
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
MAX_PAGE = 1_000_000
MAX_IDS = 1000
# Dynamic-tag filters: parameters per report, and values per parameter (each at most 255 chars).
MAX_TAG_FILTERS = 10
MAX_TAG_VALUES = 100
MAX_TAG_VALUE_LENGTH = 255

DATE_GROUPERS = {"day": None, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}
# grouper -> DailyStat column it groups by (ids; names come back in `relations`).
DIMENSION_GROUPERS = {"brand": "brand_id", "campaign": "campaign_id", "promo": "promo_id", "strategy": "plan_id"}
SUPPORTED_GROUPERS = (*DATE_GROUPERS, *DIMENSION_GROUPERS)
# Cohort groupers: the players' activity grouped by the period of their registration or first
# deposit (reports.engine.players). grouper -> (player field, period).
COHORT_FAMILIES = {"sign_up_at": "sign_up_at", "first_deposit": "first_deposit_at"}
COHORT_GROUPERS = {f"{family}_{period}": (field_name, period)
                   for family, field_name in COHORT_FAMILIES.items() for period in ("day", "week", "month", "year")}
# Groupers read from the raw tables (reports.engine.players), not the rollups.
RAW_GROUPERS = ("player", "player_country", *COHORT_GROUPERS)
DYNAMIC_TAG_PREFIX = "dynamic_tag_"
# A tracking-link parameter name usable in a JSON key lookup ("__" would split the path).
DYNAMIC_TAG_PARAM_RE = re.compile(r"(?!.*__)[A-Za-z0-9_\-]{1,64}")
# `dynamic_tags[<param>][]=v` keeps the rows of visits whose custom parameter is one of the
# values; `exclude_dynamic_tags[<param>][]=v` those whose parameter is none of them (no
# parameter at all included). Partner-guide and api-facts name no such filter: these names
# follow the `dynamic_tag_<param>` grouper.
_TAG_FILTER_RE = re.compile(r"(exclude_dynamic_tags|dynamic_tags)\[([^\[\]]*)\](\[\])?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_RE = re.compile(r"[A-Za-z]{3}")


@dataclass
class ReportQuery:
    date_from: dt.date
    date_to: dt.date  # inclusive
    group_by: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=lambda: list(DEFAULT_COLUMNS))
    brand_ids: list[int] = field(default_factory=list)
    plan_ids: list[int] = field(default_factory=list)
    campaign_ids: list[int] = field(default_factory=list)
    promo_ids: list[int] = field(default_factory=list)
    promo_codes: list[str] = field(default_factory=list)
    # {param: values}: rows of visits whose param is one of the values / none of them.
    dynamic_tags: dict[str, list[str]] = field(default_factory=dict)
    exclude_dynamic_tags: dict[str, list[str]] = field(default_factory=dict)
    conversion_currency: str | None = None
    convert_all_currencies: bool = False  # without conversion_currency: the affiliate's report currency
    rates_date: dt.date | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_params(cls, params, *, today: dt.date | None = None) -> "ReportQuery":
        """Read and check request parameters (a QueryDict or a dict of lists); raises
        ReportsError(field=<parameter name>) for the first one that is wrong."""
        today = today or _today()
        date_from = parse_date(params, "from", default=today.replace(day=1))
        date_to = parse_date(params, "to", default=today)
        check_range(date_from, date_to)
        columns = _list(params, "columns")
        for name in columns:
            if name not in COLUMNS:
                raise ReportsError(f"unknown column {name[:60]!r}; see /report/attributes for the available ones",
                                   field="columns[]")
        if len(set(columns)) != len(columns):
            raise ReportsError("a column is asked for twice", field="columns[]")
        group_by = _list(params, "group_by")
        for name in group_by:
            check_grouper(name)
        if len(set(group_by)) != len(group_by):
            raise ReportsError("a grouper is asked for twice", field="group_by[]")
        if not columns:
            # Visits have no player: grouped by one, the default columns go without them.
            by_player = set(group_by) & set(RAW_GROUPERS)
            columns = [c for c in DEFAULT_COLUMNS if not (by_player and c == "visits_count")]
        if sum(1 for g in group_by if g in DATE_GROUPERS) > 1:
            raise ReportsError("group by one of year, month, week, day (they share the date cell)",
                               field="group_by[]")
        for family in COHORT_FAMILIES:
            if sum(1 for g in group_by if g.startswith(f"{family}_") and g in COHORT_GROUPERS) > 1:
                raise ReportsError(f"group by one of {family}_year, _month, _week, _day", field="group_by[]")
        currency = _first(params, "conversion_currency")
        if currency:
            currency = currency.upper()
            if not _CURRENCY_RE.fullmatch(currency) or currency not in CURRENCIES:
                raise ReportsError(f"unknown currency {currency[:10]!r}", field="conversion_currency")
        convert_all = (_first(params, "convert_all_currencies") or "").lower() in ("1", "true", "yes")
        rates_date = parse_date(params, "exchange_rates_date", default=None)
        tag_filters = parse_tag_filters(params)
        return cls(
            date_from=date_from, date_to=date_to, group_by=group_by, columns=columns,
            brand_ids=_ids(params, "brand_ids"),
            plan_ids=_ids(params, "plan_ids") + _ids(params, "strategy_ids"),
            campaign_ids=_ids(params, "campaign_ids"),
            promo_ids=_ids(params, "promo_ids"),
            promo_codes=_codes(params, "promo_codes"),
            dynamic_tags=tag_filters["dynamic_tags"], exclude_dynamic_tags=tag_filters["exclude_dynamic_tags"],
            conversion_currency=currency or None, convert_all_currencies=convert_all, rates_date=rates_date,
            page=_int(params, "page", default=1, low=1, high=MAX_PAGE),
            per_page=_int(params, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE),
        )


# --- parameter parsing -----------------------------------------------------------------------

def _today() -> dt.date:
    from backoffice.timeutil import business_today

    return business_today()


def _values(params, name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        return getlist(f"{name}[]") + getlist(name)
    value = params.get(f"{name}[]", params.get(name, []))
    return list(value) if isinstance(value, list | tuple) else [value]


def _first(params, name: str) -> str | None:
    values = _values(params, name)
    return str(values[-1]).strip() if values else None


def _list(params, name: str) -> list[str]:
    """Repeated `name[]=a&name[]=b` (Affilka clients), also `name=a,b`."""
    out = []
    for value in _values(params, name):
        out += [part.strip() for part in str(value).split(",") if part.strip()]
    if len(out) > 100:
        raise ReportsError(f"too many {name} values", field=f"{name}[]")
    return out


def _ids(params, name: str) -> list[int]:
    values = _list(params, name)
    if len(values) > MAX_IDS:
        raise ReportsError(f"at most {MAX_IDS} ids", field=f"{name}[]")
    ids = []
    for value in values:
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            raise ReportsError(f"{value[:30]!r} is not an id (a positive whole number)", field=f"{name}[]")
        ids.append(int(value))
    return ids


def _codes(params, name: str) -> list[str]:
    codes = _list(params, name)
    for code in codes:
        if len(code) > 50 or not code.isprintable():
            raise ReportsError(f"{code[:30]!r} is not a promo code", field=f"{name}[]")
    return codes


def parse_tag_filters(params) -> dict[str, dict[str, list[str]]]:
    """{"dynamic_tags": {param: values}, "exclude_dynamic_tags": {...}} of `dynamic_tags[<param>][]`
    and `exclude_dynamic_tags[<param>][]` parameters. Values are taken whole (no comma split: a
    tracking value may hold one); blank ones are ignored."""
    out: dict[str, dict[str, list[str]]] = {"dynamic_tags": {}, "exclude_dynamic_tags": {}}
    for key in [str(key) for key in params]:
        if not key.startswith(("dynamic_tags", "exclude_dynamic_tags")):
            continue
        shown = key[:80]
        match = _TAG_FILTER_RE.fullmatch(key)
        if match is None:
            raise ReportsError("write a tag filter as dynamic_tags[<param>][]=<value> or "
                               "exclude_dynamic_tags[<param>][]=<value>", field=shown)
        kind, name = match.group(1), match.group(2)
        if not DYNAMIC_TAG_PARAM_RE.fullmatch(name):
            raise ReportsError(f"{name[:40]!r} is not a tracking-link parameter name (letters, digits, _ and -, "
                               "at most 64, no double underscore)", field=shown)
        getlist = getattr(params, "getlist", None)
        raw = getlist(key) if getlist is not None else params[key]
        raw = list(raw) if isinstance(raw, list | tuple) else [raw]
        values = out[kind].setdefault(name, [])
        for value in raw:
            value = str(value).strip()
            if not value:
                continue
            if len(value) > MAX_TAG_VALUE_LENGTH or not value.isprintable():
                raise ReportsError(f"{value[:30]!r} is not a tag value (at most {MAX_TAG_VALUE_LENGTH} printable "
                                   "characters)", field=shown)
            if value not in values:
                values.append(value)
        if len(values) > MAX_TAG_VALUES:
            raise ReportsError(f"at most {MAX_TAG_VALUES} values per tag", field=shown)
        if not values:
            del out[kind][name]
    total = len(out["dynamic_tags"]) + len(out["exclude_dynamic_tags"])
    if total > MAX_TAG_FILTERS:
        raise ReportsError(f"at most {MAX_TAG_FILTERS} tag filters per report", field="dynamic_tags")
    return out


def tag_filter_params(query: "ReportQuery") -> dict[str, list[str]]:
    """The tag filters of `query` as request parameters (for links, favorites, stored reports)."""
    params = {}
    for kind in ("dynamic_tags", "exclude_dynamic_tags"):
        for name, values in sorted(getattr(query, kind).items()):
            params[f"{kind}[{name}][]"] = list(values)
    return params


def _int(params, name: str, *, default: int, low: int, high: int) -> int:
    raw = _first(params, name)
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ReportsError(f"{name} must be a whole number from {low} to {high}", field=name)
    value = int(raw)
    if not low <= value <= high:
        raise ReportsError(f"{name} must be a whole number from {low} to {high}", field=name)
    return value


def parse_date(params, name: str, *, default: dt.date | None) -> dt.date | None:
    raw = _first(params, name)
    if not raw:
        return default
    if not _DATE_RE.fullmatch(raw):
        raise ReportsError(f"{name} must be a date as YYYY-MM-DD", field=name)
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise ReportsError(f"{name} must be a date as YYYY-MM-DD; {raw!r} is no such day", field=name) from None
    if value.year < 1900 or value.year > 9000:
        raise ReportsError(f"{name} is out of range", field=name)
    return value


def check_range(date_from: dt.date, date_to: dt.date, *, inclusive: bool = True) -> None:
    if date_from > date_to or (not inclusive and date_from == date_to):
        raise ReportsError("from is after to" if inclusive else "to must be after from", field="from")
    days = (date_to - date_from).days + (1 if inclusive else 0)
    if days > MAX_RANGE_DAYS:
        raise ReportsError(f"the range is {days} days; at most {MAX_RANGE_DAYS} per report", field="to")


def check_grouper(name: str) -> None:
    if name in SUPPORTED_GROUPERS or name in RAW_GROUPERS:
        return
    if name.startswith(DYNAMIC_TAG_PREFIX) and DYNAMIC_TAG_PARAM_RE.fullmatch(name[len(DYNAMIC_TAG_PREFIX):]):
        return
    raise ReportsError(f"unknown grouper {name[:60]!r}; see /report/attributes for the available ones",
                       field="group_by[]")


