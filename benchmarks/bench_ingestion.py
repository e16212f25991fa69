"""Operator ingestion: one 10,000-item /api/v1/activity batch (a deposit in every item).

Ours: the real request through Django's test client and the whole middleware stack: HMAC
check, validation of every field, bulk upsert of the windows, deposits inserted in bulk,
10,000 FTDs recorded and 20,000 player events (first_deposit + deposit) raised.
Baseline, same run, same items (on a twin brand): the naive per-item ORM loop (get the
player, update_or_create the window, get_or_create each deposit) inside one transaction,
with no validation, no HTTP and no events. Each is then run a second time on the same
data (a replay: every window replaced, every deposit already known).

Target (issue 3): the first batch under 5 s on PostgreSQL (BENCH_DATABASE_URL=postgres://...).
"""
import datetime as dt
import json
import secrets
import time

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from backoffice.money import from_minor_units
from billing.models import CommissionPlan
from campaigns.api.auth import body_sign
from campaigns.models import (
    Brand,
    Campaign,
    Deposit,
    Landing,
    OperatorCredential,
    Player,
    PlayerActivity,
    Promo,
    Visit,
)
from partners.models import Affiliate

ITEMS = 10_000
FROM = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
TO = FROM + dt.timedelta(days=1)
MONEY = {
    "bets_sum_cents": "bets_sum", "wins_sum_cents": "wins_sum", "wager_cents": "wager_sum",
    "bonus_issues_sum_cents": "bonus_issues_sum", "deposits_sum_cents": "deposits_sum",
    "cashouts_sum_cents": "cashouts_sum", "payment_system_fees_sum_cents": "payment_system_fees_sum",
}
COUNTS = {"rounds_count": "rounds_count", "deposits_count": "deposits_count", "cashouts_count": "cashouts_count"}


def _brand_with_players(affiliate: Affiliate, label: str) -> tuple[Brand, OperatorCredential]:
    brand = Brand.objects.create(name=f"Bench {label} {secrets.token_hex(4)}", base_currency="EUR",
                                 site_url="https://casino.example")
    secret = secrets.token_hex(32)
    credential = OperatorCredential(brand=brand, name="Bench")
    credential.set_secret(secret)
    credential.save()
    credential.raw_secret = secret
    plan = CommissionPlan.objects.create(name="Bench plan", brand=brand, currency="EUR")
    landing = Landing.objects.create(brand=brand, name="Home", url="https://casino.example/")
    campaign = Campaign.objects.create(affiliate=affiliate, name="Bench", brand=brand, commission_plan=plan)
    promo = Promo.objects.create(campaign=campaign, affiliate=affiliate, brand=brand, title="Bench", landing=landing)
    visits = Visit.objects.bulk_create(Visit(promo=promo, affiliate=affiliate) for _ in range(ITEMS))
    Player.objects.bulk_create(
        (Player(brand=brand, user_id=f"player-{i}", tag=visit.tag, visit=visit, promo=promo, campaign=campaign,
                affiliate=affiliate, country="DE", sign_up_at=FROM - dt.timedelta(days=1))
         for i, visit in enumerate(visits)),
        batch_size=2000,
    )
    return brand, credential


def _payload() -> dict:
    items = []
    for i in range(ITEMS):
        item = {"user_id": f"player-{i}", "currency": "EUR", "rounds_count": 40 + i % 50, "deposits_count": 1,
                "cashouts_count": i % 2, "sb_bets_sum_cents": i * 3,
                "deposits": [{"deposit_id": f"dep-{i}", "amount_cents": 1000 + i,
                              "processed_at": (FROM + dt.timedelta(seconds=i)).isoformat()}]}
        for n, wire in enumerate(MONEY):
            item[wire] = (i * 7 + n * 13) % 100_000
        items.append(item)
    return {"from": FROM.isoformat(), "to": TO.isoformat(), "items": items}


def _ours(client: Client, credential, body: bytes) -> float:
    headers = {"X-Authorization-Key": credential.key, "X-Authorization-Sign": body_sign(credential.raw_secret, body)}
    started = time.perf_counter()
    response = client.post(reverse("ingestion:activity"), body, content_type="application/json", headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content[:500]
    assert response.json()["stored"] == ITEMS
    return elapsed


def _baseline(brand: Brand, body: bytes) -> float:
    started = time.perf_counter()
    payload = json.loads(body)
    start, end = dt.datetime.fromisoformat(payload["from"]), dt.datetime.fromisoformat(payload["to"])
    with transaction.atomic():
        for item in payload["items"]:
            player = Player.objects.get(brand=brand, user_id=item["user_id"])
            values = {column: from_minor_units(item[wire], item["currency"]) for wire, column in MONEY.items()}
            values.update({column: item[wire] for wire, column in COUNTS.items()})
            PlayerActivity.objects.update_or_create(player=player, currency=item["currency"], period_start=start,
                                                    period_end=end, defaults=values)
            for deposit in item["deposits"]:
                Deposit.objects.get_or_create(
                    brand=brand, deposit_id=deposit["deposit_id"],
                    defaults={"player": player, "amount": from_minor_units(deposit["amount_cents"], item["currency"]),
                              "currency": item["currency"],
                              "processed_at": dt.datetime.fromisoformat(deposit["processed_at"])},
                )
    return time.perf_counter() - started


def _cleanup(brands, affiliate) -> None:
    for brand in brands:
        Player.objects.filter(brand=brand).delete()  # activities, deposits, events cascade
        Campaign.objects.filter(brand=brand).delete()  # promos, visits cascade
        CommissionPlan.objects.filter(brand=brand).delete()
        brand.delete()
    affiliate.delete()


def run():
    debug, settings.DEBUG = settings.DEBUG, False  # no query log: measure the code, not DEBUG
    affiliate = Affiliate.objects.create(name="Bench Media", status=Affiliate.Status.ACTIVE)
    ours_brand, credential = _brand_with_players(affiliate, "ours")
    baseline_brand, _ = _brand_with_players(affiliate, "baseline")
    body = json.dumps(_payload()).encode()
    client = Client()
    try:
        first = _ours(client, credential, body)
        baseline_first = _baseline(baseline_brand, body)
        replay = _ours(client, credential, body)
        baseline_replay = _baseline(baseline_brand, body)
        assert Deposit.objects.filter(brand=ours_brand, is_first=True).count() == ITEMS
        assert Deposit.objects.filter(brand=baseline_brand).count() == ITEMS
    finally:
        settings.DEBUG = debug
        _cleanup([ours_brand, baseline_brand], affiliate)
    db = connection.vendor
    return [
        {"name": f"ingestion: {ITEMS:,}-item activity batch with deposits ({db})",
         "ours": first, "baseline": baseline_first, "unit": "s"},
        {"name": f"ingestion: same batch replayed ({db})", "ours": replay, "baseline": baseline_replay, "unit": "s"},
    ]
