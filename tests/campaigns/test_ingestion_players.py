"""POST /api/v1/players: upsert by (brand, user_id), attribution by tag or bonus code."""
import datetime as dt

import pytest
import time_machine

from campaigns.models import Player, PlayerEvent
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory
from tests.campaigns.ingestion import OperatorClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    return OperatorClient(client)


@pytest.fixture
def visit(api):
    return VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)


def registrations(player):
    return PlayerEvent.objects.filter(player=player, type=PlayerEvent.Type.REGISTRATION)


def test_a_player_with_our_tag_is_attributed_to_its_visit_promo_campaign_and_affiliate(api, visit):
    response = api.post("players", {"players": [{
        "user_id": "p-1", "tag": visit.tag, "sign_up_at": "2024-05-01T10:00:00+02:00", "country": "de",
        "language": "de", "duplicate": False,
    }]})

    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == []
    assert body["players"] == [{
        "index": 0, "user_id": "p-1", "status": "created", "attributed": True,
        "affiliate_id": visit.affiliate_id, "campaign_id": visit.promo.campaign_id, "promo_id": visit.promo_id,
        "tag": visit.tag,
    }]
    player = Player.objects.get(brand=api.brand, user_id="p-1")
    assert (player.visit, player.promo, player.campaign, player.affiliate) == (
        visit, visit.promo, visit.promo.campaign, visit.affiliate)
    assert player.sign_up_at == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
    assert (player.country, player.language, player.is_duplicate) == ("DE", "de", False)
    event = registrations(player).get()
    assert event.occurred_at == player.sign_up_at
    assert (event.affiliate, event.promo, event.visit) == (visit.affiliate, visit.promo, visit)


def test_personal_data_is_accepted_and_not_stored(api, visit):
    pii = {"email": "jane.doe@mail.example", "first_name": "Jane", "last_name": "Doe",
           "date_of_birth": "1990-01-02", "nickname": "janed", "gender": "f"}

    response = api.post("players", {"players": [{"user_id": "p-1", "tag": visit.tag, **pii}]})

    assert response.status_code == 200
    stored = Player.objects.filter(user_id="p-1").values().get()
    assert not any(str(value) in map(str, stored.values()) for value in pii.values())


@pytest.mark.parametrize("tag", ["", None, "garbage", "1_", "_1", "12_345_6", "99999_99999", "x" * 500, 42, ["1_1"]])
def test_a_player_without_a_tag_of_ours_is_kept_as_organic(api, tag):
    response = api.post("players", {"players": [{"user_id": "p-1", "tag": tag}]})

    assert response.status_code == 200
    assert response.json()["players"][0]["attributed"] is False
    player = Player.objects.get(brand=api.brand, user_id="p-1")
    assert player.affiliate is None and player.visit is None and player.promo is None
    assert not PlayerEvent.objects.exists()


def test_another_brands_tag_leaves_the_player_organic(api):
    foreign = VisitFactory()  # a promo of another brand

    response = api.post("players", {"players": [{"user_id": "p-1", "tag": foreign.tag}]})

    assert response.json()["players"][0]["attributed"] is False
    assert "not a tracking tag of this brand" in response.json()["players"][0]["warnings"][0]
    assert Player.objects.get(user_id="p-1").affiliate is None


def test_a_tag_whose_affiliate_part_is_not_the_visits_is_not_ours(api, visit):
    response = api.post("players", {"players": [{"user_id": "p-1", "tag": f"{visit.affiliate_id + 1}_{visit.pk}"}]})

    assert response.json()["players"][0]["attributed"] is False


def test_posting_a_player_again_updates_it_and_raises_registration_once(api, visit):
    api.post("players", {"players": [{"user_id": "p-1", "tag": visit.tag, "country": "DE"}]})

    response = api.post("players", {"players": [{"user_id": "p-1", "tag": visit.tag, "country": "AT",
                                                  "duplicate": True}]})

    assert response.json()["players"][0]["status"] == "updated"
    player = Player.objects.get(brand=api.brand, user_id="p-1")
    assert (player.country, player.is_duplicate) == ("AT", True)
    assert registrations(player).count() == 1


def test_the_first_attribution_is_kept(api, visit):
    other = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)
    api.post("players", {"players": [{"user_id": "p-1", "tag": visit.tag}]})

    response = api.post("players", {"players": [{"user_id": "p-1", "tag": other.tag}]})

    result = response.json()["players"][0]
    assert result["affiliate_id"] == visit.affiliate_id
    assert "first attribution is kept" in result["warnings"][0]
    assert Player.objects.get(user_id="p-1").visit == visit


