"""Portal views: portal (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def campaign_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def campaign_create_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def campaign_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def campaign_archive_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def campaign_unarchive_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def promo_create_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def promo_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def partner_connection_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


