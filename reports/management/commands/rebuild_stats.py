"""Recompute the daily stats rollups (reports.DailyStat) from the raw tables.

    manage.py rebuild_stats                                  every day with raw data or stats
    manage.py rebuild_stats --from 2024-05-01 --to 2024-05-31 those days (program time zone)

Safe at any time and to run twice: every cell of the range is recomputed from the visits,
players, activity windows, deposits and qualifications, a week of days at a time, and cells
with no raw data left are deleted.
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reports.rollups import stats_rebuild


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, e.g. 2024-05-01; got {value!r}.") from None


class Command(BaseCommand):
    help = ("Recompute the daily stats rollups from the raw data, for the days from --from to --to "
            "(YYYY-MM-DD, program time zone; default: every day with raw data or stats).")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", help="Last day (YYYY-MM-DD), included.")

    def handle(self, *args, **options):
        date_from = _date(options["date_from"], "--from") if options["date_from"] else None
        date_to = _date(options["date_to"], "--to") if options["date_to"] else None
        if date_from and date_to and date_from > date_to:
            raise CommandError(f"--from {date_from} is after --to {date_to}.")
        written = stats_rebuild(date_from=date_from, date_to=date_to)
        self.stdout.write(f"Stats rebuilt: {written} rows written.")
