"""Affelios push: 50,000 transactions through the bulk endpoint, in one process.

Ours: `connection_sync(kinds=["transactions"])` on 1,000 pushed customers with 25 deposits and
25 activity windows each — per batch of 500: the anti-join page query, payloads, the POST
through the typed client, 500 AffeliosTransaction rows + the cursor in one transaction.
Baseline: the fake's own ceiling, measured in the same run: the same 100 batches, built by the
same payload code and serialised beforehand, POSTed with a bare `requests.Session`.
The fake Affelios runs in its own process (python -m tests.fakes.affelios), as the real one
would: an in-process server would take the GIL from the code being measured.
"""
import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import requests
from django.db import connection as db
from django.utils import timezone

from billing.models import CommissionPlan
from campaigns.models import Brand, Campaign, Deposit, Landing, Player, PlayerActivity, Promo, Visit
from integrations.affelios import payloads, selectors
from integrations.affelios.client import TRANSACTION_BULK_PATH
from integrations.affelios.models import AffeliosCustomer
from integrations.models import Connection, SyncRun
from integrations.services import connection_sync
from partners.models import Affiliate

PLAYERS = 1000
DEPOSITS_PER_PLAYER = 25
WINDOWS_PER_PLAYER = 25
N = PLAYERS * (DEPOSITS_PER_PLAYER + WINDOWS_PER_PLAYER)
BATCH = 500
KEY = "bench-affelios-key"


@contextmanager
def _fake():
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.affelios", KEY], cwd=Path(__file__).parent.parent,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def _setup(url: str) -> Connection:
    tag = uuid.uuid4().hex[:8]
    affiliate = Affiliate.objects.create(name=f"Affelios Bench {tag}", status=Affiliate.Status.ACTIVE)
    brand = Brand.objects.create(name=f"Affelios Bench Casino {tag}", site_url="https://casino.example")
    plan = CommissionPlan.objects.create(name="RevShare", brand=brand)
    campaign = Campaign.objects.create(affiliate=affiliate, name="Bench", brand=brand, commission_plan=plan)
    landing = Landing.objects.create(brand=brand, name="Home", url="https://casino.example/")
    promo = Promo.objects.create(campaign=campaign, affiliate=affiliate, brand=brand, title="Link", landing=landing)
    visits = Visit.objects.bulk_create(
        Visit(promo=promo, affiliate=affiliate, params={"clickKey": f"ck-{tag}-{i}"}) for i in range(PLAYERS))
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=WINDOWS_PER_PLAYER + 1)
    players = Player.objects.bulk_create(
        Player(brand=brand, user_id=f"u{i}", visit=visit, promo=promo, campaign=campaign, affiliate=affiliate,
               tag=visit.tag, country="DE", sign_up_at=start) for i, visit in enumerate(visits))
    Deposit.objects.bulk_create(
        (Deposit(brand=brand, player=player, deposit_id=f"{player.pk}-{n}", amount=Decimal("25.50"), currency="EUR",
                 processed_at=start + dt.timedelta(hours=n + 1), is_first=n == 0)
         for player in players for n in range(DEPOSITS_PER_PLAYER)), batch_size=5000)
    PlayerActivity.objects.bulk_create(
        (PlayerActivity(player=player, currency="EUR", period_start=start + dt.timedelta(days=d),
                        period_end=start + dt.timedelta(days=d + 1), bets_sum=Decimal("120.00"),
                        wins_sum=Decimal("97.35"), wager_sum=Decimal("120.00"), rounds_count=60)
         for player in players for d in range(WINDOWS_PER_PLAYER)), batch_size=5000)
    connection = Connection(network="affelios", name=f"Bench {tag}", base_url=url, brand_mapping={str(brand.pk): "bench"},
                            sync_interval_minutes=0, options={"batch_size": BATCH})
    connection.set_secret(KEY)
    connection.save()
    [run] = connection_sync(connection=connection, kinds=["customers"], trigger=SyncRun.Trigger.COMMAND)
    assert run.created == PLAYERS, (run.status, run.error)
    if db.vendor == "postgresql":
        # A production database has planner statistics; tables bulk-loaded a second ago have
        # none until autovacuum gets to them, and the anti-join plans are then far off.
        with db.cursor() as cursor:
            cursor.execute("ANALYZE campaigns_player, campaigns_deposit, campaigns_playeractivity, "
                           "affelios_affelioscustomer, affelios_affeliostransaction")
    return connection


def _prebuilt(connection: Connection) -> list[bytes]:
    """The batches ours will send, built by the same payload code, serialised."""
    items = []
    deposits = selectors.deposits_to_push(connection, after=0, limit=N)
    activities = selectors.activities_to_push(connection, after=0, limit=N)
    customers = selectors.customers_for_player_ids(connection, {d.player_id for d in deposits})
    types = {"deposit": payloads.DEPOSIT_TYPE, "revenue": payloads.REVENUE_TYPE}
    for deposit in deposits:
        items.append(payloads.deposit_payload(deposit=deposit, customer=customers[deposit.player_id], types=types))
    for activity in activities:
        items.append(payloads.revenue_payload(activity=activity, customer=customers[activity.player_id], revision=0,
                                              amounts=payloads.revenue_amounts(activity), types=types))
    assert len(items) == N
    return [json.dumps(items[i:i + BATCH]).encode() for i in range(0, N, BATCH)]


def run():
    with _fake() as url:
        connection = _setup(url)
        bodies = _prebuilt(connection)

        started = time.perf_counter()
        [pushed] = connection_sync(connection=connection, kinds=["transactions"], trigger=SyncRun.Trigger.COMMAND)
        ours = N / (time.perf_counter() - started)
        assert (pushed.status, pushed.created) == (SyncRun.Status.SUCCEEDED, N), (pushed.status, pushed.error)
        assert AffeliosCustomer.objects.filter(connection=connection, last_transaction_at__isnull=False).count() == PLAYERS

        session = requests.Session()
        headers = {"X-Api-Key": KEY, "Content-Type": "application/json", "Accept": "application/json"}
        assert session.post(f"{url}/__fake/reset-transactions", headers=headers, timeout=10).status_code == 204
        started = time.perf_counter()
        for body in bodies:
            answer = session.post(url + TRANSACTION_BULK_PATH, data=body, headers=headers, timeout=(5, 60))
            assert answer.status_code == 202 and not answer.content, answer.text[:200]
        baseline = N / (time.perf_counter() - started)
        session.close()
    return [
        {"name": f"Affelios push, {N:,} transactions in bulk batches of {BATCH} (loopback fake)", "ours": ours,
         "baseline": baseline, "unit": "rows/s", "lower_is_better": False},
    ]
