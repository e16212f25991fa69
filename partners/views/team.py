"""Portal views: team (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def user_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def user_create_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def user_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def user_token_regenerate_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


