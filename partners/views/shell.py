"""The portal shell: sections that a later release builds answer with a plain page."""
from django.shortcuts import render

from partners.portal import portal_view

SECTIONS = {
    "dashboard": "Dashboard",
    "reports": "Reports",
}


@portal_view
def section_unavailable(request, section: str):
    return render(
        request,
        "partners/section_unavailable.html",
        {"section": section, "section_title": SECTIONS[section]},
    )
