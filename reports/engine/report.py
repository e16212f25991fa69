"""The report engine (package reports.engine): one way to answer "these columns, grouped so, over these days" for an
affiliate, from the DailyStat rollups. The portal, exports, feeds and the Partner Report API
all call report_run / traffic_report_run.

How a report is computed:

- One aggregate query groups the affiliate's DailyStat rows of the range by the groupers
  (day/week/month/year buckets, brand, campaign, promo, plan) and sums the columns' terms
  (reports.columns.Terms): a linear column such as ngr as one number computed by the
  database (on PostgreSQL, where numeric adds exactly; see _fetch), a ratio as its
  numerator's and denominator's counters. Column values come from the terms of a group after
  its rows are merged, so ratios are ratios of totals. Rows come back unordered (the database
  hashes the groups) and are sorted in Python.
- Without conversion, currency is an implicit grouper as soon as a money column is asked for
  (money of two currencies is never added): one row per currency. Up to IN_MEMORY_GROUPS
  groups are fetched at once and paged and totalled in Python; past that the page is cut in
  SQL (LIMIT/OFFSET), with one COUNT for the number of pages and one query per currency for
  the totals of every row (not just the page).
- With a conversion currency, the query also groups by currency (when a money column is
  asked for); each row's money terms are converted at the rates of `rates_date` (default:
  today in the program time zone) and the rows of one group merged in Python; totals are the
  sum of all merged rows. Money is rounded to the currency's places only when it is rendered
  (reports.engine.cells).

Whole months come from MonthlyStat (the month's DailyStat rows summed by reports.rollups)
when the groupers allow it (month, year, brand, campaign, promo, strategy, or none): a year by
month reads 12 rows per promo × currency instead of 365. The days of a range before its first
or after its last whole month still come from DailyStat, and the parts are merged in Python.
MonthlyStat is read only while it is at least as new as the affiliate's newest DailyStat row
(a DailyStat row written another way than through reports.rollups sends reports back to the
daily rows, which are always right).

Groupers the rollups cannot answer (player, player_country, sign_up_at_*, first_deposit_*,
dynamic_tag_<param>) are read from the raw tables by reports.engine.players.
"""
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Max, Q, Sum

from reports.columns import COLUMNS, MONEY, MONEY_SOURCES, Terms, terms_of
from reports.engine.cells import (  # noqa: F401  (players, traffic, iteration import these from here)
    _column_cells,
    _grouper_cells,
    _relations,
    _term_cells,
)
from reports.engine.query import (
    DATE_GROUPERS,
    DIMENSION_GROUPERS,
    SUPPORTED_GROUPERS,
    ReportQuery,
    _today,
)
from reports.errors import ReportsError

# Grouped rows fetched at once (then paged in Python) before paging moves into SQL.
IN_MEMORY_GROUPS = 10_000
# Groupers MonthlyStat can answer (a week or a day cuts through months).
MONTHLY_GROUPERS = frozenset({"month", "year", *DIMENSION_GROUPERS})


@dataclass
class ReportResult:
    rows: list[list[dict]]
    totals: list[list[dict]]
    total_pages: int
    current_page: int
    relations: dict[str, list[dict]]
    currency: str | None = None  # the conversion currency, if converted


# --- the report ------------------------------------------------------------------------------

def _alias(grouper: str) -> str:
    return f"g_{grouper}"


