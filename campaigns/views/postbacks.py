"""Portal views: postbacks (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def postback_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def postback_create_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def postback_log_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def postback_edit_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def postback_delete_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def postback_test_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


