import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Deposit, PlayerEvent, Postback, PostbackDelivery
from campaigns.services.events import player_event_raise, player_events_raise_bulk
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def _deposit(player, deposit_id, cents=5000):
    return Deposit.objects.create(brand=player.brand, player=player, deposit_id=deposit_id,
                                  amount=Decimal(cents) / 100, currency="EUR", processed_at=NOW)


def test_a_player_has_one_first_deposit_event_whichever_deposit_raises_it():
    player = PlayerFactory()
    first = player_event_raise(type=PlayerEvent.Type.FIRST_DEPOSIT, player=player, occurred_at=NOW,
                               deposit=_deposit(player, "d-1"), amount=Decimal("50.00"), currency="EUR")

    again = player_event_raise(type=PlayerEvent.Type.FIRST_DEPOSIT, player=player, occurred_at=NOW,
                               deposit=_deposit(player, "d-2"), amount=Decimal("20.00"), currency="EUR")

    assert first is not None and again is None
    assert PlayerEvent.objects.filter(type="first_deposit").count() == 1


def test_each_deposit_raises_its_own_deposit_event_once():
    player = PlayerFactory()
    d1, d2 = _deposit(player, "d-1"), _deposit(player, "d-2")

    raised = [player_event_raise(type=PlayerEvent.Type.DEPOSIT, player=player, occurred_at=NOW, deposit=d)
              for d in (d1, d2, d1)]

    assert [e is not None for e in raised] == [True, True, False]


def test_bulk_events_queue_postbacks_in_a_fixed_number_of_queries():
    promo = PromoFactory()
    Postback.objects.create(affiliate=promo.affiliate, scope=Postback.Scope.ACCOUNT,
                            action=PlayerEvent.Type.REGISTRATION, url_template="https://t.example/r?tag=${tag}")
    Postback.objects.create(affiliate=promo.affiliate, scope=Postback.Scope.PROMO, promo=promo,
                            campaign=promo.campaign, action=PlayerEvent.Type.REGISTRATION,
                            url_template="https://t.example/p?sub=${sub_id}")

    def batch(n):
        players = [PlayerFactory(visit=VisitFactory(promo=promo, params={"sub_id": f"s{i}"})) for i in range(n)]
        return [dict(key=f"registration:{p.pk}", type=PlayerEvent.Type.REGISTRATION, player=p.pk,
                     affiliate=p.affiliate_id, promo=p.promo_id, campaign=p.campaign_id, visit=p.visit_id,
                     deposit=None, amount=None, currency="", occurred_at=NOW) for p in players]

    small, large = batch(3), batch(150)
    with CaptureQueriesContext(connection) as few:
        player_events_raise_bulk(events=small, now=timezone.now())
    with CaptureQueriesContext(connection) as many:
        new = player_events_raise_bulk(events=large, now=timezone.now())

    assert new == 150
    assert PostbackDelivery.objects.count() == 2 * 153
    assert len(many.captured_queries) == len(few.captured_queries)
    sub_ids = {d.url for d in PostbackDelivery.objects.filter(postback__scope="promo")}
    assert "https://t.example/p?sub=s149" in sub_ids


def test_a_replayed_bulk_batch_queues_nothing_more():
    promo = PromoFactory()
    Postback.objects.create(affiliate=promo.affiliate, scope=Postback.Scope.ACCOUNT,
                            action=PlayerEvent.Type.REGISTRATION, url_template="https://t.example/r")
    player = PlayerFactory(visit=VisitFactory(promo=promo))
    event = dict(key=f"registration:{player.pk}", type=PlayerEvent.Type.REGISTRATION, player=player.pk,
                 affiliate=player.affiliate_id, promo=player.promo_id, campaign=player.campaign_id,
                 visit=player.visit_id, deposit=None, amount=None, currency="", occurred_at=NOW)

    assert player_events_raise_bulk(events=[dict(event)], now=timezone.now()) == 1
    assert player_events_raise_bulk(events=[dict(event)], now=timezone.now()) == 0
    assert PostbackDelivery.objects.count() == 1
