"""What the portal's Report API documentation page (/partner/api_docs/customer/partner/index.md)
shows, built from the code that serves the API so the page cannot drift from it:

- endpoints and their parameters from the OpenAPI description (reports.api.schema.openapi),
- columns from reports.columns.COLUMNS, groupers from reports.engine.attributes (with the
  dynamic_tag_<param> groupers of the affiliate's own clicks),
- the rate limit from reports.api.throttling, paths from the URLconf, the host from
  settings.SITE_URL, and the example requests with the reader's own statistic token.
"""
import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from backoffice.timeutil import business_today
from reports.api.schema import openapi
from reports.api.throttling import rate_limit
from reports.columns import COLUMNS, MONEY, PERCENT
from reports.engine import MAX_PER_PAGE, MAX_RANGE_DAYS, attributes

TOKEN_PLACEHOLDER = "YOUR_STATISTIC_TOKEN"

GROUPER_HELP = {
    "day": "One row per day (the cell is named date)",
    "week": "Per week, from Monday (cell date: the Monday)",
    "month": "Per calendar month (cell date: the 1st)",
    "year": "Per year (cell date: 1 January)",
    "brand": "Per brand (ids; names in relations.brands)",
    "campaign": "Per campaign (ids; names in relations.campaigns)",
    "promo": "Per promo (ids; titles and codes in relations.promos)",
    "strategy": "Per commission plan (ids; names in relations.strategies)",
    "player": "Per player (the operator's player id); player columns only",
    "player_country": "Per player country; player columns only",
}


_COHORTS = {"sign_up_at_": "registration", "first_deposit_": "first deposit"}


def grouper_help(name: str) -> str:
    if name in GROUPER_HELP:
        return GROUPER_HELP[name]
    if name.startswith("dynamic_tag_"):
        return f"Per value of the {name.removeprefix('dynamic_tag_')!r} parameter of your tracking links"
    for prefix, event in _COHORTS.items():
        if name.startswith(prefix):
            return f"Players' activity by the {name.removeprefix(prefix)} of their {event}; player columns only"
    return ""


@dataclass(frozen=True)
class Part:
    """A piece of an example command; `token` parts are masked on the page until revealed."""

    text: str
    token: bool = False


@dataclass(frozen=True)
class Example:
    title: str
    parts: list[Part]

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)


def mask(token: str) -> str:
    return "•" * 8 + token[-4:]


def _schema_type(schema: dict) -> str:
    if schema.get("type") == "array":
        return f"list of {schema.get('items', {}).get('type', 'string')}s"
    if "enum" in schema:
        return " | ".join(schema["enum"])
    kind = schema.get("format") or schema.get("type", "string")
    if "minimum" in schema and "maximum" in schema:
        kind += f" {schema['minimum']}–{schema['maximum']}"
    elif "minimum" in schema:
        kind += f" ≥ {schema['minimum']}"
    return kind


def _query(pairs: list[tuple[str, str]]) -> str:
    # Brackets stay as typed (curl -g keeps them literal); values are percent-encoded.
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in pairs)


def _curl(url: str, token: str | None, pairs: list[tuple[str, str]] | None = None) -> list[Part]:
    target = f"{url}?{_query(pairs)}" if pairs else url
    return [
        Part('curl -g -H "Authorization: '),
        Part(token, token=True) if token else Part(TOKEN_PLACEHOLDER),
        Part(f'" -H "Accept: application/json" "{target}"'),
    ]


def _columns(*names: str) -> list[tuple[str, str]]:
    return [("columns[]", name) for name in names if name in COLUMNS]


def _examples(*, urls: dict, token: str | None, currency: str, today: dt.date) -> list[Example]:
    month_from = today.replace(day=1)
    year_from = today.replace(month=1, day=1)
    dates = [("from", month_from.isoformat()), ("to", today.isoformat())]
    return [
        Example("Columns and groupers available to you", _curl(urls["attributes"], token)),
        Example("Visits, registrations and first deposits per month of this year", _curl(urls["report"], token, [
            ("from", year_from.isoformat()), ("to", today.isoformat()),
            *_columns("visits_count", "registrations_count", "first_deposits_count"),
            ("group_by[]", "month"),
        ])),
        Example(f"Deposits and NGR per campaign and day of this month, converted to {currency} at today's rates",
                _curl(urls["report"], token, [
                    *dates, *_columns("deposits_sum", "ngr"), ("group_by[]", "day"), ("group_by[]", "campaign"),
                    ("conversion_currency", currency), ("exchange_rates_date", today.isoformat()),
                    ("per_page", "500"), ("page", "1"),
                ])),
        Example("Traffic per day of this month (to is exclusive here)", _curl(urls["traffic_report"], token, [
            ("from", month_from.isoformat()), ("to", (today + dt.timedelta(days=1)).isoformat()),
            ("date_group_by", "day"),
        ])),
        Example("Visits and deposits per day of this month, built in the background", _curl(urls["report"], token, [
            *dates, *_columns("visits_count", "deposits_sum"), ("group_by[]", "day"), ("async", "true"),
        ])),
    ]