def _base_queryset(*, affiliate, query: ReportQuery, model=None, date_from=None, date_to=None):
    from reports.models import DailyStat

    model = model or DailyStat
    qs = model.objects.filter(affiliate=affiliate, date__gte=date_from or query.date_from,
                              date__lte=date_to or query.date_to)
    if query.brand_ids:
        qs = qs.filter(brand_id__in=query.brand_ids)
    if query.plan_ids:
        qs = qs.filter(plan_id__in=query.plan_ids)
    if query.campaign_ids:
        qs = qs.filter(campaign_id__in=query.campaign_ids)
    if query.promo_ids:
        qs = qs.filter(promo_id__in=query.promo_ids)
    if query.promo_codes:
        match = Q()
        for code in query.promo_codes:
            match |= Q(promo__promo_code__iexact=code)
        qs = qs.filter(match)
    return qs


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _monthly_fresh(affiliate) -> bool:
    """MonthlyStat has summed every DailyStat row of the affiliate (two index lookups)."""
    from reports.models import DailyStat, MonthlyStat

    monthly = MonthlyStat.objects.filter(affiliate=affiliate).aggregate(m=Max("updated_at"))["m"]
    if monthly is None:
        return False
    daily = DailyStat.objects.filter(affiliate=affiliate).aggregate(m=Max("updated_at"))["m"]
    return daily is None or daily <= monthly


def _parts(*, affiliate, query: ReportQuery) -> list:
    """Querysets that together cover the query's days once: its whole months from MonthlyStat
    (when the groupers and the table's freshness allow), the other days from DailyStat."""
    from reports.models import MonthlyStat

    daily = [_base_queryset(affiliate=affiliate, query=query)]
    if not set(query.group_by) <= MONTHLY_GROUPERS:
        return daily
    first = query.date_from if query.date_from.day == 1 else _month_end(query.date_from) + dt.timedelta(days=1)
    last = query.date_to if query.date_to == _month_end(query.date_to) else query.date_to.replace(day=1) - dt.timedelta(
        days=1)
    if first > last or not _monthly_fresh(affiliate):
        return daily
    parts = [_base_queryset(affiliate=affiliate, query=query, model=MonthlyStat, date_from=first, date_to=last)]
    if query.date_from < first:
        parts.append(_base_queryset(affiliate=affiliate, query=query, date_to=first - dt.timedelta(days=1)))
    if query.date_to > last:
        parts.append(_base_queryset(affiliate=affiliate, query=query, date_from=last + dt.timedelta(days=1)))
    return parts


def _group_annotations(qs, groupers: list[str]) -> dict:
    annotations = {}
    # A MonthlyStat date is the 1st of its month already: grouping by the bare column (no
    # date_trunc, no time zone cast) lets the database hash the groups.
    whole_months = qs.model._meta.model_name == "monthlystat"
    for grouper in groupers:
        if grouper in DATE_GROUPERS:
            trunc = DATE_GROUPERS[grouper]
            bare = trunc is None or (whole_months and grouper == "month")
            annotations[_alias(grouper)] = F("date") if bare else trunc("date")
        else:
            annotations[_alias(grouper)] = F(DIMENSION_GROUPERS[grouper])
    return annotations


def _grouped(qs, *, groupers: list[str], by_currency: bool, sources: list[str]):
    """Sums of each counter in `sources` per group, as dicts ordered by the groupers (callers
    outside report_run read these; report_run sums Terms, see _terms_grouped)."""
    keys = [_alias(g) for g in groupers] + (["currency"] if by_currency else [])
    sums = {f"s_{source}": Sum(source) for source in sources}
    if keys:
        return qs.annotate(**_group_annotations(qs, groupers)).values(*keys).annotate(**sums).order_by(*keys), keys
    return qs.values().aggregate(**sums), keys  # a dict: no grouping at all


def _sums(row: dict, sources: list[str]) -> dict:
    return {source: (row.get(f"s_{source}") or (Decimal(0) if source in MONEY_SOURCES else 0)) for source in sources}


# --- terms: the sums of a report, computed by the database where it adds exactly -------------

@dataclass(frozen=True)
class _Fetch:
    """How the terms of a report are read: the aggregates to select, and how a tuple of their
    values becomes the list of term values (in Terms.names order)."""

    aggregates: dict
    to_terms: object  # Callable[[Sequence], list]
    exact: bool  # the database adds the counters of a term (PostgreSQL)


_FETCHES: dict[tuple, _Fetch] = {}


