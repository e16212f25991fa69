"""The create wizard (/partner/campaigns/new) and "Add promo" (steps 2–3 for a campaign)."""
import pytest
from django.urls import reverse

from campaigns.models import Campaign, Landing, Media, Promo
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

URL = reverse("campaigns:campaign_create")


def step(n: int, **params) -> str:
    query = "&".join([f"step={n}", *(f"{k}={v}" for k, v in params.items())])
    return f"{URL}?{query}"


@pytest.fixture
def user(client):
    user = UserFactory()
    sign_in(client, user)
    return user


@pytest.fixture
def program():
    brand = BrandFactory(name="Lucky Star")
    return {
        "brand": brand,
        "plan": CommissionPlanFactory(brand=brand, name="RevShare 30%"),
        "sub_plan": CommissionPlanFactory(brand=brand, name="Sub deal", allows_sub_affiliates=True),
        "landing": LandingFactory(brand=brand, name="Welcome page"),
        "sub_landing": LandingFactory(brand=brand, name="Join our program",
                                      audience=Landing.Audience.SUB_AFFILIATES,
                                      url="https://aff.example/partner/sign_up"),
        "source": TrafficSourceFactory(name="SEO"),
    }


def do_step1(client, program, *, plan=None, name="Summer push"):
    return client.post(step(1), {"name": name, "brand": program["brand"].pk,
                                 "commission_plan": (plan or program["plan"]).pk})


def do_step2(client, program, *, landing=None, audience="players", source=""):
    landing = landing or program["landing"]
    return client.post(step(2, audience=audience), {
        "audience": audience, "landing": landing.pk, "traffic_source": source,
    })


def test_three_steps_create_the_campaign_its_first_promo_and_tracking_link(client, user, program):
    banner = MediaFactory(brand=program["brand"], title="Big 300x250")

    first = client.get(URL).content.decode()
    assert f'data-brand="{program["brand"].pk}"' in first  # the plan list can follow the brand
    response = do_step1(client, program)
    assert response.status_code == 302 and response["Location"] == step(2)
    page = client.get(step(2)).content.decode()
    assert "Welcome page" in page and "Join our program" not in page
    response = do_step2(client, program, source=program["source"].pk)
    assert response.status_code == 302 and response["Location"] == step(3)
    page = client.get(step(3)).content.decode()
    assert "Big 300x250" in page and "Direct Link" in page

    response = client.post(step(3), {"banner": banner.pk})

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:campaign_detail", args=[campaign.pk])
    assert (campaign.affiliate, campaign.name, campaign.brand, campaign.commission_plan) == (
        user.affiliate, "Summer push", program["brand"], program["plan"])
    promo = campaign.promos.get()
    assert promo.title == "Summer push \u2013 promo 1"
    assert (promo.landing, promo.media, promo.traffic_source) == (program["landing"], banner, program["source"])
    page = client.get(response["Location"]).content.decode()
    assert f"/{promo.code}" in page
    assert "Summer push \u2013 promo 1" in page
    # the wizard is done: a new one starts empty
    assert "Summer push" not in client.get(URL).content.decode()


def test_direct_link_makes_a_promo_without_banner(client, user, program):
    do_step1(client, program)
    do_step2(client, program)

    client.post(step(3), {"banner": "direct"})

    assert Promo.objects.get().media is None


def test_a_plan_not_available_to_the_affiliate_is_refused(client, user, program):
    someone_else = AffiliateFactory()
    individual = CommissionPlanFactory(brand=program["brand"], name="VIP only", is_default=False,
                                       affiliates=[someone_else])
    inactive = CommissionPlanFactory(brand=program["brand"], name="Old plan", is_active=False)

    page = client.get(URL).content.decode()
    assert "RevShare 30%" in page
    assert "VIP only" not in page and "Old plan" not in page
    for plan in (individual, inactive):
        response = do_step1(client, program, plan=plan)
        assert response.status_code == 200
        assert "This commission plan is not available to you" in response.content.decode()
    assert client.get(step(2)).status_code == 302  # nothing was kept


def test_an_individual_plan_naming_the_affiliate_is_offered(client, user, program):
    mine = CommissionPlanFactory(brand=program["brand"], name="My deal", is_default=False,
                                 affiliates=[user.affiliate])

    assert "My deal" in client.get(URL).content.decode()
    assert do_step1(client, program, plan=mine).status_code == 302


def test_a_plan_of_another_brand_is_refused(client, user, program):
    other_plan = CommissionPlanFactory(brand=BrandFactory(name="Other Casino"), name="Other deal")

    response = do_step1(client, program, plan=other_plan)

    assert response.status_code == 200
    assert "is a plan of Other Casino; choose a plan of Lucky Star" in response.content.decode()


