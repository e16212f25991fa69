"""Ingestion API: signatures, keys, size limits, body format and methods."""
import datetime as dt
import json

import pytest
import time_machine

from campaigns.api.auth import body_sign
from campaigns.models import OperatorCredential, Player
from tests.campaigns.factories import OperatorCredentialFactory, PlayerFactory
from tests.campaigns.ingestion import OperatorClient, url

pytestmark = pytest.mark.django_db

ONE_PLAYER = {"players": [{"user_id": "p-1", "tag": ""}]}


@pytest.fixture
def api(client):
    return OperatorClient(client)


def test_a_correctly_signed_request_is_accepted_and_marks_the_key_used(api):
    response = api.post("players", ONE_PLAYER)

    assert response.status_code == 200
    assert Player.objects.filter(brand=api.brand, user_id="p-1").exists()
    assert OperatorCredential.objects.get(pk=api.credential.pk).last_used_at is not None


def test_the_signature_may_be_upper_case_hex(api):
    body = json.dumps(ONE_PLAYER).encode()

    response = api.send("post", url("players"), body, sign=body_sign(api.credential.raw_secret, body).upper())

    assert response.status_code == 200


@pytest.mark.parametrize("sign", ["0" * 128, "not-hex-at-all", "é" * 3])
def test_a_wrong_signature_is_refused_and_nothing_is_stored(api, sign):
    response = api.post("players", ONE_PLAYER, sign=sign)

    assert response.status_code == 401
    assert response.json()["field"] == "X-Authorization-Sign"
    assert "does not match" in response.json()["error"]
    assert not Player.objects.exists()


def test_a_signature_of_another_body_is_refused(api):
    signed = json.dumps({"players": [{"user_id": "p-1"}]}).encode()
    sent = json.dumps({"players": [{"user_id": "p-2"}]}).encode()

    response = api.send("post", url("players"), sent, sign=body_sign(api.credential.raw_secret, signed))

    assert response.status_code == 401
    assert not Player.objects.exists()


def test_a_signature_with_another_secret_is_refused(api):
    body = json.dumps(ONE_PLAYER).encode()

    response = api.send("post", url("players"), body, sign=body_sign("some other secret", body))

    assert response.status_code == 401


def test_a_missing_signature_is_refused(api, client):
    body = json.dumps(ONE_PLAYER).encode()

    response = client.post(url("players"), body, content_type="application/json",
                           headers={"X-Authorization-Key": api.credential.key})

    assert response.status_code == 401
    assert response.json()["field"] == "X-Authorization-Sign"


def test_a_missing_key_is_refused(client):
    response = client.post(url("players"), json.dumps(ONE_PLAYER), content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {"error": "the X-Authorization-Key header is missing", "field": "X-Authorization-Key"}


@pytest.mark.parametrize("key", ["unknown-key", "x" * 500, "ключ", "\x00", "a\x00b"])
def test_an_unknown_key_is_refused(api, key):
    response = api.post("players", ONE_PLAYER, key=key)

    assert response.status_code == 401
    assert response.json()["field"] == "X-Authorization-Key"
    assert not Player.objects.exists()


def test_an_inactive_key_is_refused_even_when_signed_right(client):
    api = OperatorClient(client, OperatorCredentialFactory(is_active=False))

    response = api.post("players", ONE_PLAYER)

    assert response.status_code == 401
    assert not Player.objects.exists()


def test_a_secret_that_cannot_be_decrypted_is_a_401_not_a_crash(api):
    OperatorCredential.objects.filter(pk=api.credential.pk).update(secret_encrypted="garbage")

    response = api.post("players", ONE_PLAYER)

    assert response.status_code == 401
    assert "new one" in response.json()["error"]


def test_another_brands_key_sees_only_its_own_players(client):
    ours = OperatorClient(client)
    theirs = OperatorClient(client)
    PlayerFactory(brand=ours.brand, user_id="shared-id", visit=None, promo=None, campaign=None, affiliate=None)

    response = theirs.post("activity", {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z",
                                        "items": [{"user_id": "shared-id", "currency": "EUR"}]})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "user_id"


def test_last_used_at_is_written_at_most_once_a_minute(api):
    with time_machine.travel(dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        api.post("players", ONE_PLAYER)
    with time_machine.travel(dt.datetime(2024, 5, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False):
        api.post("players", ONE_PLAYER)
    assert OperatorCredential.objects.get(pk=api.credential.pk).last_used_at == dt.datetime(
        2024, 5, 1, 12, 0, tzinfo=dt.UTC)

    with time_machine.travel(dt.datetime(2024, 5, 1, 12, 1, 30, tzinfo=dt.UTC), tick=False):
        api.post("players", ONE_PLAYER)
    assert OperatorCredential.objects.get(pk=api.credential.pk).last_used_at == dt.datetime(
        2024, 5, 1, 12, 1, 30, tzinfo=dt.UTC)


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(api, settings):
    settings.INGESTION_MAX_BODY_BYTES = 100
    payload = {"players": [{"user_id": f"p-{i}"} for i in range(20)]}

    response = api.post("players", payload)

    assert response.status_code == 413
    assert response.json()["field"] == "Content-Length"
    assert not Player.objects.exists()


def test_a_body_larger_than_djangos_form_limit_but_within_ours_is_read(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    payload = {"players": [{"user_id": f"p-{i}"} for i in range(20)]}

    response = api.post("players", payload)

    assert response.status_code == 200
    assert Player.objects.count() == 20


def test_too_many_items_is_refused_with_413_naming_the_list(api, settings):
    settings.INGESTION_MAX_ITEMS = 3

    response = api.post("players", {"players": [{"user_id": f"p-{i}"} for i in range(4)]})

    assert response.status_code == 413
    assert response.json()["field"] == "players"
    assert not Player.objects.exists()


@pytest.mark.parametrize("body, says", [
    (b"{not json", "not valid JSON"),
    (b"", "empty"),
    (b"[1, 2]", "JSON object"),
    (b'"players"', "JSON object"),
    (b'{"players": [{"user_id": NaN}]}', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
])
def test_a_body_that_is_not_a_json_object_is_a_400_naming_the_problem(api, body, says):
    response = api.post("players", body)

    assert response.status_code == 400
    assert says in response.json()["error"]


def test_a_missing_or_wrong_typed_list_is_a_422_naming_it(api):
    assert api.post("players", {}).json() == {"error": '"players" is required: a list of objects',
                                                "field": "players"}
    response = api.post("players", {"players": {"user_id": "x"}})
    assert response.status_code == 422
    assert response.json()["field"] == "players"


@pytest.mark.parametrize("method, name", [("get", "players"), ("put", "activity"), ("delete", "synced_visits"),
                                          ("post", "partners")])
def test_a_wrong_method_is_a_json_405(client, method, name):
    response = getattr(client, method)(url(name))

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert "not allowed" in response.json()["error"]
    assert response["Allow"]


def test_a_get_signs_the_empty_body_not_the_query_string(api):
    query = "tags[]=1_2"

    assert api.get("partners", query).status_code == 200
    refused = api.get("partners", query, sign=body_sign(api.credential.raw_secret, query.encode()))
    assert refused.status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/players/", "/api/v1/"])
def test_an_unknown_endpoint_is_a_json_404(client, path):
    response = client.post(path, b"{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json()["error"].startswith("no such endpoint")
