"""Sub-affiliates: a sub-affiliate promo's visitor signs up with the visit's tag, and the
manager's approval turns it into partner connections (level 1, and level n+1 up the chain)."""
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from campaigns.links import tracking_link
from campaigns.models import Landing, PartnerConnection
from campaigns.services.connections import MAX_LEVEL, partner_connections_create
from partners.models import Affiliate
from partners.services.accounts import affiliate_approve
from tests.campaigns.factories import (
    BrandFactory,
    CampaignFactory,
    CommissionPlanFactory,
    LandingFactory,
    PromoFactory,
    VisitFactory,
)
from tests.conftest import sign_in
from tests.partners.factories import AffiliateFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGN_UP = reverse("partners:sign_up")
CONNECTIONS = reverse("campaigns:partner_connections")
PASSWORD = "Tall-giraffe-42-sunrise"


def application(name: str) -> dict:
    return {
        "name": name, "email": f"{name.lower().replace(' ', '.')}@example.net",
        "password1": PASSWORD, "password2": PASSWORD, "phone": "+356 2123 4567",
        "traffic_description": "A review site.", "accept_terms": "on",
    }


@pytest.fixture
def brand():
    return BrandFactory(name="Lucky Star")


def sub_affiliate_promo(affiliate, brand, *, title="Join us"):
    plan = CommissionPlanFactory(brand=brand, allows_sub_affiliates=True)
    landing = LandingFactory(brand=brand, audience=Landing.Audience.SUB_AFFILIATES,
                             url=f"http://testserver{SIGN_UP}")
    campaign = CampaignFactory(affiliate=affiliate, brand=brand, commission_plan=plan, name=f"{title} campaign")
    return PromoFactory(campaign=campaign, landing=landing, title=title)


def sign_up_through(promo, name: str, captured) -> Affiliate:
    """A visitor clicks the promo's tracking link, lands on the sign-up page, and applies."""
    visitor = Client()
    landing = visitor.get(tracking_link(promo).removeprefix("http://testserver"), HTTP_USER_AGENT="Mozilla/5.0")
    if landing.status_code == 501:  # tracking view not built yet: the tag it would append
        visit = VisitFactory(promo=promo)
        landing_url = f"{SIGN_UP}?{settings.TRACKING_TAG_PARAM}={visit.tag}"
    else:
        assert landing.status_code == 302
        landing_url = landing["Location"].removeprefix("http://testserver")
        assert f"{settings.TRACKING_TAG_PARAM}={promo.affiliate_id}_" in landing_url
    assert visitor.get(landing_url).status_code == 200
    with captured(execute=True):
        assert visitor.post(SIGN_UP, application(name)).status_code == 302
    return Affiliate.objects.get(name=name)


def test_sign_up_through_sub_affiliate_promos_creates_level_one_and_two_connections(
    client, brand, django_capture_on_commit_callbacks,
):
    manager = StaffFactory()
    top = UserFactory(affiliate__name="Top Partner")
    top_promo = sub_affiliate_promo(top.affiliate, brand, title="Top invite")

    # given: a middle partner joins through the top partner's promo and is approved
    middle = sign_up_through(top_promo, "Middle Partner", django_capture_on_commit_callbacks)
    assert middle.status == Affiliate.Status.PENDING and middle.referral_tag
    assert not PartnerConnection.objects.exists()  # not before approval
    affiliate_approve(affiliate=middle, actor=manager)
    # when: someone joins through the middle partner's promo and is approved
    middle_promo = sub_affiliate_promo(middle, brand, title="Middle invite")
    child = sign_up_through(middle_promo, "Child Partner", django_capture_on_commit_callbacks)
    affiliate_approve(affiliate=child, actor=manager)

    # then
    assert set(PartnerConnection.objects.values_list("parent__name", "child__name", "level")) == {
        ("Top Partner", "Middle Partner", 1),
        ("Middle Partner", "Child Partner", 1),
        ("Top Partner", "Child Partner", 2),
    }
    level_two = PartnerConnection.objects.get(level=2)
    assert (level_two.campaign, level_two.promo) == (top_promo.campaign, top_promo)  # the top's own

    sign_in(client, top)
    response = client.get(CONNECTIONS)
    listed = [(c.child.name, c.level, c.promo.title) for c in response.context["page_obj"]]
    assert listed == [("Middle Partner", 1, "Top invite"), ("Child Partner", 2, "Top invite")]
    html = response.content.decode()
    assert "Top invite campaign" in html and "see your commission plan" in html
    assert middle.created_at.strftime("%Y-%m-%d") in html

    sign_in(client, middle.owner)
    listed = [(c.child.name, c.level) for c in client.get(CONNECTIONS).context["page_obj"]]
    assert listed == [("Child Partner", 1)]