def _signed(parts: tuple, value) -> object:
    expression = None
    for source, sign in parts:
        if expression is None:
            expression = value(source) if sign > 0 else -value(source)
        else:
            expression = expression + value(source) if sign > 0 else expression - value(source)
    return expression


def _fetch(terms: Terms, *, per_row: bool = False) -> _Fetch:
    """PostgreSQL adds numeric exactly, so it computes each term: one number per row and term
    (ngr instead of its ten counters). Two exact forms: SUM(bets) − SUM(wins) − … (one running
    sum per counter, the arithmetic once per group: cheapest over many rows per group, e.g. the
    daily rows of a day), or, `per_row`, SUM(bets − wins − …) (one running sum per term: the
    arithmetic on every row, but a hash table a third as wide, which the planner keeps hashing
    where 14 sums made it sort; cheapest over few rows per group, e.g. monthly rows by month
    and campaign). SQLite sums floats, which the ORM rounds per aggregate to the field's
    places: there every counter is summed alone and the terms added up in Python, as the rows
    were always read."""
    exact = connection.vendor == "postgresql"
    per_row = per_row and exact
    cached = _FETCHES.get((terms, exact, per_row))
    if cached is not None:
        return cached
    zero = terms.zero()
    if exact:
        aggregates = {f"s_{name}": Sum(_signed(parts, F)) if per_row else _signed(parts, Sum)
                      for name, parts in zip(terms.names, terms.parts, strict=True)}

        def to_terms(values, zero=zero) -> list:
            return [z if v is None else v for v, z in zip(values, zero, strict=True)]
    else:
        sources = list(dict.fromkeys(source for parts in terms.parts for source, _ in parts))
        aggregates = {f"s_{source}": Sum(source) for source in sources}
        where = {source: i for i, source in enumerate(sources)}
        plan = [[(where[source], sign) for source, sign in parts] for parts in terms.parts]

        def to_terms(values, zero=zero, plan=plan) -> list:
            out = []
            for parts, z in zip(plan, zero, strict=True):
                total = z
                for i, sign in parts:
                    value = values[i]
                    if value is not None:
                        total = total + value if sign > 0 else total - value
                out.append(total)
            return out
    fetch = _FETCHES[(terms, exact, per_row)] = _Fetch(aggregates, to_terms, exact)
    return fetch


def _rows(grouped) -> list[tuple]:
    """The tuples of a values_list queryset. On PostgreSQL straight from the cursor: psycopg
    already gives Decimal, int and date, and the ORM's per-value converters would only copy
    them (a date bucket may come as a datetime; _merged takes its date)."""
    if connection.vendor != "postgresql":
        return list(grouped)
    sql, params = grouped.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fetch_for(qs, terms: Terms) -> _Fetch:
    return _fetch(terms, per_row=qs.model._meta.model_name == "monthlystat")


def _terms_grouped(qs, *, groupers: list[str], by_currency: bool, terms: Terms, ordered: bool = False):
    """(*grouper values, currency?, *term sums) tuples per group (unordered unless asked: the
    database hashes the groups and the few thousand keys are sorted in Python)."""
    keys = [_alias(g) for g in groupers] + (["currency"] if by_currency else [])
    aggregates = _fetch_for(qs, terms).aggregates
    grouped = (qs.annotate(**_group_annotations(qs, groupers)).values(*keys)
               .annotate(**aggregates).values_list(*keys, *aggregates))
    return grouped.order_by(*keys) if ordered else grouped.order_by()


def _terms_total(qs, terms: Terms) -> list:
    fetch = _fetch_for(qs, terms)
    return fetch.to_terms(list(qs.aggregate(**fetch.aggregates).values()))


def _add_terms(into: list, values: list) -> None:
    for i, value in enumerate(values):
        into[i] += value


def _add(into: dict, sums: dict) -> None:
    for source, value in sums.items():
        into[source] = into.get(source, 0) + value


