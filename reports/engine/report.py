"""The report engine (package reports.engine): one way to answer "these columns, grouped so, over these days" for an
affiliate, from the DailyStat rollups. The portal, exports, feeds and the Partner Report API
all call report_run / traffic_report_run.

How a report is computed:

- One aggregate query groups the affiliate's DailyStat rows of the range by the groupers
  (day/week/month/year buckets, brand, campaign, promo, plan) and sums the counters the
  columns need. Column formulas (reports.columns) run on those sums afterwards.
- Without conversion, currency is an implicit grouper as soon as a money column is asked for
  (money of two currencies is never added): one row per currency. The page is cut in SQL
  (LIMIT/OFFSET), with one COUNT for the number of pages and one query per currency for the
  totals of every row (not just the page).
- With a conversion currency, the query also groups by currency; each row's money sums are
  converted at the rates of `rates_date` (default: today in the program time zone) and the
  rows of one group merged in Python (few rows once grouped); totals are the sum of all merged
  rows. Money is rounded to the currency's places only when it is rendered.

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
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Max, Q, Sum

from backoffice.money import places as currency_places
from reports.columns import COLUMNS, INTEGER, MONEY, MONEY_SOURCES, PERCENT, sources_of
from reports.engine.query import (
    COHORT_GROUPERS,
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
# The cell name of a cohort grouper (the period of the player's sign-up / first deposit).
COHORT_CELLS = {"sign_up_at": "sign_up_at", "first_deposit_at": "first_deposit_at"}


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


def _grouped(qs, *, groupers: list[str], by_currency: bool, sources: list[str]):
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
    keys = [_alias(g) for g in groupers] + (["currency"] if by_currency else [])
    sums = {f"s_{source}": Sum(source) for source in sources}
    if keys:
        return qs.annotate(**annotations).values(*keys).annotate(**sums).order_by(*keys), keys
    return qs.values().aggregate(**sums), keys  # a dict: no grouping at all


def _sums(row: dict, sources: list[str]) -> dict:
    return {source: (row.get(f"s_{source}") or (Decimal(0) if source in MONEY_SOURCES else 0)) for source in sources}


_EXPONENTS: dict[str, tuple[Decimal, int]] = {}


def _money(amount: Decimal, currency: str) -> dict:
    # Same rounding as backoffice.money.quantize (half-up to the currency's places), inlined:
    # a report renders thousands of these.
    exponent = _EXPONENTS.get(currency)
    if exponent is None:
        exponent = _EXPONENTS[currency] = (Decimal(1).scaleb(-currency_places(currency)), currency_places(currency))
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    amount = Decimal(amount).quantize(exponent[0], rounding=ROUND_HALF_UP)
    cents_text = format(amount.scaleb(exponent[1]), "f")
    if "." not in cents_text:
        cents_text += ".0"
    return {"amount": format(amount, "f"), "amount_cents": cents_text, "currency": currency}


_HUNDREDTH = Decimal("0.01")


def _column_cells(columns: list[str], sums: dict, currency: str | None) -> list[dict]:
    cells = []
    for name in columns:
        column = COLUMNS[name]
        value = column.compute(sums)
        kind = column.type
        if kind == MONEY:
            value = _money(value, currency or "EUR")
        elif kind == PERCENT:
            value = format(Decimal(value).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP), "f")
        else:
            value = int(value)
        cells.append({"name": name, "value": value, "type": kind})
    return cells


def _grouper_cells(groupers: list[str], key: tuple) -> list[dict]:
    cells = []
    for grouper, value in zip(groupers, key, strict=False):
        if grouper in DATE_GROUPERS:
            if isinstance(value, dt.datetime):
                value = value.date()
            cells.append({"name": "date", "value": value.isoformat(), "type": "date"})
        elif grouper in COHORT_GROUPERS:
            # The period's first day; null for the players without one (no first deposit yet).
            if isinstance(value, dt.datetime):
                value = value.date()
            cells.append({"name": COHORT_CELLS[COHORT_GROUPERS[grouper][0]],
                          "value": value.isoformat() if value else None, "type": "date"})
        else:
            cells.append({"name": grouper, "value": value, "type": INTEGER if isinstance(value, int) else "string"})
    return cells


def _add(into: dict, sums: dict) -> None:
    for source, value in sums.items():
        into[source] = into.get(source, 0) + value


def _relations(groupers: list[str], keys: list[tuple]) -> dict[str, list[dict]]:
    from billing.models import CommissionPlan
    from campaigns.models import Brand, Campaign, Promo

    relations: dict[str, list[dict]] = {"campaigns": []}
    ids: dict[str, set] = {g: set() for g in groupers if g in DIMENSION_GROUPERS}
    for key in keys:
        for grouper, value in zip(groupers, key, strict=False):
            if grouper in ids:
                ids[grouper].add(value)
    if ids.get("campaign"):
        relations["campaigns"] = [
            {"id": c.pk, "name": c.name, "strategy": c.commission_plan.name}
            for c in Campaign.objects.filter(pk__in=ids["campaign"]).select_related("commission_plan").order_by("pk")
        ]
    if ids.get("brand"):
        relations["brands"] = [{"id": b.pk, "name": b.name}
                               for b in Brand.objects.filter(pk__in=ids["brand"]).order_by("pk")]
    if ids.get("promo"):
        relations["promos"] = [{"id": p.pk, "name": p.title, "code": p.code, "campaign_id": p.campaign_id}
                               for p in Promo.objects.filter(pk__in=ids["promo"]).order_by("pk")]
    if ids.get("strategy"):
        relations["strategies"] = [{"id": p.pk, "name": p.name, "kind": p.kind}
                                   for p in CommissionPlan.objects.filter(pk__in=ids["strategy"]).order_by("pk")]
    return relations


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
    from reports.engine.players import needs_raw_data, raw_report_run

    if needs_raw_data(query.group_by):
        return raw_report_run(affiliate=affiliate, query=query, currency=currency)
    sources = sources_of(query.columns)
    has_money = any(COLUMNS[c].type == MONEY for c in query.columns)
    groupers = query.group_by
    parts = _parts(affiliate=affiliate, query=query)
    if currency:
        return _converted(parts, query=query, groupers=groupers, sources=sources, currency=currency,
                          has_money=has_money)

    by_currency = has_money
    if not groupers and not by_currency:  # one row of everything (counts only, no grouper)
        sums = _sums({}, sources)
        for qs in parts:
            _add(sums, _sums(_grouped(qs, groupers=[], by_currency=False, sources=sources)[0], sources))
        row = _column_cells(query.columns, sums, None)
        return ReportResult(rows=[row] if query.page == 1 else [], totals=[row], total_pages=1,
                            current_page=query.page, relations={"campaigns": []})
    # Most reports have few groups: fetch them all in ONE query (per part) and count, total and
    # cut the page in Python. Only past IN_MEMORY_GROUPS (e.g. day × promo over a year) is the
    # page cut in SQL, with a COUNT and a totals query beside it, over the daily rows alone.
    everything = _merged(parts, groupers=groupers, by_currency=by_currency, sources=sources)
    if everything is None and len(parts) > 1:
        parts = [_base_queryset(affiliate=affiliate, query=query)]
        everything = _merged(parts, groupers=groupers, by_currency=by_currency, sources=sources)
    offset = (query.page - 1) * query.per_page
    if everything is not None:
        count, page_rows = len(everything), everything[offset:offset + query.per_page]
        by_total: dict = {}
        for row in everything:
            _add(by_total.setdefault(row.get("currency"), {}), row["sums"])
        totals = [_column_cells(query.columns, sums, code)
                  for code, sums in sorted(by_total.items(), key=lambda item: item[0] or "")]
    else:
        qs = parts[0]
        grouped, _ = _grouped(qs, groupers=groupers, by_currency=by_currency, sources=sources)
        count = grouped.count()
        page_rows = list(grouped[offset:offset + query.per_page])
        if by_currency:
            totals_qs = qs.values("currency").annotate(**{f"s_{s}": Sum(s) for s in sources}).order_by("currency")
            totals = [_column_cells(query.columns, _sums(t, sources), t["currency"]) for t in totals_qs]
        else:
            sums = _sums(qs.aggregate(**{f"s_{s}": Sum(s) for s in sources}), sources)
            totals = [_column_cells(query.columns, sums, None)]
    if not totals:
        totals = [_column_cells(query.columns, _sums({}, sources), affiliate.default_report_currency)]
    rows, page_keys = [], []
    for row in page_rows:
        key = tuple(row[_alias(g)] for g in groupers)
        page_keys.append(key)
        rows.append(_grouper_cells(groupers, key)
                    + _column_cells(query.columns, row.get("sums") or _sums(row, sources), row.get("currency")))
    return ReportResult(
        rows=rows, totals=totals, total_pages=max(1, math.ceil(count / query.per_page)),
        current_page=query.page, relations=_relations(groupers, page_keys),
    )


def _day(value):
    return value.date() if isinstance(value, dt.datetime) else value


def _merged(parts: list, *, groupers: list[str], by_currency: bool, sources: list[str]) -> list[dict] | None:
    """Every group of the parts, merged and in grouper order, each {alias..., "currency", "sums"};
    None when there are more than IN_MEMORY_GROUPS groups."""
    aliases = [_alias(g) for g in groupers]
    if len(parts) == 1:
        grouped, _ = _grouped(parts[0], groupers=groupers, by_currency=by_currency, sources=sources)
        rows = list(grouped[:IN_MEMORY_GROUPS + 1])
        if len(rows) > IN_MEMORY_GROUPS:
            return None
        for row in rows:
            row["sums"] = _sums(row, sources)
        return rows
    merged: dict[tuple, dict] = {}
    for qs in parts:
        grouped, _ = _grouped(qs, groupers=groupers, by_currency=by_currency, sources=sources)
        for row in grouped[:IN_MEMORY_GROUPS + 1]:
            key = (*(_day(row[a]) for a in aliases), row.get("currency"))
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {**dict(zip(aliases, key, strict=False)), "currency": key[-1], "sums": {}}
            _add(entry["sums"], _sums(row, sources))
        if len(merged) > IN_MEMORY_GROUPS:
            return None
    return [merged[key] for key in sorted(merged, key=lambda k: tuple("" if v is None else v for v in k))]


def _converted(parts: list, *, query: ReportQuery, groupers: list[str], sources: list[str], currency: str,
               has_money: bool) -> ReportResult:
    rate = _Rates(date=query.rates_date or _today(), quote=currency)
    merged: dict[tuple, dict] = {}
    total: dict = {}
    for qs in parts:
        grouped, _ = _grouped(qs, groupers=groupers, by_currency=True, sources=sources)
        for row in grouped.order_by():  # merged and sorted here: no ORDER BY lets the database hash
            sums = _sums(row, sources)
            if has_money:
                factor = rate(row["currency"])
                sums = {s: (v * factor if s in MONEY_SOURCES else v) for s, v in sums.items()}
            key = tuple(_day(row[_alias(g)]) for g in groupers)
            _add(merged.setdefault(key, {}), sums)
            _add(total, sums)
    keys = sorted(merged)  # grouper order (dates, ids, and currencies never None here)
    offset = (query.page - 1) * query.per_page
    page_keys = keys[offset:offset + query.per_page]
    rows = [_grouper_cells(groupers, key) + _column_cells(query.columns, merged[key], currency) for key in page_keys]
    total = total or _sums({}, sources)
    return ReportResult(
        rows=rows, totals=[_column_cells(query.columns, total, currency)],
        total_pages=max(1, math.ceil(len(keys) / query.per_page)), current_page=query.page,
        relations=_relations(groupers, page_keys), currency=currency,
    )


def attributes(*, affiliate=None) -> dict:
    """Columns and groupers a report of `affiliate` can use, with the dynamic_tag_<param>
    groupers of the custom parameters seen on its recent clicks."""
    from reports.engine.players import RAW_GROUPERS, dynamic_tags_seen

    groupers = [*SUPPORTED_GROUPERS, *RAW_GROUPERS]
    if affiliate is not None:
        groupers += dynamic_tags_seen(affiliate=affiliate)
    return {"available_columns": list(COLUMNS), "available_groupers": groupers}