def test_the_tag_is_kept_in_the_session_across_a_failed_attempt(client, brand, django_capture_on_commit_callbacks):
    promo = sub_affiliate_promo(AffiliateFactory(), brand)
    visit = VisitFactory(promo=promo)
    client.get(SIGN_UP, {settings.TRACKING_TAG_PARAM: visit.tag})

    assert client.post(SIGN_UP, {**application("Retry"), "password2": "different"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SIGN_UP, application("Retry"))

    assert Affiliate.objects.get(name="Retry").referral_tag == visit.tag
    assert "partners_referral_tag" not in client.session


@pytest.mark.parametrize("tag", ["abc", "1_", "_2", "1_2_3", "1-2", "1_2 3", "1_2\n3", "٣_٣", "1" * 40 + "_" + "2" * 30, ""])
def test_a_malformed_tag_is_ignored(client, brand, django_capture_on_commit_callbacks, tag):
    client.get(SIGN_UP, {settings.TRACKING_TAG_PARAM: tag})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SIGN_UP, application("Plain"))

    assert Affiliate.objects.get(name="Plain").referral_tag == ""


def approve_with_tag(tag: str) -> Affiliate:
    child = AffiliateFactory(status=Affiliate.Status.PENDING, referral_tag=tag)
    affiliate_approve(affiliate=child, actor=None)
    return child


def test_a_players_promo_tag_an_unknown_visit_or_a_blocked_parent_connect_nobody(brand):
    players_visit = VisitFactory(promo=PromoFactory(campaign=CampaignFactory(brand=brand)))
    approve_with_tag(players_visit.tag)

    blocked = AffiliateFactory(status=Affiliate.Status.BLOCKED)
    approve_with_tag(VisitFactory(promo=sub_affiliate_promo(blocked, brand)).tag)

    visit = VisitFactory(promo=sub_affiliate_promo(AffiliateFactory(), brand))
    approve_with_tag(f"{visit.affiliate_id + 1000}_{visit.pk}")  # the tag's affiliate is not the visit's
    approve_with_tag(f"{visit.affiliate_id}_{visit.pk + 1000}")

    assert not PartnerConnection.objects.exists()


def test_an_affiliate_is_never_its_own_sub_affiliate(brand):
    child = AffiliateFactory(status=Affiliate.Status.PENDING)
    visit = VisitFactory(promo=sub_affiliate_promo(child, brand))
    child.referral_tag = visit.tag
    child.save()

    affiliate_approve(affiliate=child, actor=None)

    assert not PartnerConnection.objects.exists()


def test_connections_are_idempotent_and_stop_at_the_max_level(brand):
    chain = [AffiliateFactory(name="A0")]
    for _ in range(1, MAX_LEVEL + 2):
        visit = VisitFactory(promo=sub_affiliate_promo(chain[-1], brand))
        chain.append(approve_with_tag(visit.tag))

    last = chain[-1]
    assert sorted(PartnerConnection.objects.filter(child=last).values_list("level", flat=True)) == list(
        range(1, MAX_LEVEL + 1))
    assert not PartnerConnection.objects.filter(parent=chain[0], child=last).exists()  # too deep

    before = PartnerConnection.objects.count()
    partner_connections_create(child=last)
    partner_connections_create(child=last)
    assert PartnerConnection.objects.count() == before


def test_the_page_lists_only_the_affiliates_own_sub_affiliates(client, brand):
    user = UserFactory()
    sign_in(client, user)
    other_parent = AffiliateFactory()
    PartnerConnection.objects.create(parent=other_parent, child=AffiliateFactory(name="Not yours"), level=1)

    html = client.get(CONNECTIONS).content.decode()

    assert "Not yours" not in html
    assert "No sub-affiliates yet" in html
    assert client.get(CONNECTIONS, {"page": "x"}).status_code == 200
