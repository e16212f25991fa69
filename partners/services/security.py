"""A user's own security settings: two-factor authentication (enable, disable), password
change, and ending sessions (one, or all but the current one).

Codes are checked by partners.services.otp (device row locked, no replay, throttled).
"""
from django.contrib.auth import password_validation, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.mail import send_templated_mail
from partners.errors import PartnersError
from partners.models import Event, User, UserSession
from partners.services.events import event_record
from partners.services.otp import otp_verify, totp_verify
from partners.services.sessions import session_terminate, user_sessions_end

DEVICE_NAME = "Authenticator"
WRONG_CODE = (
    "This code is not valid. Enter the current 6-digit code from your authenticator app "
    "(check that the time on your phone is correct)."
)


# Two-factor authentication --------------------------------------------------------------------

@transaction.atomic
def two_factor_setup_device(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device the enable page shows as a QR code, made on first visit.

    Reloading the page keeps the same secret, so a code scanned earlier still works. The user
    row is locked so that two tabs opened at once share one device.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise PartnersError("Two-factor authentication is already enabled on your account.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def two_factor_enable_confirm(*, user: User, code: str, ip: str | None = None) -> TOTPDevice:
    """Confirm the set-up device with a code from the app: 2FA is on from now.

    The caller marks the current session as verified (django_otp.login) with the device.
    """
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise PartnersError("Two-factor authentication is already enabled on your account.")
    if not TOTPDevice.objects.filter(user=user, confirmed=False).exists():
        raise PartnersError("Open the set-up page again and scan the new QR code.", field="code")
    # Checked (and last_t committed) under the device lock before confirming: a second
    # request with the same code then finds the time step used.
    device = totp_verify(user=user, code=code, confirmed=False)
    if device is None:
        raise PartnersError(WRONG_CODE, field="code")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        if user.affiliate_id:
            event_record(affiliate=user.affiliate, type=Event.Type.TWO_FACTOR_ENABLED,
                         user=user, actor=user, ip=ip)
        send_templated_mail(
            to=[user.email],
            subject="Two-factor authentication enabled",
            template="emails/partners/two_factor_enabled.txt",
            context={"user": user, "ip": ip},
        )
    return device


def two_factor_session_verify(*, user: User, code: str) -> TOTPDevice:
    """Check a code for a session opened before 2FA was enabled; returns the device that the
    caller passes to django_otp.login."""
    if not otp_verify(user=user, code=code):
        raise PartnersError(WRONG_CODE, field="code")
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def two_factor_disable(*, user: User, code: str, ip: str | None = None) -> User:
    """Turn 2FA off after a valid current code: every OTP device of the user is removed."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise PartnersError("Two-factor authentication is not enabled on your account.")
    # Verified outside our transaction: a failure must keep its throttle increment.
    if not otp_verify(user=user, code=code):
        raise PartnersError(WRONG_CODE, field="code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        if user.affiliate_id:
            event_record(affiliate=user.affiliate, type=Event.Type.TWO_FACTOR_DISABLED,
                         user=user, actor=user, ip=ip)
        send_templated_mail(
            to=[user.email],
            subject="Two-factor authentication disabled",
            template="emails/partners/two_factor_disabled.txt",
            context={"user": user, "ip": ip},
        )
    return user


# Password --------------------------------------------------------------------------------------

@transaction.atomic
def user_password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    end_other_sessions: bool,
    keep_session_key: str | None,
    ip: str | None = None,
) -> int:
    """Change the password of a signed-in user; returns how many other sessions were ended.

    Other sessions keep working unless `end_other_sessions` (the auth hash depends on
    session_salt, not on the password). When they are ended the salt rotates, so the caller
    must re-hash the kept session (current_session_rehash).
    """
    if not user.check_password(current_password):
        raise PartnersError("Your current password is not correct.", field="current_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise PartnersError(" ".join(exc.messages), field="new_password1") from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    ended = user_sessions_end(user=user, keep_session_key=keep_session_key) if end_other_sessions else 0
    if user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.PASSWORD_CHANGED, user=user,
                     actor=user, ip=ip, data={"other_sessions_ended": ended})
    send_templated_mail(
        to=[user.email],
        subject="Your password was changed",
        template="emails/partners/password_changed.txt",
        context={"user": user, "ip": ip, "other_sessions_ended": ended},
    )
    return ended


# Sessions --------------------------------------------------------------------------------------

@transaction.atomic
def user_session_terminate(
    *, session: UserSession, actor: User, current_session_key: str | None, ip: str | None = None
) -> UserSession:
    """End one listed session (the actor's own, or a team member's for the owner)."""
    if current_session_key and session.session_key == current_session_key:
        raise PartnersError("This is the session you are using now. To end it, sign out.")
    owner = session.user
    data = {"ip": session.ip, "user_agent": session.user_agent}
    session_terminate(session=session)
    if owner.affiliate_id:
        event_record(affiliate=owner.affiliate, type=Event.Type.SESSION_TERMINATED, user=owner,
                     actor=actor, ip=ip, data=data)
    return session


@transaction.atomic
def user_other_sessions_end(*, user: User, keep_session_key: str | None, ip: str | None = None) -> int:
    """"Sign out all other sessions": returns how many ended. The caller re-hashes the kept
    session (current_session_rehash), as the salt rotates."""
    ended = user_sessions_end(user=user, keep_session_key=keep_session_key)
    if ended and user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.SESSION_TERMINATED, user=user,
                     actor=user, ip=ip, data={"other_sessions_ended": ended})
    return ended


def current_session_rehash(*, request, user: User) -> None:
    """Keep the current browser signed in after session_salt rotated.

    update_session_auth_hash() also gives the session a new key (against fixation), so the
    listed UserSession row follows it; otherwise the middleware would sign it out.
    """
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key, user=user).update(session_key=new_key)
