"""Portal views: auth (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def login_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def login_code_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def logout_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def sign_up_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def sign_up_done_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def unlock_request_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def unlock_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def password_reset_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def password_set_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


