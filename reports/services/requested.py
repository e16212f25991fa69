"""Requested reports: a report built in the background as files (a zip of two CSV files and
an XLSX workbook), kept to download, and e-mailed to whoever asked for it.

Lifecycle: requested_report_request stores the checked parameters (dates resolved, so a
relative period means the days it meant when asked) as `processing` and queues the build
after commit; requested_report_build (the Celery task's body) writes both files and sets
`successful` with the row count, or `failed` with an error a person can read; a failed
report can be retried (back to `processing`, queued again). The build is safe to run twice:
it only works on a report still processing without files, and only the first finished build
is recorded.
"""
import logging
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.mail import absolute_url, send_templated_mail
from reports.engine import ReportQuery
from reports.engine.query import tag_filter_params
from reports.errors import ReportsError
from reports.models import RequestedReport

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 120
# Bigger workbooks are not attached to the e-mail (mail servers refuse large messages); the
# e-mail links to the download page instead.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
BUILD_FAILED_MESSAGE = ("The report could not be built because of an error on our side. Try again; "
                        "if it fails again, contact your affiliate manager.")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stored_params(query: ReportQuery, *, today=None) -> dict:
    """A query as the parameters a RequestedReport keeps: API names, lists as lists, the
    dates resolved; `exchange_rates_date` resolved too when converting (default: today)."""
    params: dict = {"from": query.date_from.isoformat(), "to": query.date_to.isoformat(),
                    "columns[]": list(query.columns)}
    for name, values in (("group_by[]", query.group_by), ("brand_ids[]", query.brand_ids),
                         ("plan_ids[]", query.plan_ids), ("campaign_ids[]", query.campaign_ids),
                         ("promo_ids[]", query.promo_ids), ("promo_codes[]", query.promo_codes)):
        if values:
            params[name] = list(values)
    params.update(tag_filter_params(query))  # dynamic_tags[<param>][] / exclude_dynamic_tags[<param>][]
    if query.conversion_currency or query.convert_all_currencies:
        if query.conversion_currency:
            params["conversion_currency"] = query.conversion_currency
        if query.convert_all_currencies:
            params["convert_all_currencies"] = "1"
        params["exchange_rates_date"] = (query.rates_date or today or _today()).isoformat()
    return params


def _today():
    from backoffice.timeutil import business_today

    return business_today()


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX_LENGTH:
        raise ReportsError(f"a name has at most {NAME_MAX_LENGTH} characters", field="name")
    return name


def _check_member(*, affiliate, user) -> None:
    if user is not None and user.affiliate_id != affiliate.pk:
        raise ReportsError("this user is not a member of the account", field="user")


def _queue_build(report: RequestedReport) -> None:
    from reports.tasks import build_requested_report

    transaction.on_commit(lambda: build_requested_report.delay(report.pk))


def requested_report_request(*, affiliate, user, params: dict, name: str = "",
                             source: str = "portal") -> RequestedReport:
    """Queue a report of `affiliate` to be built as files. `params` are report parameters as
    the report page and the Report API take them; a wrong one raises ReportsError naming it."""
    if source not in RequestedReport.Source.values:
        raise ReportsError(f"unknown source {source!r}", field="source")
    _check_member(affiliate=affiliate, user=user)
    query = ReportQuery.from_params(params)
    from reports.engine.players import _check as check_raw_columns
    from reports.engine.players import needs_raw_data

    if needs_raw_data(query.group_by):
        check_raw_columns(query)  # a column refused with these groupers: say so now, not in the file
    if query.convert_all_currencies and not query.conversion_currency:
        query.conversion_currency = affiliate.default_report_currency
    if query.conversion_currency:
        _check_rates(affiliate=affiliate, query=query)
    name = _clean_name(name)
    if not name and source == RequestedReport.Source.API:
        name = f"API report {query.date_from}–{query.date_to}"
    with transaction.atomic():
        report = RequestedReport.objects.create(
            affiliate=affiliate, requested_by=user, name=name, params=stored_params(query),
            source=source, status=RequestedReport.Status.PROCESSING,
        )
        _queue_build(report)
    return report


def _check_rates(*, affiliate, query) -> None:
    """A converted report needs a rate for each currency of the range: refuse now (400 naming
    exchange_rates_date) rather than queue a build that can only fail."""
    from reports.engine.query import _today
    from reports.models import DailyStat
    from reports.rates import rates_for

    currencies = set(DailyStat.objects.filter(affiliate=affiliate, date__gte=query.date_from, date__lte=query.date_to)
                     .values_list("currency", flat=True).distinct())
    rates_for(date=query.rates_date or _today(), bases=currencies - {query.conversion_currency},
              quote=query.conversion_currency)


def requested_report_rename(*, report: RequestedReport, name: str, user) -> RequestedReport:
    _check_member(affiliate=report.affiliate, user=user)
    name = _clean_name(name)
    if not name:
        raise ReportsError("give the report a name", field="name")
    report.name = name
    report.save(update_fields=["name"])
    return report


