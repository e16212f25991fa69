"""POST /api/v1/activity: idempotent windows, deposits unique by deposit_id, the FTD, events."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError

from campaigns.models import (
    Deposit,
    Player,
    PlayerActivity,
    PlayerEvent,
    Postback,
    PostbackDelivery,
)
from campaigns.services.ingestion import activity as ingestion_activity
from campaigns.services.ingestion.common import NOT_STORED
from tests.campaigns.factories import PlayerFactory, VisitFactory
from tests.campaigns.ingestion import OperatorClient

pytestmark = pytest.mark.django_db

FROM, TO = "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"
MAY_1 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


@pytest.fixture
def api(client):
    return OperatorClient(client)


@pytest.fixture
def player(api):
    visit = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)
    return PlayerFactory(brand=api.brand, visit=visit, user_id="p-1")


def post(api, items, start=FROM, end=TO):
    return api.post("activity", {"from": start, "to": end, "items": items})


def deposit(deposit_id, cents, at):
    return {"deposit_id": deposit_id, "amount_cents": cents, "processed_at": at}


def events(type=None):
    query = PlayerEvent.objects.all()
    return query.filter(type=type) if type else query


ALL_FIELDS = {
    "bets_sum_cents": ("bets_sum", 1999, Decimal("19.99")),
    "wins_sum_cents": ("wins_sum", 1000, Decimal("10.00")),
    "wager_cents": ("wager_sum", 1, Decimal("0.01")),
    "bonus_issues_sum_cents": ("bonus_issues_sum", 250, Decimal("2.50")),
    "additional_deductions_sum_cents": ("additional_deductions_sum", 3, Decimal("0.03")),
    "chargebacks_sum_cents": ("chargebacks_sum", 10000, Decimal("100.00")),
    "deposits_sum_cents": ("deposits_sum", 123456789, Decimal("1234567.89")),
    "cashouts_sum_cents": ("cashouts_sum", 99, Decimal("0.99")),
    "game_provider_fees_sum_cents": ("game_provider_fees_sum", 7, Decimal("0.07")),
    "payment_system_fees_sum_cents": ("payment_system_fees_sum", 70, Decimal("0.70")),
    "jackpot_fees_sum_cents": ("jackpot_fees_sum", 700, Decimal("7.00")),
    "rounds_count": ("rounds_count", 321, 321),
    "chargebacks_count": ("chargebacks_count", 2, 2),
    "deposits_count": ("deposits_count", 3, 3),
    "cashouts_count": ("cashouts_count", 1, 1),
}


def test_minor_units_become_exact_decimals_and_unknown_cents_go_to_extra(api, player):
    item = {"user_id": "p-1", "tag": player.tag, "currency": "EUR",
            **{wire: value for wire, (_, value, _) in ALL_FIELDS.items()},
            "sb_bets_sum_cents": 12345, "sb_bets_count": 4, "some unknown key": "ignored"}

    response = post(api, [item])

    assert response.status_code == 200
    assert response.json()["stored"] == 1
    activity = PlayerActivity.objects.get(player=player)
    assert (activity.currency, activity.period_start, activity.period_end) == ("EUR", MAY_1, MAY_1 + dt.timedelta(days=1))
    for column, _, expected in ALL_FIELDS.values():
        assert getattr(activity, column) == expected, column
    assert activity.extra == {"sb_bets_sum_cents": "123.45", "sb_bets_count": 4}


def test_crypto_amounts_are_converted_with_eight_places(api, player):
    response = post(api, [{"user_id": "p-1", "currency": "BTC", "bets_sum_cents": 150_000_000,
                           "sb_wins_sum_cents": 1}])

    assert response.status_code == 200
    activity = PlayerActivity.objects.get(player=player)
    assert activity.bets_sum == Decimal("1.5")
    assert activity.extra == {"sb_wins_sum_cents": "0.00000001"}


def test_crypto_minor_units_are_stored_exactly_to_the_satoshi(api, player):
    response = post(api, [{"user_id": "p-1", "currency": "BTC", "bets_sum_cents": 12_345,
                           "deposits": [deposit("btc-1", 5, "2024-05-01T09:00:00Z")]}])

    assert response.status_code == 200, response.json()
    assert PlayerActivity.objects.get(player=player).bets_sum == Decimal("0.00012345")
    assert player.deposits.get().amount == Decimal("0.00000005")


def test_posting_the_same_window_again_replaces_it(api, player):
    first = [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 1000, "wins_sum_cents": 500,
              "sb_bets_sum_cents": 10}]
    post(api, first)
    post(api, first)
    assert PlayerActivity.objects.get(player=player).bets_sum == Decimal("10.00")

    post(api, [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 3000}])

    activity = PlayerActivity.objects.get(player=player)
    assert (activity.bets_sum, activity.wins_sum, activity.extra) == (Decimal("30.00"), Decimal("0.00"), {})


def test_the_same_window_given_in_another_offset_is_the_same_window(api, player):
    post(api, [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 1000}])

    post(api, [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 2000}],
         start="2024-05-01T02:00:00+02:00", end="2024-05-01T20:00:00-04:00")

    assert PlayerActivity.objects.get(player=player).bets_sum == Decimal("20.00")


def test_other_windows_and_currencies_are_other_rows(api, player):
    post(api, [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 100},
               {"user_id": "p-1", "currency": "USD", "bets_sum_cents": 200}])
    post(api, [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 300}], start=TO, end="2024-05-03T00:00:00Z")

    assert PlayerActivity.objects.filter(player=player).count() == 3


def test_an_ftd_raises_first_deposit_and_deposit_and_other_deposits_raise_deposit(api, player):
    response = post(api, [{"user_id": "p-1", "currency": "EUR", "deposits": [
        deposit("d-2", 5000, "2024-05-01T12:00:00Z"),
        deposit("d-1", 1999, "2024-05-01T09:00:00Z"),
    ]}])

    assert response.json()["deposits"] == {"created": 2, "known": 0, "first_deposits": 1}
    first = Deposit.objects.get(deposit_id="d-1")
    assert (first.is_first, first.amount, first.currency, first.player) == (True, Decimal("19.99"), "EUR", player)
    assert Deposit.objects.get(deposit_id="d-2").is_first is False
    player.refresh_from_db()
    assert player.first_deposit_at == dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)
    ftd = events(PlayerEvent.Type.FIRST_DEPOSIT).get()
    assert (ftd.deposit, ftd.amount, ftd.currency, ftd.occurred_at) == (first, Decimal("19.99"), "EUR",
                                                                        first.processed_at)
    assert (ftd.affiliate, ftd.promo, ftd.visit) == (player.affiliate, player.promo, player.visit)
    assert sorted(events(PlayerEvent.Type.DEPOSIT).values_list("deposit__deposit_id", flat=True)) == ["d-1", "d-2"]


def test_a_replayed_deposit_is_stored_once_and_raises_nothing(api, player):
    items = [{"user_id": "p-1", "currency": "EUR", "deposits": [deposit("d-1", 1000, "2024-05-01T09:00:00Z")]}]
    post(api, items)

    response = post(api, items)
    later = post(api, [{"user_id": "p-1", "currency": "EUR", "deposits": [
        deposit("d-1", 1000, "2024-05-01T09:00:00Z"), deposit("d-2", 500, "2024-05-01T10:00:00Z")]}],
        start=TO, end="2024-05-03T00:00:00Z")

    assert response.json()["deposits"] == {"created": 0, "known": 1, "first_deposits": 0}
    assert later.json()["deposits"] == {"created": 1, "known": 1, "first_deposits": 0}
    assert Deposit.objects.filter(deposit_id="d-1").count() == 1
    assert events(PlayerEvent.Type.FIRST_DEPOSIT).count() == 1
    assert events(PlayerEvent.Type.DEPOSIT).count() == 2


def test_the_ftd_never_moves_when_an_earlier_deposit_arrives_later(api, player):
    post(api, [{"user_id": "p-1", "currency": "EUR", "deposits": [deposit("d-late", 1000, "2024-05-01T12:00:00Z")]}])

    post(api, [{"user_id": "p-1", "currency": "EUR", "deposits": [deposit("d-early", 500, "2024-04-30T08:00:00Z")]}],
         start="2024-04-30T00:00:00Z", end=FROM)

    assert Deposit.objects.get(is_first=True).deposit_id == "d-late"
    player.refresh_from_db()
    assert player.first_deposit_at == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    assert events(PlayerEvent.Type.FIRST_DEPOSIT).get().deposit.deposit_id == "d-late"
    assert events(PlayerEvent.Type.DEPOSIT).count() == 2


def test_the_ftd_is_the_earliest_across_currencies_of_one_batch(api, player):
    post(api, [
        {"user_id": "p-1", "currency": "USD", "deposits": [deposit("usd-1", 1000, "2024-05-01T12:00:00Z")]},
        {"user_id": "p-1", "currency": "EUR", "deposits": [deposit("eur-1", 1000, "2024-05-01T11:00:00Z")]},
    ])

    assert Deposit.objects.get(is_first=True).deposit_id == "eur-1"


def test_an_organic_players_deposits_are_stored_and_raise_events_without_an_affiliate(api):
    organic = PlayerFactory(brand=api.brand, visit=None, promo=None, campaign=None, affiliate=None, user_id="o-1")

    post(api, [{"user_id": "o-1", "currency": "EUR", "deposits": [deposit("d-1", 1000, "2024-05-01T12:00:00Z")]}])

    organic.refresh_from_db()
    assert organic.first_deposit_at is not None
    assert set(events().values_list("type", "affiliate")) == {("first_deposit", None), ("deposit", None)}


@pytest.mark.parametrize("field, value", [
    ("bets_sum_cents", 19.99), ("bets_sum_cents", "1999"), ("bets_sum_cents", True), ("bets_sum_cents", -1),
    ("bets_sum_cents", 10**21), ("rounds_count", 1.0), ("rounds_count", 2**31), ("sb_bets_sum_cents", "5"),
    ("deposits", "d-1"), ("currency", "XXX"), ("user_id", None),
])
def test_a_wrong_value_is_a_per_item_error_naming_its_path_and_valid_items_are_stored(api, player, field, value):
    PlayerFactory(brand=api.brand, user_id="p-2", visit=None, promo=None, campaign=None, affiliate=None)
    bad = {"user_id": "p-2", "currency": "EUR", "deposits": [deposit("d-bad", 100, "2024-05-01T10:00:00Z")]}
    bad[field] = value
    body = {"from": FROM, "to": TO, "items": [
        {"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 100,
         "deposits": [deposit("d-ok", 100, "2024-05-01T10:00:00Z")]},
        bad,
    ]}
    # floats must reach us as JSON numbers with a fraction
    response = api.post("activity", body)

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["index"], error["path"]) == (1, f"items[1].{field}")
    assert PlayerActivity.objects.get().player == player
    assert list(Deposit.objects.values_list("deposit_id", flat=True)) == ["d-ok"]


@pytest.mark.parametrize("bad_deposit, path", [
    ({"amount_cents": 100, "processed_at": "2024-05-01T10:00:00Z"}, "deposits[0].deposit_id"),
    ({"deposit_id": "d", "amount_cents": 1.5, "processed_at": "2024-05-01T10:00:00Z"}, "deposits[0].amount_cents"),
    ({"deposit_id": "d", "amount_cents": 100, "processed_at": "soon"}, "deposits[0].processed_at"),
    ("d-1", "deposits[0]"),
])
def test_a_wrong_deposit_refuses_its_whole_item(api, player, bad_deposit, path):
    response = post(api, [{"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 100, "deposits": [bad_deposit]}])

    assert response.json()["errors"][0]["path"] == f"items[0].{path}"
    assert not PlayerActivity.objects.exists()
    assert not Deposit.objects.exists()


def test_an_unknown_player_is_an_error_pointing_to_the_players_endpoint(api):
    response = post(api, [{"user_id": "nobody", "currency": "EUR"}])

    assert response.status_code == 422
    assert "post it to /api/v1/players first" in response.json()["errors"][0]["message"]


def test_a_deposit_id_of_another_player_is_refused(api, player):
    PlayerFactory(brand=api.brand, user_id="p-2", visit=None, promo=None, campaign=None, affiliate=None)
    post(api, [{"user_id": "p-1", "currency": "EUR", "deposits": [deposit("d-1", 1000, "2024-05-01T09:00:00Z")]}])

    response = post(api, [{"user_id": "p-2", "currency": "EUR", "bets_sum_cents": 5,
                           "deposits": [deposit("d-1", 1000, "2024-05-01T09:00:00Z")]}])

    assert response.json()["errors"][0]["path"] == "items[0].deposits[0].deposit_id"
    assert PlayerActivity.objects.count() == 1


def test_repeats_inside_one_batch_are_refused_on_the_later_item(api, player):
    response = post(api, [
        {"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 1},
        {"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 2},
        {"user_id": "p-1", "currency": "USD", "deposits": [deposit("d-1", 1, "2024-05-01T09:00:00Z"),
                                                           deposit("d-1", 1, "2024-05-01T09:00:00Z")]},
    ])

    assert [e["path"] for e in response.json()["errors"]] == ["items[1].currency", "items[2].deposits[1].deposit_id"]
    assert PlayerActivity.objects.get().bets_sum == Decimal("0.01")


@pytest.mark.parametrize("start, end, field", [
    (FROM, FROM, "to"), (TO, FROM, "to"), ("yesterday", TO, "from"), (FROM, None, "to"), (20240501, TO, "from"),
])
def test_a_wrong_window_is_refused_as_a_whole(api, player, start, end, field):
    response = post(api, [{"user_id": "p-1", "currency": "EUR"}], start=start, end=end)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert not PlayerActivity.objects.exists()


def test_a_window_without_an_offset_is_utc(api, player):
    post(api, [{"user_id": "p-1", "currency": "EUR"}], start="2024-05-01T00:00:00", end="2024-05-02")

    activity = PlayerActivity.objects.get()
    assert (activity.period_start, activity.period_end) == (MAY_1, MAY_1 + dt.timedelta(days=1))


def test_a_database_failure_of_one_item_leaves_nothing_of_it_and_keeps_the_others(api, player, monkeypatch):
    doomed = PlayerFactory(brand=api.brand, user_id="p-2", visit=None, promo=None, campaign=None, affiliate=None)
    real = ingestion_activity.player_events_raise_bulk

    def failing_for_p2(*, events, now):
        if any(event["player"] == doomed.pk for event in events):
            raise DatabaseError("simulated")
        real(events=events, now=now)

    monkeypatch.setattr(ingestion_activity, "player_events_raise_bulk", failing_for_p2)

    response = post(api, [
        {"user_id": "p-1", "currency": "EUR", "bets_sum_cents": 1, "deposits": [deposit("a", 1, "2024-05-01T09:00:00Z")]},
        {"user_id": "p-2", "currency": "EUR", "bets_sum_cents": 2, "deposits": [deposit("b", 1, "2024-05-01T09:00:00Z")]},
    ])

    assert response.status_code == 422
    assert response.json()["errors"] == [{"index": 1, "field": None, "path": "items[1]",
                                          "message": NOT_STORED}]
    assert list(PlayerActivity.objects.values_list("player__user_id", flat=True)) == ["p-1"]
    assert list(Deposit.objects.values_list("deposit_id", flat=True)) == ["a"]
    assert Player.objects.get(user_id="p-2").first_deposit_at is None
    assert Player.objects.get(user_id="p-1").first_deposit_at is not None
    assert events().count() == 2


def test_postbacks_are_queued_for_new_events_of_affiliates_with_postbacks(api, player):
    Postback.objects.create(affiliate=player.affiliate, scope=Postback.Scope.ACCOUNT,
                            action=PlayerEvent.Type.FIRST_DEPOSIT,
                            url_template="https://tracker.example/pb?amount=${amount}&c=${currency}")
    items = [{"user_id": "p-1", "currency": "EUR", "deposits": [deposit("d-1", 1999, "2024-05-01T09:00:00Z"),
                                                                deposit("d-2", 1, "2024-05-01T10:00:00Z")]}]

    post(api, items)
    post(api, items)  # a replay queues nothing more

    delivery = PostbackDelivery.objects.get()
    assert delivery.event.type == PlayerEvent.Type.FIRST_DEPOSIT
    assert delivery.url == "https://tracker.example/pb?amount=19.99&c=EUR"


def test_many_players_in_one_batch(api):
    visit = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)
    Player.objects.bulk_create(
        Player(brand=api.brand, user_id=f"u{i}", sign_up_at=MAY_1, affiliate=visit.affiliate, visit=visit,
               promo=visit.promo, campaign=visit.promo.campaign, tag=visit.tag)
        for i in range(300)
    )
    items = [{"user_id": f"u{i}", "currency": "EUR", "bets_sum_cents": i,
              "deposits": [deposit(f"d{i}", 100 + i, "2024-05-01T09:00:00Z")]} for i in range(300)]

    response = post(api, items)

    assert response.status_code == 200
    assert response.json()["deposits"] == {"created": 300, "known": 0, "first_deposits": 300}
    assert events(PlayerEvent.Type.FIRST_DEPOSIT).count() == 300
    assert events(PlayerEvent.Type.DEPOSIT).count() == 300
    assert Player.objects.filter(first_deposit_at__isnull=True).count() == 0
    assert Deposit.objects.get(deposit_id="d299").amount == Decimal("3.99")
