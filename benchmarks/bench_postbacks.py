"""Postback delivery to a loopback tracker, in one process.

Ours: N pending deliveries sent one by one through `postback_delivery_attempt` (claim UPDATE,
SSRF check, signed GET through the pinned keep-alive pool, attempt row, status UPDATE) and
N more through the beat loop `postback_deliveries_send_due` (batched claims).
Baseline: a bare `requests.Session().get` loop to the same sink, same run: the cost of the
HTTP alone. Target: at least 200 deliveries/s per worker process.
"""
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings
from django.utils import timezone

from billing.models import CommissionPlan
from campaigns import postback_templates
from campaigns.models import (
    Brand,
    Campaign,
    Landing,
    Player,
    PlayerEvent,
    PostbackDelivery,
    Promo,
    Visit,
)
from campaigns.services.postbacks import (
    postback_create,
    postback_deliveries_send_due,
    postback_delivery_attempt,
)
from partners.models import Affiliate

N = 1000
WARMUP = 50  # connections, pools and caches warm before the clock starts, for both sides


@contextmanager
def _sink():
    """tests/fakes/sink.py in its own process, as a tracker would be: an in-process server
    would take the GIL from the code being measured."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.sink"], cwd=Path(__file__).parent.parent,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def _setup(sink_url: str):
    affiliate = Affiliate.objects.create(name="Bench Media", status=Affiliate.Status.ACTIVE)
    brand = Brand.objects.create(name="Postbacks Bench Casino", site_url="https://casino.example")
    plan = CommissionPlan.objects.create(name="RevShare", brand=brand)
    campaign = Campaign.objects.create(affiliate=affiliate, name="Bench", brand=brand, commission_plan=plan)
    landing = Landing.objects.create(brand=brand, name="Home", url="https://casino.example/")
    promo = Promo.objects.create(campaign=campaign, affiliate=affiliate, brand=brand, title="Link", landing=landing)
    visit = Visit.objects.create(promo=promo, affiliate=affiliate, params={"clickID": "c-1"})
    player = Player.objects.create(brand=brand, user_id="p1", visit=visit, promo=promo, campaign=campaign,
                                   affiliate=affiliate, tag=visit.tag, sign_up_at=timezone.now())
    saved = postback_create(
        affiliate=affiliate, scope="account", action="deposit", generate_secret=True,
        url_template=f"{sink_url}?click=${{clickID}}&tag=${{tag}}&amount=${{amount}}&event=${{event_id}}",
    )
    return affiliate, player, saved.postback


def _deliveries(affiliate, player, postback, count: int, offset: int) -> list[int]:
    now = timezone.now()
    events = PlayerEvent.objects.bulk_create(
        PlayerEvent(key=f"deposit:bench:{offset + i}", type="deposit", player=player, affiliate=affiliate,
                    promo_id=player.promo_id, campaign_id=player.campaign_id, visit_id=player.visit_id,
                    amount="10.00", currency="EUR", occurred_at=now)
        for i in range(count)
    )
    params = postback_templates.custom_params(player.visit)
    rows = []
    for event in PlayerEvent.objects.filter(pk__in=[e.pk for e in events]).select_related(
            "player__brand", "promo__brand", "promo__campaign", "campaign__brand", "visit"):
        variables = postback_templates.all_variables(postback_templates.event_variables(event), params)
        rows.append(PostbackDelivery(
            postback=postback, affiliate=affiliate, event=event, method="GET",
            url=postback_templates.render(postback.url_template, variables),
            webhook_id=f"msg_{event.public_id.hex}_{postback.pk}", next_attempt_at=now,
        ))
    PostbackDelivery.objects.bulk_create(rows)
    return list(PostbackDelivery.objects.filter(event__in=events).order_by("pk").values_list("pk", flat=True))


def run():
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    with _sink() as sink_url:
        affiliate, player, postback = _setup(f"{sink_url}/pb")
        ids = _deliveries(affiliate, player, postback, WARMUP + N, 0)
        for delivery_id in ids[:WARMUP]:
            postback_delivery_attempt(delivery_id=delivery_id)
        ids = ids[WARMUP:]

        started = time.perf_counter()
        for delivery_id in ids:
            assert postback_delivery_attempt(delivery_id=delivery_id).succeeded
        ours = N / (time.perf_counter() - started)

        _deliveries(affiliate, player, postback, N, WARMUP + N)
        started = time.perf_counter()
        sent = postback_deliveries_send_due(limit=N, time_budget_seconds=600)
        loop = sent / (time.perf_counter() - started)
        assert sent == N

        url = f"{sink_url}/pb?click=c-1&tag=1_1&amount=10.00"
        session = requests.Session()
        for _ in range(WARMUP):
            session.get(url, timeout=(3.05, 10), allow_redirects=False)
        started = time.perf_counter()
        for _ in range(N):
            assert session.get(url, timeout=(3.05, 10), allow_redirects=False).status_code == 200
        baseline = N / (time.perf_counter() - started)
        session.close()
    return [
        {"name": f"postback delivery, fast path ({N}, signed GET, loopback)", "ours": ours,
         "baseline": baseline, "unit": "deliveries/s", "lower_is_better": False},
        {"name": f"postback delivery, due loop ({N}, signed GET, loopback)", "ours": loop,
         "baseline": baseline, "unit": "deliveries/s", "lower_is_better": False},
    ]
