import base64

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import confirmed_totp, sign_in
from tests.partners.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.partners.urls_require_2fa")]

WITHDRAW = "/partner/wallet/withdraw"


def test_without_2fa_a_financial_action_sends_the_user_to_enable_it_with_a_reason(client):
    sign_in(client, UserFactory())

    response = client.get(WITHDRAW, follow=True)

    assert response.redirect_chain[0][0] == "/partner/profile/2fa/enable?next=%2Fpartner%2Fwallet%2Fwithdraw"
    assert "Financial actions require two-factor authentication" in response.content.decode()


def test_after_enabling_2fa_the_user_is_brought_back_to_the_action(client):
    user = UserFactory(affiliate__name="Lighthouse Media")
    sign_in(client, user)
    client.get("/partner/profile/2fa/enable?next=/partner/wallet/withdraw")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()

    response = client.post("/partner/profile/2fa/enable", {"code": code, "next": WITHDRAW}, follow=True)

    assert response.redirect_chain[-1][0] == WITHDRAW
    assert response.content.decode() == "withdraw form for Lighthouse Media"


def test_2fa_enabled_but_this_session_not_verified_is_refused(client):
    user = UserFactory()
    confirmed_totp(user)
    sign_in(client, user, verified=False)

    response = client.get(WITHDRAW)

    assert response.status_code == 302
    assert response["Location"].startswith("/partner/profile/2fa/enable")


def test_a_verified_session_reaches_the_action(client):
    sign_in(client, UserFactory(affiliate__name="Bluefin Reviews"), verified=True)

    response = client.get(WITHDRAW)

    assert response.status_code == 200
    assert response.content.decode() == "withdraw form for Bluefin Reviews"
