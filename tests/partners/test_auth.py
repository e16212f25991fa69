"""Signing in and out of the partner portal: password, account state messages, the 2FA code
step, the `next` redirect and the sign-in event."""
import base64
import datetime as dt
import html
import re

import pyotp
import pytest
import time_machine
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from partners.models import Affiliate, Event
from partners.services.auth import INVALID_CREDENTIALS
from tests.conftest import PASSWORD, confirmed_totp, sign_in
from tests.partners.factories import AffiliateFactory, MemberFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("partners:login")
LOGIN_CODE = reverse("partners:login_code")
DASHBOARD = reverse("reports:dashboard")
# Inside a 30-second TOTP step, so that one frozen moment has one valid code.
NOON = dt.datetime(2025, 3, 14, 12, 0, 10, tzinfo=dt.UTC)

def text(response) -> str:
    return html.unescape(response.content.decode())


def post_login(client, email, password=PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password})


def form_errors(response) -> str:
    """The error box above the form, as the visitor reads it."""
    match = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


def totp_code(device) -> str:
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()


def is_signed_in(client) -> bool:
    return client.get(DASHBOARD).status_code == 200


# Password step -------------------------------------------------------------------------------

def test_login_page_offers_sign_up_password_reset_and_unlock_instructions(client):
    response = client.get(LOGIN)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("partners:sign_up")}"' in page
    assert f'href="{reverse("partners:password_reset")}"' in page
    assert f'href="{reverse("partners:unlock_request")}"' in page
    assert 'autocomplete="email"' in page
    assert 'autocomplete="current-password"' in page


def test_right_e_mail_and_password_sign_in_and_open_the_dashboard(client):
    user = UserFactory(email="anna@example.net")

    response = post_login(client, "anna@example.net")

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert client.session["_auth_user_id"] == str(user.pk)
    assert is_signed_in(client)
    assert user.portal_sessions.count() == 1


def test_e_mail_is_matched_regardless_of_case_and_surrounding_spaces(client):
    UserFactory(email="anna@example.net")

    response = post_login(client, "  Anna@EXAMPLE.net ")

    assert response.status_code == 302
    assert is_signed_in(client)


