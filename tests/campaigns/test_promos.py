"""The promo page: title, traffic source (set once), promo code (unique per brand), the link
builder; and the promo services behind it."""
from unittest import mock

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils.html import escape

from campaigns.errors import CampaignsError
from campaigns.links import tracking_link
from campaigns.models import Campaign, Landing, Promo
from campaigns.services import campaigns as services
from tests.campaigns.factories import (
    BrandFactory,
    CampaignFactory,
    CommissionPlanFactory,
    LandingFactory,
    MediaFactory,
    PromoFactory,
    TrafficSourceFactory,
)
from tests.conftest import sign_in
from tests.partners.factories import AffiliateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(client):
    user = UserFactory()
    sign_in(client, user)
    return user


@pytest.fixture
def promo(user):
    brand = BrandFactory(name="Lucky Star")
    campaign = CampaignFactory(affiliate=user.affiliate, brand=brand, name="Summer push")
    return PromoFactory(campaign=campaign, title="Blog header")


def url(promo) -> str:
    return reverse("campaigns:promo_detail", args=[promo.pk])


def save(client, promo, **data):
    return client.post(url(promo), {"title": promo.title, "promo_code": promo.promo_code, **data})


def test_promo_page_shows_the_tracking_link_with_copy_and_the_campaign(client, promo):
    html = client.get(url(promo)).content.decode()

    assert "Blog header" in html
    assert f'value="{tracking_link(promo)}"' in html and 'data-copy="tracking-link"' in html
    assert reverse("campaigns:campaign_detail", args=[promo.campaign.pk]) in html
    assert promo.landing.name in html and "Direct Link" in html


def test_title_is_editable(client, promo):
    response = save(client, promo, title="  Sidebar banner  ")

    assert response.status_code == 302
    promo.refresh_from_db()
    assert promo.title == "Sidebar banner"
    assert "The promo is saved." in client.get(url(promo)).content.decode()


@pytest.mark.parametrize("data", [
    {"title": ""}, {"title": "   "}, {"title": "x" * 151}, {"promo_code": "x" * 51},
    {"promo_code": "WITH SPACE"}, {"promo_code": "<script>"}, {"traffic_source": "abc"},
    {"traffic_source": "99999999999999999999999"},
])
def test_bad_input_is_a_field_error(client, promo, data):
    response = save(client, promo, **data)

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert Promo.objects.get(pk=promo.pk).title == "Blog header"


def test_traffic_source_can_be_set_once_and_then_never_changes(client, promo):
    seo, social = TrafficSourceFactory(name="SEO"), TrafficSourceFactory(name="Social media")
    assert 'name="traffic_source"' in client.get(url(promo)).content.decode()

    save(client, promo, traffic_source=seo.pk)

    promo.refresh_from_db()
    assert promo.traffic_source == seo
    html = client.get(url(promo)).content.decode()
    assert 'name="traffic_source"' not in html  # shown as text only
    assert "it cannot be changed" in html
    # a forged field is ignored by the form ...
    save(client, promo, traffic_source=social.pk)
    promo.refresh_from_db()
    assert promo.traffic_source == seo
    # ... and refused by the service
    with pytest.raises(CampaignsError, match="SEO.*cannot be changed"):
        services.promo_update(promo=promo, traffic_source=social)
    assert Promo.objects.get(pk=promo.pk).traffic_source == seo


def test_an_inactive_traffic_source_is_not_offered(client, promo):
    retired = TrafficSourceFactory(name="Retired", is_active=False)

    response = save(client, promo, traffic_source=retired.pk)

    assert "This traffic source is not offered" in response.content.decode()


def test_promo_code_is_unique_per_brand_whatever_the_case(client, promo):
    PromoFactory(campaign=CampaignFactory(brand=promo.brand), promo_code="SUMMER100")

    response = save(client, promo, promo_code="summer100")

    assert response.status_code == 200
    assert "The promo code \u201csummer100\u201d is already used for Lucky Star" in response.content.decode()
    assert Promo.objects.get(pk=promo.pk).promo_code == ""


def test_the_same_promo_code_in_another_brand_is_fine(client, promo):
    PromoFactory(promo_code="SUMMER100")  # another brand

    assert save(client, promo, promo_code="SUMMER100").status_code == 302
    assert Promo.objects.get(pk=promo.pk).promo_code == "SUMMER100"


def test_promo_code_can_be_cleared(client, promo):
    services.promo_update(promo=promo, promo_code="SUMMER100")

    save(client, promo, promo_code="")

    assert Promo.objects.get(pk=promo.pk).promo_code == ""


def test_a_concurrent_duplicate_promo_code_is_caught_at_the_database(promo):
    PromoFactory(campaign=CampaignFactory(brand=promo.brand), promo_code="RACE")

    # The check passes (as if the other promo committed just after it); the unique index refuses.
    with mock.patch.object(services, "_promo_code_conflict", return_value=None), \
            pytest.raises(CampaignsError, match="already used for Lucky Star") as caught:
        services.promo_update(promo=promo, promo_code="race")

    assert caught.value.field == "promo_code"
    assert Promo.objects.get(pk=promo.pk).promo_code == ""


