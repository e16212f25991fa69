"""Portal views: schedules (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def schedule_create_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def schedule_edit_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def schedule_delete_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


