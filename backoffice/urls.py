"""The composition root: every app's URLs."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="partners:login", permanent=False)),
    path("admin/", admin.site.urls),
    path("partner/", include("campaigns.urls")),
    path("partner/", include("partners.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