def test_sub_affiliate_landings_only_under_a_plan_that_allows_them(client, user, program):
    do_step1(client, program)
    page = client.get(step(2, audience="sub_affiliates")).content.decode()
    assert "does not support sub-affiliates" in page
    assert "Join our program" not in page

    response = do_step2(client, program, landing=program["sub_landing"], audience="sub_affiliates")

    assert response.status_code == 200
    assert "does not allow sub-affiliates" in response.content.decode()

    # under a plan that allows them
    do_step1(client, program, plan=program["sub_plan"])
    assert "Join our program" in client.get(step(2, audience="sub_affiliates")).content.decode()
    assert do_step2(client, program, landing=program["sub_landing"], audience="sub_affiliates").status_code == 302
    client.post(step(3), {"banner": "direct"})
    assert Promo.objects.get().is_sub_affiliate


def test_a_landing_of_another_brand_or_of_the_other_audience_is_refused(client, user, program):
    do_step1(client, program, plan=program["sub_plan"])
    foreign = LandingFactory(brand=BrandFactory(name="Other Casino"), name="Foreign page")

    response = do_step2(client, program, landing=foreign)
    assert "This landing is not available" in response.content.decode()

    response = do_step2(client, program, landing=program["sub_landing"], audience="players")
    assert "is not a landing for players" in response.content.decode()


def test_going_back_keeps_the_choices_and_a_new_brand_resets_the_later_steps(client, user, program):
    do_step1(client, program)
    do_step2(client, program, source=program["source"].pk)

    page = client.get(step(1)).content.decode()
    assert 'value="Summer push"' in page
    page = client.get(step(2)).content.decode()
    assert f'value="{program["landing"].pk}" checked' in page

    other = BrandFactory(name="Other Casino")
    other_plan = CommissionPlanFactory(brand=other)
    LandingFactory(brand=other, name="Other welcome")
    client.post(step(1), {"name": "Summer push", "brand": other.pk, "commission_plan": other_plan.pk})

    assert client.get(step(3)).status_code == 302  # the landing of the old brand is forgotten
    page = client.get(step(2)).content.decode()
    assert "Other welcome" in page and "Welcome page" not in page


def test_later_steps_without_the_earlier_ones_send_back_to_step_one(client, user, program):
    assert client.get(step(2))["Location"] == step(1)
    assert client.post(step(3), {"banner": "direct"})["Location"] == step(1)
    assert not Campaign.objects.exists()


def test_a_choice_gone_stale_before_finish_is_a_form_error(client, user, program):
    do_step1(client, program)
    do_step2(client, program)
    program["plan"].is_active = False
    program["plan"].save()

    response = client.post(step(3), {"banner": "direct"})

    assert response.status_code == 200
    assert "is not available to you for Lucky Star" in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_gallery_shows_public_banners_and_private_ones_naming_the_affiliate(client, user, program):
    MediaFactory(brand=program["brand"], title="Public one")
    mine = MediaFactory(brand=program["brand"], title="Private mine", privacy=Media.Privacy.PRIVATE)
    mine.affiliates.add(user.affiliate)
    theirs = MediaFactory(brand=program["brand"], title="Private theirs", privacy=Media.Privacy.PRIVATE)
    theirs.affiliates.add(AffiliateFactory())
    MediaFactory(brand=program["brand"], title="Switched off", is_active=False)
    other_brand = MediaFactory(title="Other brand banner")
    do_step1(client, program)
    do_step2(client, program)

    page = client.get(step(3)).content.decode()

    assert "Public one" in page and "Private mine" in page
    assert "Private theirs" not in page and "Switched off" not in page and "Other brand banner" not in page
    for forged in (theirs, other_brand):
        response = client.post(step(3), {"banner": forged.pk})
        assert "This banner is not available" in response.content.decode()
    assert not Campaign.objects.exists()


def test_gallery_filters(client, user, program):
    brand = program["brand"]
    MediaFactory(brand=brand, title="Slots wide", tags="slots", width=728, height=90, language="de")
    MediaFactory(brand=brand, title="Sport tall", tags="sport", width=160, height=600,
                 orientation=Media.Orientation.VERTICAL, file_format=Media.Format.GIF)
    do_step1(client, program)
    do_step2(client, program)

    def shown(**params):
        page = client.get(step(3, **params)).content.decode()
        return {t for t in ("Slots wide", "Sport tall") if t in page}

    assert shown() == {"Slots wide", "Sport tall"}
    assert shown(title="slots") == {"Slots wide"}
    assert shown(language="de") == {"Slots wide"}
    assert shown(file_format="gif") == {"Sport tall"}
    assert shown(resolution="160x600") == {"Sport tall"}
    assert shown(tag="sport") == {"Sport tall"}
    assert shown(orientation="vertical") == {"Sport tall"}
    assert shown(privacy="private") == set()


