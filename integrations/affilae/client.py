"""The Affilae REST client (publisher side), on the shared BaseClient.

Docs: https://rest.affilae.com/reference (wire facts we rely on: ../shared/reference/api-facts.md §3).
Base https://rest.affilae.com, `Authorization: Bearer <API key>`, amounts in integer cents,
dates in UTC, ids 24-hex. List answers are documented as `{"<things>": {"total", "data": [...]}}`
but we also take `{"data": [...]}`, `{"<things>": [...]}` and a bare list (see `items_of`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from integrations.client import BaseClient, RemoteError

# https://rest.affilae.com/reference — publisher endpoints
PUBLISHER_ME = "/publisher/publishers.me"
AFFILIATE_PROFILES_LIST = "/publisher/affiliateProfiles.list"
PARTNERSHIPS_LIST = "/publisher/partnerships.list"
PARTNERSHIPS_KPIS = "/publisher/partnerships.kpis"
CONVERSIONS_LIST = "/publisher/conversions.list"

# KPI metrics. Money metrics need `currency`; Affilae answers 400 when a count metric carries one.
METRIC_CLICKS = "clicks"
METRIC_IMPRESSIONS = "impressions"
METRIC_CONVERSIONS = "conversionsTotal"
METRIC_COMMISSIONS = "commissionsTotal"
METRIC_EPC = "EPC"
MONEY_METRICS = frozenset({METRIC_COMMISSIONS, METRIC_EPC})

PAGE_SIZE = 100
# A list that never ends (a server ignoring `offset`) must not pin a worker.
MAX_PAGES = 1000


def items_of(body, key: str) -> tuple[list, int | None]:
    """The list of things in an Affilae answer and its `total` if one was sent.

    Tolerates the documented `{key: {"total", "data": [...]}}` and the undocumented variants
    `{key: [...]}`, `{"data": [...]}`, `{"total", key: [...]}` and a bare list. A missing key
    is an empty list; an answer of another type (a string, a number) is a RemoteError."""
    if body is None:
        return [], None
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        raise RemoteError(f"Affilae answered with an unexpected {type(body).__name__} instead of a list of {key}")
    total = _int_or_none(body.get("total"))
    inner = body.get(key, body.get("data"))
    if isinstance(inner, dict):
        total = _int_or_none(inner.get("total"), total)
        inner = inner.get("data", inner.get("items"))
    if inner is None:
        return [], total
    if not isinstance(inner, list):
        raise RemoteError(f"Affilae answered with {key} that are not a list")
    return inner, total


def _int_or_none(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def day_bounds(day: dt.date) -> tuple[str, str]:
    """`from`/`to` covering one UTC day, inclusive at both ends (Affilae dates are UTC)."""
    return f"{day.isoformat()}T00:00:00.000Z", f"{day.isoformat()}T23:59:59.999Z"


class AffilaeClient(BaseClient):
    network = "Affilae"
    credential_name = "API key"
    default_base_url = "https://rest.affilae.com"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def me(self) -> dict:
        """The publisher this key belongs to (the cheapest authenticated call)."""
        body = self.request("GET", PUBLISHER_ME)
        if isinstance(body, dict) and isinstance(body.get("publisher"), dict):
            return body["publisher"]
        return body if isinstance(body, dict) else {}

    def affiliate_profiles(self) -> list:
        items = []
        for page in self._pages(AFFILIATE_PROFILES_LIST, "affiliateProfiles", {}):
            items.extend(page)
        return items

    def partnerships(self, profile_id: str) -> list:
        items = []
        params = {"affiliateProfile": profile_id, "withProgramsDetails": "true"}
        for page in self._pages(PARTNERSHIPS_LIST, "partnerships", params):
            items.extend(page)
        return items

    def conversions(self, profile_id: str, start: dt.date, end: dt.date) -> list:
        """The profile's conversions created from `start` to `end` (UTC dates, both included)."""
        start_at, _ = day_bounds(start)
        _, end_at = day_bounds(end)
        items = []
        params = {"affiliateProfile": profile_id, "from": start_at, "to": end_at}
        for page in self._pages(CONVERSIONS_LIST, "conversions", params):
            items.extend(page)
        return items

    def kpis(self, *, day: dt.date, metric: str, profile_ids: list[str], currency: str = "") -> list:
        """Per-partnership values of one metric over one UTC day: [{"id", "value", "group"}, ...]."""
        start, end = day_bounds(day)
        params = {"from": start, "to": end, "metric": metric, "affiliateProfiles": ",".join(profile_ids)}
        if metric in MONEY_METRICS:
            params["currency"] = currency
        body = self.request("GET", PARTNERSHIPS_KPIS, params=params)
        items, _total = items_of(body, "partnerships")
        return items

    def _pages(self, path: str, key: str, params: dict) -> Iterator[list]:
        """limit/offset pages until `total` is reached (or, without a total, a short page)."""
        offset, previous_first = 0, object()
        for _ in range(MAX_PAGES):
            body = self.request("GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset})
            items, total = items_of(body, key)
            if not items:
                return
            first = items[0].get("id") if isinstance(items[0], dict) else items[0]
            if offset and first == previous_first:
                raise RemoteError(f"Affilae {path}: the list repeats the same page (offset ignored?)")
            previous_first = first
            yield items
            offset += len(items)
            if (total is not None and offset >= total) or (total is None and len(items) < PAGE_SIZE):
                return
        raise RemoteError(f"Affilae {path}: more than {MAX_PAGES} pages; stopped")