class _Rates:
    """Rates of one date, each asked of reports.rates once per report."""

    def __init__(self, *, date: dt.date, quote: str):
        self.date, self.quote, self._cache = date, quote, {}

    def __call__(self, base: str) -> Decimal:
        if base == self.quote:
            return Decimal(1)
        if base not in self._cache:
            try:
                from reports import rates
            except ImportError:  # the rates module lands with the exchange-rates work
                raise ReportsError("currency conversion is not available yet",
                                   field="conversion_currency") from None
            try:
                self._cache[base] = rates.rate_for(date=self.date, base=base, quote=self.quote)
            except ReportsError as error:
                raise ReportsError(error.message, field=error.field or "exchange_rates_date",
                                   code=error.code) from None
        return self._cache[base]


def report_run(*, affiliate, query: ReportQuery) -> ReportResult:
    """The report of `affiliate` (and no one else) for `query`."""
    currency = query.conversion_currency
    if currency is None and query.convert_all_currencies:
        currency = affiliate.default_report_currency
    from reports.engine.players import needs_raw, raw_report_run

    if needs_raw(query):  # raw groupers or tag filters: the rollups cannot answer
        return raw_report_run(affiliate=affiliate, query=query, currency=currency)
    terms = terms_of(tuple(query.columns))
    has_money = any(COLUMNS[c].type == MONEY for c in query.columns)
    groupers = query.group_by
    parts = _parts(affiliate=affiliate, query=query)
    if currency:
        rate = _Rates(date=query.rates_date or _today(), quote=currency) if has_money else None
        merged = _merged(parts, groupers=groupers, by_currency=False, terms=terms, rate=rate, limit=None)
        keys = sorted(merged)  # grouper order (dates, ids, never None here)
        total = terms.zero()
        for values in merged.values():
            _add_terms(total, values)
        return _result(query, terms, groupers, keys, merged, totals=[_term_cells(terms, total, currency)],
                       currency=currency, count=len(keys))

    if not groupers and not has_money:  # one row of everything (counts only, no grouper)
        total = terms.zero()
        for qs in parts:
            _add_terms(total, _terms_total(qs, terms))
        row = _term_cells(terms, total, None)
        return ReportResult(rows=[row] if query.page == 1 else [], totals=[row], total_pages=1,
                            current_page=query.page, relations={"campaigns": []})
    # Without conversion, money of two currencies is never added: the currency is a grouper.
    # Most reports have few groups: fetch them all in ONE query (per part) and count, total and
    # cut the page in Python. Only past IN_MEMORY_GROUPS (e.g. day × promo over a year) is the
    # page cut in SQL, with a COUNT and a totals query beside it, over the daily rows alone.
    by_currency = has_money
    merged = _merged(parts, groupers=groupers, by_currency=by_currency, terms=terms, limit=IN_MEMORY_GROUPS)
    if merged is None and len(parts) > 1:
        parts = [_base_queryset(affiliate=affiliate, query=query)]
        merged = _merged(parts, groupers=groupers, by_currency=by_currency, terms=terms, limit=IN_MEMORY_GROUPS)
    if merged is not None:
        keys = sorted(merged, key=lambda k: tuple("" if v is None else v for v in k))
        by_total: dict = {}
        for key, values in merged.items():
            code = key[-1] if by_currency else None
            _add_terms(by_total.setdefault(code, terms.zero()), values)
        totals = [_term_cells(terms, values, code)
                  for code, values in sorted(by_total.items(), key=lambda item: item[0] or "")]
        count = len(keys)
    else:
        qs = parts[0]
        grouped = _terms_grouped(qs, groupers=groupers, by_currency=by_currency, terms=terms, ordered=True)
        count = grouped.count()
        offset = (query.page - 1) * query.per_page
        width = len(groupers) + by_currency
        fetch = _fetch_for(qs, terms)
        merged = {tuple(row[:width]): fetch.to_terms(row[width:]) for row in grouped[offset:offset + query.per_page]}
        if by_currency:
            totals = [_term_cells(terms, fetch.to_terms(row[1:]), row[0]) for row in
                      qs.values("currency").annotate(**fetch.aggregates).order_by("currency")
                      .values_list("currency", *fetch.aggregates)]
        else:
            totals = [_term_cells(terms, _terms_total(qs, terms), None)]
        return _result(query, terms, groupers, list(merged), merged, totals=totals or None, count=count, paged=True,
                       default_currency=affiliate.default_report_currency, by_currency=by_currency)
    return _result(query, terms, groupers, keys, merged, totals=totals or None, count=count,
                   default_currency=affiliate.default_report_currency, by_currency=by_currency)


