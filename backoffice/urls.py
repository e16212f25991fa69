"""The composition root: every app's URLs."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from campaigns.tracking import track_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="partners:login", permanent=False)),
    path("admin/", admin.site.urls),
    path("partner/", include("billing.urls")),
    path("partner/", include("campaigns.urls")),
    path("partner/", include("partners.urls")),
    path("partner/", include("reports.urls")),
    path("api/v1/", include("campaigns.api.urls")),
    path("api/customer/v1/partner/", include("reports.api.urls")),
]
if settings.DEBUG:
    # Development only; in production the proxy serves STATIC_ROOT (or WhiteNoise) and /media/.
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Last: tracking links may live at the site root (TRACKING_PATH_PREFIX=""), so every other
# route must match first.
urlpatterns.append(path(f"{settings.TRACKING_PATH_PREFIX}<slug:code>", track_view, name="track"))
