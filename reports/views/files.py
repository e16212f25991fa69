"""Reports as files: exports (CSV, XLSX, JSON, XML), token feeds and requested reports.

- /partner/reports/export.<fmt>: the signed-in affiliate's report, every row, as a download
  (the query string holds the report's parameters, as on the report page).
- /partner/reports/feed.<fmt>?token=<statistic token>&...: the same report as JSON or XML for
  scripts, no session; the token's user's affiliate; throttled per token like the Report API.
- /partner/reports/request (+ requested/...): reports built in the background as files.

Wrong parameters answer 400 naming the parameter (a page for people, JSON/XML for feeds),
checked before the first byte of a streamed answer.
"""
import tempfile

from django import forms
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partners.portal import portal_view
from reports import exports
from reports.api.auth import presented_token, report_api_user
from reports.api.throttling import throttle_check
from reports.engine import ReportQuery
from reports.engine.iteration import report_stream
from reports.errors import ReportsError
from reports.models import RequestedReport
from reports.services.requested import (
    NAME_MAX_LENGTH,
    requested_report_rename,
    requested_report_request,
    requested_report_retry,
)

REQUESTED_PER_PAGE = 25
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "xml": "application/xml; charset=utf-8",
    "zip": "application/zip",
}
# Query parameters that are not report parameters (kept out of a requested report's form).
_NOT_REPORT_PARAMS = {"name", "favorite", "page", "per_page", "token", "csrfmiddlewaretoken", "async"}


