"""Checking a one-time code from the user's authenticator app: the one place that does it,
for the sign-in code step and for enabling/disabling 2FA alike."""
import math

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners.errors import PartnersError
from partners.models import User


def otp_verify(*, user: User, code: str) -> bool:
    """True if `code` is the current code of `user`'s confirmed TOTP device (see totp_verify)."""
    return totp_verify(user=user, code=code) is not None


def totp_verify(*, user: User, code: str, confirmed: bool = True) -> TOTPDevice | None:
    """The device if `code` is its current code, else None. `confirmed=False` checks the
    device being set up on the enable page instead of the one in use.

    The code may contain spaces ("123 456"). django-otp rejects a code whose time step is not
    newer than the last accepted one (no replay within the step) and throttles failures
    (OTP_TOTP_THROTTLE_FACTOR: 1, 2, 4 ... seconds between attempts). The device row is
    locked so that two requests carrying the same code cannot both pass.

    Raises PartnersError (code="throttled") while the user must wait after failed attempts:
    that attempt is not checked, and the message says how long to wait.
    Returns None if the user has no such device. A wrong code returns (never raises) so that
    the throttle counter django-otp has just raised is committed, not rolled back.
    """
    code = "".join((code or "").split())
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=confirmed)
            .order_by("pk")
            .first()
        )
        if device is None:
            return None
        allowed, data = device.verify_is_allowed()
        if not allowed:
            raise PartnersError(_throttled_message(data or {}), field="code", code="throttled")
        if not (code.isdigit() and len(code) == device.digits):
            # Not a code at all: still a failed attempt, so guessing stays throttled.
            device.throttle_increment(commit=True)
            return None
        return device if device.verify_token(code) else None


def _throttled_message(data: dict) -> str:
    locked_until = data.get("locked_until")
    seconds = 1
    if locked_until is not None:
        seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many attempts with a wrong code. Wait {seconds} {unit} and try again."
