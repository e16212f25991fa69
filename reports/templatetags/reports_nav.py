"""Navigation helpers of the portal shell: links to pages that may not be installed yet."""
from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def url_if_exists(name: str, *args) -> str:
    """The URL of route `name`, or "" when no such route exists (yet), so a menu entry for a
    section still being built is simply not shown instead of breaking every portal page."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
