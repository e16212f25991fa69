"""The ingestion API never answers 500: arbitrary JSON and wrong types in every field, random
bytes, hostile strings. Signed correctly, so the inputs reach validation and the database."""
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Player
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory
from tests.campaigns.ingestion import OperatorClient, url

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

NASTY_TEXT = st.sampled_from([
    "", " ", "\x00", "\ud800", "a\x00b", "1_1", "01_0001", "١٢_٣", "9" * 30 + "_1", "1_" + "9" * 19,
    "2024-05-01T00:00:00Z", "2024-13-01", "2024-02-30T00:00:00", "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00", "2024-05-01T25:00:00", "2024-05-01T00:00:00+24:00", "20240501T000000",
    "EUR", "eur", "BTC", "XXX", "WELCOME", "p-1", "x" * 70, "NaN", "Infinity", "-1", "1e309", "ß" * 40,
])
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30) | NASTY_TEXT
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=4), max_leaves=12)
MINOR = st.integers(min_value=-5, max_value=10**21) | JSON


def _maybe(fields: dict) -> st.SearchStrategy:
    """Objects where each field is absent, plausible or anything at all."""
    return st.fixed_dictionaries({}, optional={name: strategy | JSON for name, strategy in fields.items()})


PLAYER = _maybe({
    "user_id": st.sampled_from(["p-1", "p-2", "p-3"]) | NASTY_TEXT, "tag": NASTY_TEXT, "bonus_code": NASTY_TEXT,
    "sign_up_at": NASTY_TEXT, "country": st.sampled_from(["DE", "de", "D", "DEU"]), "language": NASTY_TEXT,
    "duplicate": st.booleans(), "email": st.text(max_size=10),
})
DEPOSIT = _maybe({"deposit_id": st.sampled_from(["d-1", "d-2", "d-3"]) | NASTY_TEXT, "amount_cents": MINOR,
                  "processed_at": NASTY_TEXT})
ACTIVITY_ITEM = _maybe({
    "user_id": st.sampled_from(["p-1", "p-2", "nobody"]), "currency": st.sampled_from(["EUR", "BTC", "usd"]) | NASTY_TEXT,
    "bets_sum_cents": MINOR, "wins_sum_cents": MINOR, "rounds_count": MINOR, "sb_bets_sum_cents": MINOR,
    "sb_\ud800_cents": MINOR, "x\x00_count": MINOR, "deposits": st.lists(DEPOSIT | JSON, max_size=3),
    "tag": NASTY_TEXT,
})
WINDOW = {"from": st.sampled_from(["2024-05-01T00:00:00Z"]) | NASTY_TEXT,
          "to": st.sampled_from(["2024-05-02T00:00:00Z"]) | NASTY_TEXT}


@pytest.fixture
def api(client):
    api = OperatorClient(client)
    visit = VisitFactory(promo__brand=api.brand, promo__campaign__brand=api.brand, promo__promo_code="WELCOME")
    PlayerFactory(brand=api.brand, visit=visit, user_id="p-1")
    PlayerFactory(brand=api.brand, visit=None, promo=None, campaign=None, affiliate=None, user_id="p-2")
    return api


def _body(payload) -> bytes:
    return json.dumps(payload).encode()


def _ok(response):
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"] == "application/json"
    return response


@FUZZ
@given(payload=_maybe({"players": st.lists(PLAYER | JSON, max_size=5)}) | JSON)
def test_players_never_500(api, payload):
    _ok(api.post("players", _body(payload)))


@FUZZ
@given(payload=_maybe({**WINDOW, "items": st.lists(ACTIVITY_ITEM | JSON, max_size=5)}) | JSON)
def test_activity_never_500(api, payload):
    _ok(api.post("activity", _body(payload)))


@FUZZ
@given(items=st.lists(ACTIVITY_ITEM, min_size=1, max_size=6))
def test_activity_with_a_valid_window_never_500(api, items):
    _ok(api.post("activity", _body({"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z", "items": items})))


@FUZZ
@given(operation=st.sampled_from(["mark_as_disabled", "unmark_as_self_excluded", "mark_as_x"]) | st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="/?#%"), min_size=1, max_size=20),
    payload=_maybe({"tags": st.lists(NASTY_TEXT | JSON, max_size=4), "user_ids": st.lists(NASTY_TEXT, max_size=4)}) | JSON)
def test_player_flags_never_500(api, operation, payload):
    _ok(api.send("put", url("player_flags", operation=operation), _body(payload)))


@FUZZ
@given(payload=_maybe({**WINDOW, "links": st.lists(_maybe({"code": NASTY_TEXT, "affiliate_email": NASTY_TEXT,
                                                            "visits_count": MINOR}) | JSON, max_size=4)}) | JSON)
def test_synced_visits_never_500(api, payload):
    _ok(api.post("synced_visits", _body(payload)))


@FUZZ
@given(params=st.lists(st.tuples(st.sampled_from(["tags[]", "tags", "x"]), NASTY_TEXT | st.text(max_size=20)),
                       max_size=6))
def test_partners_never_500(api, params):
    _ok(api.get("partners", urlencode(params, errors="surrogatepass")))  # invalid UTF-8 too


@FUZZ
@given(body=st.binary(max_size=300), name=st.sampled_from(["players", "activity", "synced_visits"]))
def test_random_bytes_never_500(api, body, name):
    _ok(api.post(name, body))


@FUZZ
@given(key=st.text(max_size=80) | NASTY_TEXT, sign=st.text(max_size=200) | NASTY_TEXT)
def test_random_headers_never_500(api, key, sign):
    try:
        response = api.post("players", b'{"players": []}', key=key, sign=sign)
    except (UnicodeEncodeError, ValueError):
        return  # the test client itself cannot send headers that are not latin-1
    _ok(response)


def test_the_fuzzed_brand_still_holds_sane_data(api):
    # A control: the fixture's players exist, and a plain valid call still works after all.
    response = api.post("players", {"players": [{"user_id": "p-3", "bonus_code": "welcome"}]})

    assert response.status_code == 200
    assert Player.objects.get(user_id="p-3").promo == PromoFactory._meta.model.objects.get(promo_code="WELCOME")
