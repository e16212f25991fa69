"""Ingestion API views (stubs until implemented)."""
from django.http import JsonResponse


def _stub(request, *args, **kwargs):
    return JsonResponse({"error": "not implemented"}, status=501)


players_view = player_flags_view = activity_view = synced_visits_view = partners_view = _stub
