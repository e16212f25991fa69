"""Celery tasks of the reports app: thin wrappers that call one service.

Celery autodiscovers this module; the stats rollup tasks live in reports.tasks_stats
(registered from ReportsConfig.ready()).
"""
from celery import shared_task


@shared_task(name="reports.build_requested_report", ignore_result=True)
def build_requested_report(report_id: int) -> None:
    """Build the files of requested report `report_id` and e-mail its requester. Returns
    quietly if the report is gone; safe to run twice (reports.services.requested)."""
    from reports.services.requested import requested_report_build

    requested_report_build(report_id=report_id)
