"""Reports grouped by what only the raw data knows: `player`, `player_country`, the cohort
groupers `sign_up_at_{day,week,month,year}` and `first_deposit_{day,week,month,year}`, and
`dynamic_tag_<param>` (a custom parameter of the tracking link's click, Visit.params).

The rollups are per promo and day, so these read the raw tables instead, each grouped in one
query and merged in Python: visits (Visit, by click time), registrations (Player, by sign-up
time), deposits (Deposit, by processing time), activity windows (PlayerActivity, by window
start) and qualifications (billing.Qualification, by qualification time) in the report's
range — the same rows, days and currencies as the rollups (reports.rollups), so a report's
totals do not depend on the groupers.

Cohorts (as in Affilka): the range selects the activity, the cohort grouper groups it by the
period in which each player signed up (Player.sign_up_at) or made the first deposit
(Player.first_deposit_at; players without one have a null cell). "sign_up_at_month" with
"month" is the classic cohort table: each sign-up month's players, month after month.

Every column is offered, except visits_count with a grouper that needs a player (visits have
none): with player, player_country and the cohort groupers it is refused naming the grouper.
Counts of players (depositing_players_count, casino_active_players_count,
qualified_players_count) count each player once per day, as the rollups do (reports.columns):
a row's count is the number of distinct (player, day) pairs, so a range's totals are the same
whatever the groupers. The admin fee and RevShare accrue per activity group under the plan of
the player's promo, exactly as in the rollups (reports.income), CPA (fixed) on the
qualification day.

Dynamic-tag filters (`dynamic_tags[<param>][]`, `exclude_dynamic_tags[<param>][]`) also send a
report here, whatever its groupers: the rollups have no tags. A visit passes when its custom
parameter equals one of the values (include) / none of them, or is absent (exclude); players,
and through them their deposits, activity and qualifications, pass with the visit they came
through (a player without a visit has no tags).

The groups are merged in memory, so a report may have at most REPORT_MAX_RAW_GROUPS of them
(setting, default MAX_RAW_GROUPS): past it the report is refused naming `group_by[]`.
Requested reports and files (reports.engine.iteration) read the merged groups once with their
own, higher bound (REPORT_MAX_RAW_FILE_GROUPS).

As in the rollups, visits, registrations and qualified players count under the brand's base
currency when rows are split per currency (money columns without conversion); CPA amounts
under the plan's currency.
"""
import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, Count, F, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat, TruncDate, TruncMonth, TruncWeek, TruncYear

from reports.columns import COLUMNS, MONEY, MONEY_SOURCES
from reports.engine.query import (
    COHORT_GROUPERS,
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
from reports.income import accrual, plan_terms
from reports.rollups_cells import ACTIVITY_SUMS, tax_sum

# Merged groups a report may have (each a dict of sums in memory); files get more.
MAX_RAW_GROUPS = 100_000
MAX_RAW_FILE_GROUPS = 1_000_000
_TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}
# Groupers under which a row is a set of players: visits (no player yet) cannot be split so.
_PLAYER_GROUPERS = frozenset(RAW_GROUPERS)

# Where each dimension lives in each raw table ("player." paths for the tables under Player).
_PLAYER_PATHS = {
    "affiliate": "affiliate", "promo": "promo_id", "campaign": "campaign_id", "brand": "brand_id",
    "strategy": "campaign__commission_plan_id", "params": "visit__params", "promo_code": "promo__promo_code",
    "base_currency": "promo__brand__base_currency", "player": "user_id", "player_country": "country",
    "sign_up_at": "sign_up_at", "first_deposit_at": "first_deposit_at", "promo_plan": "promo__campaign__commission_plan_id",
}


def _under_player(date: str, **own) -> dict:
    return {"date": date, **{name: f"player__{path}" for name, path in _PLAYER_PATHS.items()}, **own}


_PATHS = {
    "visits": {"date": "created_at", "affiliate": "affiliate", "promo": "promo_id", "campaign": "promo__campaign_id",
               "brand": "promo__brand_id", "strategy": "promo__campaign__commission_plan_id", "params": "params",
               "promo_code": "promo__promo_code", "base_currency": "promo__brand__base_currency"},
    "players": {"date": "sign_up_at", **_PLAYER_PATHS},
    "deposits": _under_player("processed_at", brand="brand_id"),
    "activities": _under_player("period_start"),
    "qualifications": _under_player("qualified_at"),
}
# The columns' sources each table gives.
_GIVES = {
    "visits": {"visits_count"},
    "players": {"registrations_count"},
    "deposits": {"first_deposits_count", "first_deposits_sum", "deposits_count", "deposits_sum",
                 "depositing_players_count"},
    "activities": {*ACTIVITY_SUMS.values(), "taxes_sum", "active_players_count", "admin_fee_sum",
                   "revshare_income_sum"},
    "qualifications": {"qualified_players_count", "cpa_income_sum"},
}
_ZERO = {source: 0 for sources in _GIVES.values() for source in sources}


