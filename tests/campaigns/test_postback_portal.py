"""Portal pages of postbacks: list, new/edit with lint, archived campaigns, delete, send
test, the postbacks log with its filters, the section on campaign and promo pages, and
scoping (another affiliate's postbacks and campaigns are 404 / not offered)."""
import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from backoffice import crypto, outbound
from campaigns.models import Campaign, PlayerEvent, Postback, PostbackAttempt, PostbackDelivery
from campaigns.selectors_postbacks import postback_list
from campaigns.services.events import player_event_raise
from campaigns.services.postbacks import postback_create, postback_test_send
from tests.campaigns.factories import CampaignFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.fakes.sink import Sink
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("campaigns:postbacks")
NEW = reverse("campaigns:postback_create")
LOG = reverse("campaigns:postbacks_log")


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])


@pytest.fixture
def sink(settings):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    with Sink() as s:
        yield s


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def campaign(owner):
    return CampaignFactory(affiliate=owner.affiliate, name="Summer Slots")


@pytest.fixture
def promo(campaign):
    return PromoFactory(campaign=campaign, promo_code="SUMMER", title="Main link")


@pytest.fixture
def other():
    """Affiliate B, with a campaign, a promo and a postback of its own."""
    user = UserFactory()
    promo = PromoFactory(campaign__affiliate=user.affiliate, campaign__name="B's campaign")
    pb = make(user.affiliate, "https://b-tracker.example/pb", scope="promo", promo=promo)
    return user, promo, pb


def make(affiliate, url="https://tracker.example/pb?t=${tag}", **kwargs):
    return postback_create(affiliate=affiliate, url_template=url,
                           **{"scope": "account", "action": "registration", **kwargs}).postback


def form_data(**overrides):
    return {"scope": "account", "action": "registration", "method": "GET", "is_active": "on",
            "url_template": "https://tracker.example/pb?tag=${tag}&amount=${amount}", **overrides}


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- list ---------------------------------------------------------------------------------


def test_the_list_shows_the_affiliates_postbacks_only(client, owner, promo, other):
    make(owner.affiliate, "https://tracker.example/account")
    make(owner.affiliate, "https://tracker.example/campaign", scope="campaign", campaign=promo.campaign)
    disabled = make(owner.affiliate, "https://tracker.example/promo", scope="promo", promo=promo, action="deposit")
    Postback.objects.filter(pk=disabled.pk).update(is_active=False, disabled_at=timezone.now(),
                                                   disabled_reason="Disabled after 25 failed deliveries in a row.")
    sign_in(client, owner)

    html = client.get(LIST).content.decode()

    assert "https://tracker.example/account" in html
    assert "Summer Slots" in html and "Main link" in html
    assert "Disabled after 25 failed deliveries in a row." in html
    assert "never sent" in html
    assert "b-tracker.example" not in html
    assert reverse("campaigns:postbacks_log") in html
    assert reverse("campaigns:postback_test", args=[disabled.pk]) in html


def test_the_list_shows_the_last_attempt(client, owner, sink):
    pb = make(owner.affiliate, sink.url("/pb"))
    sink.respond(503)
    postback_test_send(postback=pb)
    sign_in(client, owner)

    html = client.get(LIST).content.decode()

    assert "503" in html


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


# --- create / edit ------------------------------------------------------------------------


def test_an_account_postback_is_created_and_unknown_variables_warned_about(client, owner):
    sign_in(client, owner)

    response = client.post(NEW, form_data(url_template="https://tracker.example/pb?c=${clickID}&t=${tag}"),
                           follow=True)

    pb = Postback.objects.get(affiliate=owner.affiliate)
    assert (pb.scope, pb.action, pb.method, pb.is_active) == ("account", "registration", "GET", True)
    assert pb.url_template == "https://tracker.example/pb?c=${clickID}&t=${tag}"
    assert response.redirect_chain[-1][0] == LIST
    html = response.content.decode()
    assert f"Postback #{pb.pk} created." in html
    assert "${clickID} is not a built-in variable" in html


def test_members_manage_postbacks_too(client):
    member = MemberFactory()
    sign_in(client, member)
    assert client.post(NEW, form_data()).status_code == 302
    assert Postback.objects.filter(affiliate=member.affiliate).count() == 1


