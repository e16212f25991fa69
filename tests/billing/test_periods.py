"""Billing periods: daily, weekly on a weekday, monthly on a day; the plan's start; what is done."""
import datetime as dt

import pytest

from billing.models import BillingRun, CommissionPlan
from billing.services.periods import Period, completed_periods, period_containing
from tests.campaigns.factories import CommissionPlanFactory

pytestmark = pytest.mark.django_db

D = dt.date


def _plan(**kwargs):
    kwargs.setdefault("created_at", dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    return CommissionPlanFactory(**kwargs)


def test_weekly_periods_start_on_the_plans_weekday():
    # given a weekly plan starting on Wednesdays (2) — 2024-05-15 is a Wednesday
    plan = _plan(period=CommissionPlan.Period.WEEKLY, period_weekday=2)

    # then a Wednesday opens a period, a Tuesday closes one
    assert period_containing(plan=plan, day=D(2024, 5, 15)) == Period(D(2024, 5, 15), D(2024, 5, 21))
    assert period_containing(plan=plan, day=D(2024, 5, 21)) == Period(D(2024, 5, 15), D(2024, 5, 21))
    assert period_containing(plan=plan, day=D(2024, 5, 14)) == Period(D(2024, 5, 8), D(2024, 5, 14))


def test_weekly_on_monday_by_default():
    plan = _plan(period=CommissionPlan.Period.WEEKLY)
    # 2024-06-02 is a Sunday: the week Monday 27 May – Sunday 2 June
    assert period_containing(plan=plan, day=D(2024, 6, 2)) == Period(D(2024, 5, 27), D(2024, 6, 2))


def test_monthly_periods_on_day_one_are_calendar_months():
    plan = _plan(period=CommissionPlan.Period.MONTHLY, period_day=1)
    assert period_containing(plan=plan, day=D(2024, 2, 29)) == Period(D(2024, 2, 1), D(2024, 2, 29))
    assert period_containing(plan=plan, day=D(2024, 12, 31)) == Period(D(2024, 12, 1), D(2024, 12, 31))


def test_monthly_periods_on_day_15_cross_the_month_and_the_year():
    plan = _plan(period=CommissionPlan.Period.MONTHLY, period_day=15)
    assert period_containing(plan=plan, day=D(2024, 12, 20)) == Period(D(2024, 12, 15), D(2025, 1, 14))
    assert period_containing(plan=plan, day=D(2025, 1, 14)) == Period(D(2024, 12, 15), D(2025, 1, 14))
    assert period_containing(plan=plan, day=D(2024, 3, 1)) == Period(D(2024, 2, 15), D(2024, 3, 14))


def test_daily_periods_end_before_the_date_asked():
    plan = _plan(period=CommissionPlan.Period.DAILY, created_at=dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC))

    periods = completed_periods(plan=plan, as_of=D(2024, 5, 4))

    # 4 May has not ended yet: not billed
    assert periods == [Period(D(2024, 5, d), D(2024, 5, d)) for d in (1, 2, 3)]


def test_the_first_period_starts_when_the_plan_was_created():
    # given a monthly plan created on 10 March
    plan = _plan(period=CommissionPlan.Period.MONTHLY, created_at=dt.datetime(2024, 3, 10, 15, tzinfo=dt.UTC))

    periods = completed_periods(plan=plan, as_of=D(2024, 5, 1))

    # then nothing before 10 March is billed; April is a whole month
    assert periods == [Period(D(2024, 3, 10), D(2024, 3, 31)), Period(D(2024, 4, 1), D(2024, 4, 30))]


def test_a_period_ending_on_the_date_asked_is_not_closed_yet():
    plan = _plan(period=CommissionPlan.Period.MONTHLY, created_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC))
    assert completed_periods(plan=plan, as_of=D(2024, 4, 30)) == []
    assert completed_periods(plan=plan, as_of=D(2024, 5, 1)) == [Period(D(2024, 4, 1), D(2024, 4, 30))]


def test_the_plans_start_date_is_taken_in_the_program_time_zone(settings):
    # 31 March 23:30 UTC is already 1 April in Malta (UTC+2 in summer time)
    settings.PROGRAM_TIME_ZONE = "Europe/Malta"
    plan = _plan(period=CommissionPlan.Period.MONTHLY, created_at=dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC))

    assert completed_periods(plan=plan, as_of=D(2024, 5, 1)) == [Period(D(2024, 4, 1), D(2024, 4, 30))]
    assert Period(D(2024, 4, 1), D(2024, 4, 30)).start_moment == dt.datetime(2024, 3, 31, 22, tzinfo=dt.UTC)


def test_completed_runs_are_left_out_and_crashed_or_failed_ones_are_listed_again():
    plan = _plan(period=CommissionPlan.Period.WEEKLY, created_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC))
    BillingRun.objects.create(plan=plan, period_start=D(2024, 4, 1), period_end=D(2024, 4, 7),
                              status=BillingRun.Status.COMPLETED)
    BillingRun.objects.create(plan=plan, period_start=D(2024, 4, 8), period_end=D(2024, 4, 14),
                              status=BillingRun.Status.PROCESSING)
    BillingRun.objects.create(plan=plan, period_start=D(2024, 4, 15), period_end=D(2024, 4, 21),
                              status=BillingRun.Status.FAILED)

    periods = completed_periods(plan=plan, as_of=D(2024, 4, 29))

    assert [p.start for p in periods] == [D(2024, 4, 8), D(2024, 4, 15), D(2024, 4, 22)]
