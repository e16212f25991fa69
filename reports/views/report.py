"""The report page (/partner/reports), its sub-affiliates tab and report favorites."""
from django.shortcuts import render
from django.urls import path

from partners.portal import portal_view


@portal_view
def report_view(request):
    return render(request, "partners/section_unavailable.html", {"section": "reports", "section_title": "Reports"})


urlpatterns = [
    path("reports", report_view, name="report"),
]
