"""The OpenAPI 3 description of the Partner Report API, built from the column catalogue and the
engine's limits so it cannot drift from what the views accept, and a plain HTML page that
explains it (no JavaScript, no CDN assets).

Written by hand rather than with drf-spectacular: the views are plain Django views (the wire
shape, with repeated `columns[]` parameters and cells, is fixed by Affilka clients, not by DRF
serializers), which drf-spectacular does not introspect.
"""
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

from reports.columns import COLUMNS
from reports.engine import MAX_PER_PAGE, MAX_RANGE_DAYS, SUPPORTED_GROUPERS
from reports.engine.traffic import TRAFFIC_GROUPINGS

_DATE = {"type": "string", "format": "date"}
_ERROR = {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _param(name, schema, description, *, required=False, explode=None):
    param = {"name": name, "in": "query", "required": required, "schema": schema, "description": description}
    if explode is not None:
        param["style"], param["explode"] = "form", explode
    return param


def _errors(*codes):
    text = {"400": "A parameter is wrong; `field` names it.", "401": "Missing, unknown or regenerated token.",
            "429": "Too many calls with this token; see Retry-After."}
    return {code: {**_ERROR, "description": text[code]} for code in codes}


def openapi() -> dict:
    ids = {"type": "array", "items": {"type": "integer"}}
    report_params = [
        _param("from", _DATE, "First day (inclusive), YYYY-MM-DD. Default: the 1st of this month."),
        _param("to", _DATE, f"Last day (inclusive). At most {MAX_RANGE_DAYS} days per report."),
        _param("columns[]", {"type": "array", "items": {"type": "string", "enum": list(COLUMNS)}},
               "Columns, repeated, in the order wanted.", explode=True),
        _param("group_by[]", {"type": "array", "items": {"type": "string", "enum": list(SUPPORTED_GROUPERS)}},
               "Groupers, repeated; one of day/week/month/year at most.", explode=True),
        _param("conversion_currency", {"type": "string", "example": "EUR"}, "Convert every amount to it."),
        _param("convert_all_currencies", {"type": "string", "enum": ["1", "0"]},
               "1: convert (to conversion_currency, else your default report currency)."),
        _param("exchange_rates_date", _DATE, "Rates of this day (default today)."),
        _param("campaign_ids[]", ids, "Only these campaigns.", explode=True),
        _param("brand_ids[]", ids, "Only these brands.", explode=True),
        _param("plan_ids[]", ids, "Only these commission plans (strategies).", explode=True),
        _param("promo_ids[]", ids, "Only these promos.", explode=True),
        _param("promo_codes[]", {"type": "array", "items": {"type": "string"}}, "Only promos with these codes.",
               explode=True),
        _param("async", {"type": "string", "enum": ["false", "true"]}, "true: not available yet (400)."),
        _param("page", {"type": "integer", "minimum": 1}, "Page, from 1."),
        _param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "Rows per page (100)."),
    ]
    cell = {"type": "object", "required": ["name", "value", "type"], "properties": {
        "name": {"type": "string"},
        "value": {"oneOf": [{"type": "integer"}, {"type": "string"}, {"$ref": "#/components/schemas/Money"}]},
        "type": {"type": "string", "enum": ["integer", "money", "percent", "date", "datetime"]},
    }}
    table = {"type": "object", "properties": {"data": {"type": "array", "items": {
        "type": "array", "items": {"$ref": "#/components/schemas/Cell"}}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{settings.PROGRAM_NAME} Partner Report API", "version": "1",
                 "description": "Affilka-compatible. Send your statistic token (Account Info page) as the "
                                "Authorization header, without prefix."},
        "servers": [{"url": f"{settings.SITE_URL}/api/customer/v1/partner"}],
        "security": [{"statisticToken": []}],
        "components": {
            "securitySchemes": {"statisticToken": {"type": "apiKey", "in": "header", "name": "Authorization"}},
            "schemas": {
                "Money": {"type": "object", "properties": {
                    "amount": {"type": "string", "example": "12.50"},
                    "amount_cents": {"type": "string", "example": "1250.0"},
                    "currency": {"type": "string", "example": "EUR"}}},
                "Cell": cell,
                "Table": table,
                "Error": {"type": "object", "properties": {"error": {"type": "string"},
                                                           "field": {"type": "string", "nullable": True}}},
                "Report": {"type": "object", "properties": {
                    "report_type": {"type": "string"}, "rows": {"$ref": "#/components/schemas/Table"},
                    "totals": {"$ref": "#/components/schemas/Table"}, "total_pages": {"type": "integer"},
                    "current_page": {"type": "integer"},
                    "relations": {"type": "object", "properties": {"campaigns": {"type": "array", "items": {
                        "type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                                         "strategy": {"type": "string"}}}}}}}},
            },
        },
        "paths": {
            "/report": {"get": {
                "summary": "Partner report", "parameters": report_params,
                "responses": {"200": {"description": "The report", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Report"}}}}, **_errors("400", "401", "429")}}},
            "/report/attributes": {"get": {
                "summary": "Available columns and groupers",
                "responses": {"200": {"description": "Lists", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "available_columns": {"type": "array", "items": {"type": "string"}},
                        "available_groupers": {"type": "array", "items": {"type": "string"}}}}}}},
                    **_errors("401", "429")}}},
            "/traffic_report": {"get": {
                "summary": "Visits, registrations and first deposits over time",
                "parameters": [
                    _param("from", _DATE, "First day (inclusive)."),
                    _param("to", _DATE, "End day, EXCLUSIVE."),
                    _param("date_group_by", {"type": "string", "enum": list(TRAFFIC_GROUPINGS)}, "Default day."),
                    _param("page", {"type": "integer", "minimum": 1}, "Page, from 1."),
                    _param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "Rows per page."),
                ],
                "responses": {"200": {"description": "Rows, page totals and overall_totals"},
                              **_errors("400", "401", "429")}}},
        },
    }


def schema_view(request):
    return JsonResponse(openapi(), json_dumps_params={"indent": 2})


def docs_view(request):
    spec = openapi()
    base = spec["servers"][0]["url"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(spec['info']['title'])}</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left}</style>",
        "</head><body>",
        f"<h1>{escape(spec['info']['title'])}</h1><p>{escape(spec['info']['description'])}</p>",
        "<p>Machine-readable: <a href='schema'>OpenAPI 3 schema</a>.</p>",
        "<h2>Example</h2><pre>curl -H 'Authorization: YOUR_TOKEN' -H 'Accept: application/json' \\\n  '"
        + escape(base) + "/report?from=2026-03-01&amp;to=2026-03-31&amp;columns[]=visits_count"
        "&amp;columns[]=deposits_sum&amp;group_by[]=day&amp;group_by[]=campaign'</pre>",
    ]
    for path, item in spec["paths"].items():
        operation = item["get"]
        parts.append(f"<h2>GET {escape(path)}</h2><p>{escape(operation['summary'])}</p>")
        if operation.get("parameters"):
            parts.append("<table><tr><th>Parameter</th><th>Meaning</th></tr>")
            parts += [f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['description'])}</td></tr>"
                      for p in operation["parameters"]]
            parts.append("</table>")
        codes = ", ".join(code for code in operation["responses"])
        parts.append(f"<p>Answers: {escape(codes)}.</p>")
    parts.append("<h2>Columns</h2><table><tr><th>Column</th><th>Type</th><th>Meaning</th></tr>")
    parts += [f"<tr><td><code>{escape(c.name)}</code></td><td>{c.type}</td><td>{escape(c.description)}</td></tr>"
              for c in COLUMNS.values()]
    parts.append("</table></body></html>")
    return HttpResponse("".join(parts))
