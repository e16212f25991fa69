"""Account state changes shared by the portal and the admin: approve/block an affiliate,
lock/unlock and block/unblock a user, reset a user's 2FA."""
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.mail import absolute_url, send_templated_mail
from partners.errors import PartnersError
from partners.models import Affiliate, Event, User
from partners.services.events import event_record
from partners.services.sessions import user_sessions_end
from partners.signals import affiliate_approved

UNLOCK_SALT = "partners.unlock"


# Affiliate accounts ------------------------------------------------------------------------

@transaction.atomic
def affiliate_approve(*, affiliate: Affiliate, actor: User | None) -> Affiliate:
    """Approve a pending (or re-activate a blocked) account and e-mail its owner."""
    if affiliate.status == Affiliate.Status.ACTIVE:
        raise PartnersError(f"Affiliate {affiliate.pk} is already active.")
    was_pending = affiliate.status == Affiliate.Status.PENDING
    affiliate.status = Affiliate.Status.ACTIVE
    affiliate.blocked_at = None
    if was_pending:
        affiliate.approved_at = timezone.now()
    affiliate.save(update_fields=["status", "blocked_at", "approved_at"])
    event_record(affiliate=affiliate, type=Event.Type.ACCOUNT_APPROVED, actor=actor)
    if was_pending:
        affiliate_approved.send(sender=Affiliate, affiliate=affiliate, actor=actor)
    owner = affiliate.owner
    if owner is not None:
        send_templated_mail(
            to=[owner.email],
            subject="Your partner account is approved" if was_pending else "Your partner account is active again",
            template="emails/partners/account_approved.txt",
            context={"user": owner, "affiliate": affiliate, "was_pending": was_pending,
                     "login_url": absolute_url(reverse("partners:login"))},
        )
    return affiliate


@transaction.atomic
def affiliate_block(*, affiliate: Affiliate, actor: User | None, reason: str = "") -> Affiliate:
    """Block an account: none of its users can sign in, and their sessions end now."""
    if affiliate.status == Affiliate.Status.BLOCKED:
        raise PartnersError(f"Affiliate {affiliate.pk} is already blocked.")
    affiliate.status = Affiliate.Status.BLOCKED
    affiliate.blocked_at = timezone.now()
    affiliate.save(update_fields=["status", "blocked_at"])
    for user in affiliate.users.all():
        user_sessions_end(user=user)
    event_record(affiliate=affiliate, type=Event.Type.ACCOUNT_BLOCKED, actor=actor,
                 data={"reason": reason} if reason else {})
    return affiliate


# Lockout (failed sign-ins) ------------------------------------------------------------------

def unlock_token_make(user: User) -> str:
    """A signed token naming the user and the moment of this lock: after an unlock (or a new
    lock) it no longer matches, which makes the link single-use."""
    return signing.dumps({"u": user.pk, "l": user.locked_at.isoformat()}, salt=UNLOCK_SALT)


def user_lock(*, user: User, ip: str | None = None) -> User:
    """Lock `user` after too many failed sign-ins and e-mail unlock instructions."""
    user.locked_at = timezone.now()
    user.save(update_fields=["locked_at"])
    if user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.LOCKED, user=user, ip=ip,
                     data={"failed_attempts": user.failed_login_attempts})
    unlock_instructions_send(user=user)
    return user


def unlock_instructions_send(*, user: User) -> None:
    if not user.is_locked:
        return
    from django.conf import settings

    link = absolute_url(reverse("partners:unlock", args=[unlock_token_make(user)]))
    send_templated_mail(
        to=[user.email],
        subject="Unlock instructions",
        template="emails/partners/unlock_instructions.txt",
        context={"user": user, "unlock_url": link,
                 "valid_hours": settings.UNLOCK_LINK_MAX_AGE // 3600},
    )


@transaction.atomic
def user_unlock(*, user: User, actor: User | None = None, ip: str | None = None) -> User:
    """Clear a lock (by the e-mailed link, the team owner or a manager)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_locked and user.failed_login_attempts == 0:
        return user
    user.locked_at = None
    user.failed_login_attempts = 0
    user.save(update_fields=["locked_at", "failed_login_attempts"])
    if user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.UNLOCKED, user=user, actor=actor, ip=ip)
    return user


def user_unlock_by_token(*, token: str, ip: str | None = None) -> User:
    """Unlock from the e-mailed link. Raises PartnersError for a bad, expired or used link."""
    from django.conf import settings

    try:
        payload = signing.loads(token, salt=UNLOCK_SALT, max_age=settings.UNLOCK_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise PartnersError("This unlock link has expired. Request new unlock instructions.") from exc
    except signing.BadSignature as exc:
        raise PartnersError("This unlock link is not valid. Request new unlock instructions.") from exc
    user = User.objects.filter(pk=payload.get("u")).first()
    if user is None or user.locked_at is None or user.locked_at.isoformat() != payload.get("l"):
        raise PartnersError("This unlock link was already used. Sign in, or request new unlock instructions.")
    return user_unlock(user=user, ip=ip)


# Blocking a user (manager or team owner) ----------------------------------------------------

@transaction.atomic
def user_block(*, user: User, actor: User, ip: str | None = None) -> User:
    """Block a user: they cannot sign in, and every session of theirs ends now."""
    if actor.pk == user.pk:
        raise PartnersError("You cannot block yourself.")
    if user.is_owner and not actor.is_staff:
        raise PartnersError("The account owner can only be blocked by the program's manager.")
    if user.is_blocked:
        return user
    user.is_blocked = True
    user.blocked_at = timezone.now()
    user.save(update_fields=["is_blocked", "blocked_at"])
    user_sessions_end(user=user)
    if user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.USER_BLOCKED, user=user, actor=actor, ip=ip)
    return user


@transaction.atomic
def user_unblock(*, user: User, actor: User, ip: str | None = None) -> User:
    if not user.is_blocked:
        return user
    user.is_blocked = False
    user.blocked_at = None
    user.save(update_fields=["is_blocked", "blocked_at"])
    if user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.USER_UNBLOCKED, user=user, actor=actor, ip=ip)
    return user


# 2FA reset by a manager (lost phone) --------------------------------------------------------

@transaction.atomic
def two_factor_reset(*, user: User, actor: User) -> User:
    """Remove every OTP device of `user` and end their sessions; logged and e-mailed."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    if not removed:
        raise PartnersError(f"{user.email} has no two-factor authentication to reset.")
    user_sessions_end(user=user)
    if user.affiliate_id:
        event_record(affiliate=user.affiliate, type=Event.Type.TWO_FACTOR_DISABLED, user=user,
                     actor=actor, data={"reset_by_manager": True})
    send_templated_mail(
        to=[user.email],
        subject="Two-factor authentication was reset",
        template="emails/partners/two_factor_reset.txt",
        context={"user": user, "actor": actor},
    )
    return user
