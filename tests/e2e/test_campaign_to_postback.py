"""The whole traffic chain in a real browser: an affiliate creates a campaign with the wizard,
copies its tracking link, a visitor follows it (302 with the tag), the operator's platform
posts a signed registration and first deposit for that tag, and the affiliate's tracker (a
loopback sink) receives both postbacks, which then show in the postbacks log."""
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.campaigns.factories import (
    BrandFactory,
    CommissionPlanFactory,
    LandingFactory,
    OperatorCredentialFactory,
)
from tests.fakes.sink import Sink
from tests.partners.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _signed_post(url: str, credential, payload: dict) -> requests.Response:
    body = json.dumps(payload).encode()
    sign = hmac.new(credential.raw_secret.encode(), body, hashlib.sha512).hexdigest()
    return requests.post(url, data=body, timeout=10, headers={
        "Content-Type": "application/json",
        "X-Authorization-Key": credential.key,
        "X-Authorization-Sign": sign,
    })


def _create_postback(page, base, campaign_url, action, url_template):
    page.goto(campaign_url)
    page.get_by_role("link", name="New postback").click()
    page.get_by_label("Action").select_option(action)
    page.get_by_label("Postback URL").fill(url_template)
    page.get_by_role("button", name="Create postback").click()
    page.wait_for_load_state()
    assert "Create postback" not in page.content(), page.locator(".form-errors, .error").all_inner_texts()


def test_wizard_link_click_signed_events_and_postbacks_arrive(browser, live_server, settings, screenshot):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True  # the tracker is a loopback sink here
    settings.TRACKING_BASE_URL = live_server.url
    brand = BrandFactory(name="Aurora Casino", base_currency="EUR")
    LandingFactory(brand=brand, name="Welcome bonus", url="https://aurora-casino.example/welcome?lang=en")
    CommissionPlanFactory(brand=brand, name="RevShare 35%")
    credential = OperatorCredentialFactory(brand=brand)
    owner = UserFactory(email="anna@lighthouse-media.example", affiliate__name="Lighthouse Media")
    base = live_server.url

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.set_default_timeout(10_000)
    with Sink() as sink:
        # given: a signed-in affiliate
        page.goto(f"{base}/partner/login")
        page.get_by_label("E-mail").fill(owner.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/partner/dashboard")

        # when: the wizard creates a campaign (name, brand, plan → landing → Direct Link)
        page.goto(f"{base}/partner/campaigns")
        page.get_by_role("link", name="Create New Campaign").click()
        page.get_by_label("Campaign name").fill("Summer reviews")
        page.get_by_label("Brand").select_option(label="Aurora Casino")
        page.get_by_label("Commission plan").select_option(label="RevShare 35% — Aurora Casino, EUR")
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Welcome bonus").check()
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Direct Link").check()
        page.get_by_role("button", name="Finish").click()
        page.wait_for_url("**/partner/campaigns/*")
        campaign_url = page.url
        screenshot(page, "campaign")

        # and: the tracking link is copied with the Copy button
        page.get_by_role("button", name="Copy").first.click()
        link = page.evaluate("navigator.clipboard.readText()")
        assert link.startswith(f"{base}/")

        # and: postbacks for registration and first deposit point at the tracker
        tracker = sink.url("/pb")
        _create_postback(page, base, campaign_url, "registration",
                         tracker + "?event=${action}&tag=${tag}&sub=${sub_id}&player=${player_id}")
        _create_postback(page, base, campaign_url, "first_deposit",
                         tracker + "?event=${action}&amount=${amount}&currency=${currency}&sub=${sub_id}")

        # and: a visitor follows the link with the affiliate's sub_id
        click = page.request.get(f"{link}?sub_id=fb-ad-7", max_redirects=0)
        assert click.status == 302
        landing = urlsplit(click.headers["location"])
        assert landing.netloc == "aurora-casino.example"
        tag = parse_qs(landing.query)["stag"][0]
        assert parse_qs(landing.query)["lang"] == ["en"]

        # and: the casino platform reports the registration and the first deposit, signed
        players = _signed_post(f"{base}/api/v1/players", credential, {"players": [
            {"tag": tag, "user_id": "aurora-5501", "country": "DE", "sign_up_at": "2026-11-20T10:00:00Z"}]})
        assert players.status_code == 200, players.text
        activity = _signed_post(f"{base}/api/v1/activity", credential, {
            "from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z",
            "items": [{"tag": tag, "user_id": "aurora-5501", "currency": "EUR",
                       "bets_sum_cents": 12000, "wins_sum_cents": 9000, "deposits_sum_cents": 5000,
                       "deposits_count": 1,
                       "deposits": [{"deposit_id": "dep-1", "amount_cents": 5000,
                                     "processed_at": "2026-11-20T10:05:00Z"}]}]})
        assert activity.status_code == 200, activity.text

        # then: the tracker got both postbacks, with the click's sub_id
        received = {r.query["event"]: r.query for r in sink.wait_for(2, timeout=10)}
        assert received["registration"]["tag"] == tag
        assert received["registration"]["sub"] == "fb-ad-7"
        assert received["first_deposit"]["amount"] == "50.00"
        assert received["first_deposit"]["currency"] == "EUR"

    # and: both deliveries are in the postbacks log with the tracker's 200
    page.goto(f"{base}/partner/postbacks/log")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert all("200" in text for text in rows.all_inner_texts())
    screenshot(page, "postbacks-log")
    context.close()
