"""PUT /api/v1/players/{mark,unmark}_as_*, POST /api/v1/synced_visits_data, GET /api/v1/partners."""
import datetime as dt

import pytest

from campaigns.models import Player, SyncedVisits
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory
from tests.campaigns.ingestion import OperatorClient
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

FLAGS = {"disabled": "is_disabled", "duplicate": "is_duplicate", "self_excluded": "is_self_excluded"}


@pytest.fixture
def api(client):
    return OperatorClient(client)


@pytest.fixture
def visit(api):
    return VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand)


# --- flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flag, column", FLAGS.items())
def test_mark_and_unmark_set_and_clear_the_flag_by_tag_or_user_id(api, visit, flag, column):
    tagged = PlayerFactory(brand=api.brand, visit=visit, user_id="p-1")
    by_id = PlayerFactory(brand=api.brand, visit=None, promo=None, campaign=None, affiliate=None, user_id="p-2")

    response = api.put_flags(f"mark_as_{flag}", {"tags": [visit.tag, "9_9"], "user_ids": ["p-2", "nobody"]})

    assert response.status_code == 200
    assert response.json() == {
        "operation": f"mark_as_{flag}", "players_count": 2,
        "updated": {"tags": [visit.tag], "user_ids": ["p-2"]},
        "not_found": {"tags": ["9_9"], "user_ids": ["nobody"]},
    }
    assert all(getattr(Player.objects.get(pk=p.pk), column) for p in (tagged, by_id))

    api.put_flags(f"unmark_as_{flag}", {"tags": [visit.tag]})

    assert getattr(Player.objects.get(pk=tagged.pk), column) is False
    assert getattr(Player.objects.get(pk=by_id.pk), column) is True


def test_flags_never_touch_another_brands_players(api):
    foreign = PlayerFactory(user_id="p-1")  # another brand, same user_id

    response = api.put_flags("mark_as_disabled", {"tags": [foreign.tag], "user_ids": ["p-1"]})

    assert response.json()["not_found"] == {"tags": [foreign.tag], "user_ids": ["p-1"]}
    assert Player.objects.get(pk=foreign.pk).is_disabled is False


@pytest.mark.parametrize("operation", ["mark_as_vip", "disable", "mark_as_disabled_now"])
def test_an_unknown_operation_is_a_json_404(api, operation):
    response = api.put_flags(operation, {"tags": ["1_1"]})

    assert response.status_code == 404
    assert "unknown operation" in response.json()["error"]


@pytest.mark.parametrize("payload, field", [
    ({}, "tags"), ({"tags": []}, "tags"), ({"tags": "1_1"}, "tags"), ({"tags": ["1_1", None]}, "tags[1]"),
    ({"user_ids": [{}]}, "user_ids[0]"),
])
def test_a_wrong_flags_body_is_a_422_naming_the_field(api, payload, field):
    response = api.put_flags("mark_as_disabled", payload)

    assert response.status_code == 422
    assert response.json()["field"] == field


def test_flags_want_put(api, client):
    response = client.post("/api/v1/players/mark_as_disabled")

    assert response.status_code == 405


# --- synced visits ---------------------------------------------------------------------------

WINDOW = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}


def test_synced_visits_are_stored_per_promo_and_window_and_replaced_on_repost(api):
    owner = UserFactory(email="owner@partner.example")
    promo = PromoFactory(campaign__brand=api.brand, campaign__affiliate=owner.affiliate)
    link = {"code": promo.code, "affiliate_email": "Owner@Partner.example", "visits_count": 120}

    response = api.post("synced_visits", {**WINDOW, "links": [link]})
    assert response.status_code == 200
    assert response.json()["links"][0]["status"] == "created"
    api.post("synced_visits", {**WINDOW, "links": [{**link, "visits_count": 80}]})

    row = SyncedVisits.objects.get()
    assert (row.promo, row.affiliate, row.visits_count) == (promo, owner.affiliate, 80)
    assert (row.period_start, row.period_end) == (dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
                                                  dt.datetime(2024, 5, 2, tzinfo=dt.UTC))


def test_a_team_members_email_identifies_the_affiliate_too(api):
    member = MemberFactory(email="member@partner.example")
    promo = PromoFactory(campaign__brand=api.brand, campaign__affiliate=member.affiliate)

    response = api.post("synced_visits", {**WINDOW, "links": [
        {"code": promo.code, "affiliate_email": "member@partner.example", "visits_count": 1}]})

    assert response.status_code == 200


def test_synced_visits_refuse_a_foreign_code_a_wrong_email_and_wrong_counts_per_link(api):
    owner = UserFactory(email="owner@partner.example")
    promo = PromoFactory(campaign__brand=api.brand, campaign__affiliate=owner.affiliate)
    foreign = PromoFactory()
    UserFactory(email="someone@else.example")

    response = api.post("synced_visits", {**WINDOW, "links": [
        {"code": promo.code, "affiliate_email": "owner@partner.example", "visits_count": 5},
        {"code": foreign.code, "affiliate_email": "owner@partner.example", "visits_count": 5},
        {"code": promo.code, "affiliate_email": "someone@else.example", "visits_count": 5},
        {"code": promo.code, "affiliate_email": "owner@partner.example", "visits_count": -5},
        {"code": promo.code, "affiliate_email": "owner@partner.example", "visits_count": 6},
    ]})

    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [
        "links[1].code", "links[2].affiliate_email", "links[3].visits_count", "links[4].code"]
    assert SyncedVisits.objects.get().visits_count == 5


def test_synced_visits_need_a_window(api):
    response = api.post("synced_visits", {"from": WINDOW["to"], "to": WINDOW["from"], "links": []})

    assert response.status_code == 422
    assert response.json()["field"] == "to"


# --- partners --------------------------------------------------------------------------------


def test_partners_are_looked_up_by_tag_within_the_brand(api):
    owner = UserFactory(email="owner@partner.example")
    MemberFactory(affiliate=owner.affiliate, email="member@partner.example")
    visit = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand,
                         promo__campaign__affiliate=owner.affiliate, promo__promo_code="SPRING")
    foreign = VisitFactory()

    response = api.get("partners", f"tags[]={visit.tag}&tags[]={foreign.tag}&tags[]=junk")

    assert response.status_code == 200
    assert response.json() == {
        "partners": [{"tag": visit.tag, "affiliate_id": owner.affiliate_id, "name": owner.affiliate.name,
                      "email": "owner@partner.example", "campaign_id": visit.promo.campaign_id,
                      "promo_id": visit.promo_id, "promo_code": "SPRING"}],
        "not_found": [foreign.tag, "junk"],
    }


def test_partners_need_tags(api):
    response = api.get("partners")

    assert response.status_code == 422
    assert response.json()["field"] == "tags"


def test_too_many_query_parameters_is_a_json_error(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5

    response = api.get("partners", "&".join(f"tags[]=1_{i}" for i in range(10)))

    assert response.status_code == 413
    assert response.json()["field"] == "tags"
