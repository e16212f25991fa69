"""Demo data of the integrations: one connection per network, pointing at the fake networks
that `make run` starts (`manage.py run_fake_networks`, 127.0.0.1:8101-8103), and a handful of
players who came through the networks' links — Affelios click keys and Affili referrers on
their visits — with deposits and activity posted the way the operator's platform posts them
(the ingestion services), so "Sync now" has something to push.

Idempotent: connections are found by name, players by user id.
"""
import datetime as dt
from decimal import Decimal

from django.utils import timezone

from campaigns.models import Player, Promo
from campaigns.services.demo import TRACKING_CODE
from campaigns.services.ingestion.activity import activity_ingest
from campaigns.services.ingestion.common import ActivityIn, DepositIn, PlayerIn
from campaigns.services.ingestion.players import players_ingest
from campaigns.services.visits import visit_record
from integrations.models import Connection, Network

PORT_BASE = 8101
FAKE_URLS = {Network.AFFILAE: f"http://127.0.0.1:{PORT_BASE}", Network.AFFELIOS: f"http://127.0.0.1:{PORT_BASE + 1}",
             Network.AFFILI: f"http://127.0.0.1:{PORT_BASE + 2}"}
AFFILI_REFERRER = "5f53a29fb867dd7df313d4e2"  # the referral code of Affili's own docs
PLAYERS = 6  # even: an Affelios click key on the visit; odd: an Affili referrer


def demo_key(network: str) -> str:
    return f"demo-{network}-key"


def _connections(promo: Promo) -> list[Connection]:
    specs = {
        Network.AFFILAE: {"options": {"currency": "EUR", "lookback_days": 7}},
        Network.AFFELIOS: {"options": {"click_key_param": "clickKey"},
                           "brand_mapping": {str(promo.brand_id): "aurora-casino"}},
        Network.AFFILI: {"options": {"referrer_param": "referrer", "aff_id_param": "aff_id",
                                     "commission_name": "buy"}},
    }
    connections = []
    for network, spec in specs.items():
        connection = Connection.objects.filter(network=network, name="Demo account").first()
        if connection is None:
            connection = Connection(network=network, name="Demo account", base_url=FAKE_URLS[network],
                                    sync_interval_minutes=60, **spec)
            connection.set_secret(demo_key(network))
            connection.save()
        connections.append(connection)
    return connections


def _network_players(promo: Promo) -> int:
    brand = promo.brand
    now = timezone.now().replace(microsecond=0)
    created = 0
    for n in range(PLAYERS):
        user_id = f"network-demo-{n + 1}"
        if Player.objects.filter(brand=brand, user_id=user_id).exists():
            continue
        clicked_at = now - dt.timedelta(days=10 - n, hours=3)
        params = ({"clickKey": f"afs-{n + 1:04d}-demo"} if n % 2 == 0
                  else {"referrer": AFFILI_REFERRER, "aff_id": f"affili-demo-{n + 1}"})
        visit = visit_record(promo_id=promo.pk, affiliate_id=promo.affiliate_id, ip="203.0.113.50",
                             user_agent="Mozilla/5.0 (demo)", referrer="", params=params, created_at=clicked_at)
        sign_up_at = clicked_at + dt.timedelta(minutes=12)
        players_ingest(brand=brand, items=[PlayerIn(index=0, user_id=user_id, tag=visit.tag, sign_up_at=sign_up_at,
                                                    country="DE")])
        day = sign_up_at.replace(hour=0, minute=0, second=0)
        amount = Decimal(50 * (n + 1))
        activity_ingest(brand=brand, period_start=day, period_end=day + dt.timedelta(days=1), items=[ActivityIn(
            index=0, user_id=user_id, currency=brand.base_currency,
            values={"deposits_sum": amount, "deposits_count": 1, "bets_sum": amount * 3, "wager_sum": amount * 3,
                    "wins_sum": amount * Decimal("2.6")},
            deposits=[DepositIn(position=0, deposit_id=f"{user_id}-dep-1", amount=amount,
                                processed_at=sign_up_at + dt.timedelta(minutes=5))],
        )])
        created += 1
    return created


def seed() -> list[tuple[str, str]]:
    promo = Promo.objects.select_related("brand").get(code=TRACKING_CODE)
    connections = _connections(promo)
    _network_players(promo)
    return [
        ("integrations", ", ".join(f"{c.get_network_display()} → {c.base_url} (key {demo_key(c.network)})"
                                   for c in connections)),
        ("fake_networks", "make run starts them; or: .venv/bin/python manage.py run_fake_networks"),
    ]
