"""One 2FA code, two requests at the same moment: exactly one may pass.

Needs real row locks, so PostgreSQL only (SQLite serialises whole transactions anyway).
Run with DATABASE_URL=postgres://... .
"""
import base64
import threading

import pyotp
import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners.errors import PartnersError
from partners.models import User
from partners.services.otp import otp_verify
from partners.services.security import two_factor_disable, two_factor_enable_confirm
from tests.conftest import confirmed_totp
from tests.partners.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 5


def current_code(device: TOTPDevice) -> str:
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()


def race(call, user_id: int) -> list[bool]:
    """Run `call(user)` in two threads released together; True where it succeeded."""
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            user = User.objects.get(pk=user_id)
            barrier.wait(timeout=10)
            try:
                ok = bool(call(user))
            except PartnersError:
                ok = False
            with lock:
                results.append(ok)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(results) == 2
    return results


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_shared_verify_accepts_a_code_once_when_two_requests_race(round_, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = UserFactory()
    code = current_code(confirmed_totp(user))

    results = race(lambda u: otp_verify(user=u, code=code), user.pk)

    assert sorted(results) == [False, True]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_enabling_2fa_accepts_a_code_once_when_two_requests_race(round_, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    code = current_code(device)

    results = race(lambda u: two_factor_enable_confirm(user=u, code=code), user.pk)

    assert sorted(results) == [False, True]
    device.refresh_from_db()
    assert device.confirmed


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_disabling_2fa_accepts_a_code_once_when_two_requests_race(round_, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = UserFactory()
    code = current_code(confirmed_totp(user))

    results = race(lambda u: two_factor_disable(user=u, code=code), user.pk)

    assert sorted(results) == [False, True]
    assert not TOTPDevice.objects.filter(user=user).exists()
