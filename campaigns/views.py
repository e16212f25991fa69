"""Portal pages of the campaigns app."""
from django.http import HttpResponse


def contacts_view(request):
    return HttpResponse("not implemented", status=501)
