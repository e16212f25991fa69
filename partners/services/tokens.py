"""Statistic tokens: the per-user secret that opens the Report API and the JSON/XML feed URLs
without a session.

How a token is kept:

- It is 160 random bits (``secrets.token_hex(20)``), made here and nowhere else.
- ``User.statistic_token_encrypted`` holds it encrypted with Fernet (``backoffice.crypto``), so
  the Account Info page can show it back and feed URLs can carry it. The database alone does
  not reveal it: the key is FIELD_ENCRYPTION_KEY (or one derived from SECRET_KEY).
- ``User.statistic_token_digest`` holds its SHA-256 digest (unique, indexed): the Report API
  finds the user by the digest of the presented token and confirms with a constant-time
  comparison. A high-entropy random token needs no salt or slow hash.
- It is never written to the events log, to log files or into exception messages. Issuing a
  new one replaces both columns in one UPDATE, so the old token stops working at once.
"""
import logging
import secrets

from django.db import transaction
from django.utils import timezone

from backoffice import crypto
from partners.models import Affiliate, Event, User
from partners.services.events import event_record

logger = logging.getLogger(__name__)

TOKEN_BYTES = 20  # 160 bits
# Longer input is not a token of ours; refuse it before hashing anything.
MAX_TOKEN_LENGTH = 128


@transaction.atomic
def statistic_token_issue(*, user: User, actor: User | None, ip: str | None = None) -> str:
    """Give `user` a new statistic token and return it; any previous token stops working now.

    Replacing an existing token is logged (STATISTIC_TOKEN_REGENERATED); the first token,
    issued when the user first opens their profile, is not an event worth a log line.
    """
    had_token = bool(
        User.objects.select_for_update().filter(pk=user.pk)
        .exclude(statistic_token_digest=None).exists()
    )
    token = secrets.token_hex(TOKEN_BYTES)
    user.statistic_token_encrypted = crypto.encrypt(token)
    user.statistic_token_digest = crypto.digest(token)
    user.statistic_token_created_at = timezone.now()
    user.save(update_fields=[
        "statistic_token_encrypted", "statistic_token_digest", "statistic_token_created_at",
    ])
    if had_token and user.affiliate_id:
        event_record(
            affiliate=user.affiliate,
            type=Event.Type.STATISTIC_TOKEN_REGENERATED,
            user=user,
            actor=actor,
            ip=ip,
        )
    return token


@transaction.atomic
def statistic_token_ensure(*, user: User) -> str | None:
    """The user's token, issuing the first one if they have none yet (None: it exists but
    cannot be decrypted, see statistic_token_reveal).

    The user row is locked so that two pages opened at once cannot issue two tokens and show
    the one that lost.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.statistic_token_encrypted:
        user.statistic_token_encrypted = locked.statistic_token_encrypted
        user.statistic_token_digest = locked.statistic_token_digest
        user.statistic_token_created_at = locked.statistic_token_created_at
        return statistic_token_reveal(user)
    return statistic_token_issue(user=user, actor=user)


def statistic_token_reveal(user: User) -> str | None:
    """The user's current token in clear text, or None if they have none yet.

    None too if the encryption key changed since it was issued: the token still works (the
    lookup uses the digest) but can no longer be shown; regenerating it gives a new one.
    """
    if not user.statistic_token_encrypted:
        return None
    try:
        return crypto.decrypt(user.statistic_token_encrypted)
    except ValueError:
        logger.warning("statistic token of user %s cannot be decrypted (key changed?)", user.pk)
        return None


def user_by_statistic_token(token: str | None) -> User | None:
    """The user a presented statistic token belongs to, or None.

    None also for a user who may not use the portal right now: blocked, locked after failed
    sign-ins, deactivated, or whose affiliate account is not active.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    presented = crypto.digest(token.strip())
    user = (
        User.objects.select_related("affiliate")
        .filter(statistic_token_digest=presented)
        .first()
    )
    if user is None or not crypto.same(user.statistic_token_digest or "", presented):
        return None
    if not user.is_active or user.is_blocked or user.is_locked:
        return None
    if user.affiliate is None or user.affiliate.status != Affiliate.Status.ACTIVE:
        return None
    return user