@pytest.mark.parametrize(("url", "error"), [
    ("http://track.me/affiliate?a={track_id}", "http://track.me/affiliate?a=${track_id}"),
    ("http://track.me/affiliate?b=$[visit_id]", "http://track.me/affiliate?b=${visit_id}"),
    ("http://track.me/affiliate/c=${clickID}", "http://track.me/affiliate?c=${clickID}"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://0x7f000001/pb", "loopback"),
    ("gopher://tracker.example/", "http:// or https://"),
    ("https://tracker.example/" + "a" * 2000, "at most 2000 characters"),
    ("", "This field is required."),
])
def test_wrong_urls_are_refused_with_the_correction(client, owner, url, error):
    sign_in(client, owner)

    response = client.post(NEW, form_data(url_template=url))

    assert response.status_code == 200
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Postback.objects.exists()


@pytest.mark.parametrize("data", [
    {"scope": "galaxy"}, {"action": "withdrawal"}, {"method": "DELETE"}, {"scope": "campaign"},
    {"scope": "promo"}, {"scope": "campaign", "campaign": "abc"}, {"scope": "promo", "promo": "99999999999999999999"},
])
def test_bad_choices_are_field_errors_not_crashes(client, owner, data):
    sign_in(client, owner)

    response = client.post(NEW, form_data(**data))

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Postback.objects.exists()


def test_campaign_and_promo_postbacks_are_created_for_own_targets(client, owner, promo):
    sign_in(client, owner)

    client.post(NEW, form_data(scope="campaign", campaign=promo.campaign_id))
    client.post(NEW, form_data(scope="promo", promo=promo.pk, action="first_deposit"))

    assert postback_list(affiliate=owner.affiliate, campaign=promo.campaign).count() == 1
    assert postback_list(affiliate=owner.affiliate, promo=promo).get().action == "first_deposit"


def test_another_affiliates_campaigns_and_promos_are_neither_offered_nor_accepted(client, owner, campaign, other):
    _, b_promo, _ = other
    sign_in(client, owner)

    html = client.get(NEW).content.decode()
    assert "Summer Slots" in html
    assert "B&#x27;s campaign" not in html and "B's campaign" not in html

    for data in ({"scope": "campaign", "campaign": b_promo.campaign_id}, {"scope": "promo", "promo": b_promo.pk}):
        response = client.post(NEW, form_data(**data))
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not Postback.objects.filter(affiliate=owner.affiliate).exists()


def test_the_form_is_prefilled_from_campaign_and_promo_links(client, owner, promo, other):
    sign_in(client, owner)

    response = client.get(f"{NEW}?scope=campaign&campaign={promo.campaign_id}")
    assert f'<option value="{promo.campaign_id}" selected>' in response.content.decode()
    assert response.context["form"]["scope"].value() == "campaign"

    html = client.get(f"{NEW}?scope=promo&promo={promo.pk}").content.decode()
    assert f'<option value="{promo.pk}" selected>' in html

    _, b_promo, _ = other
    response = client.get(f"{NEW}?scope=promo&promo={b_promo.pk}&campaign=x")
    assert response.status_code == 200
    offered = [promo.pk for promo in response.context["form"].fields["promo"].queryset]
    assert b_promo.pk not in offered
    assert response.context["form"]["promo"].value() is None
    assert response.context["form"]["scope"].value() == "account"


def test_editing_changes_the_postback(client, owner, promo):
    pb = make(owner.affiliate)
    sign_in(client, owner)
    url = reverse("campaigns:postback_edit", args=[pb.pk])

    assert "https://tracker.example/pb?t=${tag}" in client.get(url).content.decode()
    response = client.post(url, form_data(scope="promo", promo=promo.pk, method="POST", action="deposit",
                                          url_template="https://tracker.example/new?e=${event_id}"))

    assert response.status_code == 302
    pb.refresh_from_db()
    assert (pb.scope, pb.promo_id, pb.campaign_id, pb.method, pb.action) == (
        "promo", promo.pk, promo.campaign_id, "POST", "deposit")
    assert pb.url_template == "https://tracker.example/new?e=${event_id}"


def test_re_enabling_a_disabled_postback_forgets_its_failures(client, owner):
    pb = make(owner.affiliate)
    Postback.objects.filter(pk=pb.pk).update(is_active=False, consecutive_failures=25, disabled_at=timezone.now(),
                                             disabled_reason="Disabled after 25 failed deliveries in a row.")
    sign_in(client, owner)
    url = reverse("campaigns:postback_edit", args=[pb.pk])
    assert "Disabled after 25 failed deliveries in a row." in client.get(url).content.decode()

    client.post(url, form_data(url_template=pb.url_template))

    pb.refresh_from_db()
    assert pb.is_active and pb.consecutive_failures == 0 and pb.disabled_at is None


def test_a_generated_secret_is_shown_once_and_stored_encrypted(client, owner):
    sign_in(client, owner)

    response = client.post(NEW, form_data(generate_secret="on", method="POST"))

    assert response.status_code == 200
    html = response.content.decode()
    pb = Postback.objects.get()
    secret = crypto.decrypt(pb.signing_secret_encrypted)
    assert secret.startswith("whsec_") and secret in html
    assert "not shown again" in html
    assert secret not in client.get(reverse("campaigns:postback_edit", args=[pb.pk])).content.decode()
    assert secret not in client.get(LIST).content.decode()

    # removing it
    client.post(reverse("campaigns:postback_edit", args=[pb.pk]), form_data(method="POST", remove_secret="on"))
    pb.refresh_from_db()
    assert pb.signing_secret_encrypted == ""


def test_after_saving_the_user_returns_to_the_campaign_page(client, owner, campaign):
    sign_in(client, owner)
    back = reverse("campaigns:campaign_detail", args=[campaign.pk])

    response = client.post(f"{NEW}?next={back}", form_data(scope="campaign", campaign=campaign.pk, next=back))
    assert response["Location"] == back

    response = client.post(NEW, form_data(next="https://evil.example/phish"))
    assert response["Location"] == LIST


# --- archived campaigns -------------------------------------------------------------------


def test_an_archived_campaign_refuses_new_and_changed_postbacks(client, owner, promo):
    pb = make(owner.affiliate, scope="campaign", campaign=promo.campaign)
    promo_pb = make(owner.affiliate, scope="promo", promo=promo)
    Campaign.objects.filter(pk=promo.campaign_id).update(state=Campaign.State.ARCHIVED)
    sign_in(client, owner)
    message = f"Campaign {promo.campaign_id} is archived; unarchive it to add or change promos and postbacks"

    for data in ({"scope": "campaign", "campaign": promo.campaign_id}, {"scope": "promo", "promo": promo.pk}):
        response = client.post(NEW, form_data(**data))
        assert message in response.content.decode()
    for existing in (pb, promo_pb):
        url = reverse("campaigns:postback_edit", args=[existing.pk])
        assert message in client.get(url).content.decode()
        response = client.post(url, form_data(url_template="https://tracker.example/changed"))
        assert message in response.content.decode()
        response = client.post(reverse("campaigns:postback_delete", args=[existing.pk]))
        assert message in " ".join(texts(response))
    assert Postback.objects.count() == 2
    assert not Postback.objects.filter(url_template="https://tracker.example/changed").exists()


# --- delete / send test -------------------------------------------------------------------


def test_delete_needs_post(client, owner):
    pb = make(owner.affiliate)
    sign_in(client, owner)
    url = reverse("campaigns:postback_delete", args=[pb.pk])

    assert client.get(url).status_code == 405
    response = client.post(url)

    assert response.status_code == 302
    assert not Postback.objects.exists()
    assert f"Postback #{pb.pk} deleted." in texts(response)


def test_send_test_shows_the_result_and_logs_it(client, owner, sink):
    pb = make(owner.affiliate, sink.url("/pb?p=${player_id}"))
    sign_in(client, owner)
    url = reverse("campaigns:postback_test", args=[pb.pk])

    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    [message] = texts(response)
    assert message.startswith(f"Test postback #{pb.pk} delivered: HTTP 200 in ")
    assert sink.requests[0].query == {"p": "0"}

    sink.respond(500, "boom")
    response = client.post(url)
    assert texts(response)[-1:] == [f"Test postback #{pb.pk} failed: HTTP 500: The tracker answered 500; "
                               "only 2xx counts as delivered."]
    log = client.get(LOG).content.decode()
    assert sink.url("/pb?p=0") in log and "boom" in log


def test_send_test_to_a_forbidden_host_says_why(client, owner, monkeypatch):
    pb = make(owner.affiliate, "https://tracker.example/pb")
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["10.0.0.7"])  # rebound since saving
    sign_in(client, owner)

    response = client.post(reverse("campaigns:postback_test", args=[pb.pk]))

    [message] = texts(response)
    assert "failed: Not sent: The host tracker.example (10.0.0.7) is a private address" in message