@pytest.mark.parametrize("params", [
    {"resolution": "99999x1"}, {"resolution": "abc"}, {"file_format": "exe"}, {"language": "xx"},
    {"orientation": "diagonal"}, {"privacy": "secret"}, {"title": "x" * 500}, {"tag": "t" * 51},
])
def test_bad_gallery_filters_are_form_errors(client, user, program, params):
    MediaFactory(brand=program["brand"], title="Still listed")
    do_step1(client, program)
    do_step2(client, program)

    response = client.get(step(3, **params))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error"' in html
    assert "Still listed" in html  # the gallery is shown unfiltered meanwhile


@pytest.mark.parametrize("page", ["-1", "abc", "99999999999999999999"])
def test_any_gallery_page_number_answers(client, user, program, page):
    do_step1(client, program)
    do_step2(client, program)

    assert client.get(step(3, page=page)).status_code == 200


@pytest.mark.parametrize("data", [
    {"name": "", "brand": "1", "commission_plan": "1"},
    {"name": "x" * 151, "brand": "1", "commission_plan": "1"},
    {"name": "ok", "brand": "99999999999999999999999", "commission_plan": "abc"},
    {"name": "ok", "brand": "-1", "commission_plan": str(2**63)},
])
def test_bad_step_one_input_is_a_form_error(client, user, program, data):
    response = client.post(step(1), data)

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


@pytest.mark.parametrize("data", [
    {"audience": "robots", "landing": "1"},
    {"audience": "players", "landing": "99999999999999999999999"},
    {"audience": "players", "landing": "", "traffic_source": "abc"},
])
def test_bad_step_two_input_is_a_form_error(client, user, program, data):
    do_step1(client, program)

    response = client.post(step(2), data)

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


@pytest.mark.parametrize("banner", ["", "abc", "99999999999999999999999", "-5"])
def test_bad_banner_input_is_a_form_error(client, user, program, banner):
    do_step1(client, program)
    do_step2(client, program)

    response = client.post(step(3), {"banner": banner})

    assert response.status_code == 200
    assert not Campaign.objects.exists()


def test_no_plan_available_says_so(client, user):
    page = client.get(URL).content.decode()

    assert "No commission plan is available to you yet" in page


# Add promo -----------------------------------------------------------------------------------

def test_add_promo_runs_steps_two_and_three_and_opens_the_promo_page(client, user, program):
    campaign = CampaignFactory(affiliate=user.affiliate, brand=program["brand"], commission_plan=program["plan"],
                               name="Winter")
    PromoFactory(campaign=campaign)
    url = reverse("campaigns:promo_create", args=[campaign.pk])

    page = client.get(url).content.decode()
    assert "Add promo to Winter" in page and "Welcome page" in page
    response = client.post(f"{url}?step=2&audience=players", {
        "audience": "players", "landing": program["landing"].pk, "traffic_source": "", "title": "",
    })
    assert response["Location"] == f"{url}?step=3"
    response = client.post(f"{url}?step=3", {"banner": "direct"})

    promo = campaign.promos.order_by("pk").last()
    assert response["Location"] == reverse("campaigns:promo_detail", args=[promo.pk])
    assert promo.title == "Winter \u2013 promo 2"
    assert promo.brand == program["brand"] and promo.affiliate == user.affiliate


def test_add_promo_with_a_title_and_a_sub_affiliate_landing_refused_under_the_plan(client, user, program):
    campaign = CampaignFactory(affiliate=user.affiliate, brand=program["brand"], commission_plan=program["plan"])
    url = reverse("campaigns:promo_create", args=[campaign.pk])
    client.get(url)

    response = client.post(f"{url}?step=2", {"audience": "sub_affiliates", "landing": program["sub_landing"].pk})
    assert "does not allow sub-affiliates" in response.content.decode()

    client.post(f"{url}?step=2", {"audience": "players", "landing": program["landing"].pk, "title": "Blog header"})
    client.post(f"{url}?step=3", {"banner": "direct"})
    assert campaign.promos.get().title == "Blog header"


def test_add_promo_to_another_affiliates_campaign_is_404(client, user, program):
    theirs = CampaignFactory(brand=program["brand"], commission_plan=program["plan"])
    url = reverse("campaigns:promo_create", args=[theirs.pk])

    assert client.get(url).status_code == 404
    assert client.post(f"{url}?step=3", {"banner": "direct"}).status_code == 404
    assert not theirs.promos.exists()
