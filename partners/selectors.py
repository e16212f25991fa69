"""Reads of the partners app for portal pages: team members, their sessions and 2FA state.

Every function takes the acting affiliate (or user), so a view cannot forget the scope: an
object of another account is simply not in the queryset, and get_object_or_404 gives 404.
"""
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice
from user_agents import parse as parse_user_agent

from partners.models import Affiliate, User, UserSession


def _with_two_factor(qs: QuerySet[User]) -> QuerySet[User]:
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return qs.annotate(has_two_factor=Exists(confirmed))


def team_user_list(*, affiliate: Affiliate) -> QuerySet[User]:
    """The affiliate's users (owner first, then members by age), each with has_two_factor."""
    return _with_two_factor(User.objects.filter(affiliate=affiliate)).order_by("pk")


def team_user_get(*, affiliate: Affiliate, user_id: int) -> User | None:
    return team_user_list(affiliate=affiliate).filter(pk=user_id).first()


def session_device_label(user_agent: str) -> str:
    """"Chrome 120 on Windows 10" from a User-Agent header; "Unknown device" if unreadable."""
    if not user_agent:
        return "Unknown device"
    ua = parse_user_agent(user_agent)
    browser = ua.browser.family if ua.browser.family != "Other" else ""
    if browser and ua.browser.version:
        browser = f"{browser} {ua.browser.version[0]}"
    system = ua.os.family if ua.os.family != "Other" else ""
    if system and ua.os.version_string:
        system = f"{system} {ua.os.version_string}"
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def user_session_list(*, user: User, current_session_key: str | None = None) -> list[UserSession]:
    """The user's open sessions, most recently active first, each with `device` (a readable
    browser and system) and `is_current` (the browser asking)."""
    rows = list(UserSession.objects.filter(user=user).order_by("-last_activity_at", "-pk"))
    for row in rows:
        row.device = session_device_label(row.user_agent)
        row.is_current = bool(current_session_key) and row.session_key == current_session_key
    return rows


def session_terminable_list(*, actor: User, affiliate: Affiliate) -> QuerySet[UserSession]:
    """Sessions `actor` may end: their own; for the owner also those of the team."""
    if actor.is_owner:
        return UserSession.objects.filter(user__affiliate=affiliate).select_related("user")
    return UserSession.objects.filter(user=actor).select_related("user")