# --- scoping ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method"), [
    ("campaigns:postback_edit", "get"), ("campaigns:postback_edit", "post"),
    ("campaigns:postback_delete", "post"), ("campaigns:postback_test", "post"),
])
def test_another_affiliates_postback_is_404(client, owner, other, name, method):
    _, _, b_postback = other
    sign_in(client, owner)

    response = getattr(client, method)(reverse(name, args=[b_postback.pk]), form_data())

    assert response.status_code == 404
    b_postback.refresh_from_db()
    assert b_postback.url_template == "https://b-tracker.example/pb"
    assert not PostbackDelivery.objects.exists()


# --- the log ------------------------------------------------------------------------------


@pytest.fixture
def logged(owner, promo, other, sink):
    """Attempts: A's registration (200) and first deposit (500) through an account postback
    on promo `promo`, a test of a campaign postback (404), and B's attempt."""
    affiliate = owner.affiliate
    account = make(affiliate, sink.url("/acc?t=${tag}"))
    make(affiliate, sink.url("/ftd"), action="first_deposit")
    second_campaign = CampaignFactory(affiliate=affiliate, name="Winter Poker", brand=promo.brand)
    other_pb = make(affiliate, sink.url("/winter"), scope="campaign", campaign=second_campaign)
    player = PlayerFactory(visit=VisitFactory(promo=promo))
    player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())
    player_event_raise(type=PlayerEvent.Type.FIRST_DEPOSIT, player=player, occurred_at=timezone.now())
    from campaigns.services.postbacks import postback_deliveries_send_due

    sink.queue(200, 500)
    postback_deliveries_send_due()
    sink.respond(404)
    postback_test_send(postback=other_pb)
    b_user, _, b_pb = other
    Postback.objects.filter(pk=b_pb.pk).update(url_template=sink.url("/b"))
    b_pb.refresh_from_db()
    postback_test_send(postback=b_pb)
    PostbackAttempt.objects.filter(url__contains="/acc").update(attempted_at=timezone.now() - dt.timedelta(days=3))
    return {"account": account, "second_campaign": second_campaign, "promo": promo}