def test_an_organic_player_is_attributed_by_its_first_valid_tag_and_registers_then(api, visit):
    with time_machine.travel(dt.datetime(2024, 5, 1, tzinfo=dt.UTC)):
        api.post("players", {"players": [{"user_id": "p-1", "tag": "unknown"}]})
    player = Player.objects.get(user_id="p-1")
    assert not registrations(player).exists()

    response = api.post("players", {"players": [{"user_id": "p-1", "tag": visit.tag}]})

    assert response.json()["players"][0]["attributed"] is True
    player.refresh_from_db()
    assert (player.affiliate, player.tag) == (visit.affiliate, visit.tag)
    assert registrations(player).get().occurred_at == player.sign_up_at


def test_a_bonus_code_attributes_the_player_to_its_promo_case_insensitively(api):
    promo = PromoFactory(campaign__brand=api.brand, promo_code="WELCOME100")

    response = api.post("players", {"players": [{"bonus_code": "welcome100", "user_id": "p-1"}]})

    assert response.status_code == 200
    result = response.json()["players"][0]
    assert result == {"index": 0, "user_id": "p-1", "status": "created", "attributed": True,
                      "affiliate_id": promo.affiliate_id, "campaign_id": promo.campaign_id, "promo_id": promo.pk,
                      "tag": None}
    player = Player.objects.get(user_id="p-1")
    assert (player.promo, player.campaign, player.affiliate, player.visit, player.tag) == (
        promo, promo.campaign, promo.affiliate, None, "")
    assert registrations(player).count() == 1


def test_a_valid_tag_wins_over_a_bonus_code(api, visit):
    PromoFactory(campaign__brand=api.brand, promo_code="OTHER")

    api.post("players", {"players": [{"user_id": "p-1", "tag": visit.tag, "bonus_code": "OTHER"}]})

    assert Player.objects.get(user_id="p-1").promo == visit.promo


def test_another_brands_bonus_code_is_unknown_here(api):
    PromoFactory(promo_code="THEIRS")

    response = api.post("players", {"players": [{"user_id": "p-1", "bonus_code": "theirs"}]})

    result = response.json()["players"][0]
    assert result["attributed"] is False
    assert "not a promo code of this brand" in result["warnings"][0]


def test_sign_up_at_defaults_to_now_and_a_time_without_offset_is_utc(api):
    with time_machine.travel(dt.datetime(2024, 6, 1, 9, 30, tzinfo=dt.UTC), tick=False):
        api.post("players", {"players": [{"user_id": "p-1"}, {"user_id": "p-2", "sign_up_at": "2024-05-01T10:00:00"},
                                         {"user_id": "p-3", "sign_up_at": "2024-05-02"}]})

    signed_up = dict(Player.objects.values_list("user_id", "sign_up_at"))
    assert signed_up == {
        "p-1": dt.datetime(2024, 6, 1, 9, 30, tzinfo=dt.UTC),
        "p-2": dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
        "p-3": dt.datetime(2024, 5, 2, tzinfo=dt.UTC),
    }


def test_invalid_items_are_reported_by_index_and_field_while_valid_ones_are_stored(api, visit):
    response = api.post("players", {"players": [
        {"user_id": "ok-1", "tag": visit.tag},
        {"tag": visit.tag},
        {"user_id": "bad-country", "country": "Germany"},
        "not an object",
        {"user_id": "bad-date", "sign_up_at": "yesterday"},
        {"user_id": "x" * 65},
        {"user_id": "bad-duplicate", "duplicate": "maybe"},
        {"user_id": 12345},
    ]})

    assert response.status_code == 422
    errors = [(e["index"], e["field"], e["path"]) for e in response.json()["errors"]]
    assert errors == [
        (1, "user_id", "players[1].user_id"),
        (2, "country", "players[2].country"),
        (3, None, "players[3]"),
        (4, "sign_up_at", "players[4].sign_up_at"),
        (5, "user_id", "players[5].user_id"),
        (6, "duplicate", "players[6].duplicate"),
    ]
    assert sorted(Player.objects.values_list("user_id", flat=True)) == ["12345", "ok-1"]
    assert [r["index"] for r in response.json()["players"]] == [0, 7]


def test_the_same_player_twice_in_a_batch_is_created_then_updated(api, visit):
    response = api.post("players", {"players": [{"user_id": "p-1", "country": "DE"},
                                                {"user_id": "p-1", "tag": visit.tag, "country": "FR"}]})

    assert [r["status"] for r in response.json()["players"]] == ["created", "updated"]
    player = Player.objects.get(user_id="p-1")
    assert (player.country, player.affiliate) == ("FR", visit.affiliate)
    assert registrations(player).count() == 1


def test_players_of_another_brand_with_the_same_user_id_are_separate(api, client):
    other = OperatorClient(client)
    PlayerFactory(brand=other.brand, user_id="p-1", visit=None, promo=None, campaign=None, affiliate=None,
                  country="SE")

    response = api.post("players", {"players": [{"user_id": "p-1", "country": "DE"}]})

    assert response.json()["players"][0]["status"] == "created"
    assert Player.objects.get(brand=other.brand).country == "SE"
