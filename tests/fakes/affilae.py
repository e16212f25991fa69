"""A fake Affilae publisher API on loopback, implementing the documented contract
(../shared/reference/api-facts.md §3) so contract tests run the real AffilaeConnector.

- `Authorization: Bearer <key>`: an unknown key answers 401, a key in `forbidden_keys` 403,
  both with Affilae's `{statusCode, error, message}` body.
- List endpoints page with limit/offset (at most `page_size` items, whatever `limit` asks)
  and answer `{"<things>": {"total", "data": [...]}}`.
- `partnerships.kpis` sums one metric per partnership over [from, to]; `currency` is required
  for commissionsTotal/EPC and refused (400) for clicks/impressions, as Affilae does.
  Commissions are converted from each conversion's currency with `rates`.
- Amounts are integer cents, dates UTC, ids 24-hex. Failure modes come from FakeNetwork
  (`fail_next(...)`).

    with FakeAffilae() as fake:
        profile = fake.add_profile("Casino blog")
        partnership = fake.add_partnership(profile, program="Lucky Spins")
        fake.add_traffic(partnership, date(2026, 3, 1), clicks=40, impressions=900)
        fake.add_conversion(partnership, date(2026, 3, 1), amount=5000, commission=750)
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import ROUND_HALF_UP, Decimal

from tests.fakes.network import FakeNetwork, Reply, Request, route

MONEY_METRICS = {"commissionsTotal", "EPC"}
COUNT_METRICS = {"clicks", "impressions", "conversionsTotal"}
NO_CURRENCY_METRICS = {"clicks", "impressions"}
UNCOUNTED_STATUSES = {"refused", "cancelled"}


def _moment(value: str | None, *, end: bool) -> dt.datetime:
    if not value:
        raise ValueError("from and to are required")
    if len(value) == 10:  # a bare date: the whole day
        day = dt.date.fromisoformat(value)
        return dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class FakeAffilae(FakeNetwork):
    name = "affilae"

    def __init__(self, *, keys=("good-key",), forbidden_keys=(), port: int = 0, record: bool = True,
                 page_size: int = 50):
        super().__init__(keys=keys, forbidden_keys=forbidden_keys, port=port, record=record)
        self.page_size = page_size
        self._ids = itertools.count(0x5F3A00000000000000000001)
        self.publisher = {"id": self.new_id(), "name": "Fake Publisher", "email": "publisher@example.net"}
        self.profiles: list[dict] = []
        self.partnerships: list[dict] = []  # each also carries "affiliateProfile" (its profile's id)
        self.traffic: dict[tuple[str, dt.date], dict] = {}
        self.conversions: list[dict] = []
        self.rates = {"EUR": Decimal("1"), "USD": Decimal("1.10"), "GBP": Decimal("0.85")}

    # --- data ------------------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{next(self._ids):024x}"

    def add_profile(self, name: str, *, url: str = "") -> str:
        profile_id = self.new_id()
        with self.lock:
            self.profiles.append({"id": profile_id, "name": name, "url": url or f"https://{name.lower().replace(' ', '-')}.example"})
        return profile_id

    def add_partnership(self, profile_id: str, *, program: str, status: str = "active", advertiser: str = "",
                        group: str = "Default") -> str:
        partnership_id = self.new_id()
        with self.lock:
            self.partnerships.append({
                "id": partnership_id, "status": status, "trackingId": f"trk{len(self.partnerships) + 1:04d}",
                "advertiser": advertiser or f"{program} Ltd", "affiliateProfile": profile_id,
                "program": {"id": self.new_id(), "name": program, "url": f"https://{program.lower().replace(' ', '')}.example"},
                "group": {"name": group}, "stats": {"clicks": {"total": 0}},
            })
        return partnership_id

    def partnership(self, partnership_id: str) -> dict:
        return next(p for p in self.partnerships if p["id"] == partnership_id)

    def set_status(self, partnership_id: str, status: str) -> None:
        with self.lock:
            self.partnership(partnership_id)["status"] = status

    def add_traffic(self, partnership_id: str, day: dt.date, *, clicks: int = 0, impressions: int = 0) -> None:
        with self.lock:
            self.traffic[(partnership_id, day)] = {"clicks": clicks, "impressions": impressions}

    def add_conversion(self, partnership_id: str, day: dt.date, *, amount: int, commission: int,
                       currency: str = "EUR", status: str = "accepted", hour: int = 12) -> str:
        conversion_id = self.new_id()
        partnership = self.partnership(partnership_id)
        with self.lock:
            self.conversions.append({
                "id": conversion_id, "externalId": f"order-{len(self.conversions) + 1}",
                "createdAt": f"{day.isoformat()}T{hour:02d}:15:00.000Z", "amount": amount, "commissions": commission,
                "currency": currency, "partnership": partnership_id,
                "affiliateProfile": partnership["affiliateProfile"], "program": partnership["program"]["id"],
                "status": status,
            })
        return conversion_id

    def set_conversion_status(self, conversion_id: str, status: str) -> None:
        with self.lock:
            next(c for c in self.conversions if c["id"] == conversion_id)["status"] = status

    # --- protocol --------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        scheme, _, key = request.header("Authorization").partition(" ")
        if scheme != "Bearer" or key not in self.keys | self.forbidden_keys:
            return Reply(401, {"statusCode": 401, "error": "Unauthorized", "message": "Invalid API key"})
        if key in self.forbidden_keys:
            return Reply(403, {"statusCode": 403, "error": "Forbidden",
                               "message": "This API key has no access to publisher data"})
        return None

    def _page(self, request: Request, key: str, items: list) -> Reply:
        limit = min(int(request.arg("limit") or 20), self.page_size)
        offset = int(request.arg("offset") or 0)
        if limit < 1 or offset < 0:
            raise ValueError("limit must be ≥ 1 and offset ≥ 0")
        return Reply(200, {key: {"total": len(items), "data": items[offset:offset + limit]}})

    @route("GET", r"/publisher/publishers\.me")
    def me(self, request):
        return Reply(200, {"publisher": dict(self.publisher)})

    @route("GET", r"/publisher/affiliateProfiles\.list")
    def profiles_list(self, request):
        with self.lock:
            return self._page(request, "affiliateProfiles", [dict(p) for p in self.profiles])

    @route("GET", r"/publisher/partnerships\.list")
    def partnerships_list(self, request):
        profile_id = request.arg("affiliateProfile")
        if not profile_id:
            return Reply(400, {"statusCode": 400, "error": "Bad Request", "message": '"affiliateProfile" is required'})
        details = request.arg("withProgramsDetails") == "true"
        with self.lock:
            rows = []
            for p in self.partnerships:
                if p["affiliateProfile"] != profile_id:
                    continue
                row = {k: v for k, v in p.items() if k != "affiliateProfile"}
                row["program"] = dict(p["program"]) if details else p["program"]["id"]
                rows.append(row)
            return self._page(request, "partnerships", rows)

    @route("GET", r"/publisher/conversions\.list")
    def conversions_list(self, request):
        profile_id = request.arg("affiliateProfile")
        start, end = _moment(request.arg("from"), end=False), _moment(request.arg("to"), end=True)
        with self.lock:
            rows = [dict(c) for c in self.conversions
                    if (not profile_id or c["affiliateProfile"] == profile_id)
                    and start <= _moment(c["createdAt"], end=False) <= end]
            return self._page(request, "conversions", rows)

    @route("GET", r"/publisher/partnerships\.kpis")
    def kpis(self, request):
        metric = request.arg("metric")
        currency = request.arg("currency")
        if metric not in MONEY_METRICS | COUNT_METRICS:
            return Reply(400, {"statusCode": 400, "error": "Bad Request", "message": f'"metric" {metric!r} is not allowed'})
        if metric in MONEY_METRICS and not currency:
            return Reply(400, {"statusCode": 400, "error": "Bad Request", "message": '"currency" is required'})
        if metric in NO_CURRENCY_METRICS and currency is not None:
            return Reply(400, {"statusCode": 400, "error": "Bad Request", "message": '"currency" is not allowed'})
        if currency and currency not in self.rates:
            return Reply(400, {"statusCode": 400, "error": "Bad Request", "message": f"unknown currency {currency}"})
        start, end = _moment(request.arg("from"), end=False), _moment(request.arg("to"), end=True)
        wanted = {p for p in (request.arg("affiliateProfiles") or "").split(",") if p}
        with self.lock:
            rows = []
            for p in self.partnerships:
                if wanted and p["affiliateProfile"] not in wanted:
                    continue
                value = self._metric(p["id"], metric, start, end, currency)
                rows.append({"id": p["id"], "value": value, "group": p["group"]})
        return Reply(200, {"total": sum(r["value"] for r in rows), "partnerships": rows})

    def _metric(self, partnership_id, metric, start, end, currency):
        if metric in ("clicks", "impressions"):
            return sum(t[metric] for (pid, day), t in self.traffic.items()
                       if pid == partnership_id and start.date() <= day <= end.date())
        counted = [c for c in self.conversions if c["partnership"] == partnership_id
                   and c["status"] not in UNCOUNTED_STATUSES and start <= _moment(c["createdAt"], end=False) <= end]
        if metric == "conversionsTotal":
            return len(counted)
        commissions = sum(
            (Decimal(c["commissions"]) * self.rates[currency] / self.rates[c["currency"]] for c in counted), Decimal(0),
        ).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if metric == "commissionsTotal":
            return int(commissions)
        clicks = self._metric(partnership_id, "clicks", start, end, None)
        return int((commissions / clicks).quantize(Decimal(1))) if clicks else 0  # EPC, in cents


def demo(port: int) -> FakeAffilae:
    """A fake preloaded with two profiles, five partnerships and 45 days of traffic and
    conversions, accepting the key `demo-affilae-key` (for `manage.py run_fake_networks`)."""
    fake = FakeAffilae(keys={"demo-affilae-key"}, port=port, record=False)
    fake.publisher.update(name="Demo Media SAS", email="demo-publisher@example.net")
    rng = random.Random(6)
    blog = fake.add_profile("Casino Guide Blog")
    news = fake.add_profile("Sports Betting News")
    partnerships = [
        fake.add_partnership(blog, program="Lucky Spins Casino"),
        fake.add_partnership(blog, program="Golden Reels", status="pending"),
        fake.add_partnership(blog, program="Royal Jackpot", status="blocked"),
        fake.add_partnership(news, program="Goal Bet Sportsbook"),
        fake.add_partnership(news, program="Match Point Bets", status="cancelled", group="VIP"),
    ]
    today = dt.datetime.now(dt.UTC).date()
    for offset in range(45):
        day = today - dt.timedelta(days=offset)
        for partnership_id in partnerships:
            clicks = rng.randint(0, 120)
            fake.add_traffic(partnership_id, day, clicks=clicks, impressions=clicks * rng.randint(8, 30))
            for _ in range(rng.randint(0, 3)):
                amount = rng.randint(1000, 20000)
                fake.add_conversion(
                    partnership_id, day, amount=amount, commission=amount * rng.choice((10, 15, 25)) // 100,
                    currency=rng.choice(("EUR", "EUR", "EUR", "GBP")), hour=rng.randint(0, 23),
                    status=rng.choice(("accepted", "accepted", "pending", "refused")),
                )
    return fake
