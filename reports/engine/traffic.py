"""The traffic report: visits, registrations and first deposits over time (`to` exclusive),
by hour (from the raw tables) or by day/week/month/year (from the rollups)."""
import datetime as dt
import math
from dataclasses import dataclass

from reports.engine.query import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    ReportQuery,
    _first,
    _int,
    _today,
    check_range,
    parse_date,
)
from reports.engine.report import (
    _add,
    _alias,
    _base_queryset,
    _column_cells,
    _grouped,
    _grouper_cells,
    _sums,
)
from reports.errors import ReportsError

# --- traffic report --------------------------------------------------------------------------

TRAFFIC_GROUPINGS = ("hour", "day", "week", "month", "year")
TRAFFIC_COLUMNS = ("visits_count", "registrations_count", "first_deposits_count")


@dataclass
class TrafficQuery:
    date_from: dt.date
    date_to: dt.date  # exclusive
    date_group_by: str = "day"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_params(cls, params, *, today: dt.date | None = None) -> "TrafficQuery":
        today = today or _today()
        date_from = parse_date(params, "from", default=today.replace(day=1))
        date_to = parse_date(params, "to", default=today + dt.timedelta(days=1))
        check_range(date_from, date_to, inclusive=False)
        grouping = (_first(params, "date_group_by") or "day").lower()
        if grouping not in TRAFFIC_GROUPINGS:
            raise ReportsError(f"date_group_by must be one of {', '.join(TRAFFIC_GROUPINGS)}", field="date_group_by")
        return cls(date_from=date_from, date_to=date_to, date_group_by=grouping,
                   page=_int(params, "page", default=1, low=1, high=MAX_PAGE),
                   per_page=_int(params, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE))


@dataclass
class TrafficResult:
    rows: list[list[dict]]
    totals: list[list[dict]]  # of this page
    overall_totals: list[list[dict]]  # of every row
    total_pages: int
    current_page: int


def _hourly_counts(*, affiliate, query: TrafficQuery) -> dict:
    """Visits, sign-ups and first deposits per hour (program time zone), from the raw tables:
    the rollups are daily."""
    from django.db.models import Count
    from django.db.models.functions import TruncHour

    from backoffice.timeutil import program_tz
    from campaigns.models import Deposit, Player, Visit

    tz = program_tz()
    start = dt.datetime.combine(query.date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(query.date_to, dt.time.min, tzinfo=tz)
    counts: dict = {}
    sources = [
        ("visits_count", Visit.objects.filter(affiliate=affiliate, created_at__gte=start, created_at__lt=end),
         "created_at"),
        ("registrations_count", Player.objects.filter(affiliate=affiliate, sign_up_at__gte=start, sign_up_at__lt=end),
         "sign_up_at"),
        ("first_deposits_count", Deposit.objects.filter(player__affiliate=affiliate, is_first=True,
                                                        processed_at__gte=start, processed_at__lt=end),
         "processed_at"),
    ]
    for column, qs, moment in sources:
        for row in qs.annotate(h=TruncHour(moment, tzinfo=tz)).values("h").annotate(n=Count("pk")):
            counts.setdefault(row["h"], dict.fromkeys(TRAFFIC_COLUMNS, 0))[column] = row["n"]
    return dict(sorted(counts.items()))


def traffic_report_run(*, affiliate, query: TrafficQuery) -> TrafficResult:
    """Visits, registrations and first deposits over time; `to` is exclusive."""
    if query.date_group_by == "hour":
        counts = _hourly_counts(affiliate=affiliate, query=query)
        labelled = [({"name": "date", "value": moment.isoformat(), "type": "datetime"}, sums)
                    for moment, sums in counts.items()]
    else:
        report = ReportQuery(date_from=query.date_from, date_to=query.date_to - dt.timedelta(days=1),
                             group_by=[query.date_group_by], columns=list(TRAFFIC_COLUMNS))
        qs = _base_queryset(affiliate=affiliate, query=report)
        grouped, _ = _grouped(qs, groupers=report.group_by, by_currency=False, sources=list(TRAFFIC_COLUMNS))
        labelled = [(_grouper_cells(report.group_by, (row[_alias(query.date_group_by)],))[0],
                     _sums(row, list(TRAFFIC_COLUMNS))) for row in grouped]
    offset = (query.page - 1) * query.per_page
    page = labelled[offset:offset + query.per_page]
    page_total, overall = dict.fromkeys(TRAFFIC_COLUMNS, 0), dict.fromkeys(TRAFFIC_COLUMNS, 0)
    for _, sums in page:
        _add(page_total, sums)
    for _, sums in labelled:
        _add(overall, sums)
    columns = list(TRAFFIC_COLUMNS)
    return TrafficResult(
        rows=[[cell] + _column_cells(columns, sums, None) for cell, sums in page],
        totals=[_column_cells(columns, page_total, None)],
        overall_totals=[_column_cells(columns, overall, None)],
        total_pages=max(1, math.ceil(len(labelled) / query.per_page)), current_page=query.page,
    )
