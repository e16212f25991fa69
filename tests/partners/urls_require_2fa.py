"""The real URLs plus one stand-in financial page guarded by require_2fa."""
from django.http import HttpResponse
from django.urls import path

from backoffice.urls import urlpatterns as real_urlpatterns
from partners.portal import portal_view, require_2fa


@portal_view
@require_2fa
def withdraw(request):
    return HttpResponse(f"withdraw form for {request.affiliate.name}")


urlpatterns = [path("partner/wallet/withdraw", withdraw, name="test_withdraw"), *real_urlpatterns]