def rows(client, query=""):
    response = client.get(f"{LOG}?{query}")
    assert response.status_code == 200
    return response, [a.url.split("/")[-1] for a in response.context["page_obj"].object_list]


def test_the_log_lists_own_attempts_newest_first(client, owner, logged):
    sign_in(client, owner)

    response, urls = rows(client)

    assert [u.split("?")[0] for u in urls] == ["winter", "ftd", "acc"]  # acc is 3 days old
    html = response.content.decode()
    assert "/b" not in urls
    assert "500" in html and "404" in html and "Summer Slots" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("url=ftd", {"ftd"}),
    ("url=FTD", {"ftd"}),
    ("action=first_deposit", {"ftd"}),
    ("response_code=404", {"winter"}),
    ("response_code=200", {"acc"}),
    ("campaign_name=summer", {"acc", "ftd"}),
    ("campaign_name=winter", {"winter"}),
    ("promo_code=summer", {"acc", "ftd"}),
    ("promo_code=NOPE", set()),
])
def test_the_log_filters(client, owner, logged, query, expected):
    sign_in(client, owner)

    _, urls = rows(client, query)

    assert {u.split("?")[0] for u in urls} == expected


def test_the_log_filters_by_ids_and_time(client, owner, logged):
    sign_in(client, owner)
    promo = logged["promo"]
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    until = (timezone.now() - dt.timedelta(days=2)).strftime("%Y-%m-%d")

    assert {u.split("?")[0] for u in rows(client, f"campaign_id={promo.campaign_id}")[1]} == {"acc", "ftd"}
    assert {u for u in rows(client, f"campaign_id={logged['second_campaign'].pk}")[1]} == {"winter"}
    assert {u.split("?")[0] for u in rows(client, f"promo_id={promo.pk}")[1]} == {"acc", "ftd"}
    assert {u.split("?")[0] for u in rows(client, f"since={since}")[1]} == {"ftd", "winter"}
    assert {u.split("?")[0] for u in rows(client, f"until={until}")[1]} == {"acc"}


