"""Portal views: wallet (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def balance_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def wallet_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def payment_method_create_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def payment_method_delete_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def withdraw_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def cashout_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def cashout_cancel_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


