import base64
import time

import pyotp
import pytest
from django.core import mail
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners.models import Event
from tests.conftest import confirmed_totp, sign_in
from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db

ENABLE = "partners:two_factor_enable"
DISABLE = "partners:two_factor_disable"


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    # django-otp makes the next attempt after a wrong code wait a second; tests that send a
    # wrong code and then a right one would otherwise have to sleep.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def totp_for(device) -> pyotp.TOTP:
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode())


def code_for(device, *, steps_ahead: int = 0) -> str:
    return totp_for(device).at(time.time() + 30 * steps_ahead)


def wrong_code_for(device) -> str:
    valid = {code_for(device, steps_ahead=s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def open_setup(client):
    response = client.get(reverse(ENABLE))
    device = TOTPDevice.objects.get(user=response.wsgi_request.user, confirmed=False)
    return response, device


# Enable ---------------------------------------------------------------------------------------

def test_the_setup_page_shows_a_local_qr_code_and_the_secret(client):
    user = UserFactory()
    sign_in(client, user)

    response, device = open_setup(client)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "<img" not in html.split('class="qr"')[1].split("</div>")[0]
    assert base64.b32encode(device.bin_key).decode() in html
    assert not device.confirmed
    assert "Confirm" in html


def test_reloading_the_setup_page_keeps_the_same_secret(client):
    sign_in(client, UserFactory())

    _, first = open_setup(client)
    _, second = open_setup(client)

    assert first.pk == second.pk
    assert TOTPDevice.objects.count() == 1


def test_a_valid_code_with_a_space_enables_2fa_and_verifies_the_session(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    sign_in(client, user)
    _, device = open_setup(client)
    code = code_for(device)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(ENABLE), {"code": f"{code[:3]} {code[3:]}"})

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:profile")
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert Event.objects.filter(type=Event.Type.TWO_FACTOR_ENABLED, user=user).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("Two-factor authentication enabled")
    assert mail.outbox[0].to == [user.email]
    profile = client.get(reverse("partners:profile")).content.decode()
    assert "Two-factor authentication is enabled." in profile
    assert "Disable 2FA" in profile


def test_a_wrong_code_is_a_field_error_and_enables_nothing(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    sign_in(client, user)
    _, device = open_setup(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(ENABLE), {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert not Event.objects.filter(type=Event.Type.TWO_FACTOR_ENABLED).exists()
    assert mail.outbox == []
    # the page keeps showing the same secret to try again
    assert base64.b32encode(device.bin_key).decode() in response.content.decode()


def test_a_wrong_code_is_counted_for_throttling(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    sign_in(client, UserFactory())
    _, device = open_setup(client)

    client.post(reverse(ENABLE), {"code": wrong_code_for(device)})
    response = client.post(reverse(ENABLE), {"code": code_for(device)})

    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert not device.confirmed
    assert "Too many attempts" in response.content.decode()


def test_after_enabling_the_user_goes_back_to_a_safe_next_page(client):
    sign_in(client, UserFactory())
    _, device = open_setup(client)

    response = client.post(f"{reverse(ENABLE)}?next=/partner/wallet", {"code": code_for(device), "next": "/partner/wallet"})

    assert response.status_code == 302
    assert response["Location"] == "/partner/wallet"


@pytest.mark.parametrize("target", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"])
def test_an_outside_next_page_is_ignored(client, target):
    sign_in(client, UserFactory())
    _, device = open_setup(client)

    response = client.post(reverse(ENABLE), {"code": code_for(device), "next": target})

    assert response["Location"] == reverse("partners:profile")


def test_the_setup_page_carries_next_into_its_form(client):
    sign_in(client, UserFactory())

    html = client.get(f"{reverse(ENABLE)}?next=/partner/wallet").content.decode()

    assert 'name="next" value="/partner/wallet"' in html


def test_enable_when_already_enabled_goes_to_the_profile_with_a_message(client):
    user = UserFactory()
    sign_in(client, user, verified=True)

    response = client.get(reverse(ENABLE), follow=True)

    assert response.redirect_chain[-1][0] == reverse("partners:profile")
    assert "already enabled" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_session_opened_before_2fa_was_enabled_can_verify_itself_with_a_code(client):
    user = UserFactory()
    device = confirmed_totp(user)
    sign_in(client, user)  # not verified

    page = client.get(f"{reverse(ENABLE)}?next=/partner/wallet")
    response = client.post(reverse(ENABLE), {"code": code_for(device), "next": "/partner/wallet"})

    assert "Enter your 2FA code" in page.content.decode()
    assert response["Location"] == "/partner/wallet"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert TOTPDevice.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("code", [
    "", "12345", "1234567", "x" * 5000, "Zoë Ångström 测试 🚀", "<script>alert(1)</script>",
    "' OR 1=1 --", "١٢٣٤٥٦",
])
def test_bad_codes_are_field_errors(client, code):
    sign_in(client, UserFactory())
    _, device = open_setup(client)

    response = client.post(reverse(ENABLE), {"code": code})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error"' in html
    assert "<script>alert(1)</script>" not in html
    device.refresh_from_db()
    assert not device.confirmed


def test_the_setup_page_needs_a_signed_in_user(client):
    response = client.get(reverse(ENABLE))

    assert response.status_code == 302
    assert reverse("partners:login") in response["Location"]


# Disable --------------------------------------------------------------------------------------

def test_a_valid_code_disables_2fa(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    sign_in(client, user, verified=True)
    device = TOTPDevice.objects.get(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(DISABLE), {"code": code_for(device)})

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:profile")
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert Event.objects.filter(type=Event.Type.TWO_FACTOR_DISABLED, user=user).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("Two-factor authentication disabled")
    profile = client.get(reverse("partners:profile")).content.decode()
    assert "Enable 2FA" in profile


def test_a_wrong_code_keeps_2fa_on(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    sign_in(client, user, verified=True)
    device = TOTPDevice.objects.get(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(DISABLE), {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert mail.outbox == []


def test_disable_without_2fa_goes_to_the_profile(client):
    sign_in(client, UserFactory())

    response = client.get(reverse(DISABLE), follow=True)

    assert response.redirect_chain[-1][0] == reverse("partners:profile")
    assert "not enabled" in response.content.decode()


def test_the_code_that_enabled_2fa_cannot_disable_it_again(client):
    user = UserFactory()
    sign_in(client, user)
    _, device = open_setup(client)
    code = code_for(device)
    client.post(reverse(ENABLE), {"code": code})

    response = client.post(reverse(DISABLE), {"code": code})

    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    # the next code does work
    response = client.post(reverse(DISABLE), {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_profile_shows_2fa_status(client):
    user = UserFactory()
    sign_in(client, user)

    off = client.get(reverse("partners:profile")).content.decode()
    confirmed_totp(user)
    on = client.get(reverse("partners:profile")).content.decode()

    assert "Off</span>" in off and reverse(ENABLE) in off
    assert "On</span>" in on and reverse(DISABLE) in on