def needs_raw_data(group_by: list[str]) -> bool:
    return any(g in RAW_GROUPERS or g.startswith(DYNAMIC_TAG_PREFIX) for g in group_by)


def needs_raw(query: ReportQuery) -> bool:
    """The report is read from the raw tables: a grouper or a tag filter the rollups lack."""
    return bool(query.dynamic_tags or query.exclude_dynamic_tags) or needs_raw_data(query.group_by)


def max_raw_groups(*, files: bool = False) -> int:
    if files:
        return getattr(settings, "REPORT_MAX_RAW_FILE_GROUPS", MAX_RAW_FILE_GROUPS)
    return getattr(settings, "REPORT_MAX_RAW_GROUPS", MAX_RAW_GROUPS)


def _check(query: ReportQuery) -> None:
    by_player = [g for g in query.group_by if g in _PLAYER_GROUPERS]
    if by_player and "visits_count" in query.columns:
        raise ReportsError(f"column 'visits_count' is not available when grouping by {by_player[0]!r} "
                           "(visits have no player)", field="columns[]")


def _queryset(kind: str, *, affiliate, query: ReportQuery):
    from backoffice.timeutil import program_tz
    from billing.models import Qualification
    from campaigns.models import Deposit, Player, PlayerActivity, Visit

    paths, tz = _PATHS[kind], program_tz()
    start = dt.datetime.combine(query.date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(query.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    model = {"visits": Visit, "players": Player, "deposits": Deposit, "activities": PlayerActivity,
             "qualifications": Qualification}[kind]
    qs = model.objects.filter(**{paths["affiliate"]: affiliate, f"{paths['date']}__gte": start,
                                 f"{paths['date']}__lt": end})
    if kind != "visits":  # attributed players only, as in the rollups
        qs = qs.filter(**{f"{paths['promo']}__isnull": False})
    for ids, dimension in ((query.brand_ids, "brand"), (query.plan_ids, "strategy"),
                           (query.campaign_ids, "campaign"), (query.promo_ids, "promo")):
        if ids:
            qs = qs.filter(**{f"{paths[dimension]}__in": ids})
    if query.promo_codes:
        match = Q()
        for code in query.promo_codes:
            match |= Q(**{f"{paths['promo_code']}__iexact": code})
        qs = qs.filter(match)
    return _tag_filtered(qs, paths["params"], query), tz


def _tag_filtered(qs, params_path: str, query: ReportQuery):
    # The parameter's text, as the dynamic_tag_<param> grouper shows it; NULL when absent (or
    # without a visit), which an include filter drops and an exclude filter keeps. Cast: a
    # plain text IN, not the JSON-value comparison of a key transform's own `__in`.
    def text(name):
        return Cast(KeyTextTransform(name, params_path), CharField())

    for i, (name, values) in enumerate(query.dynamic_tags.items()):
        qs = qs.alias(**{f"tag_in_{i}": text(name)}).filter(**{f"tag_in_{i}__in": values})
    for i, (name, values) in enumerate(query.exclude_dynamic_tags.items()):
        alias = f"tag_out_{i}"
        qs = qs.alias(**{alias: text(name)}).filter(Q(**{f"{alias}__isnull": True}) | ~Q(**{f"{alias}__in": values}))
    return qs


def _group_annotations(kind: str, query: ReportQuery, tz) -> dict:
    paths, annotations = _PATHS[kind], {}
    for i, grouper in enumerate(query.group_by):
        if grouper in DATE_GROUPERS:
            annotations[f"g{i}"] = _TRUNC[grouper](paths["date"], tzinfo=tz)
        elif grouper in COHORT_GROUPERS:
            field_name, period = COHORT_GROUPERS[grouper]
            annotations[f"g{i}"] = _TRUNC[period](paths[field_name], tzinfo=tz)
        elif grouper.startswith(DYNAMIC_TAG_PREFIX):
            # KeyTextTransform(key, "visit__params") follows the relation; KT("visit__params__k") does not.
            annotations[f"g{i}"] = KeyTextTransform(grouper[len(DYNAMIC_TAG_PREFIX):], paths["params"])
        else:
            annotations[f"g{i}"] = F(paths[grouper])
    return annotations


def _player_days(kind: str, tz, **filters) -> Count:
    """Distinct (player, day) pairs: a player counts once on each day of the row, as a sum of
    the rollups' daily distinct counts does (the day in the program time zone, as there)."""
    day = Cast(TruncDate(_PATHS[kind]["date"], tzinfo=tz), CharField())
    return Count(Concat(Cast("player_id", CharField()), Value("/"), day, output_field=CharField()),
                 distinct=True, **filters)


# Distinct (player, day) counts over the big tables: the costliest aggregates (a distinct sort
# per group; ~150 ms of a 90-day report over 1 M players), so read only when the report asks for
# them. Their queries keep their sums, so the groups found stay the same. (Qualifications are
# few and their count's query may be the only one giving a group: left as it is.)
_SKIPPABLE_COUNTS = frozenset({"depositing_players_count", "active_players_count"})


def _aggregates(kind: str, tz, wanted: set[str]) -> list[tuple[str | None, dict]]:
    """(the path of the currency the sums count under, {source: aggregate}) for one table,
    without the distinct player counts the report does not show (`wanted`: its sources)."""
    return [(currency_path, {name: aggregate for name, aggregate in aggregates.items()
                             if name not in _SKIPPABLE_COUNTS or name in wanted})
            for currency_path, aggregates in _all_aggregates(kind, tz)]


def _all_aggregates(kind: str, tz) -> list[tuple[str | None, dict]]:
    if kind == "visits":
        return [("base_currency", {"visits_count": Count("pk")})]
    if kind == "players":
        return [("base_currency", {"registrations_count": Count("pk")})]
    if kind == "deposits":
        first = Q(is_first=True)
        return [("currency", {"deposits_count": Count("pk"), "deposits_sum": Sum("amount"),
                              "first_deposits_count": Count("pk", filter=first),
                              "first_deposits_sum": Sum("amount", filter=first),
                              "depositing_players_count": _player_days(kind, tz)})]
    if kind == "qualifications":
        return [("base_currency", {"qualified_players_count": _player_days(kind, tz)}),
                ("plan__currency", {"cpa_income_sum": Sum("amount")})]
    sums = {target: Sum(column) for column, target in ACTIVITY_SUMS.items()}
    return [("currency", {**sums, "active_players_count": _player_days(kind, tz, filter=Q(bets_sum__gt=0))})]


def _too_many(limit: int) -> ReportsError:
    return ReportsError(f"this report has more than {limit:,} rows; choose a shorter range or fewer groupers "
                        "(e.g. not player with day), or have it built as a file (async=true)", field="group_by[]")


def _grouped_rows(kind: str, *, affiliate, query: ReportQuery, limit: int, wanted: set[str]):
    """(key, currency, sums) for one raw table, grouped by the query's groupers and currency;
    ReportsError past `limit` groups (never more than limit + 1 of them are read)."""
    paths = _PATHS[kind]
    qs, tz = _queryset(kind, affiliate=affiliate, query=query)
    annotations = _group_annotations(kind, query, tz)
    n = len(query.group_by)
    for currency_path, aggregates in _aggregates(kind, tz, wanted):
        fields = {**annotations, "cur": F(paths.get(currency_path, currency_path))}
        if kind == "activities":
            fields["plan"] = F(paths["promo_plan"])
        keys = list(fields)
        rows = {}
        for row in qs.annotate(**fields).values(*keys).annotate(
            **{f"s_{name}": aggregate for name, aggregate in aggregates.items()},
        ).order_by()[:limit + 1]:
            rows[tuple(row[k] for k in keys)] = {name: row[f"s_{name}"] or 0 for name in aggregates}
        if len(rows) > limit:
            raise _too_many(limit)
        if kind == "activities":
            _add_taxes_and_accruals(qs.annotate(**fields), keys, rows)
        for full_key, sums in rows.items():
            yield tuple(_normal(v) for v in full_key[:n]), full_key[n], sums


def _add_taxes_and_accruals(qs, keys: list[str], rows: dict) -> None:
    """Taxes from the windows' extra (only windows that mention "tax" are read back), then the
    admin fee and RevShare of each (group, currency, plan), as reports.rollups does per cell."""
    for *key, extra in qs.filter(extra__icontains="tax").values_list(*keys, "extra"):
        taxes = tax_sum(extra)
        if taxes and tuple(key) in rows:
            sums = rows[tuple(key)]
            sums["taxes_sum"] = sums.get("taxes_sum", 0) + taxes
    terms = plan_terms({key[-1] for key in rows})
    for key, sums in rows.items():
        sums.setdefault("taxes_sum", 0)
        sums["admin_fee_sum"], sums["revshare_income_sum"] = accrual(terms.get(key[-1]), key[-2], sums)


def _normal(value):
    if isinstance(value, dt.datetime):
        return value.date()
    return "" if value is None else value


def _sort_key(key: tuple) -> tuple:
    return tuple((0, v) if isinstance(v, int) else (1, str(v)) for v in key)


@dataclass
class RawReport:
    """Every merged group of a raw-data report, in report order, with its totals: paged by
    raw_report_run, read page after page by reports.engine.iteration (computed once)."""

    query: ReportQuery
    keys: list[tuple]  # (grouper values, currency or None), in report order
    merged: dict[tuple, dict]
    totals: list[list[dict]]
    out_currency: str
    currency: str | None

    def page(self, page: int, per_page: int) -> ReportResult:
        query = self.query
        offset = (page - 1) * per_page
        keys = self.keys[offset:offset + per_page]
        rows = [_grouper_cells(query.group_by, key)
                + _column_cells(query.columns, self.merged[(key, cur)], cur or self.out_currency)
                for key, cur in keys]
        dimension_groupers = [g if g in ("brand", "campaign", "promo", "strategy") else "" for g in query.group_by]
        return ReportResult(
            rows=rows, totals=self.totals, total_pages=max(1, math.ceil(len(self.keys) / per_page)),
            current_page=page, relations=_relations(dimension_groupers, [key for key, _ in keys]),
            currency=self.currency,
        )


def raw_report_prepare(*, affiliate, query: ReportQuery, currency: str | None, max_groups: int) -> RawReport:
    """Read and merge every group of the report; ReportsError (group_by[]) past `max_groups`."""
    _check(query)
    has_money = any(COLUMNS[c].type == MONEY for c in query.columns)
    by_currency = has_money and not currency
    wanted = {source for name in query.columns for source in COLUMNS[name].sources}
    kinds = [kind for kind, gives in _GIVES.items() if wanted & gives]
    rate = _Rates(date=query.rates_date or _today(), quote=currency) if currency and has_money else None
    merged: dict[tuple, dict] = {}
    for kind in kinds:
        for key, row_currency, sums in _grouped_rows(kind, affiliate=affiliate, query=query, limit=max_groups,
                                                   wanted=wanted):
            if rate is not None and any(s in MONEY_SOURCES for s in sums):
                factor = rate(row_currency)
                sums = {s: (v * factor if s in MONEY_SOURCES else v) for s, v in sums.items()}
            _add(merged.setdefault((key, row_currency if by_currency else None), dict(_ZERO)), sums)
        if len(merged) > max_groups:
            raise _too_many(max_groups)
    if not query.group_by and not by_currency and not merged:
        merged[((), None)] = dict(_ZERO)  # one row of zeros, as the rollups answer
    ordered = sorted(merged, key=lambda k: (_sort_key(k[0]), k[1] or ""))
    out_currency = currency or affiliate.default_report_currency
    totals_by: dict = {}
    for key, cur in ordered:
        _add(totals_by.setdefault(cur, dict(_ZERO)), merged[(key, cur)])
    totals = [_column_cells(query.columns, sums, cur or out_currency)
              for cur, sums in sorted(totals_by.items(), key=lambda item: item[0] or "")]
    if not totals:
        totals = [_column_cells(query.columns, _ZERO, out_currency)]
    return RawReport(query=query, keys=ordered, merged=merged, totals=totals, out_currency=out_currency,
                     currency=currency)


def raw_report_run(*, affiliate, query: ReportQuery, currency: str | None,
                   max_groups: int | None = None) -> ReportResult:
    """One page of the raw-data report; at most `max_groups` groups (default
    REPORT_MAX_RAW_GROUPS), else ReportsError naming group_by[]."""
    report = raw_report_prepare(affiliate=affiliate, query=query, currency=currency,
                                max_groups=max_groups if max_groups is not None else max_raw_groups())
    return report.page(query.page, query.per_page)


def dynamic_tags_seen(*, affiliate, limit: int = 5000) -> list[str]:
    """dynamic_tag_<param> groupers for the custom parameters on the affiliate's latest clicks."""
    from campaigns.models import Visit

    names: set[str] = set()
    for params in Visit.objects.filter(affiliate=affiliate).order_by("-pk").values_list("params", flat=True)[:limit]:
        if isinstance(params, dict):
            names.update(name for name in params if DYNAMIC_TAG_PARAM_RE.fullmatch(name))
    return sorted(f"{DYNAMIC_TAG_PREFIX}{name}" for name in names)
