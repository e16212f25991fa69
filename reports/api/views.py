"""Partner Report API views (DRF): authenticate the statistic token, throttle, read the
parameters (reports.engine), run one report or hand out a requested report, render the Affilka
wire shape (api-facts §1). The OpenAPI description of each view is in reports.api.schema.

The wire behaviour is Affilka's, not DRF's defaults: the raw token in Authorization (no
prefix; reports.api.auth), the per-token rate limit counted BEFORE the token is looked up (so
unknown tokens are throttled too), JSON whatever the Accept header says, and one error shape
{"error", "field"} for everything: 400 naming the parameter at fault; 401 for a missing,
unknown or regenerated token; 404 for a requested report of another affiliate (or none); 405
for a method other than GET/HEAD; 409 for a download of a report not built (yet); 429 with
Retry-After over the per-token rate. Never a 500 for any query string.
"""
import os

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import FileResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import engine
from reports.api import schema
from reports.api.auth import WWW_AUTHENTICATE, StatisticTokenAuthentication, presented_token
from reports.api.throttling import throttle_check
from reports.errors import ReportsError
from reports.models import RequestedReport

REPORT_TYPE = "partner_report"
ASYNC_TRUE = ("true", "1", "yes")
ASYNC_FALSE = ("", "false", "0", "no")


class _JSONAlways(BaseContentNegotiation):
    """JSON whatever the client accepts: Affilka clients send `Accept: application/json`,
    others anything at all, and the answer is the same (never DRF's 406)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _error(message: str, *, status: int, field: str | None = None) -> Response:
    return Response({"error": message, "field": field}, status=status)


class ReportAPIView(APIView):
    """The Report API's base view: token + throttle in `initial`, errors as {"error", "field"}."""

    authentication_classes = [StatisticTokenAuthentication]
    permission_classes = []
    throttle_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JSONAlways
    http_method_names = ["get", "head"]

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = None
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        token = presented_token(request)
        wait = throttle_check(token)
        if wait is not None:
            raise exceptions.Throttled(wait=wait)
        request.user  # noqa: B018 - authenticates now (StatisticTokenAuthentication), after the throttle

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

    def handle_exception(self, exc):
        if isinstance(exc, ReportsError):
            if exc.code == "unauthenticated":
                response = _error(exc.message, status=401, field=exc.field)
                response["WWW-Authenticate"] = WWW_AUTHENTICATE
                return response
            if exc.code == "not_found":
                return _error(exc.message, status=404, field=exc.field)
            if exc.code == "conflict":
                return _error(exc.message, status=409, field=exc.field)
            return _error(exc.message, status=400, field=exc.field)
        if isinstance(exc, exceptions.Throttled):
            response = _error(f"too many requests with this token; retry in {exc.wait} s", status=429)
            response["Retry-After"] = str(exc.wait)
            return response
        if isinstance(exc, exceptions.MethodNotAllowed):
            response = _error("use GET", status=405)
            response["Allow"] = "GET, HEAD"
            return response
        if isinstance(exc, TooManyFieldsSent | RequestDataTooBig | SuspiciousOperation):
            return _error("the query string is too large or malformed", status=400)
        if isinstance(exc, exceptions.APIException):
            return _error(str(exc.detail), status=exc.status_code)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        patch_vary_headers(response, ["Authorization"])
        return response

    @property
    def affiliate(self):
        return self.request.user.affiliate


def _result_body(result) -> dict:
    return {
        "report_type": REPORT_TYPE,
        "rows": {"data": result.rows},
        "totals": {"data": result.totals},
        "total_pages": result.total_pages,
        "current_page": result.current_page,
        "relations": result.relations,
    }


