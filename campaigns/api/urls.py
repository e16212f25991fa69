"""The operator ingestion API (/api/v1/), HMAC-signed by the brand's platform."""
from django.urls import path, re_path

from campaigns.api import views

app_name = "ingestion"

urlpatterns = [
    path("players", views.players_view, name="players"),
    path("players/<str:operation>", views.player_flags_view, name="player_flags"),
    path("activity", views.activity_view, name="activity"),
    path("synced_visits_data", views.synced_visits_view, name="synced_visits"),
    path("partners", views.partners_view, name="partners"),
    # Last: any other path under /api/v1/ answers JSON too, not the site's HTML 404 page.
    re_path(r"^", views.unknown_endpoint_view, name="unknown"),
]