def _endpoints(spec: dict, urls_by_path: dict, *, root: str) -> list[dict]:
    endpoints = []
    for path, item in spec["paths"].items():
        operation = item["get"]
        endpoints.append({
            "path": path,
            "anchor": "endpoint-" + path.strip("/").replace("/", "-").replace("{", "").replace("}", ""),
            # Paths with a parameter (requested_reports/{report_id}) are shown as templates.
            "url": urls_by_path.get(path) or f"{root}{path}",
            "summary": operation["summary"],
            "parameters": [
                {"name": p["name"], "type": _schema_type(p["schema"]), "description": p["description"],
                 "repeated": bool(p.get("explode"))}
                for p in operation.get("parameters", [])
            ],
            "responses": [{"code": code, "description": body.get("description", "")}
                          for code, body in operation["responses"].items()],
        })
    return endpoints


def _response_example(currency: str, today: dt.date) -> str:
    """A report grouped by month and campaign with one count and one money column; names
    taken from the catalogue (a test checks they exist)."""
    month = today.replace(day=1).isoformat()
    body = {
        "report_type": "partner_report",
        "rows": {"data": [[
            {"name": "date", "value": month, "type": "date"},
            {"name": "campaign", "value": 12, "type": "integer"},
            {"name": "visits_count", "value": 1520, "type": "integer"},
            {"name": "deposits_sum", "value": {"amount": "2450.50", "amount_cents": "245050.0", "currency": currency},
             "type": "money"},
            {"name": "first_deposits_conversion_rate", "value": "18.75", "type": "percent"},
        ]]},
        "totals": {"data": [[
            {"name": "visits_count", "value": 1520, "type": "integer"},
            {"name": "deposits_sum", "value": {"amount": "2450.50", "amount_cents": "245050.0", "currency": currency},
             "type": "money"},
            {"name": "first_deposits_conversion_rate", "value": "18.75", "type": "percent"},
        ]]},
        "total_pages": 1,
        "current_page": 1,
        "relations": {"campaigns": [{"id": 12, "name": "Spring slots", "strategy": "RevShare 30%"}]},
    }
    # Indented, but each cell (and each relation) on one line, as a reader scans them.
    flat = {}
    for table in (body["rows"]["data"], body["totals"]["data"], [body["relations"]["campaigns"]]):
        for row in table:
            for index, cell in enumerate(row):
                key = f"@{len(flat)}@"
                flat[key] = json.dumps(cell, ensure_ascii=False)
                row[index] = key
    text = json.dumps(body, indent=2, ensure_ascii=False)
    for key, cell in flat.items():
        text = text.replace(f'"{key}"', cell)
    return text


RESPONSE_EXAMPLE_COLUMNS = ("visits_count", "deposits_sum", "first_deposits_conversion_rate")


def api_docs_context(*, affiliate, token: str | None, today: dt.date | None = None) -> dict:
    """Everything the docs page renders for `affiliate` and its reader's `token` (None: the
    reader has none that can be shown; the examples carry a placeholder)."""
    today = today or business_today()
    site = settings.SITE_URL.rstrip("/")
    urls = {name: site + reverse(f"report_api:{name}") for name in ("report", "attributes", "traffic_report")}
    spec = openapi()
    api_root = spec["servers"][0]["url"]
    currency = affiliate.default_report_currency
    limit, window = rate_limit()
    groupers = attributes(affiliate=affiliate)["available_groupers"]
    return {
        "token": token,
        "token_masked": mask(token) if token else "",
        "token_placeholder": TOKEN_PLACEHOLDER,
        "api_root": api_root,
        "urls": urls,
        "schema_url": site + reverse("report_api:schema"),
        "docs_url": site + reverse("report_api:docs"),
        "endpoints": _endpoints(spec, {f"/{path}": url for path, url in (
            ("report", urls["report"]), ("report/attributes", urls["attributes"]),
            ("traffic_report", urls["traffic_report"]))}, root=api_root.rstrip("/")),
        "columns": [{"name": c.name, "type": c.type, "description": c.description} for c in COLUMNS.values()],
        "groupers": [{"name": g, "description": grouper_help(g)} for g in groupers],
        "money_type": MONEY,
        "percent_type": PERCENT,
        "examples": _examples(urls=urls, token=token, currency=currency, today=today),
        "response_example": _response_example(currency, today),
        "currency": currency,
        "rate_limit": limit,
        "rate_window": window,
        "max_range_days": MAX_RANGE_DAYS,
        "max_per_page": MAX_PER_PAGE,
    }