def test_sign_in_is_recorded_in_the_events_log_with_ip_and_browser(client):
    user = UserFactory()

    client.post(LOGIN, {"email": user.email, "password": PASSWORD},
                REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140")

    event = Event.objects.get(type=Event.Type.SIGNED_IN)
    assert event.affiliate == user.affiliate
    assert event.user == user and event.actor == user
    assert event.ip == "203.0.113.7"
    assert event.data == {"user_agent": "Firefox/140"}


def test_wrong_password_and_unknown_e_mail_get_the_very_same_answer(client):
    user = UserFactory()

    wrong_password = post_login(client, user.email, "not-the-password")
    unknown_email = post_login(client, "nobody@example.net", "not-the-password")

    assert wrong_password.status_code == unknown_email.status_code == 200
    assert form_errors(wrong_password) == form_errors(unknown_email) == f"<p>{INVALID_CREDENTIALS}</p>"
    assert not is_signed_in(client)


def test_wrong_password_is_counted_and_a_successful_sign_in_clears_the_count(client):
    user = UserFactory()

    post_login(client, user.email, "not-the-password")
    post_login(client, user.email, "still-not-it")
    user.refresh_from_db()
    assert user.failed_login_attempts == 2

    post_login(client, user.email)
    user.refresh_from_db()
    assert user.failed_login_attempts == 0


def test_blocked_user_with_the_right_password_is_told_the_account_is_blocked(client):
    user = UserFactory(is_blocked=True)

    response = post_login(client, user.email)

    assert "Your account is blocked. Contact your affiliate manager" in text(response)
    assert not is_signed_in(client)


def test_member_of_a_blocked_affiliate_is_told_the_account_is_blocked(client):
    member = MemberFactory(affiliate=AffiliateFactory(status=Affiliate.Status.BLOCKED))

    response = post_login(client, member.email)

    assert "Your account is blocked" in text(response)
    assert not is_signed_in(client)


def test_blocked_user_with_a_wrong_password_gets_only_the_generic_answer(client):
    user = UserFactory(is_blocked=True)

    response = post_login(client, user.email, "not-the-password")

    assert INVALID_CREDENTIALS in text(response)
    assert "blocked" not in text(response)


def test_owner_of_a_pending_application_is_told_it_awaits_approval(client):
    user = UserFactory(affiliate=AffiliateFactory(status=Affiliate.Status.PENDING, approved_at=None))

    response = post_login(client, user.email)

    assert "Your application is awaiting approval" in text(response)
    assert not is_signed_in(client)


def test_staff_user_is_sent_to_the_admin(client):
    manager = StaffFactory()

    response = post_login(client, manager.email)

    assert "sign in to the admin" in text(response)
    assert "_auth_user_id" not in client.session


def test_a_signed_in_partner_visiting_the_login_page_goes_to_the_dashboard(client):
    sign_in(client, UserFactory())

    response = client.get(LOGIN)

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/partner/profile", "/partner/profile"),
        ("/partner/reports?group=day", "/partner/reports?group=day"),
        ("https://evil.example/phish", DASHBOARD),
        ("//evil.example/phish", DASHBOARD),
        ("javascript:alert(1)", DASHBOARD),
        ("", DASHBOARD),
    ],
)
def test_next_is_followed_only_within_this_site(client, next_url, expected):
    user = UserFactory()

    response = client.post(f"{LOGIN}?next={next_url}", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == expected


def test_next_travels_with_the_form_from_the_login_page(client):
    page = client.get(f"{LOGIN}?next=/partner/profile").content.decode()

    assert 'name="next" value="/partner/profile"' in page


LOGIN_BAD_INPUTS = [
    ("email", "", "This field is required."),
    ("email", "x" * 5000, "Ensure this value has at most 254 characters"),
    ("email", "Zoë Ångström 测试 🚀", "Enter a valid email address."),
    ("email", "<script>alert(1)</script>", "Enter a valid email address."),
    ("email", "' OR 1=1 --", "Enter a valid email address."),
    ("password", "", "This field is required."),
    ("password", "x" * 5000, "Ensure this value has at most 1024 characters"),
    ("password", "Zoë Ångström 测试 🚀", INVALID_CREDENTIALS),
    ("password", "<script>alert(1)</script>", INVALID_CREDENTIALS),
    ("password", "' OR 1=1 --", INVALID_CREDENTIALS),
]


@pytest.mark.parametrize(("field", "value", "message"), LOGIN_BAD_INPUTS)
def test_bad_input_on_the_login_form_is_refused_safely(client, field, value, message):
    user = UserFactory()
    data = {"email": user.email, "password": PASSWORD, field: value}

    response = client.post(LOGIN, data)

    assert response.status_code == 200
    assert message in text(response)
    assert not is_signed_in(client)
    assert "<script>alert(1)</script>" not in response.content.decode()
    if field == "email" and value.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()


# Two-factor code step --------------------------------------------------------------------------

def test_with_2fa_the_password_alone_does_not_sign_in(client):
    user = UserFactory()
    confirmed_totp(user)

    response = post_login(client, user.email)

    assert response.status_code == 302
    assert response["Location"] == LOGIN_CODE
    assert "_auth_user_id" not in client.session
    page = client.get(LOGIN_CODE).content.decode()
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page


@pytest.mark.parametrize("spaced", [False, True])
def test_the_right_code_completes_the_sign_in_and_verifies_the_session(client, spaced):
    user = UserFactory()
    device = confirmed_totp(user)
    post_login(client, user.email)
    code = totp_code(device)
    if spaced:
        code = f"{code[:3]} {code[3:]}"

    response = client.post(LOGIN_CODE, {"code": code}, REMOTE_ADDR="198.51.100.4")

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert Event.objects.get(type=Event.Type.SIGNED_IN).ip == "198.51.100.4"


def test_a_code_cannot_be_used_twice(client):
    user = UserFactory()
    device = confirmed_totp(user)
    with time_machine.travel(NOON, tick=False):
        code = totp_code(device)
        post_login(client, user.email)
        assert client.post(LOGIN_CODE, {"code": code})["Location"] == DASHBOARD
        client.post(reverse("partners:logout"))

        post_login(client, user.email)
        response = client.post(LOGIN_CODE, {"code": code})

    assert response.status_code == 200
    assert "The code is not correct" in text(response)
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_is_refused_and_counted_toward_lockout(client):
    user = UserFactory()
    confirmed_totp(user)
    post_login(client, user.email)

    response = client.post(LOGIN_CODE, {"code": "000000"})

    assert response.status_code == 200
    assert "The code is not correct" in text(response)
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.failed_login_attempts == 1


def test_quick_repeated_wrong_codes_are_throttled_with_the_time_to_wait(client):
    user = UserFactory()
    device = confirmed_totp(user)
    with time_machine.travel(NOON, tick=False):
        post_login(client, user.email)
        client.post(LOGIN_CODE, {"code": "000000"})
        client.post(LOGIN_CODE, {"code": "000000"})  # waited 0 of the 1 s required: throttled
        # even the right code is not checked while throttled
        response = client.post(LOGIN_CODE, {"code": totp_code(device)})

    assert "Too many attempts with a wrong code. Wait 1 second and try again." in text(response)
    assert "_auth_user_id" not in client.session


def test_after_the_throttle_delay_the_right_code_is_accepted(client):
    user = UserFactory()
    device = confirmed_totp(user)
    with time_machine.travel(NOON, tick=False) as traveller:
        post_login(client, user.email)
        client.post(LOGIN_CODE, {"code": "000000"})
        traveller.shift(2)

        response = client.post(LOGIN_CODE, {"code": totp_code(device)})

    assert response["Location"] == DASHBOARD
    user.refresh_from_db()
    assert user.failed_login_attempts == 0


def test_wrong_codes_lock_the_account_at_the_limit(client, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.LOCKOUT_MAX_ATTEMPTS = 2
    user = UserFactory()
    confirmed_totp(user)
    with time_machine.travel(NOON, tick=False) as traveller:
        post_login(client, user.email)
        client.post(LOGIN_CODE, {"code": "000000"})
        traveller.shift(5)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(LOGIN_CODE, {"code": "000000"}, follow=True)

    user.refresh_from_db()
    assert user.is_locked
    assert response.redirect_chain[-1][0] == LOGIN
    assert "Your account is locked" in text(response)
    assert len(mailoutbox) == 1
    assert "Unlock instructions" in mailoutbox[0].subject
    # the half-finished sign-in is gone: the code page sends back to the login page
    assert client.get(LOGIN_CODE)["Location"] == LOGIN


def test_the_code_step_expires_after_five_minutes(client):
    user = UserFactory()
    device = confirmed_totp(user)
    with time_machine.travel(NOON, tick=False) as traveller:
        post_login(client, user.email)
        traveller.shift(5 * 60 + 1)

        response = client.post(LOGIN_CODE, {"code": totp_code(device)}, follow=True)

    assert response.redirect_chain[-1][0] == LOGIN
    assert "Your sign-in timed out" in text(response)
    assert "_auth_user_id" not in client.session


def test_the_code_page_without_a_password_first_sends_to_the_login_page(client):
    response = client.get(LOGIN_CODE)

    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_a_user_blocked_between_password_and_code_is_not_signed_in(client):
    user = UserFactory()
    device = confirmed_totp(user)
    post_login(client, user.email)
    user.is_blocked = True
    user.save(update_fields=["is_blocked"])

    response = client.post(LOGIN_CODE, {"code": totp_code(device)}, follow=True)

    assert "Your account is blocked" in text(response)
    assert "_auth_user_id" not in client.session


def test_next_is_kept_through_the_code_step(client):
    user = UserFactory()
    device = confirmed_totp(user)
    client.post(f"{LOGIN}?next=/partner/profile", {"email": user.email, "password": PASSWORD})

    response = client.post(LOGIN_CODE, {"code": totp_code(device)})

    assert response["Location"] == "/partner/profile"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("x" * 5000, "Ensure this value has at most 20 characters"),
        ("Zoë Ångström 测试 🚀", "Enter the 6-digit code"),
        ("<script>alert(1)</script>", "Ensure this value has at most 20 characters"),
        ("' OR 1=1 --", "Enter the 6-digit code"),
        ("abcdef", "Enter the 6-digit code"),
        ("12345", "Enter the 6-digit code"),
        ("1234567", "Enter the 6-digit code"),
    ],
)
def test_bad_input_on_the_code_form_is_refused_safely(client, value, message):
    user = UserFactory()
    confirmed_totp(user)
    post_login(client, user.email)

    response = client.post(LOGIN_CODE, {"code": value})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert message in text(response)
    assert "<script>alert(1)</script>" not in response.content.decode()
    if value.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()


# Sign-out ----------------------------------------------------------------------------------------

def test_logout_signs_out_and_says_so(client):
    user = UserFactory()
    sign_in(client, user)

    response = client.post(reverse("partners:logout"), follow=True)

    assert response.redirect_chain[-1][0] == LOGIN
    assert "You have signed out." in text(response)
    assert not is_signed_in(client)
    assert user.portal_sessions.count() == 0


def test_logout_by_get_is_not_allowed(client):
    sign_in(client, UserFactory())

    response = client.get(reverse("partners:logout"))

    assert response.status_code == 405
    assert is_signed_in(client)
