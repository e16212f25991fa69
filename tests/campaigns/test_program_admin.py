"""The admin of the program setup (landings, banners, traffic sources, commission plans), of
affiliates' campaigns, promos and partner connections, and the read-only player data."""
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import CommissionPlan
from campaigns.forms import image_info
from campaigns.models import Campaign, Landing, Media, PartnerConnection, Promo, TrafficSource
from campaigns.selectors import commission_plans_available
from tests.billing.test_bill_admin import _plan_post
from tests.campaigns.factories import (
    GIF_1X1,
    BrandFactory,
    CampaignFactory,
    CommissionPlanFactory,
    MediaFactory,
    PlayerFactory,
    PromoFactory,
    TrafficSourceFactory,
    VisitFactory,
)
from tests.conftest import sign_in
from tests.partners.factories import AffiliateFactory, StaffFactory

pytestmark = pytest.mark.django_db


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4 + b"\x00" * 12


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 4) + b"\x00\x00"
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + dqt + sof + b"\xff\xd9"


@pytest.fixture
def admin_client(client):
    return sign_in(client, StaffFactory(is_superuser=True), verified=True)


def url(model: str, action: str = "changelist", *args, app: str = "campaigns") -> str:
    return reverse(f"admin:{app}_{model}_{action}", args=args)


# Banners: dimensions from the file ----------------------------------------------------------

@pytest.mark.parametrize("data,expected", [
    (png(728, 90), ("png", 728, 90)),
    (GIF_1X1, ("gif", 1, 1)),
    (jpeg(160, 600), ("jpg", 160, 600)),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("webp", None, None)),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', ("", None, None)),  # refused
    (b"%PDF-1.4", ("", None, None)),
    (b"\xff\xd8\xff", ("jpg", None, None)),  # truncated JPEG
    (b"", ("", None, None)),
])
def test_image_info_reads_format_and_size_from_the_header(data, expected):
    assert image_info(data) == expected


