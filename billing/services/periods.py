"""Billing periods of a commission plan: which dates a period covers and which have closed.

A period is a range of program-time-zone dates, both ends inclusive:

- daily: one day;
- weekly: seven days starting on `plan.period_weekday` (0 = Monday ... 6 = Sunday);
- monthly: from `plan.period_day` (1–28) of one month to the day before it in the next month
  (day 1: calendar months; day 15: 15 Jan – 14 Feb ...). Days are capped at 28 by the model,
  so every month has the start day.

A plan is never billed for dates before it existed: its first period starts on the date of
`plan.created_at` (program time zone) and ends where the regular period containing that date
ends, so the first period may be shorter; every later period is a regular one.
"""
import datetime as dt
from dataclasses import dataclass

from backoffice.timeutil import business_date, program_tz
from billing.models import BillingRun, CommissionPlan


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def start_moment(self) -> dt.datetime:
        """The first instant of the period (midnight of `start` in the program time zone)."""
        return day_start(self.start)

    @property
    def end_moment(self) -> dt.datetime:
        """The first instant after the period (exclusive bound for timestamps)."""
        return day_start(self.end + dt.timedelta(days=1))

    @property
    def last_moment(self) -> dt.datetime:
        """The end of the period's last day (23:59:59.999999, program time zone)."""
        return dt.datetime.combine(self.end, dt.time.max, tzinfo=program_tz())

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=program_tz())


def _month_start(year: int, month: int, day: int) -> dt.date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year, month, day)


def period_containing(*, plan: CommissionPlan, day: dt.date) -> Period:
    """The regular period of `plan` that contains `day` (not clipped to the plan's start)."""
    if plan.period == CommissionPlan.Period.DAILY:
        return Period(day, day)
    if plan.period == CommissionPlan.Period.WEEKLY:
        start = day - dt.timedelta(days=(day.weekday() - plan.period_weekday) % 7)
        return Period(start, start + dt.timedelta(days=6))
    if plan.period == CommissionPlan.Period.MONTHLY:
        anchor = plan.period_day
        if day.day >= anchor:
            start = dt.date(day.year, day.month, anchor)
        else:
            start = _month_start(day.year, day.month - 1, anchor)
        following = _month_start(start.year, start.month + 1, anchor)
        return Period(start, following - dt.timedelta(days=1))
    raise ValueError(f"unknown billing period {plan.period!r} of plan {plan.pk}")


def plan_start_date(plan: CommissionPlan) -> dt.date:
    return business_date(plan.created_at)


def periods_between(*, plan: CommissionPlan, first_day: dt.date, before: dt.date) -> list[Period]:
    """Every period of `plan` from the one containing `first_day` (clipped to start on it)
    whose last day is before `before`, in order."""
    periods = []
    regular = period_containing(plan=plan, day=first_day)
    current = Period(first_day, regular.end)
    while current.end < before:
        periods.append(current)
        current = period_containing(plan=plan, day=current.end + dt.timedelta(days=1))
    return periods


def completed_periods(*, plan: CommissionPlan, as_of: dt.date) -> list[Period]:
    """The periods of `plan` that ended before `as_of` and whose billing run has not completed,
    oldest first, from the plan's creation date on.

    A period whose run is `processing` (crashed) or `failed` is listed again: running it
    resumes it.
    """
    periods = periods_between(plan=plan, first_day=plan_start_date(plan), before=as_of)
    if not periods:
        return []
    done = set(
        BillingRun.objects.filter(
            plan=plan, status=BillingRun.Status.COMPLETED, period_start__gte=periods[0].start,
        ).values_list("period_start", flat=True)
    )
    return [p for p in periods if p.start not in done]
