"""Building tracking links (what an affiliate copies) from a promo."""
from urllib.parse import urlencode

from django.conf import settings

from campaigns.models import Promo


def tracking_base_url(promo: Promo) -> str:
    """https://<brand tracking host> when the brand has one, else TRACKING_BASE_URL, else the
    site itself."""
    host = promo.brand.tracking_host
    if host:
        return f"https://{host}"
    return settings.TRACKING_BASE_URL or settings.SITE_URL


def tracking_link(promo: Promo, params: dict[str, str] | None = None) -> str:
    """The promo's tracking link, with custom parameters appended (`?sub_id=...`).

    Braces stay as typed: trackers fill in macros such as `{clickid}` themselves.
    """
    link = f"{tracking_base_url(promo)}/{settings.TRACKING_PATH_PREFIX}{promo.code}"
    if params:
        link += "?" + urlencode(params, safe="{}")
    return link