def _no_store(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _streamed(chunks, *, fmt: str, filename: str | None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


def _document(stream, fmt: str, *, filename: str | None = None):
    chunks = exports.json_chunks(stream) if fmt == "json" else exports.xml_chunks(stream)
    return _streamed(chunks, fmt=fmt, filename=filename)


# --- exports ----------------------------------------------------------------------------------

@portal_view
@require_GET
def export_view(request, fmt: str):
    try:
        query = ReportQuery.from_params(request.GET)
        stream = report_stream(affiliate=request.affiliate, query=query)
    except ReportsError as error:
        return render(request, "reports/export_error.html", {
            "error": error, "fmt": fmt.upper(), "back_query": request.GET.urlencode(),
        }, status=400)
    except (TooManyFieldsSent, RequestDataTooBig, SuspiciousOperation):
        return render(request, "reports/export_error.html", {
            "error": ReportsError("the report's address is too long or malformed"), "fmt": fmt.upper(),
        }, status=400)
    filename = exports.export_filename(query, fmt)
    if fmt == "csv":
        return _streamed(exports.csv_chunks(stream, exports.layout_for(stream)), fmt=fmt, filename=filename)
    if fmt == "xlsx":
        # Built into an anonymous temporary file (gone once closed), then streamed from disk.
        handle = tempfile.TemporaryFile(prefix="report-export-")  # noqa: SIM115 - FileResponse closes it
        try:
            exports.write_xlsx(stream, exports.layout_for(stream), handle)
            handle.seek(0)
        except BaseException:
            handle.close()
            raise
        return _no_store(FileResponse(handle, as_attachment=True, filename=filename,
                                      content_type=CONTENT_TYPES["xlsx"]))
    return _document(stream, fmt, filename=filename)


# --- feeds ------------------------------------------------------------------------------------

def _feed_error(fmt: str, message: str, *, status: int, field: str | None = None) -> HttpResponse:
    if fmt == "xml":
        response = HttpResponse(exports.xml_error(message, field), status=status, content_type=CONTENT_TYPES["xml"])
    else:
        response = JsonResponse({"error": message, "field": field}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD"])
def feed_view(request, fmt: str):
    """No session here: only the statistic token says whose report this is."""
    try:
        token = presented_token(request)
        wait = throttle_check(token)
        if wait is not None:
            response = _feed_error(fmt, f"too many requests with this token; retry in {wait} s", status=429)
            response["Retry-After"] = str(wait)
            return response
        user = report_api_user(token)
        query = ReportQuery.from_params(request.GET)
        stream = report_stream(affiliate=user.affiliate, query=query)
    except ReportsError as error:
        if error.code == "unauthenticated":
            response = _feed_error(fmt, error.message, status=401, field="token")
            response["WWW-Authenticate"] = 'Token realm="statistic feed"'
            return response
        return _feed_error(fmt, error.message, status=400, field=error.field)
    except (TooManyFieldsSent, RequestDataTooBig, SuspiciousOperation):
        return _feed_error(fmt, "the query string is too large or malformed", status=400)
    return _document(stream, fmt)


# --- requested reports ------------------------------------------------------------------------

class RequestReportForm(forms.Form):
    name = forms.CharField(label="Report name", required=False, max_length=NAME_MAX_LENGTH,
                           help_text="So you can tell your requested reports apart; you can change it later.")
    favorite = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RenameForm(forms.Form):
    name = forms.CharField(label="Report name", max_length=NAME_MAX_LENGTH)


def _report_params(data) -> list[tuple[str, str]]:
    return [(key, value) for key, values in data.lists() if key not in _NOT_REPORT_PARAMS for value in values]


def _add_error(form, error: ReportsError) -> None:
    if error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, f"{error.field}: {error.message}" if error.field else error.message)


@portal_view
@require_http_methods(["GET", "POST"])
def request_report_view(request):
    """GET: name the report the query string describes; POST: request it."""
    posted = request.method == "POST"
    data = request.POST if posted else request.GET
    form = RequestReportForm(data if posted else None, initial={"favorite": request.GET.get("favorite")})
    if posted and form.is_valid():
        favorite, source = None, RequestedReport.Source.PORTAL
        if form.cleaned_data["favorite"]:
            from reports.selectors import favorite_get

            favorite = favorite_get(affiliate=request.affiliate, favorite_id=form.cleaned_data["favorite"])
            if favorite is None:
                raise Http404("No such favorite.")
            source = RequestedReport.Source.FAVORITE
        name = form.cleaned_data["name"] or (favorite.name if favorite else "")
        try:
            report = requested_report_request(affiliate=request.affiliate, user=request.user, params=request.POST,
                                              name=name, source=source)
        except ReportsError as error:
            _add_error(form, error)
        else:
            messages.success(request, f"Report #{report.pk} is being built. We will e-mail you when it is ready; "
                                      "it stays on this page to download.")
            return redirect("reports:requested_report", pk=report.pk)
    params, summary, problem = _report_params(data), [], None
    try:
        summary = exports.parameter_summary(_summary_params(params))
    except ReportsError as error:
        problem = None if posted else error  # a POST shows it on the form already
    return render(request, "reports/requested_request.html", {
        "form": form, "params": params, "summary": summary, "problem": problem,
    }, status=400 if form.errors or problem else 200)


def _summary_params(params: list[tuple[str, str]]) -> dict:
    from django.http import QueryDict

    from reports.services.requested import stored_params

    query = QueryDict(mutable=True)
    for key, value in params:
        query.appendlist(key, value)
    return stored_params(ReportQuery.from_params(query))


def _requested_reports(request):
    return RequestedReport.objects.filter(affiliate=request.affiliate).select_related("requested_by")


@portal_view
@require_GET
def requested_report_list_view(request):
    page = Paginator(_requested_reports(request), REQUESTED_PER_PAGE).get_page(request.GET.get("page"))
    for report in page:
        report.summary = exports.parameter_summary(report.params)
    return render(request, "reports/requested_list.html", {"page_obj": page})


@portal_view
@require_http_methods(["GET", "POST"])
def requested_report_detail_view(request, pk: int):
    report = get_object_or_404(_requested_reports(request), pk=pk)
    form = RenameForm(request.POST or None, initial={"name": report.name})
    if request.method == "POST" and form.is_valid():
        try:
            requested_report_rename(report=report, name=form.cleaned_data["name"], user=request.user)
        except ReportsError as error:
            _add_error(form, error)
        else:
            messages.success(request, "The report has been renamed.")
            return redirect("reports:requested_report", pk=report.pk)
    return render(request, "reports/requested_detail.html", {
        "report": report, "form": form, "summary": exports.parameter_summary(report.params),
    }, status=400 if form.errors else 200)


@portal_view
@require_POST
def requested_report_retry_view(request, pk: int):
    report = get_object_or_404(_requested_reports(request), pk=pk)
    try:
        requested_report_retry(report=report, user=request.user)
    except ReportsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The report is being built again.")
    return redirect("reports:requested_report", pk=report.pk)


@portal_view
@require_GET
def requested_report_download_view(request, pk, fmt: str):
    report = get_object_or_404(_requested_reports(request), pk=int(pk))
    field = report.xlsx if fmt == "xlsx" else report.csv_zip
    if report.status != RequestedReport.Status.SUCCESSFUL or not field:
        raise Http404("This report has no file (yet).")
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file of this report is missing.") from exc
    filename = field.name.rsplit("/", 1)[-1]
    return _no_store(FileResponse(handle, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[fmt]))


urlpatterns = [
    re_path(r"^reports/export\.(?P<fmt>csv|xlsx|json|xml)$", export_view, name="export"),
    re_path(r"^reports/feed\.(?P<fmt>json|xml)$", feed_view, name="feed"),
    path("reports/request", request_report_view, name="request_report"),
    path("reports/requested", requested_report_list_view, name="requested_reports"),
    path("reports/requested/<int:pk>", requested_report_detail_view, name="requested_report"),
    path("reports/requested/<int:pk>/retry", requested_report_retry_view, name="requested_report_retry"),
    re_path(r"^reports/requested/(?P<pk>[0-9]{1,18})/download\.(?P<fmt>zip|xlsx)$", requested_report_download_view,
            name="requested_report_download"),
]
