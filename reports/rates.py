"""Exchange rates: which rate converts one currency into another on a date, conversions, and
the import of a rates CSV (there is no rates feed: an operator imports a file).

Rate rules (rate_for): 1 when base == quote; else the base→quote rate of that date, or of the
latest earlier date within RATE_MAX_AGE_DAYS; else the inverse of quote→base (same rule);
else through EUR as a pivot (base→EUR × EUR→quote, each direct or inverse); else a
ReportsError naming the pair and the date.

CSV format (manage.py import_exchange_rates FILE.csv):

    date,base,quote,rate
    2026-03-31,EUR,USD,1.0825
    2026-03-31,EUR,BTC,0.0000152

- UTF-8 (a BOM is fine), comma-separated, the header line exactly `date,base,quote,rate`;
- date: ISO YYYY-MM-DD; base and quote: 3-letter codes of backoffice.money.CURRENCIES
  (upper or lower case), different from each other;
- rate: a positive decimal with a dot and at most 10 decimal places: 1 base = rate quote;
- one row per date × base × quote; a row for a pair and date already imported replaces it;
- all or nothing: if any row is bad, nothing is imported and every bad line is reported
  with its line number (the header is line 1).
"""
import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from backoffice.money import CURRENCIES, quantize
from reports.errors import ReportsError
from reports.models import ExchangeRate

PIVOT = "EUR"
RATE_MAX_AGE_DAYS = 7
CSV_HEADER = ["date", "base", "quote", "rate"]
_RATE_FIELD = ExchangeRate._meta.get_field("rate")


def _stored_rate(date: dt.date, base: str, quote: str) -> Decimal | None:
    """base→quote on `date` or the latest earlier date within RATE_MAX_AGE_DAYS, or None."""
    return (
        ExchangeRate.objects.filter(base=base, quote=quote, date__lte=date,
                                    date__gte=date - dt.timedelta(days=RATE_MAX_AGE_DAYS))
        .order_by("-date").values_list("rate", flat=True).first()
    )


def _direct_or_inverse(date: dt.date, base: str, quote: str) -> Decimal | None:
    if base == quote:
        return Decimal(1)
    rate = _stored_rate(date, base, quote)
    if rate is not None:
        return rate
    inverse = _stored_rate(date, quote, base)
    if inverse is not None:
        return Decimal(1) / inverse
    return None


def rate_for(*, date: dt.date, base: str, quote: str) -> Decimal:
    """How many `quote` one `base` is worth on `date` (see the module docstring for the rules)."""
    rate = _direct_or_inverse(date, base, quote)
    if rate is not None:
        return rate
    if PIVOT not in (base, quote):
        to_pivot = _direct_or_inverse(date, base, PIVOT)
        from_pivot = _direct_or_inverse(date, PIVOT, quote) if to_pivot is not None else None
        if from_pivot is not None:
            return to_pivot * from_pivot
    raise ReportsError(f"No exchange rate for {base}→{quote} on or before {date}", field="exchange_rates_date")


def rates_for(*, date: dt.date, bases: Iterable[str], quote: str) -> dict[str, Decimal]:
    """rate_for each of `bases` into `quote` (a report converts its currency rows with these)."""
    return {base: rate_for(date=date, base=base, quote=quote) for base in set(bases)}


def convert(amount: Decimal, *, date: dt.date, base: str, quote: str) -> Decimal:
    """`amount` of `base` in `quote` on `date`: an exact Decimal product, rounded half-up to
    the quote currency's places."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    return quantize(Decimal(amount) * rate_for(date=date, base=base, quote=quote), quote)


# --- CSV import ------------------------------------------------------------------------------


@dataclass
class RatesImported:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


class RatesFileError(ReportsError):
    """The file has bad rows; `lines` lists them ("line 3: ..."), nothing was imported."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__(f"{len(lines)} bad line(s) in the rates file; nothing was imported:\n" + "\n".join(lines),
                         field="file")


def _parse_rate(text: str) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"rate {text!r} is not a decimal number such as 1.0825") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"rate {text!r} must be a positive number")
    if -rate.as_tuple().exponent > _RATE_FIELD.decimal_places:
        raise ValueError(f"rate {text!r} has more than {_RATE_FIELD.decimal_places} decimal places")
    if rate.adjusted() + 1 > _RATE_FIELD.max_digits - _RATE_FIELD.decimal_places:
        raise ValueError(f"rate {text!r} is too large")
    return rate


def _parse_currency(text: str, name: str) -> str:
    code = text.strip().upper()
    if code not in CURRENCIES:
        raise ValueError(f"{name} {text!r} is not a known currency code (e.g. EUR, USD, BTC)")
    return code


def exchange_rates_parse(lines: Iterable[str]) -> dict[tuple[dt.date, str, str], Decimal]:
    """(date, base, quote) -> rate from the lines of a rates CSV; RatesFileError naming every
    bad line."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [cell.strip().lower() for cell in header] != CSV_HEADER:
        raise RatesFileError([f"line 1: the header must be {','.join(CSV_HEADER)}; got {','.join(header or [])!r}"])
    rates: dict[tuple[dt.date, str, str], Decimal] = {}
    first_line: dict[tuple[dt.date, str, str], int] = {}
    errors = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(CSV_HEADER):
            errors.append(f"line {line}: expected 4 values (date,base,quote,rate), got {len(row)}")
            continue
        problems = []
        date = base = quote = rate = None
        try:
            date = dt.date.fromisoformat(row[0].strip())
        except ValueError:
            problems.append(f"date {row[0]!r} is not a date as YYYY-MM-DD")
        for index, name in ((1, "base"), (2, "quote")):
            try:
                code = _parse_currency(row[index], name)
            except ValueError as exc:
                problems.append(str(exc))
            else:
                if name == "base":
                    base = code
                else:
                    quote = code
        if base and quote and base == quote:
            problems.append(f"base and quote are both {base}")
        try:
            rate = _parse_rate(row[3].strip())
        except ValueError as exc:
            problems.append(str(exc))
        if not problems:
            key = (date, base, quote)
            if key in first_line:
                problems.append(f"{base}→{quote} on {date} is also on line {first_line[key]}")
            else:
                first_line[key] = line
                rates[key] = rate
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
    if errors:
        raise RatesFileError(errors)
    return rates


def exchange_rates_import(*, lines: Iterable[str]) -> RatesImported:
    """Import a rates CSV (module docstring): all rows or, if any is bad, none."""
    rates = exchange_rates_parse(lines)
    now = timezone.now()
    with transaction.atomic():
        existing = set()
        for date in {key[0] for key in rates}:
            existing.update(ExchangeRate.objects.filter(date=date).values_list("date", "base", "quote"))
        ExchangeRate.objects.bulk_create(
            [ExchangeRate(date=date, base=base, quote=quote, rate=rate, imported_at=now)
             for (date, base, quote), rate in rates.items()],
            batch_size=1000, update_conflicts=True, unique_fields=["date", "base", "quote"],
            update_fields=["rate", "imported_at"],
        )
    updated = len(existing & rates.keys())
    return RatesImported(created=len(rates) - updated, updated=updated)
