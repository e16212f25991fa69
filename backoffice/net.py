"""Request helpers shared by every app."""
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting exactly TRUSTED_PROXY_COUNT proxies in front of us.

    Each trusted proxy appends the address it received from, so the client is the entry that
    many places from the right of X-Forwarded-For. With no trusted proxy the header is ignored
    (anyone can send it).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(chain) >= count:
            return chain[-count][:45]
    return (request.META.get("REMOTE_ADDR") or None) and request.META["REMOTE_ADDR"][:45]
