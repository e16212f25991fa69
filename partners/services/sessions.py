"""Ending sessions: terminate one, or all of a user's (block, password change, 2FA reset)."""
from importlib import import_module

from django.conf import settings

from partners.models import User, UserSession


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_terminate(*, session: UserSession) -> None:
    """Sign the browser of `session` out: its next request lands on the login page."""
    _store()(session_key=session.session_key).delete()
    session.delete()


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """End every session of `user` except `keep_session_key`; returns how many ended.

    Rotating session_salt also invalidates sessions we never listed (created before the
    list existed, or by another session engine), since the auth hash depends on it. The kept
    session must then be re-hashed by the caller with update_session_auth_hash().
    """
    rows = list(UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or ""))
    store = _store()
    for row in rows:
        store(session_key=row.session_key).delete()
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    user.session_salt = User._meta.get_field("session_salt").default()
    user.save(update_fields=["session_salt"])
    return len(rows)