class ReportView(ReportAPIView):
    """The report (api-facts §1), or with async=true a requested report to poll."""

    @schema.report_schema
    def get(self, request):
        params = request.query_params
        flag = params.get("async", "").strip().lower()
        if flag in ASYNC_TRUE:
            return self._requested(request)
        if flag not in ASYNC_FALSE:
            raise ReportsError("async is true or false", field="async")
        query = engine.ReportQuery.from_params(params)
        return Response(_result_body(engine.report_run(affiliate=self.affiliate, query=query)))

    def _requested(self, request):
        # Lazily imported: the service module lands with the requested-reports work.
        from reports.services.requested import requested_report_request

        report = requested_report_request(affiliate=self.affiliate, user=request.user, params=request.query_params,
                                          name=request.query_params.get("name", ""), source="api")
        status_url = request.build_absolute_uri(reverse("report_api:requested_report", args=[report.pk]))
        response = Response({"requested_report_id": report.pk, "status": report.status, "status_url": status_url},
                            status=202)
        response["Location"] = status_url
        return response


class AttributesView(ReportAPIView):
    """The columns and groupers a report may use, the dynamic tags of your clicks included."""

    @schema.attributes_schema
    def get(self, request):
        return Response(engine.attributes(affiliate=self.affiliate))


class TrafficReportView(ReportAPIView):
    """Visits, registrations and first deposits by hour, day, week, month or year; `to` is exclusive."""

    @schema.traffic_report_schema
    def get(self, request):
        query = engine.TrafficQuery.from_params(request.query_params)
        result = engine.traffic_report_run(affiliate=self.affiliate, query=query)
        return Response({
            "report_type": "traffic_report",
            "rows": {"data": result.rows},
            "totals": {"data": result.totals},
            "overall_totals": {"data": result.overall_totals},
            "total_pages": result.total_pages,
            "current_page": result.current_page,
        })


def _requested_report(affiliate, report_id: int) -> RequestedReport:
    report = RequestedReport.objects.filter(affiliate=affiliate, pk=report_id).first()
    if report is None:  # another affiliate's is as unknown as one that never was
        raise ReportsError(f"there is no requested report {report_id}", field="id", code="not_found")
    return report


def _download_url(request, report: RequestedReport, fmt: str) -> str:
    return request.build_absolute_uri(reverse(f"report_api:requested_report_{fmt}", args=[report.pk]))


class RequestedReportView(ReportAPIView):
    """The state of a requested report of yours, with its download links once built."""

    @schema.requested_report_schema
    def get(self, request, report_id: int):
        report = _requested_report(self.affiliate, report_id)
        built = report.status == RequestedReport.Status.SUCCESSFUL
        return Response({
            "id": report.pk,
            "name": report.name,
            "status": report.status,
            "error": report.error,
            "rows_count": report.rows_count,
            "requested_at": report.requested_at.isoformat(),
            "finished_at": report.finished_at.isoformat() if report.finished_at else None,
            "download_urls": {fmt: _download_url(request, report, fmt) if built else None for fmt in ("zip", "xlsx")},
        })


class RequestedReportDownloadView(ReportAPIView):
    """The files of a successful requested report of yours."""

    @schema.requested_report_download_schema
    def get(self, request, report_id: int, fmt: str):
        report = _requested_report(self.affiliate, report_id)
        if report.status != RequestedReport.Status.SUCCESSFUL:
            state = "still being built" if report.status == RequestedReport.Status.PROCESSING else "failed"
            raise ReportsError(f"requested report {report.pk} is {state}; download it once it is successful "
                               "(see its status_url)", field="status", code="conflict")
        stored = report.csv_zip if fmt == "zip" else report.xlsx
        if not stored:
            raise ReportsError(f"requested report {report.pk} has no {fmt} file", field="id", code="not_found")
        content_type = "application/zip" if fmt == "zip" else schema.XLSX_CONTENT_TYPE
        return FileResponse(stored.open("rb"), as_attachment=True, filename=os.path.basename(stored.name),
                            content_type=content_type)


report_view = ReportView.as_view()
attributes_view = AttributesView.as_view()
traffic_report_view = TrafficReportView.as_view()
requested_report_view = RequestedReportView.as_view()
requested_report_download_view = RequestedReportDownloadView.as_view()
