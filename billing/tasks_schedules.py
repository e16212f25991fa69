"""Celery task of automatic cash-out schedules (beat, daily). Thin: the work and its
once-per-schedule-and-date guarantee live in billing.services.schedules, and
`manage.py run_cashout_schedules --date` does the same by hand."""
import datetime as dt

from celery import shared_task

from backoffice.timeutil import business_today
from billing.services.schedules import cashout_schedules_run


@shared_task(name="billing.run_cashout_schedules", ignore_result=True)
def run_cashout_schedules(run_date: str | None = None) -> dict:
    """Run the schedules due on `run_date` (ISO date; default today in the program's time
    zone). Safe twice: a schedule that already ran on the date is skipped."""
    day = dt.date.fromisoformat(run_date) if run_date else business_today()
    return cashout_schedules_run(run_date=day).as_dict()
