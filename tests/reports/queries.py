"""Build a ReportQuery the way a request does: list values become repeated `<name>[]`
parameters, `pairs` are appended as they are (e.g. dynamic tag filters)."""
import datetime as dt

from django.http import QueryDict

from reports.engine import ReportQuery


def report_query(params: dict, pairs=(), *, today: dt.date, date_from: str | None = "2026-03-01",
                 date_to: str | None = "2026-03-31") -> ReportQuery:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, list):
            data.setlist(f"{key}[]", [str(v) for v in value])
        else:
            data[key] = str(value)
    for key, value in pairs:
        data.appendlist(key, value)
    if date_from:
        data.setdefault("from", date_from)
    if date_to:
        data.setdefault("to", date_to)
    return ReportQuery.from_params(data, today=today)
