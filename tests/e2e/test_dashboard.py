"""The dashboard and the Report API docs in a real browser: the quick charts are drawn by the
vendored Chart.js from the embedded data (no request leaves the site), the table fallback opens,
and the statistic token stays masked until the reader shows it."""
import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from backoffice.timeutil import business_today
from partners.services.tokens import statistic_token_issue
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_partner_sees_quick_stats_and_charts_then_reads_the_api_docs(page, live_server, screenshot, portal_sign_in):
    owner = UserFactory(email="ines@lumen-affiliates.example", affiliate__name="Lumen Affiliates")
    token = statistic_token_issue(user=owner, actor=None)
    promo = PromoFactory(campaign=CampaignFactory(affiliate=owner.affiliate))
    today = business_today()
    for days_back in range(30):
        DailyStatFactory(promo=promo, date=today - dt.timedelta(days=days_back), visits_count=100 + days_back,
                         registrations_count=10, first_deposits_count=days_back % 4,
                         deposits_sum=Decimal("50.00"), bets_sum=Decimal("200.00"), wins_sum=Decimal("120.00"))
    base = live_server.url
    elsewhere, errors = [], []
    page.on("request", lambda request: urlsplit(request.url).netloc != urlsplit(base).netloc
            and not request.url.startswith("data:") and elsewhere.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))

    # given: signed in, on the dashboard
    portal_sign_in(page, base, owner.email)

    # then: today's quick stats and four drawn charts, all from this site
    assert page.locator('#quick-stat-today [data-column="visits_count"]').inner_text() == "100"
    page.wait_for_function("document.querySelectorAll('.quick-chart.is-drawn').length === 4")
    box = page.locator('canvas[data-series="visits_count"]').bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    page.get_by_text("Quick charts as a table").click()
    assert page.locator("#chart-table tbody tr").count() == 30
    assert page.locator("#chart-table tbody tr").last.inner_text().startswith(today.isoformat())
    screenshot(page, "dashboard")

    # when: the partner opens the API section from the navigation
    page.get_by_role("link", name="API", exact=True).click()
    page.wait_for_url("**/partner/api_docs/customer/partner/index.md")

    # then: the token is masked until shown, and the examples carry it once shown
    shown_token = page.locator("#api-token")
    assert token not in shown_token.inner_text()
    assert shown_token.inner_text().endswith(token[-4:])
    page.locator("#authentication").get_by_text("Show", exact=True).click()
    assert shown_token.inner_text() == token
    first_example = page.locator(".curl-example").first.inner_text()
    assert f'-H "Authorization: {token}"' in first_example
    assert '"http://testserver/api/customer/v1/partner/report/attributes"' in first_example  # settings.SITE_URL
    screenshot(page, "api-docs")

    assert elsewhere == []
    assert errors == []
