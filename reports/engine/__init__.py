"""The report engine: reports.engine.report (report_run), .query (ReportQuery), .traffic."""
from reports.engine.query import MAX_PER_PAGE, MAX_RANGE_DAYS, SUPPORTED_GROUPERS, ReportQuery
from reports.engine.report import ReportResult, attributes, report_run
from reports.engine.traffic import TrafficQuery, TrafficResult, traffic_report_run

__all__ = [
    "MAX_PER_PAGE", "MAX_RANGE_DAYS", "SUPPORTED_GROUPERS", "ReportQuery", "ReportResult", "TrafficQuery",
    "TrafficResult", "attributes", "report_run", "traffic_report_run",
]
