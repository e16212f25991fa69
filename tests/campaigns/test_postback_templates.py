"""Postback URL templates: the lint run on save, and rendering with an event's values."""
import datetime as dt
from decimal import Decimal

import pytest

from backoffice import outbound
from campaigns.models import PlayerEvent
from campaigns.postback_templates import (
    all_variables,
    custom_params,
    event_variables,
    json_body,
    lint,
    render,
)
from campaigns.services.events import player_event_raise
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])


# The manual's wrong-syntax table, and more: each error shows the corrected URL.
LINT_ERRORS = [
    ("http://track.me/affiliate?a={track_id}", "http://track.me/affiliate?a=${track_id}"),
    ("http://track.me/affiliate?b=$[visit_id]", "http://track.me/affiliate?b=${visit_id}"),
    ("http://track.me/affiliate?b=$(visit_id)", "http://track.me/affiliate?b=${visit_id}"),
    ("http://track.me/affiliate/c=${clickID}", "http://track.me/affiliate?c=${clickID}"),
    ("https://t.me/pb&a=1", "https://t.me/pb?a=1"),
    ("https://t.me/pb/a=${x}&b=${promo_id}", "https://t.me/pb?a=${x}&b=${promo_id}"),
    ("http://t.me/pb?a=${promo_id", "${ is not closed"),
    ("http://t.me/pb?a=${}", "Variable names may contain"),
    ("http://t.me/pb?a=${promo id}", "Variable names may contain"),
    ("ftp://t.me/pb", "must start with http:// or https://"),
    ("t.me/pb?a=1", "must start with http:// or https://"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("http://t.me/pb?a=b c", "spaces"),
    ("http://${brand}.t.me/pb", "The host cannot contain variables"),
    ("http://127.0.0.1/pb?a=${promo_id}", "loopback"),
    ("http://169.254.169.254/latest", "link-local"),
    ("http://2130706433/pb", "loopback"),
    ("http://localhost:8000/pb", "localhost"),
    ("", "Enter the postback URL"),
]


@pytest.mark.parametrize(("template", "expected"), LINT_ERRORS)
def test_wrong_syntax_is_refused_with_the_correction_shown(template, expected):
    result = lint(template)

    assert not result.ok
    assert any(expected in error for error in result.errors), result.errors


@pytest.mark.parametrize("template", [
    "http://example.com?promo_id=${promo_id}&visit_id=${visit_id}&amount=${amount}&currency=${currency}",
    "https://tracker.example/postback?cid=${campaign_id}&event=${event_id}&ts=${timestamp}",
    "http://trackerdomain.com/p.ashx?o=1607&e=525&f=pb&r=${visit_id}",
    "https://tracker.example/pb",
    "https://tracker.example:8443/pb/${tag}?p=${player_id}",  # a variable in the path is fine
])
def test_correct_templates_pass(template):
    result = lint(template)

    assert result.ok, result.errors
    assert result.warnings == []


def test_unknown_variables_are_a_warning_not_an_error():
    result = lint("http://example.com?promo_id=${promo_id}&b=${webID}&c=${clickID}")

    assert result.ok
    assert len(result.warnings) == 2
    assert "${clickID} is not a built-in variable" in result.warnings[0]
    assert "?clickID=" in result.warnings[0]


def test_private_targets_pass_the_lint_when_the_development_setting_allows_them(settings):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    assert lint("http://127.0.0.1:9000/pb?a=${promo_id}").ok


def test_rendering_encodes_values_and_keeps_unknown_placeholders_verbatim():
    url = render(
        "https://t.example/pb?name=${campaign_name}&code=${promo_code}&sub=${sub_id}&x=${nothing}",
        {"campaign_name": "Été & Co /100% bonus?", "promo_code": None, "sub_id": "a b+c=d#e"},
    )

    assert url == (
        "https://t.example/pb?name=%C3%89t%C3%A9%20%26%20Co%20%2F100%25%20bonus%3F"
        "&code=${promo_code}&sub=a%20b%2Bc%3Dd%23e&x=${nothing}"
    )


@pytest.mark.django_db
def test_an_event_feeds_every_builtin_variable_and_the_visits_custom_params():
    # given a player who came through a click with custom parameters
    promo = PromoFactory(promo_code="WELCOME", campaign__name="Summer Slots")
    visit = VisitFactory(promo=promo, params={"clickID": "c-42", "webID": "w 7", "amount": "999"})
    player = PlayerFactory(visit=visit, country="DE")
    at = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)

    # when it deposits
    event = player_event_raise(type=PlayerEvent.Type.FIRST_DEPOSIT, player=player, occurred_at=at,
                               amount=Decimal("25.50"), currency="EUR")
    values = all_variables(event_variables(event), custom_params(visit))

    # then
    assert values["promo_id"] == str(promo.pk)
    assert values["promo_code"] == "WELCOME"
    assert values["campaign_id"] == str(promo.campaign_id)
    assert values["campaign_name"] == "Summer Slots"
    assert values["brand"] == promo.brand.name
    assert values["tag"] == f"{visit.affiliate_id}_{visit.pk}"
    assert values["visit_id"] == str(visit.pk)
    assert values["player_id"] == str(player.pk)  # ours, never the operator's user_id
    assert player.user_id not in values.values()
    assert values["action"] == "first_deposit"
    assert values["amount"] == "25.50"  # the event's, not the click's ?amount=999
    assert values["currency"] == "EUR"
    assert values["country"] == "DE"
    assert values["event_id"] == str(event.public_id)
    assert values["timestamp"] == str(int(at.timestamp()))
    assert values["clickID"] == "c-42"
    url = render("https://t.example/pb?c=${clickID}&w=${webID}&a=${amount}", values)
    assert url == "https://t.example/pb?c=c-42&w=w%207&a=25.50"
    assert '"clickID":"c-42"' in json_body(values)


@pytest.mark.django_db
def test_a_registration_has_no_amount_so_the_placeholder_stays():
    player = PlayerFactory()
    event = player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player,
                               occurred_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))

    url = render("https://t.example/pb?a=${amount}&p=${player_id}", event_variables(event))

    assert url == f"https://t.example/pb?a=${{amount}}&p={player.pk}"
