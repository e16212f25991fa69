"""Selectors of the partner dashboard: quick stats (today, yesterday, this month) and quick
charts (the last 30 days), in the affiliate's default report currency.

Everything comes from ONE aggregate over the affiliate's DailyStat rows of the days needed,
grouped by date and currency. Money sums of each currency are then converted at today's rates
(reports.rates, one lookup per currency) and the days of each period added up; the column
formulas of reports.columns run on those sums, so the dashboard and the report page agree.

A currency without a rate does not break the page: counts are still shown, money figures are
left out and `conversion_error` says which rate is missing (adding part of the money and
leaving out the rest would show a wrong number that looks right).
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Sum

from backoffice.money import quantize
from backoffice.timeutil import business_today
from reports.columns import COLUMNS, MONEY, MONEY_SOURCES, sources_of
from reports.errors import ReportsError
from reports.models import DailyStat
from reports.rates import rate_for

CHART_DAYS = 30

# Quick stats in display order; partner_income only once the column catalogue offers it.
QUICK_STAT_COLUMNS = (
    "visits_count", "registrations_count", "first_deposits_count", "first_deposits_sum", "deposits_sum",
    "ngr", "partner_income",
)
LABELS = {
    "visits_count": "Visits",
    "registrations_count": "Registrations",
    "first_deposits_count": "First deposits",
    "first_deposits_sum": "First deposits sum",
    "deposits_sum": "Deposits sum",
    "ngr": "NGR",
    "partner_income": "Partner income",
}

_STAT_FIELDS = frozenset(f.name for f in DailyStat._meta.concrete_fields)


def _from_rollups(name: str) -> bool:
    """The column exists and every counter it sums is a DailyStat column (a column computed
    elsewhere, e.g. from bills, cannot come out of this aggregate)."""
    column = COLUMNS.get(name)
    return column is not None and all(source in _STAT_FIELDS for source in column.sources)


def quick_stat_columns() -> list[str]:
    return [name for name in QUICK_STAT_COLUMNS if _from_rollups(name)]


def income_column() -> str:
    """What the income chart draws: partner income when the rollups carry it, else NGR."""
    return "partner_income" if _from_rollups("partner_income") else "ngr"


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    type: str
    value: Decimal | int | None  # None: money that could not be converted
    currency: str

    @property
    def is_money(self) -> bool:
        return self.type == MONEY

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.is_money:
            return f"{quantize(self.value, self.currency):,}"
        return f"{int(self.value):,}"


@dataclass(frozen=True)
class QuickStat:
    key: str
    label: str
    date_from: dt.date
    date_to: dt.date
    figures: list[Figure]
    report_query: str = ""  # the same numbers on the report page (its query string)


@dataclass
class Dashboard:
    currency: str
    rates_date: dt.date
    quick_stats: list[QuickStat]
    chart_columns: list[str]
    chart_days: list[dt.date]
    chart_rows: list[list[Figure]]  # one per day of chart_days, figures of chart_columns
    conversion_error: str | None = None
    unconverted_currencies: list[str] = field(default_factory=list)

    @property
    def chart_table(self) -> list[tuple[dt.date, list[Figure]]]:
        """(day, figures) pairs: the charts' accessible table."""
        return list(zip(self.chart_days, self.chart_rows, strict=True))

    def chart_data(self) -> dict:
        """The charts' data for json_script: money as strings (never floats), counts as ints."""
        series = []
        for index, name in enumerate(self.chart_columns):
            column = COLUMNS[name]
            values = []
            for row in self.chart_rows:
                figure = row[index]
                if figure.value is None:
                    values.append(None)
                elif column.type == MONEY:
                    values.append(format(quantize(figure.value, self.currency), "f"))
                else:
                    values.append(int(figure.value))
            series.append({"key": name, "label": LABELS.get(name, name), "type": column.type, "data": values})
        return {
            "currency": self.currency,
            "dates": [day.isoformat() for day in self.chart_days],
            "series": series,
        }


def _empty_sums(sources: list[str]) -> dict:
    return {source: (Decimal(0) if source in MONEY_SOURCES else 0) for source in sources}


def _figures(columns: list[str], sums: dict, *, currency: str, money_known: bool) -> list[Figure]:
    figures = []
    for name in columns:
        column = COLUMNS[name]
        value = column.compute(sums)
        if column.type == MONEY and not money_known:
            value = None
        figures.append(Figure(name, LABELS.get(name, name), column.type, value, currency))
    return figures


def dashboard_stats(*, affiliate, today: dt.date | None = None) -> Dashboard:
    """Quick stats and the last CHART_DAYS days of `affiliate` (no one else's), converted into
    its default report currency at the rates of `today` (program time zone)."""
    today = today or business_today()
    currency = affiliate.default_report_currency
    month_from = today.replace(day=1)
    chart_from = today - dt.timedelta(days=CHART_DAYS - 1)
    columns = quick_stat_columns()
    chart_columns = ["visits_count", "registrations_count", "first_deposits_count", income_column()]
    sources = sources_of([*columns, *chart_columns])
    money_sources = [s for s in sources if s in MONEY_SOURCES]

    grouped = (
        DailyStat.objects.filter(affiliate=affiliate, date__gte=min(month_from, chart_from), date__lte=today)
        .values("date", "currency")
        .annotate(**{f"s_{source}": Sum(source) for source in sources})
        .order_by()
    )
    by_day: dict[dt.date, dict] = {}
    factors: dict[str, Decimal] = {currency: Decimal(1)}
    missing: dict[str, str] = {}
    for row in grouped:
        sums = {s: row[f"s_{s}"] or (Decimal(0) if s in MONEY_SOURCES else 0) for s in sources}
        code = row["currency"]
        if any(sums[s] for s in money_sources) and code not in factors and code not in missing:
            try:
                factors[code] = rate_for(date=today, base=code, quote=currency)
            except ReportsError as error:
                missing[code] = error.message
        factor = factors.get(code)
        day = by_day.setdefault(row["date"], _empty_sums(sources))
        for source, value in sums.items():
            if source in MONEY_SOURCES:
                if factor is not None:
                    day[source] += value * factor
            else:
                day[source] += value

    def period(date_from: dt.date, date_to: dt.date) -> dict:
        total = _empty_sums(sources)
        for day, sums in by_day.items():
            if date_from <= day <= date_to:
                for source, value in sums.items():
                    total[source] += value
        return total

    money_known = not missing
    yesterday = today - dt.timedelta(days=1)
    quick_stats = [
        QuickStat(key, label, date_from, date_to,
                  _figures(columns, period(date_from, date_to), currency=currency, money_known=money_known),
                  urlencode({"from": date_from.isoformat(), "to": date_to.isoformat(), "columns[]": columns,
                             "conversion_currency": currency, "exchange_rates_date": today.isoformat()},
                            doseq=True))
        for key, label, date_from, date_to in (
            ("today", "Today", today, today),
            ("yesterday", "Yesterday", yesterday, yesterday),
            ("month", "This month", month_from, today),
        )
    ]
    chart_days = [chart_from + dt.timedelta(days=n) for n in range(CHART_DAYS)]
    chart_rows = [
        _figures(chart_columns, by_day.get(day) or _empty_sums(sources), currency=currency, money_known=money_known)
        for day in chart_days
    ]
    return Dashboard(
        currency=currency, rates_date=today, quick_stats=quick_stats, chart_columns=chart_columns,
        chart_days=chart_days, chart_rows=chart_rows,
        conversion_error=" ".join(missing[code] for code in sorted(missing)) or None,
        unconverted_currencies=sorted(missing),
    )
