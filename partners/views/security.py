"""Portal views: security (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def profile_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def two_factor_enable_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def two_factor_disable_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def password_change_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def statistic_token_regenerate_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def session_terminate_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