def media_post(brand, upload, **overrides):
    data = {"brand": brand.pk, "title": "Welcome 728x90", "language": "en", "file": upload,
            "file_format": "", "width": "", "height": "", "orientation": "", "tags": "slots",
            "privacy": "public", "is_active": "on"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("name,data,fmt,size,orientation", [
    ("banner.png", png(728, 90), "png", (728, 90), "horizontal"),
    ("tower.jpg", jpeg(160, 600), "jpg", (160, 600), "vertical"),
    ("dot.gif", GIF_1X1, "gif", (1, 1), "square"),
])
def test_media_admin_fills_format_size_and_orientation_from_the_file(
    admin_client, name, data, fmt, size, orientation,
):
    brand = BrandFactory()

    response = admin_client.post(url("media", "add"), media_post(brand, SimpleUploadedFile(name, data)))

    assert response.status_code == 302, response.context["adminform"].form.errors
    media = Media.objects.get()
    assert (media.file_format, (media.width, media.height), media.orientation) == (fmt, size, orientation)


def test_media_admin_requires_size_when_the_file_does_not_tell_it(admin_client):
    brand = BrandFactory()
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32

    response = admin_client.post(url("media", "add"), media_post(brand, SimpleUploadedFile("b.webp", webp)))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Enter the width in pixels" in str(errors["width"])
    assert not Media.objects.exists()

    response = admin_client.post(url("media", "add"), media_post(
        brand, SimpleUploadedFile("b.webp", webp), width="300", height="250"))
    assert response.status_code == 302
    assert Media.objects.get().orientation == "horizontal"


def test_media_admin_refuses_svg_which_could_carry_script(admin_client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>'

    response = admin_client.post(url("media", "add"), media_post(BrandFactory(), SimpleUploadedFile("b.svg", svg)))

    assert "SVG is not accepted" in str(response.context["adminform"].form.errors)
    assert not Media.objects.exists()


def test_media_admin_refuses_non_images_and_a_wrong_format(admin_client):
    brand = BrandFactory()

    response = admin_client.post(url("media", "add"), media_post(brand, SimpleUploadedFile("x.png", b"MZ\x90")))
    assert "not a PNG, JPG, GIF or WebP image" in str(response.context["adminform"].form.errors)

    response = admin_client.post(url("media", "add"), media_post(
        brand, SimpleUploadedFile("x.png", png(10, 10)), file_format="gif"))
    assert "The file is a PNG image" in str(response.context["adminform"].form.errors)
    assert not Media.objects.exists()


def test_media_admin_edit_keeps_the_stored_file_and_its_sizes(admin_client):
    media = MediaFactory(title="Old title")

    response = admin_client.post(url("media", "change", media.pk), {
        "brand": media.brand.pk, "title": "New title", "language": "en", "file_format": "png",
        "width": "300", "height": "250", "orientation": "horizontal", "tags": "", "privacy": "private",
        "affiliates": [AffiliateFactory().pk], "is_active": "on",
    })

    assert response.status_code == 302
    media.refresh_from_db()
    assert (media.title, media.privacy, media.affiliates.count()) == ("New title", "private", 1)


# Changelists ---------------------------------------------------------------------------------

def test_every_changelist_opens_with_data_filters_and_search(admin_client):
    promo = PromoFactory(promo_code="SUMMER")
    PlayerFactory(visit=VisitFactory(promo=promo))
    MediaFactory(brand=promo.brand)
    TrafficSourceFactory()
    PartnerConnection.objects.create(parent=promo.affiliate, child=AffiliateFactory(), level=1,
                                     campaign=promo.campaign, promo=promo)

    for model in ("landing", "media", "trafficsource", "campaign", "promo", "partnerconnection", "visit",
                  "player", "playeractivity", "deposit", "playerevent"):
        assert admin_client.get(url(model)).status_code == 200, model
        assert admin_client.get(url(model), {"q": "x"}).status_code == 200, model
    assert admin_client.get(url("commissionplan", app="billing")).status_code == 200
    player_list = admin_client.get(url("player"), {"ftd": "no", "attributed": "yes"})
    assert len(player_list.context["cl"].result_list) == 1
    assert len(admin_client.get(url("player"), {"attributed": "no"}).context["cl"].result_list) == 0
    assert "SUMMER" in admin_client.get(url("promo"), {"q": "SUMMER"}).content.decode()


def test_player_data_is_read_only(admin_client):
    player = PlayerFactory()

    assert admin_client.get(url("player", "add")).status_code == 403
    page = admin_client.get(url("player", "change", player.pk))
    assert page.status_code == 200 and 'name="user_id"' not in page.content.decode()
    assert admin_client.post(url("player", "change", player.pk), {"user_id": "changed"}).status_code == 403
    assert admin_client.post(url("visit", "delete", player.visit.pk), {"post": "yes"}).status_code == 403


# Campaigns and promos --------------------------------------------------------------------------

def test_managers_rename_campaigns_and_promos_but_change_nothing_else(admin_client):
    promo = PromoFactory(title="Old promo", promo_code="CODE1")
    campaign = promo.campaign
    other_brand = BrandFactory()

    assert admin_client.get(url("campaign", "add")).status_code == 403
    response = admin_client.post(url("campaign", "change", campaign.pk), {
        "name": "Renamed", "brand": other_brand.pk, "state": "archived",
        "promos-TOTAL_FORMS": "1", "promos-INITIAL_FORMS": "1", "promos-MIN_NUM_FORMS": "0",
        "promos-MAX_NUM_FORMS": "1000", "promos-0-id": promo.pk, "promos-0-campaign": campaign.pk,
        "promos-0-title": "Renamed promo", "promos-0-promo_code": "HACKED",
    })

    assert response.status_code == 302
    campaign.refresh_from_db()
    promo.refresh_from_db()
    assert (campaign.name, campaign.brand_id, campaign.state) == ("Renamed", promo.brand_id, "active")
    assert (promo.title, promo.promo_code) == ("Renamed promo", "CODE1")

    response = admin_client.post(url("promo", "change", promo.pk), {"title": "Again", "promo_code": "X"})
    assert response.status_code == 302
    promo.refresh_from_db()
    assert (promo.title, promo.promo_code) == ("Again", "CODE1")
    page = admin_client.get(url("promo", "change", promo.pk)).content.decode()
    assert f"/{promo.code}" in page  # the tracking link


def test_archive_action_goes_through_the_service(admin_client):
    active, archived = CampaignFactory(), CampaignFactory(state=Campaign.State.ARCHIVED)

    response = admin_client.post(url("campaign"), {
        "action": "archive", "_selected_action": [active.pk, archived.pk],
    }, follow=True)

    active.refresh_from_db()
    assert active.state == Campaign.State.ARCHIVED and active.archived_at is not None
    assert f"Campaign {archived.pk} is already archived." in response.content.decode()


def test_managers_add_landings_and_traffic_sources(admin_client):
    brand = BrandFactory()

    admin_client.post(url("landing", "add"), {"brand": brand.pk, "name": "Partners", "audience": "sub_affiliates",
                                              "url": "https://aff.example/partner/sign_up", "language": "en",
                                              "is_active": "on"})
    admin_client.post(url("trafficsource", "add"), {"name": "SEO", "position": "1", "is_active": "on"})

    assert Landing.objects.get().audience == Landing.Audience.SUB_AFFILIATES
    assert TrafficSource.objects.get().name == "SEO"


def test_partner_connections_can_be_fixed_by_managers(admin_client):
    parent, child = AffiliateFactory(), AffiliateFactory()

    response = admin_client.post(url("partnerconnection", "add"), {
        "parent": parent.pk, "child": child.pk, "level": "1", "campaign": "", "promo": "",
        "created_at_0": "2025-01-01", "created_at_1": "10:00:00",
    })

    assert response.status_code == 302
    assert PartnerConnection.objects.get().child == child
    response = admin_client.post(url("partnerconnection", "add"), {
        "parent": child.pk, "child": child.pk, "level": "2",
        "created_at_0": "2025-01-01", "created_at_1": "10:00:00",
    })
    assert response.status_code == 200  # not its own parent


# Commission plans ------------------------------------------------------------------------------

def test_commission_plan_admin_names_the_affiliates_of_an_individual_plan(admin_client):
    brand = BrandFactory()
    vip, other = AffiliateFactory(), AffiliateFactory()

    page = admin_client.get(url("commissionplan", "add", app="billing")).content.decode()
    assert "selectfilter" in page.lower()  # filter_horizontal
    response = admin_client.post(url("commissionplan", "add", app="billing"), {
        **_plan_post(brand, name="VIP", kind="revshare", cpa_amount="0", is_default=""),
        "affiliates": [vip.pk], "allows_sub_affiliates": "on",
    })

    assert response.status_code == 302
    plan = CommissionPlan.objects.get()
    assert not plan.is_default and list(plan.affiliates.all()) == [vip]
    assert list(commission_plans_available(affiliate=vip, brand=brand)) == [plan]
    assert list(commission_plans_available(affiliate=other, brand=brand)) == []
    assert list(commission_plans_available(affiliate=other)) == []
    default = CommissionPlanFactory(brand=brand)
    assert list(commission_plans_available(affiliate=other)) == [default]
    assert Promo.objects.count() == 0
