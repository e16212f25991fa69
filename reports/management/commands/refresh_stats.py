"""The stats watermark pass (what the beat task reports.refresh_stats runs every minute), by
hand: recompute the stats cells of raw rows written since the previous pass."""
from django.core.management.base import BaseCommand

from reports.rollups import stats_refresh


class Command(BaseCommand):
    help = "Recompute the daily stats cells of raw data written since the previous pass."

    def handle(self, *args, **options):
        cells = stats_refresh()
        self.stdout.write(f"Stats refreshed: {cells} cells recomputed (rows rebuilt, when there was no watermark).")
