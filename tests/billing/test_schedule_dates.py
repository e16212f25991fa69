"""The calendar of automatic cash-out schedules (pure functions, no database)."""
import calendar
import datetime as dt
from types import SimpleNamespace

import pytest

from billing.schedule_dates import next_run_dates, plan_describe, runs_on

D = dt.date


def plan(kind, *, weekdays=(), month_days=()):
    return SimpleNamespace(plan=kind, weekdays=list(weekdays), month_days=list(month_days))


def test_daily_runs_every_day_including_the_start():
    assert next_run_dates(plan("daily"), D(2024, 2, 27), count=4) == [
        D(2024, 2, 27), D(2024, 2, 28), D(2024, 2, 29), D(2024, 3, 1)]


def test_monthly_runs_on_the_first():
    dates = next_run_dates(plan("monthly"), D(2025, 11, 2))
    assert dates[:3] == [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]
    assert len(dates) == 12 and all(d.day == 1 for d in dates)
    assert runs_on(plan("monthly"), D(2025, 3, 1)) and not runs_on(plan("monthly"), D(2025, 3, 2))


def test_weekly_runs_on_each_chosen_weekday():
    # 2025-06-02 is a Monday; Monday and Wednesday, Friday ignored.
    schedule = plan("weekly", weekdays=[2, 0])
    assert next_run_dates(schedule, D(2025, 6, 2), count=5) == [
        D(2025, 6, 2), D(2025, 6, 4), D(2025, 6, 9), D(2025, 6, 11), D(2025, 6, 16)]
    assert not runs_on(schedule, D(2025, 6, 6))


def test_weekly_on_sunday_only():
    dates = next_run_dates(plan("weekly", weekdays=[6]), D(2026, 1, 1), count=12)
    assert len(dates) == 12
    assert {d.weekday() for d in dates} == {6}
    assert dates[0] == D(2026, 1, 4)
    assert all((b - a).days == 7 for a, b in zip(dates, dates[1:], strict=False))


def test_the_31st_runs_on_each_months_last_day_in_a_leap_year():
    dates = next_run_dates(plan("dates", month_days=[31]), D(2024, 1, 1), count=12)
    assert dates == [D(2024, m, calendar.monthrange(2024, m)[1]) for m in range(1, 13)]
    assert D(2024, 2, 29) in dates
    assert D(2024, 4, 30) in dates and D(2024, 6, 30) in dates
    assert D(2024, 9, 30) in dates and D(2024, 11, 30) in dates


def test_the_31st_runs_on_each_months_last_day_in_a_common_year():
    dates = next_run_dates(plan("dates", month_days=[31]), D(2025, 1, 1), count=12)
    assert dates == [
        D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31), D(2025, 6, 30),
        D(2025, 7, 31), D(2025, 8, 31), D(2025, 9, 30), D(2025, 10, 31), D(2025, 11, 30), D(2025, 12, 31),
    ]


@pytest.mark.parametrize(("chosen", "year", "expected_feb"), [
    (29, 2024, 29), (30, 2024, 29), (31, 2024, 29),
    (29, 2025, 28), (30, 2025, 28), (31, 2025, 28),
    (29, 2026, 28), (30, 2026, 28), (31, 2026, 28),
    (28, 2024, 28),
])
def test_a_date_february_lacks_runs_on_its_last_day(chosen, year, expected_feb):
    schedule = plan("dates", month_days=[chosen])
    february = [d for d in next_run_dates(schedule, D(year, 1, 1), count=12) if d.month == 2]
    assert february == [D(year, 2, expected_feb)]


def test_the_30th_in_every_month_length():
    schedule = plan("dates", month_days=[30])
    assert runs_on(schedule, D(2025, 1, 30)) and not runs_on(schedule, D(2025, 1, 31))  # 31 days
    assert runs_on(schedule, D(2025, 4, 30))  # 30 days
    assert runs_on(schedule, D(2025, 2, 28)) and not runs_on(schedule, D(2025, 2, 27))  # 28 days
    assert runs_on(schedule, D(2024, 2, 29)) and not runs_on(schedule, D(2024, 2, 28))  # 29 days


