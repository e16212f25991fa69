"""The partner dashboard (quick stats, quick charts, balances, latest news) and the Report API
documentation page of the portal (/partner/api_docs, the manual's
/partner/api_docs/customer/partner/index.md)."""
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache

from backoffice.money import quantize
from billing.selectors import balance_list
from partners.portal import portal_view
from partners.selectors_account import news_published
from partners.services.tokens import statistic_token_reveal
from reports.api_docs import api_docs_context
from reports.dashboard import dashboard_stats


@portal_view
def dashboard_view(request):
    affiliate = request.affiliate
    stats = dashboard_stats(affiliate=affiliate)
    balances = [{"currency": b.currency, "amount": f"{quantize(b.amount, b.currency):,}"}
                for b in balance_list(affiliate=affiliate)]
    return render(request, "reports/dashboard.html", {
        "stats": stats,
        "chart_data": stats.chart_data(),
        "balances": balances,
        "latest_news": news_published().only("pk", "title", "published_at").first(),
    })


@portal_view
def api_docs_view(request):
    return redirect("reports:api_docs_partner")


@never_cache  # the page shows the reader's statistic token
@portal_view
def api_docs_partner_view(request):
    context = api_docs_context(affiliate=request.affiliate, token=statistic_token_reveal(request.user))
    return render(request, "reports/api_docs.html", context)


urlpatterns = [
    path("dashboard", dashboard_view, name="dashboard"),
    path("api_docs", api_docs_view, name="api_docs"),
    path("api_docs/customer/partner/index.md", api_docs_partner_view, name="api_docs_partner"),
]
