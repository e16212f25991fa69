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

Groupers the rollups cannot answer (player, player_country, dynamic_tag_<param>) are read
from the raw tables by reports.engine.players; sign_up_at_* and first_deposit_* are refused
with a 400 naming them as not supported yet, and /report/attributes does not offer them.
"""
import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q, Sum

from backoffice.money import places as currency_places
from reports.columns import COLUMNS, INTEGER, MONEY, MONEY_SOURCES, PERCENT, sources_of
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


def _base_queryset(*, affiliate, query: ReportQuery):
    from reports.models import DailyStat

    qs = DailyStat.objects.filter(affiliate=affiliate, date__gte=query.date_from, date__lte=query.date_to)
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


def _grouped(qs, *, groupers: list[str], by_currency: bool, sources: list[str]):
    annotations = {}
    for grouper in groupers:
        if grouper in DATE_GROUPERS:
            trunc = DATE_GROUPERS[grouper]
            annotations[_alias(grouper)] = F("date") if trunc is None else trunc("date")
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
        else:
            cells.append({"name": grouper, "value": value, "type": INTEGER})
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
    qs = _base_queryset(affiliate=affiliate, query=query)
    if currency:
        return _converted(qs, query=query, groupers=groupers, sources=sources, currency=currency,
                          has_money=has_money)

    by_currency = has_money
    grouped, keys = _grouped(qs, groupers=groupers, by_currency=by_currency, sources=sources)
    if not keys:  # one row of everything (counts only, no grouper)
        sums = _sums(grouped, sources)
        row = _column_cells(query.columns, sums, None)
        return ReportResult(rows=[row] if query.page == 1 else [], totals=[row], total_pages=1,
                            current_page=query.page, relations={"campaigns": []})
    # Most reports have few groups: fetch them all in ONE query and count, total and cut the
    # page in Python. Only past IN_MEMORY_GROUPS (e.g. day × promo over a year) is the page cut in
    # SQL, with a COUNT and a totals query beside it.
    everything = list(grouped[:IN_MEMORY_GROUPS + 1])
    for row in everything:
        row["sums"] = _sums(row, sources)
    offset = (query.page - 1) * query.per_page
    if len(everything) <= IN_MEMORY_GROUPS:
        count, page_rows = len(everything), everything[offset:offset + query.per_page]
        by_total: dict = {}
        for row in everything:
            _add(by_total.setdefault(row.get("currency"), {}), row["sums"])
        totals = [_column_cells(query.columns, sums, code)
                  for code, sums in sorted(by_total.items(), key=lambda item: item[0] or "")]
    else:
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


def _converted(qs, *, query: ReportQuery, groupers: list[str], sources: list[str], currency: str,
               has_money: bool) -> ReportResult:
    rate = _Rates(date=query.rates_date or _today(), quote=currency)
    grouped, _ = _grouped(qs, groupers=groupers, by_currency=True, sources=sources)
    merged: dict[tuple, dict] = {}
    total: dict = {}
    for row in grouped:
        sums = _sums(row, sources)
        if has_money:
            factor = rate(row["currency"])
            sums = {s: (v * factor if s in MONEY_SOURCES else v) for s, v in sums.items()}
        key = tuple(row[_alias(g)] for g in groupers)
        _add(merged.setdefault(key, {}), sums)
        _add(total, sums)
    keys = list(merged)  # already in grouper order (the query orders by groupers, then currency)
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


