"""Keeps the UserSession list true: every authenticated request must belong to a listed
session (a terminated one is signed out at once), and last activity is refreshed."""
import datetime as dt

from django.contrib.auth import logout
from django.utils import timezone

from partners.models import UserSession

# Refresh "last activity" at most this often: one UPDATE a minute, not one per request.
ACTIVITY_RESOLUTION = dt.timedelta(seconds=60)


class UserSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            key = request.session.session_key
            row = (
                UserSession.objects.filter(session_key=key, user_id=user.pk)
                .only("pk", "last_activity_at")
                .first()
                if key
                else None
            )
            if row is None:
                # Terminated elsewhere (or created before sessions were tracked).
                logout(request)
            else:
                now = timezone.now()
                if now - row.last_activity_at > ACTIVITY_RESOLUTION:
                    UserSession.objects.filter(pk=row.pk).update(last_activity_at=now)
        return self.get_response(request)
