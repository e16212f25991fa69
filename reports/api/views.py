"""Partner Report API views: authenticate the statistic token, throttle, read the parameters
(reports.engine), run one report, render the Affilka wire shape (api-facts §1).

Answers: 200 with the report; 400 {"error", "field"} naming the parameter at fault; 401 for a
missing, unknown or regenerated token; 405 for a method other than GET/HEAD; 429 with
Retry-After over the per-token rate. Never a 500 for any query string.
"""
from functools import wraps

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.vary import vary_on_headers

from reports import engine
from reports.api.auth import presented_token, report_api_user
from reports.api.throttling import throttle_check
from reports.errors import ReportsError

REPORT_TYPE = "partner_report"


def _error(message: str, *, status: int, field: str | None = None) -> JsonResponse:
    response = JsonResponse({"error": message, "field": field}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def report_api(view):
    @csrf_exempt
    @vary_on_headers("Authorization")
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = _error("use GET", status=405)
            response["Allow"] = "GET, HEAD"
            return response
        try:
            token = presented_token(request)
            wait = throttle_check(token)
            if wait is not None:
                response = _error(f"too many requests with this token; retry in {wait} s", status=429)
                response["Retry-After"] = str(wait)
                return response
            user = report_api_user(token)
            response = view(request, user.affiliate, *args, **kwargs)
        except ReportsError as error:
            status = 401 if error.code == "unauthenticated" else 400
            response = _error(error.message, status=status, field=error.field)
            if status == 401:
                response["WWW-Authenticate"] = 'Token realm="partner report api"'
            return response
        except (TooManyFieldsSent, RequestDataTooBig, SuspiciousOperation):
            return _error("the query string is too large or malformed", status=400)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def _result_body(result) -> dict:
    return {
        "report_type": REPORT_TYPE,
        "rows": {"data": result.rows},
        "totals": {"data": result.totals},
        "total_pages": result.total_pages,
        "current_page": result.current_page,
        "relations": result.relations,
    }


@report_api
def report_view(request, affiliate):
    if request.GET.get("async", "").strip().lower() in ("true", "1", "yes"):
        # Requested reports (built by Celery, polled by id) are not there yet: say so rather
        # than hand out an id nothing will ever answer.
        raise ReportsError("async reports are not available yet", field="async")
    query = engine.ReportQuery.from_params(request.GET)
    return JsonResponse(_result_body(engine.report_run(affiliate=affiliate, query=query)))


@report_api
def attributes_view(request, affiliate):
    return JsonResponse(engine.attributes(affiliate=affiliate))


@report_api
def traffic_report_view(request, affiliate):
    query = engine.TrafficQuery.from_params(request.GET)
    result = engine.traffic_report_run(affiliate=affiliate, query=query)
    return JsonResponse({
        "report_type": "traffic_report",
        "rows": {"data": result.rows},
        "totals": {"data": result.totals},
        "overall_totals": {"data": result.overall_totals},
        "total_pages": result.total_pages,
        "current_page": result.current_page,
    })
