"""Signing in (password, then the 2FA code), failed-attempt lockout, sign-up of a new partner
account, and setting a password from an e-mailed link (reset or team invitation).

Messages that say something about an account (locked, blocked, pending) are only given after
the correct password, so the login form never tells whether an e-mail is registered.
"""
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.mail import absolute_url, send_templated_mail
from partners.errors import PartnersError
from partners.models import Affiliate, Event, User
from partners.portal import has_2fa
from partners.services import accounts
from partners.services.events import event_record
from partners.services.otp import otp_verify
from partners.services.sessions import user_sessions_end

INVALID_CREDENTIALS = "Invalid e-mail or password."
INVALID_CODE = "The code is not correct. Enter the current 6-digit code from your authenticator app."
LOCKED = (
    "Your account is locked after too many unsuccessful sign-in attempts. Follow the link in "
    "the \u201cUnlock instructions\u201d e-mail we sent you."
)
BLOCKED = (
    "Your account is blocked. Contact your affiliate manager or the program's support team "
    "to find out why."
)
PENDING = (
    "Your application is awaiting approval by the program's manager. "
    "We will e-mail you as soon as your account is approved."
)
STAFF = "This is a program manager's account: sign in to the admin instead."
# A tracking tag "<affiliate id>_<visit id>", as Affiliate.referral_tag holds it (64 chars).
REFERRAL_TAG_RE = re.compile(r"[0-9]{1,31}_[0-9]{1,32}")


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in attempt came to.

    ok: the user may be signed in now. needs_code: the password was right, and the 2FA code
    must follow. Otherwise `error` is the message to show, and `reason` says which one it is
    ("invalid", "locked", "blocked", "pending", "staff").
    """

    user: User | None = None
    needs_code: bool = False
    error: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.error and not self.needs_code


def _refused(user: User) -> LoginResult | None:
    """Why a user who knows their password still may not enter the portal, if they may not."""
    if user.is_locked:
        return LoginResult(user=user, error=LOCKED, reason="locked")
    affiliate = user.affiliate
    if user.is_blocked or not user.is_active or (
        affiliate is not None and affiliate.status == Affiliate.Status.BLOCKED
    ):
        return LoginResult(user=user, error=BLOCKED, reason="blocked")
    if affiliate is None:
        return LoginResult(user=user, error=STAFF, reason="staff")
    if affiliate.status == Affiliate.Status.PENDING:
        return LoginResult(user=user, error=PENDING, reason="pending")
    return None


def login_failure_record(*, user: User, ip: str | None = None) -> User:
    """Count a failed password or code; the attempt that reaches LOCKOUT_MAX_ATTEMPTS locks the
    user and e-mails unlock instructions (once: later failures do not re-lock, which would
    invalidate the link already sent)."""
    with transaction.atomic():
        # The UPDATE with F() counts concurrent failures one by one, and the row stays locked
        # (select_for_update) until commit, so exactly one of them sees the threshold reached.
        User.objects.filter(pk=user.pk).update(failed_login_attempts=F("failed_login_attempts") + 1)
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_locked and user.failed_login_attempts >= settings.LOCKOUT_MAX_ATTEMPTS:
            accounts.user_lock(user=user, ip=ip)
    return user


def user_login_attempt(*, email: str, password: str, ip: str | None = None) -> LoginResult:
    """Check e-mail and password. See LoginResult for the outcomes."""
    email = User.objects.normalize_email(email)
    user = User.objects.select_related("affiliate").filter(email=email).first() if email else None
    if user is None:
        # Same hashing work as a real check, so timing does not tell which e-mails exist.
        make_password(password)
        return LoginResult(error=INVALID_CREDENTIALS, reason="invalid")
    if not user.check_password(password):
        login_failure_record(user=user, ip=ip)
        return LoginResult(error=INVALID_CREDENTIALS, reason="invalid")
    refused = _refused(user)
    if refused is not None:
        return refused
    if has_2fa(user):
        # The failed-attempt count is cleared only after the code: otherwise knowing the
        # password would give unlimited code guesses.
        return LoginResult(user=user, needs_code=True)
    return LoginResult(user=user)


def user_login_code_attempt(*, user: User, code: str, ip: str | None = None) -> LoginResult:
    """Second step for a user with 2FA: check the code (the password was right).

    Raises PartnersError while code checks are throttled. A wrong code counts toward lockout.
    """
    user = User.objects.select_related("affiliate").get(pk=user.pk)
    refused = _refused(user)
    if refused is not None:
        return refused
    if otp_verify(user=user, code=code):
        return LoginResult(user=user)
    user = login_failure_record(user=user, ip=ip)
    if user.is_locked:
        return LoginResult(user=user, error=LOCKED, reason="locked")
    return LoginResult(user=user, error=INVALID_CODE, reason="invalid")


def login_device(*, user: User) -> TOTPDevice | None:
    """The device a 2FA sign-in was verified with (to mark the session as verified)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def user_signed_in(*, user: User, ip: str | None = None, user_agent: str = "") -> User:
    """Book a completed sign-in: clear the failed-attempt count and log the event."""
    if user.failed_login_attempts:
        User.objects.filter(pk=user.pk).update(failed_login_attempts=0)
        user.failed_login_attempts = 0
    if user.affiliate_id:
        event_record(
            affiliate=user.affiliate, type=Event.Type.SIGNED_IN, user=user, actor=user, ip=ip,
            data={"user_agent": user_agent[:512]},
        )
    return user


