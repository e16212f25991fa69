"""Every sign-in (portal or admin) opens a listed UserSession; signing out closes it.

Also the signals partners sends for outer layers (campaigns listens; partners imports none).
"""
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import Signal, receiver

from backoffice.net import client_ip
from partners.models import UserSession

# Sent after a pending account was approved (inside the transaction): kwargs affiliate, actor.
affiliate_approved = Signal()


@receiver(user_logged_in, dispatch_uid="partners.session_opened")
def session_opened(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512],
            "ip": client_ip(request),
        },
    )


@receiver(user_logged_out, dispatch_uid="partners.session_closed")
def session_closed(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session") and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
