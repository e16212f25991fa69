"""Reads of automatic cash-out schedules, scoped by the acting affiliate."""
from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from backoffice.timeutil import business_today
from billing import schedule_dates
from billing.models import CashoutSchedule, CashoutScheduleRun, PaymentMethod
from billing.services.cashouts import money_display


def schedule_next_run(schedule: CashoutSchedule, *, today: dt.date, done: set[dt.date] = frozenset()) -> dt.date | None:
    """The first run date from `today` on that has not run yet; None when inactive or never."""
    if not schedule.is_active:
        return None
    for day in schedule_dates.next_run_dates(schedule, today, count=len(done) + 1):
        if day not in done:
            return day
    return None


def schedule_list(*, affiliate, today: dt.date | None = None) -> list[CashoutSchedule]:
    """The affiliate's schedules, each with `plan_words` (the plan in words), `next_run` (the
    next date it will run, None if inactive) and `min_display`/`max_display` ("1,000.00", as the
    wallet shows amounts) set for the wallet page."""
    today = today or business_today()
    schedules = list(
        CashoutSchedule.objects.filter(affiliate=affiliate)
        .select_related("payment_method")
        .prefetch_related(Prefetch("runs", queryset=CashoutScheduleRun.objects.filter(run_date__gte=today),
                                   to_attr="runs_from_today"))
        .order_by("currency", "pk")
    )
    for schedule in schedules:
        schedule.plan_words = schedule_dates.plan_describe(schedule)
        schedule.min_display = money_display(schedule.min_amount, schedule.currency)
        schedule.max_display = money_display(schedule.max_amount, schedule.currency)
        schedule.next_run = schedule_next_run(
            schedule, today=today, done={run.run_date for run in schedule.runs_from_today})
    return schedules


def schedule_get(*, affiliate, schedule_id: int) -> CashoutSchedule:
    """One of the affiliate's schedules; another affiliate's is a 404."""
    return get_object_or_404(CashoutSchedule.objects.select_related("payment_method"),
                             pk=schedule_id, affiliate=affiliate)


def schedule_payment_method_choices(*, affiliate) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(affiliate=affiliate).order_by("type")
