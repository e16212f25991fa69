"""Reports grouped by what only the raw data knows: `player`, `player_country` and
`dynamic_tag_<param>` (a custom parameter of the tracking link's click, Visit.params).

The rollups are per promo and day, so these read the raw tables instead: visits (Visit, by
click time), registrations (Player, by sign-up time) and deposits (Deposit, by processing
time), each grouped in one query and merged in Python. Only the columns these tables give are
offered with such groupers (PLAYER_COLUMNS); others are refused naming the grouper.
depositing_players_count is a true distinct count here. Visits have no player, so
visits_count goes only with dynamic_tag_<param> (and the rollup groupers).

As in the rollups, visits and registrations count under the brand's base currency when rows
are split per currency (money columns without conversion).
"""
import datetime as dt
import math

from django.db.models import Count, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek, TruncYear

from reports.columns import COLUMNS, MONEY, MONEY_SOURCES
from reports.engine.query import (
    DATE_GROUPERS,
    DYNAMIC_TAG_PARAM_RE,
    DYNAMIC_TAG_PREFIX,
    RAW_GROUPERS,
    ReportQuery,
    _today,
)
from reports.engine.report import (
    ReportResult,
    _add,
    _column_cells,
    _grouper_cells,
    _Rates,
    _relations,
)
from reports.errors import ReportsError

PLAYER_COLUMNS = frozenset({
    "visits_count", "registrations_count", "first_deposits_count", "first_deposits_sum",
    "average_first_deposit_amount", "deposits_count", "deposits_sum", "average_deposit_amount",
    "depositing_players_count", "first_deposits_conversion_rate",
})
_TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}

# Where each dimension lives in each raw table.
_PATHS = {
    "visits": {"date": "created_at", "affiliate": "affiliate", "promo": "promo_id", "campaign": "promo__campaign_id",
               "brand": "promo__brand_id", "strategy": "promo__campaign__commission_plan_id", "params": "params",
               "promo_code": "promo__promo_code", "base_currency": "promo__brand__base_currency"},
    "players": {"date": "sign_up_at", "affiliate": "affiliate", "promo": "promo_id", "campaign": "campaign_id",
                "brand": "brand_id", "strategy": "campaign__commission_plan_id", "params": "visit__params",
                "promo_code": "promo__promo_code", "base_currency": "brand__base_currency",
                "player": "user_id", "player_country": "country"},
    "deposits": {"date": "processed_at", "affiliate": "player__affiliate", "promo": "player__promo_id",
                 "campaign": "player__campaign_id", "brand": "brand_id",
                 "strategy": "player__campaign__commission_plan_id", "params": "player__visit__params",
                 "promo_code": "player__promo__promo_code", "player": "player__user_id",
                 "player_country": "player__country"},
}


def needs_raw_data(group_by: list[str]) -> bool:
    return any(g in RAW_GROUPERS or g.startswith(DYNAMIC_TAG_PREFIX) for g in group_by)


def _check(query: ReportQuery) -> None:
    raw = [g for g in query.group_by if g in RAW_GROUPERS or g.startswith(DYNAMIC_TAG_PREFIX)]
    for column in query.columns:
        if column not in PLAYER_COLUMNS or (column == "visits_count" and set(raw) & set(RAW_GROUPERS)):
            raise ReportsError(f"column {column!r} is not available when grouping by {raw[0]!r}",
                               field="columns[]")