def test_the_database_refuses_duplicate_codes_in_a_brand(promo):
    PromoFactory(campaign=CampaignFactory(brand=promo.brand), promo_code="RACE")

    with pytest.raises(IntegrityError):
        Promo.objects.filter(pk=promo.pk).update(promo_code="Race")


def test_an_archived_campaign_refuses_promo_edits(client, promo):
    services.campaign_archive(campaign=promo.campaign)

    html = client.get(url(promo)).content.decode()
    assert "<fieldset disabled" in html and "is archived" in html
    response = save(client, promo, title="Changed")

    assert (f"Campaign {promo.campaign.pk} is archived; unarchive it to add or change promos and postbacks"
            in response.content.decode())
    assert Promo.objects.get(pk=promo.pk).title == "Blog header"
    services.campaign_unarchive(campaign=promo.campaign)
    assert save(client, promo, title="Changed").status_code == 302


def test_another_affiliates_promo_is_404(client, user):
    theirs = PromoFactory(title="Their promo")

    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs), {"title": "Mine now"}).status_code == 404
    assert Promo.objects.get(pk=theirs.pk).title == "Their promo"


# Link builder ----------------------------------------------------------------------------------

def test_link_builder_appends_custom_parameters_and_names_their_postback_variables(client, promo):
    response = client.get(url(promo), {"name_0": "sub_id", "value_0": "abc 1", "name_1": "click_id",
                                       "value_1": "{clickid}"})

    html = response.content.decode()
    link = tracking_link(promo) + "?sub_id=abc+1&click_id={clickid}"  # a tracker's macro stays as typed
    assert f'value="{escape(link)}"' in html
    assert "<code>${click_id}</code>" in html and "<code>${sub_id}</code>" in html
    for builtin in ("promo_id", "promo_code", "campaign_id", "campaign_name", "brand", "tag", "visit_id",
                    "player_id", "action", "amount", "currency", "country", "event_id", "timestamp"):
        assert f"<code>${{{builtin}}}</code>" in html


@pytest.mark.parametrize("params,error", [
    ({"name_0": "1abc", "value_0": "x"}, "Start with a letter"),
    ({"name_0": "sub id", "value_0": "x"}, "Start with a letter"),
    ({"name_0": "", "value_0": "lonely"}, "Enter the parameter name"),
    ({"name_0": "a", "name_1": "a"}, "already in the list"),
    ({"name_0": "stag", "value_0": "1_2"}, "used by the tracking itself"),
    ({"name_0": "x" * 65}, "at most 64"),
    ({"name_0": "a", "value_0": "v" * 201}, "at most 200"),
])
def test_link_builder_bad_input_is_a_field_error(client, promo, params, error):
    response = client.get(url(promo), params)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert "Your link" not in response.content.decode()


# Services ---------------------------------------------------------------------------------------

def test_promo_create_validates_landing_banner_and_traffic_source():
    brand = BrandFactory()
    campaign = CampaignFactory(brand=brand, commission_plan=CommissionPlanFactory(brand=brand))
    players = LandingFactory(brand=brand)

    with pytest.raises(CampaignsError, match="not an active landing of"):
        services.promo_create(campaign=campaign, landing=LandingFactory())
    with pytest.raises(CampaignsError, match="not an active landing of"):
        services.promo_create(campaign=campaign, landing=LandingFactory(brand=brand, is_active=False))
    with pytest.raises(CampaignsError, match="does not allow sub-affiliates"):
        services.promo_create(campaign=campaign, landing=LandingFactory(
            brand=brand, audience=Landing.Audience.SUB_AFFILIATES))
    private = MediaFactory(brand=brand, privacy="private")
    private.affiliates.add(AffiliateFactory())
    with pytest.raises(CampaignsError, match="banner .* is not available"):
        services.promo_create(campaign=campaign, landing=players, media=private)
    with pytest.raises(CampaignsError, match="no longer offered"):
        services.promo_create(campaign=campaign, landing=players,
                              traffic_source=TrafficSourceFactory(is_active=False))
    assert not campaign.promos.exists()

    promo = services.promo_create(campaign=campaign, landing=players, title="  ")
    assert promo.title == f"{campaign.name} \u2013 promo 1"
    assert (promo.affiliate_id, promo.brand_id) == (campaign.affiliate_id, brand.pk)
    assert len(promo.code) == 10


def test_campaign_create_rolls_back_when_the_first_promo_is_refused():
    brand = BrandFactory()
    affiliate = AffiliateFactory()

    with pytest.raises(CampaignsError):
        services.campaign_create(affiliate=affiliate, name="X", brand=brand,
                                 commission_plan=CommissionPlanFactory(brand=brand),
                                 landing=LandingFactory())
    assert not Campaign.objects.exists()