def requested_report_retry(*, report: RequestedReport, user) -> RequestedReport:
    """Build a failed report again."""
    _check_member(affiliate=report.affiliate, user=user)
    with transaction.atomic():
        locked = RequestedReport.objects.select_for_update().get(pk=report.pk)
        if locked.status != RequestedReport.Status.FAILED:
            raise ReportsError(f"requested report {report.pk} is {locked.get_status_display().lower()}; "
                               "only a failed report can be retried", field="status")
        for field in (locked.csv_zip, locked.xlsx):  # half-written leftovers, if any
            if field:
                field.delete(save=False)
        locked.status, locked.error, locked.rows_count, locked.finished_at = (
            RequestedReport.Status.PROCESSING, "", None, None)
        locked.save(update_fields=["status", "error", "rows_count", "finished_at", "csv_zip", "xlsx"])
        _queue_build(locked)
    return locked


# --- the build (the Celery task's body) -------------------------------------------------------

def requested_report_build(*, report_id: int) -> RequestedReport | None:
    """Build the files of a processing report; None if the report is gone."""
    report = RequestedReport.objects.select_related("affiliate", "requested_by").filter(pk=report_id).first()
    if report is None:
        return None
    if report.status != RequestedReport.Status.PROCESSING or report.csv_zip or report.xlsx:
        return report  # built already, or failed and not retried
    try:
        with tempfile.TemporaryDirectory(prefix="requested-report-") as directory:
            rows_count, base = _write_files(report, Path(directory))
            attachment = _attachment(Path(directory) / f"{base}.xlsx")
            with open(Path(directory) / f"{base}.zip", "rb") as zipped, \
                    open(Path(directory) / f"{base}.xlsx", "rb") as workbook:
                report.csv_zip.save(f"{base}.zip", File(zipped), save=False)
                report.xlsx.save(f"{base}.xlsx", File(workbook), save=False)
    except ReportsError as error:
        _discard_files(report)
        return _fail(report, error.message)
    except Exception:
        logger.exception("requested report %s could not be built", report.pk)
        _discard_files(report)
        return _fail(report, BUILD_FAILED_MESSAGE)
    finished = timezone.now()
    recorded = RequestedReport.objects.filter(
        pk=report.pk, status=RequestedReport.Status.PROCESSING, csv_zip="", xlsx="",
    ).update(status=RequestedReport.Status.SUCCESSFUL, rows_count=rows_count, finished_at=finished,
             csv_zip=report.csv_zip.name, xlsx=report.xlsx.name, error="")
    if not recorded:  # another run of the task finished first: keep its files, drop ours
        report.csv_zip.delete(save=False)
        report.xlsx.delete(save=False)
        report.refresh_from_db()
        return report
    report.status, report.rows_count, report.finished_at, report.error = (
        RequestedReport.Status.SUCCESSFUL, rows_count, finished, "")
    _notify(report, attachment=attachment)
    return report


def _write_files(report: RequestedReport, directory: Path) -> tuple[int, str]:
    from reports.engine.iteration import report_stream
    from reports.exports import CsvPairWriter, XlsxWriter, export_filename, layout_for, write_tables

    query = ReportQuery.from_params(report.params)
    stream = report_stream(affiliate=report.affiliate, query=query)
    layout = layout_for(stream)
    base = export_filename(query, "").rstrip(".")
    csv_pair = CsvPairWriter(directory, layout)
    rows_count = write_tables(stream, layout, [XlsxWriter(directory / f"{base}.xlsx", layout), csv_pair])
    csv_pair.zip_to(directory / f"{base}.zip")
    return rows_count, base


def _discard_files(report: RequestedReport) -> None:
    # Only files this run saved: the build starts only when the row records none.
    for field in (report.csv_zip, report.xlsx):
        if field:
            field.delete(save=False)


def _attachment(path: Path) -> tuple[str, bytes, str] | None:
    if path.stat().st_size > MAX_ATTACHMENT_BYTES:
        return None
    return path.name, path.read_bytes(), XLSX_CONTENT_TYPE


def _fail(report: RequestedReport, message: str) -> RequestedReport:
    logger.warning("requested report %s failed: %s", report.pk, message)
    finished = timezone.now()
    recorded = RequestedReport.objects.filter(pk=report.pk, status=RequestedReport.Status.PROCESSING).update(
        status=RequestedReport.Status.FAILED, error=message, finished_at=finished)
    report.refresh_from_db()
    if recorded:
        _notify(report, attachment=None)
    return report


def _notify(report: RequestedReport, *, attachment) -> None:
    """E-mail the requester. A mail server that refuses is logged: the report is built and
    stays on its page either way, and a retry of the task would not build it again."""
    user = report.requested_by
    if user is None or not user.email:
        return
    try:
        _send(report, user, attachment)
    except Exception:
        logger.exception("requested report %s: the e-mail to its requester could not be sent", report.pk)


def _send(report: RequestedReport, user, attachment) -> None:
    successful = report.status == RequestedReport.Status.SUCCESSFUL
    label = report.name or f"Requested report #{report.pk}"
    send_templated_mail(
        to=[user.email],
        subject=f"Your report \u201c{label}\u201d is ready" if successful else f"Your report \u201c{label}\u201d failed",
        template="reports/email/requested_report_ready.txt" if successful else "reports/email/requested_report_failed.txt",
        context={
            "user": user, "report": report, "label": label, "attached": attachment is not None,
            "report_url": absolute_url(reverse("reports:requested_report", args=[report.pk])),
        },
        attachments=[attachment] if attachment else (),
    )
