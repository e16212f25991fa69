"""The partner dashboard: quick stats and quick charts; and the Report API docs page."""
from django.shortcuts import render
from django.urls import path

from partners.portal import portal_view


@portal_view
def dashboard_view(request):
    return render(request, "partners/section_unavailable.html", {"section": "dashboard", "section_title": "Dashboard"})


urlpatterns = [
    path("dashboard", dashboard_view, name="dashboard"),
]