# Sign-up --------------------------------------------------------------------------------------

@transaction.atomic
def affiliate_sign_up(
    *,
    name: str,
    email: str,
    password: str,
    phone: str,
    traffic_description: str,
    company_name: str = "",
    messenger: str = "",
    messenger_id: str = "",
    website: str = "",
    country: str = "",
    referral_tag: str = "",
) -> Affiliate:
    """Create a pending partner account and its owner; e-mail the applicant and the managers.

    A manager approves the account in the admin (accounts.affiliate_approve), which e-mails
    the owner; until then the owner cannot sign in. `referral_tag` is the tracking tag of the
    sub-affiliate promo the applicant came through (campaigns connects them on approval); one
    not of the form "<affiliate id>_<visit id>" is dropped.
    """
    email = User.objects.normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise PartnersError("An account with this e-mail already exists.", field="email")
    owner = User(email=email, first_name=name[:100], phone=phone)
    try:
        validate_password(password, owner)
    except ValidationError as exc:
        raise PartnersError(" ".join(exc.messages), field="password1") from exc
    affiliate = Affiliate.objects.create(
        name=name,
        company_name=company_name,
        status=Affiliate.Status.PENDING,
        phone=phone,
        messenger=messenger if messenger_id else "",
        messenger_id=messenger_id if messenger else "",
        website=website,
        country=country.upper(),
        traffic_description=traffic_description,
        referral_tag=referral_tag if REFERRAL_TAG_RE.fullmatch(referral_tag or "") else "",
    )
    owner.affiliate = affiliate
    owner.role = User.Role.OWNER
    if messenger and messenger_id:
        owner.messenger = f"{Affiliate.Messenger(messenger).label} {messenger_id}"[:100]
    owner.set_password(password)
    try:
        with transaction.atomic():
            owner.save()
    except IntegrityError as exc:
        # Two sign-ups with the same e-mail at once: the unique index decides.
        raise PartnersError("An account with this e-mail already exists.", field="email") from exc

    send_templated_mail(
        to=[owner.email],
        subject="We received your application",
        template="emails/partners/sign_up_received.txt",
        context={"user": owner, "affiliate": affiliate},
    )
    staff_emails = list(
        User.objects.filter(is_staff=True, is_active=True, is_blocked=False)
        .order_by("pk")
        .values_list("email", flat=True)
    )
    if staff_emails:
        try:
            admin_url = absolute_url(reverse("admin:partners_affiliate_change", args=[affiliate.pk]))
        except NoReverseMatch:
            admin_url = absolute_url("/admin/")
        send_templated_mail(
            to=staff_emails,
            subject=f"New partner application: {affiliate.name}",
            template="emails/partners/new_sign_up_manager.txt",
            context={"affiliate": affiliate, "owner": owner, "admin_url": admin_url},
        )
    return affiliate


# Password reset and set-password links ------------------------------------------------------

def password_set_url(*, user: User) -> str:
    """The absolute link to the "Set your password" page for `user`. It stops working once
    the password changes or the user signs in, and after PASSWORD_RESET_TIMEOUT."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_url(reverse("partners:password_set", args=[uidb64, token]))


def password_reset_send(*, email: str) -> None:
    """E-mail a set-password link if `email` belongs to a user who may sign in. Says nothing
    either way: the page answers the same for every e-mail."""
    email = User.objects.normalize_email(email)
    user = User.objects.filter(email=email, is_active=True, is_blocked=False).first() if email else None
    if user is None:
        return
    send_templated_mail(
        to=[user.email],
        subject="Reset your password",
        template="emails/partners/password_reset.txt",
        context={
            "user": user,
            "reset_url": password_set_url(user=user),
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """Set a new password from an e-mailed link: every session of the user ends (whoever had
    the old password is signed out), and a lock from failed sign-ins is cleared."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PartnersError(" ".join(exc.messages), field="new_password1") from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    user_sessions_end(user=user)
    user = accounts.user_unlock(user=user, actor=user)
    if user.affiliate_id:
        event_record(
            affiliate=user.affiliate, type=Event.Type.PASSWORD_CHANGED, user=user, actor=user,
            data={"by": "e-mailed link"},
        )
    return user


def unlock_instructions_request(*, email: str) -> None:
    """Re-send unlock instructions if `email` belongs to a locked user; silent otherwise, so
    the page answers the same for every e-mail."""
    email = User.objects.normalize_email(email)
    user = User.objects.filter(email=email).first() if email else None
    if user is not None and user.is_locked:
        accounts.unlock_instructions_send(user=user)
