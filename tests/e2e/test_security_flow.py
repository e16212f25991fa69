"""A partner secures the account in a real browser: sign in, enable 2FA from the shown secret,
sign out, sign in again with a code, and terminate another session."""
import time

import pyotp
import pytest

from tests.partners.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base, email, code_secret=None, *, code_offset=0):
    page.goto(f"{base}/partner/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if code_secret:
        page.wait_for_url("**/partner/login/code")
        code = pyotp.TOTP(code_secret).at(time.time() + code_offset)
        # Typed the way authenticator apps show it: "123 456".
        page.get_by_label("Code from your authenticator app").fill(f"{code[:3]} {code[3:]}")
        page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url("**/partner/dashboard")


def test_partner_enables_2fa_signs_in_with_a_code_and_terminates_another_session(
    browser, page, live_server, screenshot
):
    owner = UserFactory(email="lena@lighthouse-media.example", affiliate__name="Lighthouse Media")
    base = live_server.url

    # given: signed in here, and in a second browser (another device)
    _sign_in(page, base, owner.email)
    other_device = browser.new_context(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                                                  "AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1").new_page()
    _sign_in(other_device, base, owner.email)

    # when: 2FA is enabled with a code computed from the secret shown on the page
    page.goto(f"{base}/partner/profile")
    screenshot(page, "profile-before")
    page.get_by_role("link", name="Enable 2FA").click()
    page.wait_for_url("**/partner/profile/2fa/enable**")
    assert page.locator(".qr svg").count() == 1, "the QR code is rendered on the page"
    secret = page.locator("#totp-secret").inner_text().strip()
    screenshot(page, "enable-2fa")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/partner/profile")
    assert page.get_by_text("Two-factor authentication is enabled.").is_visible()
    assert page.locator("dd", has_text="Disable 2FA").locator(".badge").inner_text() == "On"

    # and: signing out and in again asks for a code (the next time step: the current one was
    # just used, and a code is never accepted twice)
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/partner/login**")
    _sign_in(page, base, owner.email, code_secret=secret, code_offset=30)

    # then: the other device is listed and can be terminated from here
    page.goto(f"{base}/partner/profile")
    sessions = page.locator("table", has_text="this session")
    assert sessions.locator("tbody tr").count() == 2
    other_row = sessions.locator("tbody tr", has_text="iOS")
    assert other_row.count() == 1
    screenshot(page, "sessions")
    other_row.get_by_role("button", name="Terminate").click()
    page.wait_for_url("**/partner/profile")
    assert page.locator("table", has_text="this session").locator("tbody tr").count() == 1

    # and the terminated device is signed out on its next click
    other_device.goto(f"{base}/partner/profile")
    assert "/partner/login" in other_device.url
    other_device.context.close()


def test_portal_works_at_phone_width(browser, live_server, screenshot):
    owner = UserFactory(email="mobile@lighthouse-media.example")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _sign_in(page, live_server.url, owner.email)
    page.goto(f"{live_server.url}/partner/profile")

    # The navigation is folded behind the menu button and opens on tap.
    assert not page.get_by_role("link", name="Documents").is_visible()
    page.get_by_label("Menu").click()
    page.get_by_role("link", name="Documents").click()
    page.wait_for_url("**/partner/documents")
    # Nothing forces horizontal scrolling of the page itself.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(page, "documents-phone")
    context.close()
