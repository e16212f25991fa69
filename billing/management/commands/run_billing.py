"""Close every completed billing period and issue its bills: what the daily beat task
billing.run_billing does, by hand (or to replay a date).

    manage.py run_billing                     as of today (program time zone)
    manage.py run_billing --date 2024-06-01   periods that ended before 1 June 2024
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from billing.services.billing_run import run_billing


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, e.g. 2024-06-01; got {value!r}.") from None


class Command(BaseCommand):
    help = "Close every completed billing period of the active commission plans and issue the bills."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Close the periods that ended before this date (YYYY-MM-DD); "
                                           "default: today in the program time zone.")

    def handle(self, *args, **options):
        as_of = _date(options["date"]) if options["date"] else None
        failed = 0
        for outcome in run_billing(as_of=as_of):
            closed = ", ".join(str(p) for p in outcome.periods) or "none"
            self.stdout.write(f"{outcome.plan}: periods closed: {closed}; bills issued: {outcome.bills_issued}")
            if outcome.error:
                failed += 1
                self.stderr.write(f"  failed: {outcome.error} (the run is resumed next time)")
        if failed:
            # A non-zero exit for cron and CI; the other plans' bills are issued all the same.
            raise CommandError(f"{failed} plan(s) failed; see the billing runs in the admin.")
