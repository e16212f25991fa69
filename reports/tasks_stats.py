"""Celery task of the stats rollups: the watermark pass, every minute (CELERY_BEAT_SCHEDULE).

Registered from ReportsConfig.ready() (Celery autodiscovers `reports.tasks` only). Safe to run
twice or concurrently: a pass recomputes cells from the raw tables, it never increments.
"""
from celery import shared_task

from reports.rollups import stats_rebuild, stats_recompute_plan, stats_refresh


@shared_task(name="reports.refresh_stats", ignore_result=True, expires=120)
def refresh_stats() -> int:
    """Recompute the stats cells of raw rows written since the previous pass (manage.py
    refresh_stats does the same). Returns the number of cells recomputed."""
    return stats_refresh()


@shared_task(name="reports.rebuild_recent_stats", ignore_result=True, expires=3600)
def rebuild_recent_stats(days: int = 2) -> int:
    """Nightly: rebuild the last `days` days from the raw tables. Catches what the minute pass
    cannot see, e.g. a buffered visit written late with an id far below the watermark."""
    import datetime as dt

    from backoffice.timeutil import business_today

    today = business_today()
    return stats_rebuild(date_from=today - dt.timedelta(days=days), date_to=today)


@shared_task(name="reports.recompute_plan_stats", ignore_result=True)
def recompute_plan_stats(plan_id: int) -> int:
    """A commission plan's terms changed: recompute the stats cells of its promos, so the
    income accrued follows the new terms. Safe to run twice."""
    return stats_recompute_plan(plan_id=plan_id)