def _result(query: ReportQuery, terms: Terms, groupers: list[str], keys: list[tuple], merged: dict, *,
            totals: list | None, count: int, currency: str | None = None, paged: bool = False,
            default_currency: str | None = None, by_currency: bool = False) -> ReportResult:
    """The page of `keys` (every key, in order; or the page already when `paged`) as rows."""
    if not paged:
        offset = (query.page - 1) * query.per_page
        keys = keys[offset:offset + query.per_page]
    if totals is None:
        totals = [_term_cells(terms, terms.zero(), default_currency)]
    width = len(groupers)
    rows = [_grouper_cells(groupers, key) + _term_cells(terms, merged[key], key[-1] if by_currency else currency)
            for key in keys]
    return ReportResult(
        rows=rows, totals=totals, total_pages=max(1, math.ceil(count / query.per_page)),
        current_page=query.page, relations=_relations(groupers, [key[:width] for key in keys]), currency=currency,
    )


def _merged(parts: list, *, groupers: list[str], by_currency: bool, terms: Terms, rate: _Rates | None = None,
            limit: int | None) -> dict[tuple, list] | None:
    """Every group of the parts, merged: {(*grouper values, currency?): term values}; None
    past `limit` groups. With `rate`, each currency row's money terms are converted and the
    currencies of a group merged (the key has no currency then)."""
    width = len(groupers)
    convert = rate is not None
    money = [i for i, is_money in enumerate(terms.money) if is_money]
    # A date bucket is a date; were a database to give a datetime, it would not merge with the
    # monthly rows' dates.
    dated = next((i for i, g in enumerate(groupers) if g in DATE_GROUPERS), None)
    merged: dict[tuple, list] = {}
    factors: dict[str, Decimal] = {}  # per currency, asked of `rate` once
    for qs in parts:
        fetch = _fetch_for(qs, terms)
        # On PostgreSQL a group's sums are the terms already (a SUM over a group's NOT NULL
        # counters is never NULL).
        to_terms = list if fetch.exact else fetch.to_terms
        grouped = _terms_grouped(qs, groupers=groupers, by_currency=by_currency or convert, terms=terms)
        if limit is not None:
            grouped = grouped[:limit + 1]
        for row in _rows(grouped):
            values = to_terms(row[width + 1:] if convert or by_currency else row[width:])
            key = row[:width]
            if dated is not None and isinstance(key[dated], dt.datetime):
                key = (*key[:dated], key[dated].date(), *key[dated + 1:])
            if convert:
                factor = factors.get(row[width])
                if factor is None:
                    factor = factors[row[width]] = rate(row[width])
                if factor != 1:
                    for i in money:
                        values[i] *= factor
            elif by_currency:
                key = (*key, row[width])
            entry = merged.get(key)
            merged[key] = values if entry is None else [a + b for a, b in zip(entry, values, strict=True)]
        if limit is not None and len(merged) > limit:
            return None
    return merged


def attributes(*, affiliate=None) -> dict:
    """Columns and groupers a report of `affiliate` can use, with the dynamic_tag_<param>
    groupers of the custom parameters seen on its recent clicks."""
    from reports.engine.players import RAW_GROUPERS, dynamic_tags_seen

    groupers = [*SUPPORTED_GROUPERS, *RAW_GROUPERS]
    if affiliate is not None:
        groupers += dynamic_tags_seen(affiliate=affiliate)
    return {"available_columns": list(COLUMNS), "available_groupers": groupers}


