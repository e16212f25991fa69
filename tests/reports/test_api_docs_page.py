"""/partner/api_docs: the portal's Report API documentation (the manual's
/partner/api_docs/customer/partner/index.md) — generated lists, the reader's own token (masked
until revealed) in working curl examples, links to the schema, navigation."""
import html as html_lib
import json
import re
import shlex

import pytest
from django.urls import reverse

from partners.services.tokens import statistic_token_issue
from reports.api_docs import RESPONSE_EXAMPLE_COLUMNS, TOKEN_PLACEHOLDER
from reports.columns import COLUMNS
from reports.engine import attributes
from tests.campaigns.factories import CampaignFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

DOCS = "/partner/api_docs/customer/partner/index.md"


@pytest.fixture
def owner(client):
    user = UserFactory()
    user.token = statistic_token_issue(user=user, actor=None)
    sign_in(client, user)
    return user


def page(client) -> str:
    response = client.get(DOCS)
    assert response.status_code == 200
    return response.content.decode()


def revealed(html: str) -> str:
    """The page's text as a reader sees it after ticking "show token": masked spans gone."""
    html = re.sub(r'<span class="token-masked">.*?</span>', "", html, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def curl_lines(html: str) -> list[str]:
    return [line for line in revealed(html).splitlines() if line.strip().startswith("curl ")]


def test_the_manual_address_is_reached_from_the_short_one(client, owner):
    response = client.get(reverse("reports:api_docs"))

    assert response.status_code == 302
    assert response["Location"] == DOCS
    assert reverse("reports:api_docs_partner") == DOCS


def test_a_visitor_who_is_not_signed_in_goes_to_the_login_page(client):
    for url in (reverse("reports:api_docs"), DOCS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("partners:login"))


def test_every_column_and_grouper_of_the_engine_is_documented(client, owner):
    VisitFactory(promo=PromoFactory(campaign=CampaignFactory(affiliate=owner.affiliate)),
                 params={"sub_id": "abc"})

    html = page(client)

    documented = set(re.findall(r"<tr><td><code>([\w\[\]]+)</code></td>", html))
    assert set(COLUMNS) <= documented
    groupers = attributes(affiliate=owner.affiliate)["available_groupers"]
    assert "dynamic_tag_sub_id" in groupers
    assert set(groupers) <= documented
    groupers_table = re.search(r'id="groupers".*?</section>', html, re.S).group(0)
    meanings = dict(re.findall(r"<tr><td><code>(\w+)</code></td><td>(.*?)</td></tr>", groupers_table))
    assert [g for g in groupers if not meanings.get(g)] == []  # each one says what it does
    assert "sub_id" in meanings["dynamic_tag_sub_id"]
    for parameter in ("from", "to", "columns[]", "group_by[]", "conversion_currency", "convert_all_currencies",
                      "exchange_rates_date", "campaign_ids[]", "async", "page", "per_page", "date_group_by"):
        assert f"<code>{parameter}</code>" in html, parameter
    for endpoint in ("/report", "/report/attributes", "/traffic_report"):
        assert f"GET {endpoint}</h2>" in html


def test_the_curl_examples_carry_the_readers_own_token_and_the_site_url(client, owner, settings):
    settings.SITE_URL = "https://partners.example.com"

    html = page(client)

    lines = curl_lines(html)
    assert lines
    report_lines = [line for line in lines if "/api/customer/v1/partner/report?" in line]
    assert report_lines
    for line in lines:
        assert f'-H "Authorization: {owner.token}"' in line
        assert '"https://partners.example.com/api/customer/v1/partner/' in line
    assert any("columns[]=visits_count" in line and "group_by[]=month" in line for line in report_lines)


def test_the_token_is_masked_until_the_reader_reveals_it(client, owner):
    html = page(client)

    # Outside the reveal spans the token never shows; the masked form ends with its last 4 characters.
    hidden = re.sub(r'<span class="token-clear">.*?</span>', "", html, flags=re.S)
    assert owner.token not in hidden
    assert f"••••••••{owner.token[-4:]}" in hidden
    assert '<input type="checkbox" id="reveal-token" class="reveal-token">' in html
    assert f'<span class="token-clear">{owner.token}</span>' in html


def test_a_team_member_sees_their_own_token_not_the_owners(client, owner):
    member = MemberFactory(affiliate=owner.affiliate)
    member_token = statistic_token_issue(user=member, actor=None)
    client.logout()
    sign_in(client, member)

    html = page(client)

    assert member_token in html
    assert owner.token not in html


def test_without_a_token_the_examples_have_a_placeholder_and_point_to_account_info(client):
    user = UserFactory()
    sign_in(client, user)

    html = page(client)

    assert all(TOKEN_PLACEHOLDER in line for line in curl_lines(html))
    assert f'<a href="{reverse("partners:profile")}">Account Info</a>' in html
    user.refresh_from_db()
    assert user.statistic_token_digest is None  # reading the docs issues no token


def test_every_example_request_works_against_the_api(client, owner):
    """The examples are real requests: sent as written, the API answers them (the async one
    answers 200/202 once async reports exist, else 400 naming async)."""
    lines = curl_lines(page(client))

    assert len(lines) >= 4
    for line in lines:
        args = shlex.split(line)
        url = next(a for a in args if a.startswith("http"))
        path = url.removeprefix("http://testserver")
        response = client.get(path, HTTP_AUTHORIZATION=owner.token, HTTP_ACCEPT="application/json")
        if "async=true" in url:
            assert response.status_code in (200, 202) or response.json()["field"] == "async", line
        else:
            assert response.status_code == 200, (line, response.content[:300])


def test_the_response_example_uses_real_column_names(client, owner):
    html = page(client)

    assert set(RESPONSE_EXAMPLE_COLUMNS) <= set(COLUMNS)
    example = re.search(r'<pre class="code-block"><code>(\{.*?)</code></pre>', html, re.S).group(1)
    body = json.loads(html_lib.unescape(example))
    names = {cell["name"] for row in body["rows"]["data"] for cell in row}
    assert names - {"date", "campaign"} == set(RESPONSE_EXAMPLE_COLUMNS)
    money = next(c["value"] for c in body["totals"]["data"][0] if c["type"] == "money")
    assert set(money) == {"amount", "amount_cents", "currency"}


def test_errors_rate_limit_and_async_are_explained(client, owner, settings):
    settings.REPORT_API_RATE_LIMIT = 42

    html = page(client)

    assert "More than 42 requests in 60 seconds" in html
    assert "Retry-After" in html
    assert '"field": "columns[]"' in html
    assert "async=true" in html
    assert "requested report" in html


def test_the_page_links_the_schema_and_the_plain_docs_and_both_answer(client, owner):
    html = page(client)

    for name in ("report_api:schema", "report_api:docs"):
        url = "http://testserver" + reverse(name)
        assert f'href="{url}"' in html
        assert client.get(reverse(name)).status_code == 200
    assert f'href="{reverse("partners:profile")}"' in html


def test_the_api_entry_of_the_navigation_is_current_on_the_docs_page(client, owner):
    html = page(client)

    assert f'<a href="{reverse("reports:api_docs")}" aria-current="page">API</a>' in html
    assert 'aria-current="page">Dashboard</a>' not in html


def test_endpoints_with_a_path_parameter_show_their_url_template(client):
    from reports.api_docs import api_docs_context
    from tests.partners.factories import AffiliateFactory

    context = api_docs_context(affiliate=AffiliateFactory(), token=None)
    urls = {e["path"]: e["url"] for e in context["endpoints"]}

    assert urls["/requested_reports/{report_id}/download.xlsx"].endswith(
        "/api/customer/v1/partner/requested_reports/{report_id}/download.xlsx")
    assert all(url.startswith("http") for url in urls.values())


def test_the_page_with_the_token_is_never_cached(client):
    from django.urls import reverse

    from tests.conftest import sign_in
    from tests.partners.factories import UserFactory

    sign_in(client, UserFactory())
    response = client.get(reverse("reports:api_docs_partner"))

    assert "no-store" in response["Cache-Control"]