@pytest.mark.parametrize("query", [
    "response_code=abc", "response_code=99", "since=yesterday", "campaign_id=-1", "promo_id=1e9999",
    "action=withdrawal", "since=2024-05-02&until=2024-05-01", "url=" + "x" * 201,
])
def test_bad_log_filters_are_form_errors(client, owner, logged, query):
    sign_in(client, owner)

    response, urls = rows(client, query)

    assert response.context["form"].errors
    assert "Correct the filters" in response.content.decode()
    assert urls == []


def test_another_affiliates_log_rows_never_show(client, other, logged):
    b_user, _, _ = other
    sign_in(client, b_user)

    _, urls = rows(client)
    assert urls == ["b"]
    _, urls = rows(client, f"campaign_id={logged['promo'].campaign_id}")
    assert urls == []


def test_the_log_is_paginated(client, owner, sink):
    pb = make(owner.affiliate, sink.url("/pb"))
    for _ in range(55):
        postback_test_send(postback=pb)
    sign_in(client, owner)

    first = client.get(LOG)
    second = client.get(f"{LOG}?page=2")
    nonsense = client.get(f"{LOG}?page=zzz")

    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 5
    assert nonsense.status_code == 200
    assert "Page 1 of 2" in first.content.decode()


# --- the section on campaign and promo pages ----------------------------------------------


def _section(owner, **context):
    request = RequestFactory().get("/partner/campaigns/1")
    request.user = owner
    return render_to_string("campaigns/postbacks/_section.html", context, request=request)


def test_the_section_lists_a_campaigns_postbacks_with_links(owner, promo, sink):
    campaign = promo.campaign
    pb = make(owner.affiliate, sink.url("/cpb"), scope="campaign", campaign=campaign)
    postback_test_send(postback=pb)

    html = _section(owner, postbacks=postback_list(affiliate=owner.affiliate, campaign=campaign),
                    scope="campaign", campaign=campaign)

    assert sink.url("/cpb") in html
    assert "Registration" in html and "GET" in html and "Active" in html and "200" in html
    assert reverse("campaigns:postback_edit", args=[pb.pk]) in html
    assert reverse("campaigns:postback_test", args=[pb.pk]) in html
    assert f"{NEW}?scope=campaign&amp;campaign={campaign.pk}" in html


def test_the_section_of_a_promo_links_to_a_promo_postback(owner, promo):
    html = _section(owner, postbacks=postback_list(affiliate=owner.affiliate, promo=promo), scope="promo",
                    campaign=promo.campaign, promo=promo)

    assert f"{NEW}?scope=promo&amp;promo={promo.pk}" in html
    assert "No promo postbacks" in html


def test_the_section_of_an_archived_campaign_offers_no_new_postback(owner, promo):
    Campaign.objects.filter(pk=promo.campaign_id).update(state=Campaign.State.ARCHIVED)
    promo.campaign.refresh_from_db()

    html = _section(owner, postbacks=[], scope="campaign", campaign=promo.campaign)

    assert NEW not in html
    assert "unarchive the campaign" in html


def test_campaign_and_promo_pages_show_their_postbacks(client, owner, promo):
    campaign_pb = make(owner.affiliate, "https://tracker.example/campaign-pb", scope="campaign",
                       campaign=promo.campaign)
    promo_pb = make(owner.affiliate, "https://tracker.example/promo-pb", scope="promo", promo=promo)
    assert promo_pb.campaign_id == promo.campaign_id
    sign_in(client, owner)

    campaign_page = client.get(reverse("campaigns:campaign_detail", args=[promo.campaign_id])).content.decode()
    promo_page = client.get(reverse("campaigns:promo_detail", args=[promo.pk])).content.decode()

    assert "Campaign postbacks" in campaign_page
    assert "https://tracker.example/campaign-pb" in campaign_page
    assert reverse("campaigns:postback_edit", args=[campaign_pb.pk]) in campaign_page
    assert "Promo postbacks" in promo_page
    assert "https://tracker.example/promo-pb" in promo_page
    assert f"{NEW}?scope=promo&amp;promo={promo.pk}" in promo_page
