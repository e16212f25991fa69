"""The tracking link: GET /<prefix><code> (stub until implemented)."""
from django.http import HttpResponse


def track_view(request, code: str):
    return HttpResponse("not implemented", status=501)