def test_feb_29_2024_is_a_run_date_for_every_date_29_to_31_but_not_for_the_28th():
    for chosen in (29, 30, 31):
        assert runs_on(plan("dates", month_days=[chosen]), D(2024, 2, 29))
    assert not runs_on(plan("dates", month_days=[28]), D(2024, 2, 29))
    assert runs_on(plan("dates", month_days=[28]), D(2024, 2, 28))


def test_dates_landing_on_the_same_day_make_one_run():
    schedule = plan("dates", month_days=[29, 30, 31])
    dates = next_run_dates(schedule, D(2025, 2, 1), count=7)
    assert dates == [
        D(2025, 2, 28),  # 29, 30 and 31 all land here: once
        D(2025, 3, 29), D(2025, 3, 30), D(2025, 3, 31),
        D(2025, 4, 29), D(2025, 4, 30),  # 30 and 31 land on the 30th: once
        D(2025, 5, 29),
    ]
    assert len(set(dates)) == len(dates)


def test_leap_february_with_30_and_31_runs_once_on_the_29th():
    dates = next_run_dates(plan("dates", month_days=[30, 31]), D(2024, 2, 1), count=3)
    assert dates == [D(2024, 2, 29), D(2024, 3, 30), D(2024, 3, 31)]


def test_several_dates_in_order_across_a_year_end():
    dates = next_run_dates(plan("dates", month_days=[15, 1]), D(2025, 12, 10), count=4)
    assert dates == [D(2025, 12, 15), D(2026, 1, 1), D(2026, 1, 15), D(2026, 2, 1)]


def test_the_start_date_is_included_when_it_is_a_run_date_and_skipped_otherwise():
    schedule = plan("dates", month_days=[31])
    assert next_run_dates(schedule, D(2026, 2, 28), count=1) == [D(2026, 2, 28)]
    assert next_run_dates(schedule, D(2026, 3, 1), count=1) == [D(2026, 3, 31)]


def test_twelve_runs_of_the_31st_always_include_february():
    schedule = plan("dates", month_days=[31])
    for start in (D(2025, 3, 1), D(2025, 2, 28), D(2027, 12, 31), D(2028, 3, 1)):
        february = [d for d in next_run_dates(schedule, start) if d.month == 2]
        assert len(february) == 1
        assert february[0].day == calendar.monthrange(february[0].year, 2)[1]


def test_a_plan_without_days_never_runs():
    assert next_run_dates(plan("weekly"), D(2025, 1, 1)) == []
    assert next_run_dates(plan("dates"), D(2025, 1, 1)) == []
    assert not runs_on(plan("weekly"), D(2025, 1, 1))
    assert not runs_on(plan("dates", month_days=[0, 32]), D(2025, 1, 31))


def test_runs_on_agrees_with_next_run_dates_over_two_years():
    schedules = [plan("daily"), plan("monthly"), plan("weekly", weekdays=[1, 4]),
                 plan("dates", month_days=[1, 29, 31]), plan("dates", month_days=[30])]
    start, end = D(2024, 1, 1), D(2025, 12, 31)
    for schedule in schedules:
        by_day = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        expected = [d for d in by_day if runs_on(schedule, d)][:300]
        assert next_run_dates(schedule, start, count=len(expected)) == expected


def test_plan_in_words():
    assert plan_describe(plan("daily")) == "Every day"
    assert plan_describe(plan("monthly")) == "Monthly, on the 1st"
    assert plan_describe(plan("weekly", weekdays=[4, 0])) == "Every Monday and Friday"
    assert plan_describe(plan("dates", month_days=[1, 15])) == "On the 1st and 15th of each month"
    assert plan_describe(plan("dates", month_days=[2, 3, 31])) == (
        "On the 2nd, 3rd and 31st of each month (the last day in months without that date)")
