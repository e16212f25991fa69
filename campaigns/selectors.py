"""Reads of the campaigns app for the portal."""
from django.db.models import Prefetch, QuerySet

from campaigns.models import Brand, BrandContact


def brand_contacts() -> QuerySet[Brand]:
    """Active brands with their contacts (one query for brands, one for all contacts)."""
    return Brand.objects.filter(is_active=True).order_by("name").prefetch_related(
        Prefetch("contacts", queryset=BrandContact.objects.order_by("position", "pk"))
    )
