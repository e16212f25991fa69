"""Affili's two calendars: what it answers in (Jalali, Tehran time) and what it wants in filters
(Gregorian).

Affili returns `created_at` / `updated_at` as Jalali (Solar Hijri) wall-clock times in Tehran,
e.g. `1399-01-17 12:46:38`, while the list filters (`min_updated_at` ...) "must be the
Gregorian date" (https://github.com/affili-ir/rest-api). Neither side says which zone the
filters are read in; Affili is a Tehran service, so we send them as Tehran wall-clock time too
(the connector's look-back overlap absorbs the difference should Affili read them as UTC).

Conversions are exact: the Jalali date goes through jdatetime to its Gregorian date, and the
wall-clock time is placed in Asia/Tehran through zoneinfo, which knows Iran's history — +04:30
in summer up to and including 2022 (1401), +03:30 otherwise and from 2023 (1402) on. A
wall-clock time that occurs twice (the hour before DST ended, 30/31 Shahrivar until 1401) is
read as the first of the two (fold=0); one that never existed (the hour skipped on 1/2
Farvardin) is read with the offset in force before the jump.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

import jdatetime

TEHRAN = ZoneInfo("Asia/Tehran")

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits, in case a value comes back localised.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_JALALI = re.compile(
    r"(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
)
# Jalali years of anything Affili can hold (1300 AP = 1921). A year outside them is not a
# Jalali date — most likely a Gregorian one — and would otherwise be converted into 2600-odd.
_JALALI_YEARS = range(1300, 1500)


@lru_cache(maxsize=4096)
def _gregorian_date(year: int, month: int, day: int) -> dt.date:
    # jdatetime.date raises ValueError for a day the Jalali month does not have (e.g. 1400-12-30).
    return jdatetime.date(year, month, day).togregorian()


def jalali_to_utc(text: str) -> dt.datetime:
    """`1399-01-17 12:46:38` (Jalali, Tehran wall-clock) → `2020-04-05 08:16:38+00:00`.

    Accepts `-` or `/` between the date parts, a `T` or a space before the time, a time without
    seconds (or none: midnight) and Persian digits. Raises ValueError for anything else,
    including a year that is not plausibly Jalali.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a Jalali date-time: {text!r}")
    match = _JALALI.fullmatch(text.strip().translate(_DIGITS))
    if match is None:
        raise ValueError(f"not a Jalali date-time: {text!r}")
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if year not in _JALALI_YEARS:
        raise ValueError(f"{text!r} does not look like a Jalali date (year {year})")
    date = _gregorian_date(year, month, day)
    local = dt.datetime(date.year, date.month, date.day, int(match["H"] or 0), int(match["M"] or 0),
                        int(match["S"] or 0), tzinfo=TEHRAN)
    return local.astimezone(dt.UTC)


def gregorian_filter(value: dt.datetime | dt.date) -> str:
    """A filter value for Affili's list: Gregorian, Tehran wall-clock, `YYYY-MM-DD HH:MM:SS`.

    An aware datetime is converted to Tehran time; a date means the start of that day in Tehran.
    A naive datetime is refused: its zone would be a guess.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("gregorian_filter needs an aware datetime")
        return value.astimezone(TEHRAN).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d 00:00:00")
    raise TypeError(f"gregorian_filter takes a date or datetime, not {type(value).__name__}")
