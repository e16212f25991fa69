"""A fake Affelios Platform API on loopback, for contract tests, the benchmark and the demo.

What it implements (shared/reference/affelios-api-*.txt, api-facts.md §4):

- `X-Api-Key` auth: missing or unknown key → 401, a key in `forbidden_keys` → 403
  (ASP.NET ProblemDetails bodies, as Affelios most likely answers).
- POST /api/v1/customer: externalId, externalBrandId and registrationDate (ISO-8601 Zulu)
  required → 400 with model-state errors; an externalBrandId outside `brands` (when given)
  → 422; an externalId it already has → 409 (with the existing id only if
  `conflict_reveals_id`). 201 with the Customer object.
- GET /api/v1/customer/{id} → the Customer with what "Affelios" computed from the
  transactions it holds (lifetimeDeposits, lifetimeRevenue, cpaQualified once the deposits
  reach `cpa_threshold`, lifetimeCommission = revshare × revenue + the CPA); 404 if unknown,
  with exactly ASP.NET's ProblemDetails {type, title "Not Found", status 404, traceId} (what
  Save & Test tells apart from another server's 404).
  PUT updates the writable fields. GET /api/v1/customer?externalId=&page=&pageSize= is a
  paginated list (the lookup the connector tries after a 409; undocumented at Affelios).
- POST /api/v1/transaction/bulk (a JSON array of at most `bulk_limit` items): each item needs
  externalId, type, externalCustomerId, externalBrandId, transactionDate (Zulu), numbers as
  JSON numbers (an ASP.NET decimal refuses "12.5"), a customer it knows. An externalId it
  already holds is accepted again without a second copy (dedup). How refusals are reported,
  `bulk_errors`: "per_item" (202 naming the refused items, or no body when none), "problem_details"
  (400 for the whole batch, errors keyed "[i].Field"), "opaque" (400 naming nothing).

Test hooks: `batch_sizes`, `received` (how many times each externalId arrived in a batch the
handler accepted), `refuse` (externalIds to refuse with 422), `bulk_outage_after` (after that
many accepted batches, every bulk call answers 503), plus FakeNetwork.fail_next.

`python -m tests.fakes.affelios [key]` serves one in its own process (prints its port; stops
when stdin closes): the benchmark uses it so the fake does not share our GIL.
"""
from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections import Counter
from decimal import Decimal

from tests.fakes.network import FakeNetwork, Reply, Request, route

REQUIRED_CUSTOMER = ("externalId", "externalBrandId", "registrationDate")
REQUIRED_TRANSACTION = ("externalId", "type", "externalCustomerId", "externalBrandId", "transactionDate")
AMOUNTS = ("depositAmount", "grossRevenue", "wageredAmount", "revShareCommission", "cpaCommission", "fixedCommission")
WRITABLE = ("username", "country", "country_code", "revShareExcluded", "cpaExcluded", "clickKey", "clickId")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _zulu_ok(value) -> bool:
    if not isinstance(value, str) or not value.endswith("Z"):
        return False
    try:
        dt.datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return False
    return True


def _problem(status: int, title: str, errors: dict | None = None, **extra) -> dict:
    body = {"type": f"https://tools.ietf.org/html/rfc9110#section-15.5.{status - 399}", "title": title,
            "status": status, "traceId": f"00-{uuid.uuid4().hex}-01", **extra}
    if errors:
        body["errors"] = errors
    return body


