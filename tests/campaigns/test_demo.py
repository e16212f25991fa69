"""The campaigns demo: a month of believable traffic behind stable tracking links, seeded again
without changing anything."""
import datetime as dt
import struct
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from campaigns import tracking
from campaigns.errors import CampaignsError
from campaigns.models import (
    Campaign,
    Deposit,
    Landing,
    Media,
    Player,
    PlayerActivity,
    PlayerEvent,
    Promo,
    TrafficSource,
    Visit,
)
from campaigns.services import demo
from partners.services.demo import demo_seed as partners_demo_seed

pytestmark = pytest.mark.django_db

CommissionPlan = Campaign._meta.get_field("commission_plan").related_model


@pytest.fixture
def partners_demo():
    call_command("setup_groups", stdout=StringIO())
    partners_demo_seed()
    tracking.tracking_cache_clear()


def snapshot() -> dict[str, list[dict]]:
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in apps.get_models()}


def test_it_needs_the_partners_demo_and_says_so():
    with pytest.raises(CampaignsError, match="partners demo"):
        demo.seed()


def test_the_printed_link_tracks_a_visit_of_lighthouse_media(partners_demo, client):
    lines = dict(demo.seed())

    assert lines["tracking_link"] == "https://go.aurora-casino.example/lhaurora01"
    assert lines["tracking_link_local"] == "http://testserver/lhaurora01"
    before = Visit.objects.count()
    response = client.get(urlsplit(lines["tracking_link_local"]).path + "?sub_id=try-me",
                          HTTP_USER_AGENT="Mozilla/5.0 (demo)")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == ("aurora-casino.example", "/promo/welcome-bonus")
    query = parse_qs(location.query)
    visit = Visit.objects.order_by("-pk").first()
    assert Visit.objects.count() == before + 1
    assert query == {"lang": ["en"], "sub_id": ["try-me"], "stag": [visit.tag]}
    assert visit.affiliate.name == "Lighthouse Media"


def test_the_program_setup_is_there(partners_demo):
    demo.seed()

    assert {"SEO", "Social media", "E-mail", "Paid search", "Streaming"} <= set(
        TrafficSource.objects.values_list("name", flat=True))
    sub = Landing.objects.get(audience=Landing.Audience.SUB_AFFILIATES)
    assert sub.url == "http://testserver/partner/sign_up"
    assert Landing.objects.filter(brand__name="Polar Spins", audience=Landing.Audience.PLAYERS).count() >= 2
    for banner in Media.objects.all():
        content = banner.file.read()
        assert content.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">II", content[16:24]) == (banner.width, banner.height)
    private = Media.objects.get(privacy=Media.Privacy.PRIVATE)
    assert [a.name for a in private.affiliates.all()] == ["Lighthouse Media"]
    individual = CommissionPlan.objects.get(is_default=False)
    assert [a.name for a in individual.affiliates.all()] == ["Lighthouse Media"]
    assert CommissionPlan.objects.filter(brand__name="Polar Spins", currency="USD").count() == 2


def test_lighthouse_media_has_campaigns_with_a_month_of_traffic(partners_demo):
    demo.seed()

    campaigns = Campaign.objects.filter(affiliate__name="Lighthouse Media")
    assert campaigns.count() == 3
    assert campaigns.filter(state=Campaign.State.ARCHIVED).count() == 1
    promos = Promo.objects.filter(affiliate__name="Lighthouse Media")
    assert set(promos.values_list("code", flat=True)) >= {"lhaurora01", "lhpolar01"}
    for promo in promos.select_related("campaign"):
        assert promo.brand_id == promo.campaign.brand_id
        assert promo.landing.brand_id == promo.brand_id

    # Visits over the last 30 days, before today, with custom parameters.
    visits = Visit.objects.all()
    assert visits.count() > 100
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert all(today - dt.timedelta(days=30) <= v.created_at < today for v in visits)
    assert all({"sub_id", "utm_source"} <= set(v.params) for v in visits)
    assert len({v.created_at.date() for v in visits}) > 20

    # Players registered through some visits, attributed to their promo, each with its event.
    players = Player.objects.select_related("visit")
    assert 10 < players.count() < visits.count()
    for player in players:
        assert player.tag == player.visit.tag
        assert player.affiliate_id == player.visit.affiliate_id
        assert player.sign_up_at >= player.visit.created_at
    assert PlayerEvent.objects.filter(type=PlayerEvent.Type.REGISTRATION).count() == players.count()

    # Deposits: one first deposit per depositing player, matching its FTD event and activity.
    depositors = players.exclude(first_deposit_at=None)
    assert depositors.exists()
    for player in depositors:
        first = Deposit.objects.get(player=player, is_first=True)
        assert first.processed_at == player.first_deposit_at
        assert first.processed_at >= player.sign_up_at
        assert first.currency == player.brand.base_currency
    assert PlayerEvent.objects.filter(type=PlayerEvent.Type.FIRST_DEPOSIT).count() == depositors.count()
    assert PlayerEvent.objects.filter(type=PlayerEvent.Type.DEPOSIT).count() == Deposit.objects.count()
    for activity in PlayerActivity.objects.all():
        deposits = Deposit.objects.filter(player=activity.player, processed_at__gte=activity.period_start,
                                          processed_at__lt=activity.period_end)
        assert sum(d.amount for d in deposits) == activity.deposits_sum
        assert activity.period_end <= today
    assert not Player.objects.filter(promo__landing__audience=Landing.Audience.SUB_AFFILIATES).exists()


def test_a_second_run_creates_nothing_and_prints_the_same_lines(partners_demo):
    first = demo.seed()
    before = snapshot()

    second = demo.seed()

    assert second == first
    assert snapshot() == before
