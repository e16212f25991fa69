"""The Affelios Platform API client (we are the operator reporting customers and transactions).

Docs: https://platform.affelios.com (Getting Started, Customer) — kept in
shared/reference/affelios-api-*.txt; what is inferred rather than documented is marked below.
Auth is the `X-Api-Key` header: a missing or unknown key answers 401, a key without the
permission module 403 (BaseClient turns both into AuthError).
"""
from __future__ import annotations

from urllib.parse import quote

from integrations.client import BaseClient, RejectedError

# Two addresses appear in Affelios's own docs (platform.affelios.com in the API pages,
# api.affelios.com elsewhere): the first is the default, Connection.base_url overrides it.
DEFAULT_BASE_URL = "https://platform.affelios.com"

CUSTOMER_PATH = "/api/v1/customer"                   # POST: create (documented)
CUSTOMER_ITEM_PATH = "/api/v1/customer/{id}"         # GET documented; PUT update inferred
TRANSACTION_BULK_PATH = "/api/v1/transaction/bulk"   # POST array → 202 (one page says 201)

# The lookup of a customer by our externalId, after a 409 on create, is NOT documented: we ask
# the list endpoint with an externalId filter and follow its pages, and give up quietly (the
# customer is kept as pushed without an Affelios id) if Affelios does not answer that.
LOOKUP_PAGE_SIZE = 50
LOOKUP_MAX_PAGES = 20


class AffeliosClient(BaseClient):
    network = "Affelios"
    credential_name = "API key"
    default_base_url = DEFAULT_BASE_URL

    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.secret}

    def customer_create(self, payload: dict) -> dict:
        # Safe to retry on 5xx/429: a create that did land answers 409 the second time, and
        # the connector resolves a 409 to the existing customer.
        return self.request("POST", CUSTOMER_PATH, json_body=payload, idempotent=True) or {}

    def customer_get(self, affelios_id: str) -> dict:
        return self.request("GET", CUSTOMER_ITEM_PATH.format(id=quote(str(affelios_id), safe=""))) or {}

    def customer_update(self, affelios_id: str, payload: dict) -> dict:
        return self.request("PUT", CUSTOMER_ITEM_PATH.format(id=quote(str(affelios_id), safe="")),
                            json_body=payload) or {}

    def customer_find(self, *, external_id: str, external_brand_id: str = "") -> dict | None:
        """The customer with our `external_id` (inferred endpoint, see LOOKUP_*), or None."""
        for page in range(1, LOOKUP_MAX_PAGES + 1):
            params = {"externalId": external_id, "page": page, "pageSize": LOOKUP_PAGE_SIZE}
            if external_brand_id:
                params["externalBrandId"] = external_brand_id
            try:
                body = self.request("GET", CUSTOMER_PATH, params=params)
            except RejectedError:
                return None
            items, total_pages = _page_items(body)
            for item in items:
                if isinstance(item, dict) and str(item.get("externalId")) == str(external_id) and item.get("id"):
                    return item
            if len(items) < LOOKUP_PAGE_SIZE or (total_pages is not None and page >= total_pages):
                return None
        return None

    def transactions_bulk(self, items: list[dict]):
        """POST one batch; returns the decoded body (often none: 202 Accepted without one).
        Retried on 5xx/429: every item carries our stable externalId."""
        return self.request("POST", TRANSACTION_BULK_PATH, json_body=items, idempotent=True)


def _page_items(body) -> tuple[list, int | None]:
    """Items of a list answer in whichever envelope it comes: a bare array, or an object with
    items/data/results/customers, with totalPages (or totalCount + pageSize) when given."""
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        return [], None
    items = next((body[k] for k in ("items", "data", "results", "customers") if isinstance(body.get(k), list)), [])
    total_pages = body.get("totalPages")
    if total_pages is None and body.get("totalCount") is not None and body.get("pageSize"):
        total_pages = -(-int(body["totalCount"]) // int(body["pageSize"]))
    return items, int(total_pages) if total_pages is not None else None
