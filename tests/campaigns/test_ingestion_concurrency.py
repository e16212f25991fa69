"""Two platform requests at once: each deposit, FTD and registration is recorded once.

Needs real row locks, so PostgreSQL only: DATABASE_URL=postgres://... .
"""

import pytest
from django.test import Client

from campaigns.models import Deposit, Player, PlayerEvent
from tests.campaigns.factories import PlayerFactory, VisitFactory
from tests.campaigns.ingestion import OperatorClient
from tests.concurrency import POSTGRES_ONLY, race

pytestmark = POSTGRES_ONLY

PLAYERS = 40


def post_together(api, name, payloads):
    """POST every payload at the same moment, each through its own client and connection."""
    clients = [OperatorClient(Client(), api.credential) for _ in payloads]
    responses, _ = race([lambda c=c, p=p: c.post(name, p) for c, p in zip(clients, payloads, strict=True)])
    return responses


@pytest.fixture
def api(client):
    return OperatorClient(client)


def test_the_same_batch_posted_twice_at_once_records_each_deposit_and_ftd_once(api):
    visit = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)
    for i in range(PLAYERS):
        PlayerFactory(brand=api.brand, visit=visit, user_id=f"p-{i}")
    batch = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z", "items": [
        {"user_id": f"p-{i}", "currency": "EUR", "bets_sum_cents": 100,
         "deposits": [{"deposit_id": f"d-{i}", "amount_cents": 500, "processed_at": "2024-05-01T10:00:00Z"}]}
        for i in range(PLAYERS)
    ]}

    responses = post_together(api, "activity", [batch, batch, batch])

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert sorted(r.json()["deposits"]["created"] for r in responses) == [0, 0, PLAYERS]
    assert Deposit.objects.filter(is_first=True).count() == PLAYERS
    assert PlayerEvent.objects.filter(type="first_deposit").count() == PLAYERS
    assert PlayerEvent.objects.filter(type="deposit").count() == PLAYERS


def test_two_batches_with_different_first_deposits_at_once_leave_one_ftd_per_player(api):
    PlayerFactory(brand=api.brand, user_id="p-1", visit=None, promo=None, campaign=None, affiliate=None)

    def batch(deposit_id, at):
        return {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z", "items": [
            {"user_id": "p-1", "currency": "EUR",
             "deposits": [{"deposit_id": deposit_id, "amount_cents": 500, "processed_at": at}]}]}

    post_together(api, "activity", [batch("early", "2024-05-01T08:00:00Z"), batch("late", "2024-05-01T09:00:00Z")])

    first = Deposit.objects.get(is_first=True)
    assert Deposit.objects.count() == 2
    assert Player.objects.get(user_id="p-1").first_deposit_at == first.processed_at
    assert PlayerEvent.objects.filter(type="first_deposit").get().deposit == first


def test_a_new_player_posted_twice_at_once_is_created_once_and_registered_once(api):
    visit = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)
    payload = {"players": [{"user_id": "new-1", "tag": visit.tag}]}

    responses = post_together(api, "players", [payload, payload])

    assert [r.status_code for r in responses] == [200, 200]
    assert sorted(r.json()["players"][0]["status"] for r in responses) == ["created", "updated"]
    assert Player.objects.filter(user_id="new-1").count() == 1
    assert PlayerEvent.objects.filter(type="registration").count() == 1