def _queryset(kind: str, *, affiliate, query: ReportQuery):
    from backoffice.timeutil import program_tz
    from campaigns.models import Deposit, Player, Visit

    paths, tz = _PATHS[kind], program_tz()
    start = dt.datetime.combine(query.date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(query.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    model = {"visits": Visit, "players": Player, "deposits": Deposit}[kind]
    qs = model.objects.filter(**{paths["affiliate"]: affiliate, f"{paths['date']}__gte": start,
                                 f"{paths['date']}__lt": end})
    for ids, dimension in ((query.brand_ids, "brand"), (query.plan_ids, "strategy"),
                           (query.campaign_ids, "campaign"), (query.promo_ids, "promo")):
        if ids:
            qs = qs.filter(**{f"{paths[dimension]}__in": ids})
    if query.promo_codes:
        match = Q()
        for code in query.promo_codes:
            match |= Q(**{f"{paths['promo_code']}__iexact": code})
        qs = qs.filter(match)
    return qs, tz


def _grouped_rows(kind: str, *, affiliate, query: ReportQuery, by_currency: bool):
    """(key, currency, sums) for one raw table, grouped by the query's groupers."""
    paths = _PATHS[kind]
    qs, tz = _queryset(kind, affiliate=affiliate, query=query)
    annotations = {}
    for i, grouper in enumerate(query.group_by):
        if grouper in DATE_GROUPERS:
            annotations[f"g{i}"] = _TRUNC[grouper](paths["date"], tzinfo=tz)
        elif grouper.startswith(DYNAMIC_TAG_PREFIX):
            # KeyTextTransform(key, "visit__params") follows the relation; KT("visit__params__k") does not.
            annotations[f"g{i}"] = KeyTextTransform(grouper[len(DYNAMIC_TAG_PREFIX):], paths["params"])
        else:
            annotations[f"g{i}"] = F(paths[grouper])
    currency_path = ("currency" if kind == "deposits" else paths["base_currency"]) if by_currency else None
    if currency_path:
        annotations["cur"] = F(currency_path)
    if kind == "deposits":
        sums = {"deposits_count": Count("pk"), "deposits_sum": Sum("amount"),
                "first_deposits_count": Count("pk", filter=Q(is_first=True)),
                "first_deposits_sum": Sum("amount", filter=Q(is_first=True)),
                "depositing_players_count": Count("player_id", distinct=True)}
    else:
        sums = {"visits_count" if kind == "visits" else "registrations_count": Count("pk")}
    keys = list(annotations)
    rows = qs.annotate(**annotations).values(*keys).annotate(**sums).order_by() if keys else [qs.aggregate(**sums)]
    for row in rows:
        key = tuple(_normal(row[f"g{i}"]) for i in range(len(query.group_by)))
        yield key, row.get("cur"), {name: row[name] or 0 for name in sums}


def _normal(value):
    if isinstance(value, dt.datetime):
        return value.date()
    return "" if value is None else value


def _sort_key(key: tuple) -> tuple:
    return tuple((0, v) if isinstance(v, int) else (1, str(v)) for v in key)


def raw_report_run(*, affiliate, query: ReportQuery, currency: str | None) -> ReportResult:
    _check(query)
    has_money = any(COLUMNS[c].type == MONEY for c in query.columns)
    by_currency = has_money and not currency
    wanted = set(query.columns)
    kinds = [kind for kind, columns in (
        ("visits", {"visits_count"}),
        ("players", {"registrations_count", "first_deposits_conversion_rate"}),
        ("deposits", PLAYER_COLUMNS - {"visits_count", "registrations_count"}),
    ) if wanted & columns]
    rate = _Rates(date=query.rates_date or _today(), quote=currency) if currency and has_money else None
    zero = {s: 0 for s in ("visits_count", "registrations_count", "first_deposits_count", "first_deposits_sum",
                           "deposits_count", "deposits_sum", "depositing_players_count")}
    merged: dict[tuple, dict] = {}
    for kind in kinds:
        for key, row_currency, sums in _grouped_rows(kind, affiliate=affiliate, query=query, by_currency=by_currency):
            if rate is not None and kind == "deposits":
                factor = rate(row_currency)
                sums = {s: (v * factor if s in MONEY_SOURCES else v) for s, v in sums.items()}
            _add(merged.setdefault((key, row_currency if by_currency else None), dict(zero)), sums)
    ordered = sorted(merged, key=lambda k: (_sort_key(k[0]), k[1] or ""))
    offset = (query.page - 1) * query.per_page
    page = ordered[offset:offset + query.per_page]
    out_currency = currency or affiliate.default_report_currency
    rows = [_grouper_cells(query.group_by, key) + _column_cells(query.columns, merged[(key, cur)], cur or out_currency)
            for key, cur in page]
    totals_by: dict = {}
    for key, cur in ordered:
        _add(totals_by.setdefault(cur, dict(zero)), merged[(key, cur)])
    totals = [_column_cells(query.columns, sums, cur or out_currency)
              for cur, sums in sorted(totals_by.items(), key=lambda item: item[0] or "")]
    if not totals:
        totals = [_column_cells(query.columns, zero, out_currency)]
    dimension_groupers = [g if g in ("brand", "campaign", "promo", "strategy") else "" for g in query.group_by]
    return ReportResult(
        rows=rows, totals=totals, total_pages=max(1, math.ceil(len(ordered) / query.per_page)),
        current_page=query.page, relations=_relations(dimension_groupers, [key for key, _ in page]),
        currency=currency,
    )


def dynamic_tags_seen(*, affiliate, limit: int = 5000) -> list[str]:
    """dynamic_tag_<param> groupers for the custom parameters on the affiliate's latest clicks."""
    from campaigns.models import Visit

    names: set[str] = set()
    for params in Visit.objects.filter(affiliate=affiliate).order_by("-pk").values_list("params", flat=True)[:limit]:
        if isinstance(params, dict):
            names.update(name for name in params if DYNAMIC_TAG_PARAM_RE.fullmatch(name))
    return sorted(f"{DYNAMIC_TAG_PREFIX}{name}" for name in names)

