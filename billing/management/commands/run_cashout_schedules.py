"""Run the automatic cash-out schedules of one date: what the daily beat task does, by hand.

    manage.py run_cashout_schedules                     today (the program's time zone)
    manage.py run_cashout_schedules --date 2026-02-28   replay or catch up one date

Safe to repeat: a schedule runs once per date; only a run that failed is tried again.
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from backoffice.timeutil import business_today
from billing.services.schedules import cashout_schedules_run


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, e.g. 2026-02-28 (got {value!r}).") from exc


class Command(BaseCommand):
    help = "Create the cashouts of the automatic cash-out schedules due on a date (default: today)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The run date, YYYY-MM-DD (default: today in PROGRAM_TIME_ZONE).")

    def handle(self, *args, date=None, **options):
        run_date = _date(date) if date else business_today()
        summary = cashout_schedules_run(run_date=run_date)
        for outcome in summary.outcomes:
            line = str(outcome)
            self.stdout.write(self.style.ERROR(line) if outcome.status == "failed" else line)
        totals = summary.as_dict()
        self.stdout.write(
            f"{run_date.isoformat()}: {totals['schedules']} schedule(s) due; {totals['created']} cashout(s) created, "
            f"{totals['below_minimum']} below the minimum, {totals['already_ran']} already ran, "
            f"{totals['failed']} failed."
        )