class FakeAffelios(FakeNetwork):
    name = "affelios"

    def __init__(self, *, brands=None, bulk_limit: int = 500, bulk_errors: str = "per_item",
                 conflict_reveals_id: bool = False, cpa_threshold=Decimal(20), cpa_amount=Decimal(50),
                 revshare=Decimal("0.25"), **kwargs):
        super().__init__(**kwargs)
        self.brands = set(brands) if brands is not None else None
        self.bulk_limit = bulk_limit
        self.bulk_errors = bulk_errors
        self.conflict_reveals_id = conflict_reveals_id
        self.cpa_threshold, self.cpa_amount, self.revshare = cpa_threshold, cpa_amount, revshare
        self.customers: dict[str, dict] = {}          # Affelios id → customer
        self.customer_ids: dict[str, str] = {}        # externalId → Affelios id
        self.transactions: dict[str, dict] = {}       # externalId → transaction
        self.batch_sizes: list[int] = []
        self.received: Counter = Counter()
        self.refuse: set[str] = set()
        self.bulk_outage_after: int | None = None

    # --- auth ----------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        key = request.header("X-Api-Key")
        if not key:
            return Reply(401, _problem(401, "Unauthorized", detail="The X-Api-Key header is missing."))
        if key in self.forbidden_keys:
            return Reply(403, _problem(403, "Forbidden", detail="This API key has no permission for this module."))
        if key not in self.keys:
            return Reply(401, _problem(401, "Unauthorized", detail="Unknown API key."))
        return None

    # --- customers -----------------------------------------------------------------------------

    def _customer_errors(self, body: dict) -> dict:
        errors = {}
        for name in REQUIRED_CUSTOMER:
            if body.get(name) in (None, ""):
                errors[name[0].upper() + name[1:]] = [f"The {name} field is required."]
        if body.get("registrationDate") and not _zulu_ok(body["registrationDate"]):
            errors["RegistrationDate"] = ["RegistrationDate must be an ISO-8601 Zulu timestamp."]
        return errors

    @route("POST", r"/api/v1/customer")
    def customer_create(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict):
            return Reply(400, _problem(400, "The request body must be a JSON object."))
        errors = self._customer_errors(body)
        if errors:
            return Reply(400, _problem(400, "One or more validation errors occurred.", errors))
        if self.brands is not None and body["externalBrandId"] not in self.brands:
            return Reply(422, _problem(422, "Unknown brand", detail=f"No brand {body['externalBrandId']!r} is configured."))
        with self.lock:
            existing = self.customer_ids.get(str(body["externalId"]))
            if existing:
                extra = {"id": existing} if self.conflict_reveals_id else {}
                return Reply(409, _problem(409, "Conflict", detail=f"Customer {body['externalId']} already exists.",
                                           **extra))
            customer = self._customer_new(body)
        return Reply(201, self._customer_view(customer))

    def _customer_new(self, body: dict) -> dict:
        now = _now()
        customer = {"id": str(uuid.uuid4()), "operatorId": "op-fake", "createdTs": now, "updatedTs": now,
                    "externalId": str(body["externalId"]), "externalBrandId": body["externalBrandId"],
                    "registrationDate": body["registrationDate"],
                    **{k: body[k] for k in WRITABLE if k in body}}
        self.customers[customer["id"]] = customer
        self.customer_ids[customer["externalId"]] = customer["id"]
        return customer

    def _customer_view(self, customer: dict) -> dict:
        mine = sorted((t for t in self.transactions.values() if t["externalCustomerId"] == customer["externalId"]),
                      key=lambda t: t["transactionDate"])
        deposits = [t for t in mine if t.get("depositAmount")]
        lifetime_deposits = sum((Decimal(t["depositAmount"]) for t in deposits), Decimal(0))
        revenue = sum((Decimal(t.get("grossRevenue") or 0) for t in mine), Decimal(0))
        qualified = lifetime_deposits >= self.cpa_threshold
        commission = revenue * self.revshare + (self.cpa_amount if qualified else 0)
        click = customer.get("clickKey") or customer.get("clickId") or ""
        return {
            **{k: v for k, v in customer.items() if k not in ("clickKey", "clickId")},
            "isIdEmpty": False, "createdBy": "api",
            "hasDeposited": bool(deposits),
            "ftdDate": deposits[0]["transactionDate"] if deposits else None,
            "firstDepositAmount": Decimal(deposits[0]["depositAmount"]) if deposits else 0,
            "lifetimeDeposits": lifetime_deposits, "lifetimeRevenue": revenue,
            "lifetimeCommission": commission.quantize(Decimal("0.01")),
            "cpaQualified": qualified,
            "cpaQualificationDate": deposits[-1]["transactionDate"] if qualified else None,
            "tracking": {"clickId": click, "affiliateId": "aff-1" if click else "",
                         "affiliateName": "Fake Media" if click else "Organic", "brandId": customer["externalBrandId"]},
            "transactions": [dict(t, id=f"tx-{t['externalId']}") for t in mine],
        }

    @route("GET", r"/api/v1/customer/(?P<id>[^/]+)")
    def customer_get(self, request: Request) -> Reply:
        with self.lock:
            customer = self.customers.get(request.params["id"])
            if customer is None:
                # Exactly ASP.NET's NotFound() ProblemDetails: type, title, status, traceId.
                return Reply(404, _problem(404, "Not Found"))
            return Reply(200, self._customer_view(customer))

    @route("PUT", r"/api/v1/customer/(?P<id>[^/]+)")
    def customer_update(self, request: Request) -> Reply:
        body = request.json()
        with self.lock:
            customer = self.customers.get(request.params["id"])
            if customer is None:
                return Reply(404, _problem(404, "Not Found"))
            customer.update({k: body[k] for k in WRITABLE if k in body}, updatedTs=_now())
            return Reply(200, self._customer_view(customer))

    @route("GET", r"/api/v1/customer")
    def customer_list(self, request: Request) -> Reply:
        page, size = int(request.arg("page", "1")), min(int(request.arg("pageSize", "20")), 100)
        with self.lock:
            found = [c for c in self.customers.values()
                     if request.arg("externalId") in (None, c["externalId"])
                     and request.arg("externalBrandId") in (None, c["externalBrandId"])]
            items = [self._customer_view(c) for c in found[(page - 1) * size: page * size]]
        return Reply(200, {"items": items, "page": page, "pageSize": size, "totalCount": len(found),
                           "totalPages": -(-len(found) // size)})

    # --- transactions --------------------------------------------------------------------------

    def _transaction_errors(self, item) -> tuple[int, dict]:
        if not isinstance(item, dict):
            return 400, {"": ["Each transaction must be a JSON object."]}
        errors = {}
        for name in REQUIRED_TRANSACTION:
            if item.get(name) in (None, ""):
                errors[name[0].upper() + name[1:]] = [f"The {name} field is required."]
        if item.get("transactionDate") and not _zulu_ok(item["transactionDate"]):
            errors["TransactionDate"] = ["TransactionDate must be an ISO-8601 Zulu timestamp."]
        for name in AMOUNTS:
            value = item.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | Decimal)):
                errors[name[0].upper() + name[1:]] = [f"The JSON value could not be converted to System.Decimal: {value!r}"]
        if errors:
            return 400, errors
        if str(item["externalCustomerId"]) not in self.customer_ids:
            return 422, {"ExternalCustomerId": [f"No customer {item['externalCustomerId']}."]}
        if str(item["externalId"]) in self.refuse:
            return 422, {"ExternalId": ["Refused by the fake (test hook)."]}
        return 0, {}

    @route("POST", r"/api/v1/transaction/bulk")
    def transaction_bulk(self, request: Request) -> Reply:
        items = request.json()
        if not isinstance(items, list):
            return Reply(400, _problem(400, "The request body must be a JSON array of transactions."))
        if len(items) > self.bulk_limit:
            return Reply(400, _problem(400, f"At most {self.bulk_limit} transactions per request."))
        with self.lock:
            if self.bulk_outage_after is not None and len(self.batch_sizes) >= self.bulk_outage_after:
                return Reply(503, _problem(503, "Service Unavailable"))
            refused = []
            for index, item in enumerate(items):
                status, errors = self._transaction_errors(item)
                if status:
                    refused.append((index, item, status, errors))
            if refused and self.bulk_errors != "per_item":
                if self.bulk_errors == "opaque":
                    return Reply(400, _problem(400, "One or more validation errors occurred."))
                return Reply(400, _problem(400, "One or more validation errors occurred.", {
                    f"[{index}].{field}": messages for index, _, _, errors in refused for field, messages in errors.items()
                }))
            self.batch_sizes.append(len(items))
            bad = {index for index, *_ in refused}
            for index, item in enumerate(items):
                if index in bad:
                    continue
                self.received[str(item["externalId"])] += 1
                self.transactions.setdefault(str(item["externalId"]), item)
        if not refused:
            return Reply(202, None)
        return Reply(202, {"accepted": len(items) - len(refused), "rejected": [
            {"externalId": item.get("externalId") if isinstance(item, dict) else None, "index": index,
             "status": status, "title": "Transaction refused", "errors": errors}
            for index, item, status, errors in refused
        ]})

    @route("POST", r"/__fake/reset-transactions")
    def reset_transactions(self, request: Request) -> Reply:
        """Benchmark control: forget the transactions, keep the customers."""
        with self.lock:
            self.transactions.clear()
            self.received.clear()
            self.batch_sizes.clear()
        return Reply(204, None)

    # --- helpers for tests ---------------------------------------------------------------------

    def customer_by_external(self, external_id) -> dict | None:
        with self.lock:
            affelios_id = self.customer_ids.get(str(external_id))
            return self._customer_view(self.customers[affelios_id]) if affelios_id else None

    def bulk_requests(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/transaction/bulk")]


def demo(port: int) -> FakeAffelios:
    """A fake with a few customers and transactions, accepting the key demo-affelios-key."""
    fake = FakeAffelios(keys={"demo-affelios-key"}, port=port, record=False)
    start = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
    for n in range(1, 4):
        customer = fake._customer_new({"externalId": f"demo-{n}", "externalBrandId": "demo-brand",
                                       "registrationDate": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                       "clickKey": f"ck-demo-{n}", "country": "DE"})
        for day in range(n):
            moment = (start + dt.timedelta(days=day + 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            fake.transactions[f"demo-dep-{n}-{day}"] = {
                "externalId": f"demo-dep-{n}-{day}", "type": "deposit", "externalCustomerId": customer["externalId"],
                "externalBrandId": "demo-brand", "transactionDate": moment, "depositAmount": Decimal(25 * n)}
            fake.transactions[f"demo-act-{n}-{day}"] = {
                "externalId": f"demo-act-{n}-{day}", "type": "revenue", "externalCustomerId": customer["externalId"],
                "externalBrandId": "demo-brand", "transactionDate": moment, "grossRevenue": Decimal("12.50") * n,
                "wageredAmount": Decimal(100 * n)}
    return fake


if __name__ == "__main__":
    fake = FakeAffelios(keys={sys.argv[1] if len(sys.argv) > 1 else "bench-key"}, record=False).start()
    print(fake._server.server_address[1], flush=True)
    sys.stdin.read()
    fake.stop()
