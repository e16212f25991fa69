"""Portal pages of the campaigns app."""
import re
from urllib.parse import quote, urlsplit

from django.shortcuts import render

from campaigns.models import BrandContact
from campaigns.selectors import brand_contacts
from partners.portal import portal_view

TELEGRAM_HANDLE = re.compile(r"^[A-Za-z0-9_]{3,64}$")


def contact_href(kind: str, value: str) -> str | None:
    """Where a contact links to, or None to show it as text. Values are typed by managers in
    the admin; still, only http(s) websites become links (never javascript: and the like)."""
    value = (value or "").strip()
    if kind == BrandContact.Kind.EMAIL and "@" in value and not any(c in value for c in "?&<>\"' "):
        return f"mailto:{value}"
    if kind == BrandContact.Kind.WEBSITE:
        parts = urlsplit(value)
        return value if parts.scheme in ("http", "https") and parts.netloc else None
    if kind == BrandContact.Kind.TELEGRAM:
        handle = value.removeprefix("https://t.me/").removeprefix("t.me/").lstrip("@")
        return f"https://t.me/{quote(handle)}" if TELEGRAM_HANDLE.match(handle) else None
    if kind == BrandContact.Kind.PHONE:
        digits = re.sub(r"[^0-9+]", "", value)
        return f"tel:{digits}" if len(digits) >= 3 else None
    return None


@portal_view
def contacts_view(request):
    brands = list(brand_contacts())
    for brand in brands:
        for contact in brand.contacts.all():
            contact.href = contact_href(contact.kind, contact.value)
            contact.external = contact.kind in (BrandContact.Kind.WEBSITE, BrandContact.Kind.TELEGRAM)
    return render(request, "campaigns/contacts.html", {
        "brands": brands,
        "manager": request.affiliate.manager,
    })
