"""A fake Affili merchant API on loopback, implementing the documented contract
(../shared/reference/api-facts.md §5, affili-rest-api.txt) so contract tests and the benchmark
run the real AffiliConnector.

- `Authorization: Bearer <access id>`: an unknown one answers 401, one in `forbidden_keys` 403,
  both `{"status": "error", "message": ...}` (the inferred error envelope; 422 for validation).
- Answers are wrapped `{"status": "ok", "tag", "data", "api_version": "1.0.0"}`.
- `POST /api/merchants/set-cookie {"referrer"}` → a token: `data.token`, or `data` itself with
  `token_shape="string"` (the shape is undocumented).
- `POST /api/merchants/conversions` validates the documented arguments and refuses (422) an
  external_id it already holds — Affili's ids are unique — so a replay creates nothing.
- `GET /api/merchants/conversions` filters by status, external_id, is_closed, checked_out and
  min/max created_at/updated_at, which must be Gregorian (`2020-04-05` or `2020-04-05 12:46:38`,
  read as Tehran time); a Jalali value is refused with 422. Pages with `page`/`per_page`
  (undocumented), ordered by updated_at; `paging` picks how pages are described: "bare" (just
  the list), "meta" (a top-level `meta`) or "laravel" (`data: {data, current_page, last_page}`).
- created_at / updated_at go out in Jalali, Tehran wall-clock time; type alternates between
  "buy" and an integer, as the documented sample shows.

    with FakeAffili() as fake:
        fake.generate(250)                               # deterministic conversions
        fake.review("order-3", status=1, wage=12)        # Affili approves one
        fake.outage_after_creates = 2                    # creates after the second answer 503
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime

from tests.fakes.network import FakeNetwork, Reply, Request, route

TEHRAN = ZoneInfo("Asia/Tehran")
STATUSES = (0, 1, 2, 3)
TYPES = {"buy", "click", "lead"}
GREGORIAN = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?")
DATE_FILTERS = ("min_created_at", "max_created_at", "min_updated_at", "max_updated_at")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def to_jalali(moment: dt.datetime) -> str:
    """An aware datetime as Affili writes it: Jalali, Tehran wall-clock, to the second."""
    local = moment.astimezone(TEHRAN)
    return jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None)).strftime("%Y-%m-%d %H:%M:%S")


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"status": "error", "message": message})


def _ok(tag: str, data) -> Reply:
    return Reply(200, {"status": "ok", "tag": tag, "data": data, "api_version": "1.0.0"})


def _gregorian(name: str, value: str) -> dt.datetime:
    match = GREGORIAN.fullmatch(value.strip())
    if not match or int(match[1]) < 1900:
        raise _Invalid(f"The {name} must be a Gregorian date-time (YYYY-MM-DD HH:MM:SS).")
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=TEHRAN)
    except ValueError as exc:
        raise _Invalid(f"The {name} is not a valid date.") from exc


class _Invalid(Exception):
    pass


class FakeAffili(FakeNetwork):
    name = "affili"

    def __init__(self, *, keys=("good-key",), forbidden_keys=(), port: int = 0, record: bool = True,
                 paging: str = "bare", token_shape: str = "object", max_per_page: int = 1000,
                 default_per_page: int = 15):
        super().__init__(keys=keys, forbidden_keys=forbidden_keys, port=port, record=record)
        self.paging = paging
        self.token_shape = token_shape
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        self.conversions: dict[str, dict] = {}  # affili id -> conversion (aware datetimes inside)
        self.by_external: dict[str, str] = {}
        self.tokens: dict[str, str] = {}  # token -> referrer
        self.wage_rate = Decimal("0.05")
        self.outage_after_creates: int | None = None  # creates beyond this many answer 503
        self.creates = 0
        self.clock = lambda: dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._seq = itertools.count(1)
        self._order: list[str] | None = None  # ids by (updated, seq), rebuilt after a change
        self._order_keys: list[tuple] = []
        self._rendered: dict[str, dict] = {}

    # --- data ------------------------------------------------------------------------------------

    def add_conversion(self, *, external_id: str, amount, status: int = 0, kind="buy", wage=None,
                       created: dt.datetime | None = None, updated: dt.datetime | None = None,
                       publisher: str = "0j18r", affili_id: str | None = None, is_closed: int = 0,
                       checked_out: int = 0, extra: dict | None = None) -> str:
        with self.lock:
            seq = next(self._seq)
            affili_id = affili_id or f"cv{seq:07d}"
            created = created or self.clock()
            amount = Decimal(str(amount))
            self.conversions[affili_id] = {
                "id": affili_id, "seq": seq, "external_id": external_id, "amount": amount, "status": status,
                "type": kind, "wage": Decimal(str(wage)) if wage is not None else (amount * self.wage_rate),
                "created": created, "updated": updated or created, "publisher": publisher,
                "is_closed": is_closed, "checked_out": checked_out, "extra": extra or {},
            }
            if external_id:
                self.by_external[external_id] = affili_id
            self._changed(affili_id)
            return affili_id

    def generate(self, n: int, *, start: dt.datetime = dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
                 step: dt.timedelta = dt.timedelta(minutes=10)) -> None:
        """n conversions, the same for the same n: spread from `start` (through Iran's last summer
        of DST in 2022 and beyond), every status, type "buy" or the integer 6, a few closed."""
        with self.lock:
            for i in range(n):
                created = start + i * step
                amount = 10_000 + (i * 7919) % 990_000
                self.add_conversion(
                    external_id=f"order-{i}", amount=amount, status=(0, 1, 1, 2, 3)[i % 5],
                    kind="buy" if i % 2 == 0 else 6, wage=amount // 20, created=created,
                    updated=created + dt.timedelta(hours=i % 7), publisher=f"pub{i % 13:02d}",
                    is_closed=int(i % 11 == 0), checked_out=int(i % 22 == 0),
                )

    def review(self, key: str, *, status: int, wage=None, at: dt.datetime | None = None) -> None:
        """Affili (or the merchant in its panel) changes a conversion's status; `key` is the
        Affili id or the external id."""
        with self.lock:
            conversion = self.conversions[self.by_external.get(key, key)]
            conversion["status"] = status
            if wage is not None:
                conversion["wage"] = Decimal(str(wage))
            conversion["updated"] = at or self.clock()
            self._changed(conversion["id"])

    def _changed(self, affili_id: str) -> None:
        self._order = None
        self._rendered.pop(affili_id, None)

    def _sorted(self) -> list[str]:
        if self._order is None:
            rows = sorted(self.conversions.values(), key=lambda c: (c["updated"], c["seq"]))
            self._order = [c["id"] for c in rows]
            self._order_keys = [(c["updated"], c["seq"]) for c in rows]
        return self._order

    def render(self, affili_id: str) -> dict:
        rendered = self._rendered.get(affili_id)
        if rendered is None:
            c = self.conversions[affili_id]
            rendered = {
                "id": c["id"], "publisher": {"id": c["publisher"], "name": f"Publisher {c['publisher']}"},
                "status": c["status"], "type": c["type"], "wage": c["wage"], "amount": c["amount"],
                "created_at": to_jalali(c["created"]), "updated_at": to_jalali(c["updated"]),
                "external_id": c["external_id"],
                "commissions": [{"id": c["id"], "name": "buy", "sub_amount": c["amount"]}],
                "is_closed": c["is_closed"], "checked_out": c["checked_out"],
                "client": {"agents": ["Chrome"], "ips": ["127.0.0.1"]}, "clicks": [], **c["extra"],
            }
            self._rendered[affili_id] = rendered
        return rendered

    # --- API -------------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        header = request.header("authorization")
        key = header[7:].strip().strip('"') if header.lower().startswith("bearer ") else ""
        if key in self.forbidden_keys:
            return _error(403, "This access id may not use the merchant API.")
        if key not in self.keys:
            return _error(401, "Unauthenticated.")
        return None

    @route("POST", r"/api/merchants/set-cookie")
    def set_cookie(self, request: Request) -> Reply:
        body = request.json() or {}
        referrer = str(body.get("referrer") or "").strip()
        if not referrer:
            return _error(422, "The referrer field is required.")
        with self.lock:
            token = "ey" + hashlib.sha256(f"{referrer}:{len(self.tokens)}".encode()).hexdigest()[:40]
            self.tokens[token] = referrer
        return _ok("setCookie", {"token": token} if self.token_shape == "object" else token)

    @route("POST", r"/api/merchants/conversions")
    def conversion_create(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict):
            return _error(422, "A JSON object is required.")
        kind = body.get("type")
        for name in ("token", "aff_id", "referrer", "type"):
            if not str(body.get(name) or "").strip():
                return _error(422, f"The {name} field is required.")
        if kind not in TYPES:
            return _error(422, "The selected type is invalid.")
        if body["token"] not in self.tokens:
            return _error(422, "The selected token is invalid.")
        external_id = str(body.get("external_id") or "")
        amount = None
        if kind == "buy":
            if not external_id:
                return _error(422, "The external id field is required when type is buy.")
            amount = body.get("amount")
            if amount is None or not NUMBER.fullmatch(str(amount)):
                return _error(422, "The amount must be a number.")
            commissions = body.get("commissions")
            if not isinstance(commissions, list) or not commissions or not all(
                isinstance(c, dict) and c.get("name") and NUMBER.fullmatch(str(c.get("sub_amount", "")))
                for c in commissions
            ):
                return _error(422, "The commissions field is required when type is buy.")
        with self.lock:
            if self.outage_after_creates is not None and self.creates >= self.outage_after_creates:
                return _error(503, "Service Unavailable")
            if external_id and external_id in self.by_external:
                return _error(422, "The external id has already been taken.")
            affili_id = self.add_conversion(external_id=external_id, amount=amount or 0, kind=kind,
                                            extra={"referrer": body["referrer"], "aff_id": body["aff_id"]})
            self.creates += 1
            return _ok("createConversion", self.render(affili_id))

    @route("GET", r"/api/merchants/conversions/(?P<affili_id>[\w-]+)")
    def conversion_find(self, request: Request) -> Reply:
        with self.lock:
            if request.params["affili_id"] not in self.conversions:
                return _error(404, "Conversion not found.")
            return _ok("findConversion", self.render(request.params["affili_id"]))

    @route("POST", r"/api/merchants/conversions/(?P<affili_id>[\w-]+)")
    def conversion_update(self, request: Request) -> Reply:
        body = request.json() or {}
        with self.lock:
            conversion = self.conversions.get(request.params["affili_id"])
            if conversion is None:
                return _error(404, "Conversion not found.")
            if conversion["is_closed"]:
                return _error(422, "The conversion is closed.")
            if "status" in body:
                conversion["status"] = int(body["status"])
            if "amount" in body:
                conversion["amount"] = Decimal(str(body["amount"]))
            conversion["updated"] = self.clock()
            self._changed(conversion["id"])
            return _ok("updateConversion", self.render(conversion["id"]))

    @route("GET", r"/api/merchants/conversions")
    def conversions_list(self, request: Request) -> Reply:
        try:
            bounds = {name: _gregorian(name, request.arg(name)) for name in DATE_FILTERS if request.arg(name)}
        except _Invalid as exc:
            return _error(422, str(exc))
        try:
            page = int(request.arg("page", "1"))
            per_page = int(request.arg("per_page", str(self.default_per_page)))
        except ValueError:
            return _error(422, "page and per_page must be integers.")
        if page < 1 or per_page < 1:
            return _error(422, "page and per_page must be at least 1.")
        per_page = min(per_page, self.max_per_page)
        exact = {name: request.arg(name) for name in ("status", "external_id", "is_closed", "checked_out")
                 if request.arg(name) not in (None, "")}
        with self.lock:
            order = self._sorted()
            start = 0
            if "min_updated_at" in bounds:  # the incremental pull: a binary search, not a scan
                start = bisect.bisect_left(self._order_keys, (bounds.pop("min_updated_at"), 0))
            if bounds or exact:
                ids = [i for i in order[start:] if self._matches(self.conversions[i], bounds, exact)]
                total, chosen = len(ids), ids[(page - 1) * per_page: page * per_page]
            else:
                total = len(order) - start
                chosen = order[start + (page - 1) * per_page: start + page * per_page]
            items = [self.render(i) for i in chosen]
        last_page = max(1, -(-total // per_page))
        meta = {"current_page": page, "last_page": last_page, "per_page": per_page, "total": total}
        if self.paging == "laravel":
            return _ok("getConversions", {**meta, "data": items})
        reply = _ok("getConversions", items)
        if self.paging == "meta":
            reply.body["meta"] = meta
        return reply

    @staticmethod
    def _matches(c: dict, bounds: dict, exact: dict) -> bool:
        checks = {
            "min_created_at": lambda v: c["created"] >= v, "max_created_at": lambda v: c["created"] <= v,
            "min_updated_at": lambda v: c["updated"] >= v, "max_updated_at": lambda v: c["updated"] <= v,
        }
        if not all(checks[name](value) for name, value in bounds.items()):
            return False
        return all(str(c[name]) == value for name, value in exact.items())


def demo(port: int) -> FakeAffili:
    """A fake preloaded with 240 conversions over the last 40 days, accepting the access id
    `demo-affili-key` (for `manage.py run_fake_networks`)."""
    fake = FakeAffili(keys={"demo-affili-key"}, port=port, record=False, paging="laravel")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fake.generate(240, start=now - dt.timedelta(days=40), step=dt.timedelta(hours=4))
    return fake


def serve(rows: int, keys, ready, stop) -> None:
    """Run a fake with `rows` generated conversions until `stop` (a multiprocessing Event) is
    set, putting its URL on `ready` once it answers: the benchmark's child process. Every
    conversion is rendered up front, so the fake's own Jalali formatting is not timed."""
    fake = FakeAffili(keys=set(keys), record=False)
    fake.generate(rows)
    with fake.lock:
        for affili_id in fake.conversions:
            fake.render(affili_id)
        fake._sorted()
    with fake:
        ready.put(fake.url)
        stop.wait()
