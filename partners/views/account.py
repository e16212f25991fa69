"""Portal views: account (stubs until implemented)."""
from django.http import HttpResponse


def py(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def profile_edit_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def document_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def document_upload_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def document_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def document_file_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def document_delete_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def event_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def event_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def news_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def news_detail_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


def terms_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


