"""Reports as files: CSV, XLSX, JSON and XML of every row of a report (the portal exports,
the statistic-token feeds and the requested reports built by Celery all use these).

- layout: the table people read (titles, header, typed values) for CSV and XLSX;
- tabular: CSV (streamed, or the rows/totals pair of a requested report's zip) and XLSX;
- documents: JSON and XML in the Report API's shape, every row in one document.

Rows come from reports.engine.iteration.report_stream, batch by batch: no format holds the
whole report in memory.
"""
from reports.exports.documents import json_chunks, xml_chunks, xml_error
from reports.exports.layout import (
    Layout,
    column_title,
    export_filename,
    grouper_title,
    parameter_summary,
)
from reports.exports.tabular import CsvPairWriter, XlsxWriter, csv_chunks, write_tables, write_xlsx


def layout_for(stream) -> Layout:
    """The table of a ReportStream's report."""
    return Layout(group_by=stream.query.group_by, columns=stream.query.columns, currency=stream.currency)


__all__ = [
    "CsvPairWriter", "Layout", "XlsxWriter", "column_title", "csv_chunks", "export_filename", "grouper_title",
    "json_chunks", "layout_for", "parameter_summary", "write_tables", "write_xlsx", "xml_chunks", "xml_error",
]
