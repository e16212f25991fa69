"""The baseline of the tracking benchmark: the project's own settings and middleware, with a
URLconf holding one view that answers the same 302 as a tracking link (the landing URL, the
visitor's parameters, a tag, the same headers) without touching the database.

This module is both the settings module (DJANGO_SETTINGS_MODULE=benchmarks.bare_redirect)
and its ROOT_URLCONF, so the baseline differs from the real site in nothing but the view and
its URL table. It must not import models: settings are loaded before the app registry.
"""
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import path

from backoffice.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bare_redirect"
BENCH_LANDING_URL = "https://casino.example/welcome?lang=en"


def bare_redirect_view(request, code):
    query = urlencode([*request.GET.items(), ("stag", "1_1")])
    response = HttpResponseRedirect(f"{BENCH_LANDING_URL}&{query}")
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


urlpatterns = [path("<slug:code>", bare_redirect_view)]
