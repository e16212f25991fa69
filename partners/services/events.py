"""The one way to write the events log."""
from typing import Any

from partners.models import Affiliate, Event, User


def event_record(
    *,
    affiliate: Affiliate,
    type: Event.Type,
    actor: User | None = None,
    user: User | None = None,
    ip: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an entry to the affiliate's events log.

    `user` is whose account it concerns (a team member's 2FA), `actor` who did it (None: the
    system). `data` is shown on the event's detail page: plain JSON values only, never secrets.
    """
    return Event.objects.create(
        affiliate=affiliate,
        type=type,
        actor=actor,
        actor_label=_actor_label(actor),
        user=user,
        ip=ip,
        data=data or {},
    )


def _actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    if actor.is_staff and not actor.affiliate_id:
        return f"{actor.get_full_name()} (program manager)"
    return actor.email
