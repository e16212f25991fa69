"""Portal views: bills (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def bill_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def bill_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


