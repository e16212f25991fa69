"""The Affili merchant API client (https://github.com/affili-ir/rest-api, "rest api").

Wire facts (../shared/reference/api-facts.md §5):
- `Authorization: Bearer <access id>`; answers are wrapped
  `{"status": "ok", "tag": "...", "data": ..., "api_version": "1.0.0"}`.
- Errors are not documented; we read `{"status": "error", "message": ...}` (401 bad access id,
  422 validation). A 200 carrying `status: "error"` is treated as a rejection too.
- set-cookie's answer is not documented: the token is `data.token` or `data` itself.
- The conversion list's pagination is not documented: we send `page` / `per_page` and read
  whatever comes back — a bare list, a list beside a `meta` object, or a Laravel-style
  paginator (`data: {data: [...], current_page, last_page}`).
"""
from __future__ import annotations

from dataclasses import dataclass

from integrations.client import BaseClient, RejectedError, RemoteError

SET_COOKIE = "api/merchants/set-cookie"
CONVERSIONS = "api/merchants/conversions"
CONVERSION = "api/merchants/conversions/{id}"

_LIST_KEYS = ("data", "items", "conversions", "results")


@dataclass
class Page:
    items: list[dict]
    current_page: int | None = None
    last_page: int | None = None

    @property
    def is_last(self) -> bool | None:
        """True/False when the answer said so, None when it carried no pagination meta."""
        if self.current_page is not None and self.last_page is not None:
            return self.current_page >= self.last_page
        return None


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AffiliClient(BaseClient):
    network = "Affili"
    credential_name = "access ID"
    default_base_url = "https://core.affili.ir/"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def _call(self, method: str, path: str, **kwargs):
        body = self.request(method, path, **kwargs)
        label = f"{self.network} {method} /{path}"
        if not isinstance(body, dict):
            raise RemoteError(f"{label}: unexpected answer (not a JSON object)")
        if str(body.get("status", "ok")).lower() == "error":
            message = body.get("message") or "no message"
            raise RejectedError(f"{label}: rejected: {str(message)[:200]}", status=200, body=body)
        return body

    # --- endpoints -----------------------------------------------------------------------------

    def set_cookie(self, referrer: str) -> str:
        """A client token for a visit that came with `referrer`.

        Retried on 429/5xx like an idempotent call: a repeat at worst makes Affili issue a second
        token for the same referrer, and we keep one per visit.
        """
        body = self._call("POST", SET_COOKIE, json_body={"referrer": referrer}, idempotent=True)
        data = body.get("data")
        if isinstance(data, dict):
            data = data.get("token") or data.get("cookie") or data.get("value")
        if isinstance(data, str) and data.strip():
            return data.strip()
        raise RemoteError(f"{self.network} set-cookie answered without a token")

    def conversion_create(self, payload: dict) -> dict:
        """Create a conversion. Retried on 429/5xx: Affili keeps external ids unique, so a repeat of
        a request that did arrive is refused (422) and the caller looks the conversion up."""
        body = self._call("POST", CONVERSIONS, json_body=payload, idempotent=True)
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def conversion_get(self, affili_id: str) -> dict:
        body = self._call("GET", CONVERSION.format(id=affili_id))
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def conversions_list(self, *, page: int, per_page: int, filters: dict | None = None) -> Page:
        params = {**(filters or {}), "page": page, "per_page": per_page}
        body = self._call("GET", CONVERSIONS, params=params)
        data = body.get("data")
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        if isinstance(data, dict):  # a paginator object around the list
            inner = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            meta = {**meta, **{k: v for k, v in data.items() if k not in _LIST_KEYS}, **inner}
            data = next((data[k] for k in _LIST_KEYS if isinstance(data.get(k), list)), None)
        if data is None:
            data = []
        if not isinstance(data, list):
            raise RemoteError(f"{self.network} GET /{CONVERSIONS}: unexpected answer (no list of conversions)")
        return Page(items=data, current_page=_int_or_none(meta.get("current_page")),
                    last_page=_int_or_none(meta.get("last_page")))

    def conversion_find(self, external_id: str) -> dict | None:
        """The conversion with this external id, if Affili has one."""
        page = self.conversions_list(page=1, per_page=10, filters={"external_id": external_id})
        return next((item for item in page.items if isinstance(item, dict)
                     and str(item.get("external_id")) == external_id), None)
