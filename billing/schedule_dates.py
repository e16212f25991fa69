"""The calendar of automatic cash-out schedules: on which dates a schedule runs.

Pure functions over anything with `plan`, `weekdays` and `month_days` attributes (a
CashoutSchedule, or a form's cleaned data wrapped in a SimpleNamespace), so the form preview,
the wallet page and the daily run share one definition.

Plans: daily; weekly on chosen weekdays (0 = Monday … 6 = Sunday); monthly (the 1st); on
chosen dates of the month (1–31). A chosen date a month lacks (29–31) runs on that month's
last day — 31 → 30 April, 28 February (29 in a leap year) — and chosen dates that land on the
same day (30 and 31 in February) make one run, not two.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

DAILY = "daily"
WEEKLY = "weekly"
MONTHLY = "monthly"
DATES = "dates"

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_RUN_DATES = 366


def clean_weekdays(values: Iterable) -> list[int]:
    """Sorted, distinct weekdays 0–6; anything else is dropped."""
    return sorted({int(v) for v in values or () if str(v).strip().lstrip("-").isdigit() and 0 <= int(v) <= 6})


def clean_month_days(values: Iterable) -> list[int]:
    """Sorted, distinct dates of the month 1–31; anything else is dropped."""
    return sorted({int(v) for v in values or () if str(v).strip().lstrip("-").isdigit() and 1 <= int(v) <= 31})


def last_day_of_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def runs_on(schedule_like, day: dt.date) -> bool:
    """Whether the schedule has a run on `day`."""
    plan = str(schedule_like.plan)
    if plan == DAILY:
        return True
    if plan == WEEKLY:
        return day.weekday() in clean_weekdays(schedule_like.weekdays)
    if plan == MONTHLY:
        return day.day == 1
    if plan == DATES:
        last = last_day_of_month(day.year, day.month)
        # A chosen date past the month's end falls on its last day; several may land there.
        return any(min(chosen, last) == day.day for chosen in clean_month_days(schedule_like.month_days))
    return False


def next_run_dates(schedule_like, start: dt.date, count: int = 12) -> list[dt.date]:
    """The next `count` run dates on or after `start`, each date once. Empty when the plan has
    no day to run on (weekly with no weekday, dates with no date)."""
    count = max(0, min(int(count), MAX_RUN_DATES))
    plan = str(schedule_like.plan)
    if count == 0 or (plan == WEEKLY and not clean_weekdays(schedule_like.weekdays)) or (
        plan == DATES and not clean_month_days(schedule_like.month_days)
    ) or plan not in (DAILY, WEEKLY, MONTHLY, DATES):
        return []
    if plan == DAILY:
        return [start + dt.timedelta(days=i) for i in range(count)]
    if plan == WEEKLY:
        return _walk_days(schedule_like, start, count, limit_days=7 * count + 7)
    # Monthly and dates: at most one month per run is needed, so walk the months.
    wanted = [1] if plan == MONTHLY else clean_month_days(schedule_like.month_days)
    dates: list[dt.date] = []
    year, month = start.year, start.month
    while len(dates) < count:
        last = last_day_of_month(year, month)
        for day in sorted({min(chosen, last) for chosen in wanted}):
            candidate = dt.date(year, month, day)
            if candidate >= start:
                dates.append(candidate)
                if len(dates) == count:
                    break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def _walk_days(schedule_like, start: dt.date, count: int, *, limit_days: int) -> list[dt.date]:
    dates = []
    day = start
    for _ in range(limit_days):
        if runs_on(schedule_like, day):
            dates.append(day)
            if len(dates) == count:
                break
        day += dt.timedelta(days=1)
    return dates


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def plan_describe(schedule_like) -> str:
    """The plan in words, as the wallet page shows it."""
    plan = str(schedule_like.plan)
    if plan == DAILY:
        return "Every day"
    if plan == MONTHLY:
        return "Monthly, on the 1st"
    if plan == WEEKLY:
        days = clean_weekdays(schedule_like.weekdays)
        return f"Every {_join([WEEKDAY_NAMES[d] for d in days])}" if days else "Weekly (no weekday chosen)"
    if plan == DATES:
        days = clean_month_days(schedule_like.month_days)
        if not days:
            return "On dates of the month (no date chosen)"
        words = f"On the {_join([_ordinal(d) for d in days])} of each month"
        if days[-1] >= 29:
            words += " (the last day in months without that date)"
        return words
    return plan
