"""Portal views: plans (stubs until implemented)."""
from django.http import HttpResponse


def commission_plan_list_view(request, *args, **kwargs):
    return HttpResponse("not implemented", status=501)


