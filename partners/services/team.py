"""The team: the owner adds members (who set their own password from an e-mailed link) and
blocks, unblocks or unlocks them."""
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from backoffice.mail import absolute_url, send_templated_mail
from partners.errors import PartnersError
from partners.models import Affiliate, Event, User
from partners.services.accounts import user_block, user_unblock, user_unlock
from partners.services.events import event_record

EMAIL_TAKEN = "A user with this e-mail already exists. Use another e-mail address."


def password_set_url(user: User) -> str:
    """The absolute link that lets `user` choose a password; it stops working once used."""
    path = reverse(
        "partners:password_set",
        args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)],
    )
    return absolute_url(path)


def team_member_create(
    *,
    affiliate: Affiliate,
    actor: User,
    email: str,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
) -> User:
    """Add a team member to `affiliate` and e-mail them a link to set their password."""
    email = User.objects.normalize_email(email)
    if not email:
        raise PartnersError("Enter the team member's e-mail address.", field="email")
    if User.objects.filter(email__iexact=email).exists():
        raise PartnersError(EMAIL_TAKEN, field="email")
    try:
        with transaction.atomic():
            user = User(
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                affiliate=affiliate,
                role=User.Role.MEMBER,
            )
            user.set_unusable_password()
            user.save()
            event_record(affiliate=affiliate, type=Event.Type.USER_CREATED, user=user,
                         actor=actor, ip=ip, data={"email": email})
            send_templated_mail(
                to=[email],
                subject="You are invited to the partner account",
                template="emails/partners/team_invitation.txt",
                context={"user": user, "affiliate": affiliate, "actor": actor,
                         "password_set_url": password_set_url(user)},
            )
    except IntegrityError as exc:
        # Somebody registered the same e-mail between our check and the insert.
        raise PartnersError(EMAIL_TAKEN, field="email") from exc
    return user


@transaction.atomic
def team_member_access_update(
    *, member: User, actor: User, blocked: bool, locked: bool, ip: str | None = None
) -> User:
    """Apply the member page's "Blocked" and "Locked" checkboxes.

    Ticking Blocked blocks (every session ends), unticking unblocks; unticking Locked lifts a
    lock set by failed sign-ins. Only the system locks, so ticking Locked changes nothing.
    """
    if blocked and not member.is_blocked:
        member = user_block(user=member, actor=actor, ip=ip)
    elif not blocked and member.is_blocked:
        member = user_unblock(user=member, actor=actor, ip=ip)
    if not locked and member.is_locked:
        member = user_unlock(user=member, actor=actor, ip=ip)
    elif locked and not member.is_locked:
        raise PartnersError(
            "Only the system locks a user, after failed sign-ins; you can block them instead.",
            field="locked",
        )
    return member
