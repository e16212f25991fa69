"""Celery tasks of the billing app: thin wrappers that call one service.

run_billing_task is safe to run twice: a completed period is never run again and a bill is
issued once per affiliate × plan × period (billing.services.billing_run).
"""
import datetime as dt

from celery import shared_task

from billing.services.billing_run import run_billing


@shared_task(name="billing.run_billing", ignore_result=True)
def run_billing_task(as_of: str | None = None) -> int:
    """Beat, daily: close every completed billing period (manage.py run_billing does the same).
    `as_of` is an ISO date (default: today in the program time zone). Returns bills issued;
    failures are recorded on their BillingRun and logged, never raised."""
    outcomes = run_billing(as_of=dt.date.fromisoformat(as_of) if as_of else None)
    return sum(outcome.bills_issued for outcome in outcomes)


# Celery autodiscovers `billing.tasks` only: importing the schedules task here registers it.
from billing.tasks_schedules import run_cashout_schedules  # noqa: E402,F401
