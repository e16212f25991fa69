"""Contract tests: the real AffiliConnector obtains referral tokens for visits that came from
Affili and creates a conversion per deposit of their players — once, even on a replay — and
the pull then brings their status and wage back."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Deposit
from integrations.affili.models import AffiliConversion, AffiliReferral
from integrations.models import Connection, Network, SyncItemError, SyncRun
from integrations.services import connection_sync
from tests.campaigns.factories import BrandFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.fakes.affili import FakeAffili
from tests.partners.factories import StaffFactory

pytestmark = pytest.mark.django_db

KEY = "affili-access-id-push"
FAST = {"retries": 2, "backoff_factor": 0, "max_retry_after": 0.5, "timeout": (2.0, 5.0)}
REFERRER = "5f53a29fb867dd7df313d4e2"
AFF_ID = "affili12439651d0m"


@pytest.fixture
def fake():
    with FakeAffili(keys={KEY}) as fake:
        yield fake


def make_connection(fake, **options) -> Connection:
    connection = Connection(network=Network.AFFILI, name="Affili", base_url=fake.url, options=options)
    connection.set_secret(KEY)
    connection.save()
    return connection


@pytest.fixture
def connection(fake):
    return make_connection(fake)


def sync(connection, kinds=None, **kwargs) -> dict[str, SyncRun]:
    runs = connection_sync(connection=connection, kinds=kinds, **FAST, **kwargs)
    connection.refresh_from_db()
    return {run.kind: run for run in runs}


def affili_visit(params=None, *, minutes_ago=30, **kwargs):
    params = {"referrer": REFERRER, "aff_id": AFF_ID} if params is None else params
    return VisitFactory(params=params, created_at=timezone.now() - dt.timedelta(minutes=minutes_ago), **kwargs)


def deposit(player, amount, *, n=0, currency="EUR", days_ago=0) -> Deposit:
    return Deposit.objects.create(
        brand=player.brand, player=player, deposit_id=f"op-{player.pk}-{n}", amount=Decimal(amount),
        currency=currency, is_first=n == 0, processed_at=timezone.now() - dt.timedelta(days=days_ago, minutes=10 - n),
    )


def posts(fake, path):
    return [r for r in fake.requests if r.method == "POST" and r.path == path]


@pytest.mark.parametrize("token_shape", ["object", "string"])
def test_a_visit_from_affili_gets_one_token(fake, connection, token_shape):
    fake.token_shape = token_shape
    first, second = affili_visit(), affili_visit({"referrer": "abc123"})
    affili_visit({"utm_source": "google"})  # not from Affili
    affili_visit({"referrer": ""})
    affili_visit(minutes_ago=0)  # too fresh: left for the next run

    runs = sync(connection, kinds=["referrals"])

    assert runs["referrals"].created == 2
    referrals = {r.visit_id: r for r in AffiliReferral.objects.filter(connection=connection)}
    assert set(referrals) == {first.pk, second.pk}
    assert referrals[first.pk].referrer == REFERRER and referrals[first.pk].aff_id == AFF_ID
    assert referrals[second.pk].aff_id == ""
    assert {r.token for r in referrals.values()} <= set(fake.tokens)
    assert [r.json() for r in posts(fake, "/api/merchants/set-cookie")] == [{"referrer": REFERRER},
                                                                            {"referrer": "abc123"}]

    # a second run asks for no token again
    fake.requests.clear()
    again = sync(connection, kinds=["referrals"])
    assert again["referrals"].created == 0 and posts(fake, "/api/merchants/set-cookie") == []


def test_custom_parameter_names_and_the_brand_mapping_are_honoured(fake):
    brand, other = BrandFactory(), BrandFactory()
    connection = make_connection(fake, referrer_param="ref", aff_id_param="aid")
    connection.brand_mapping = {str(brand.pk): "merchant"}
    connection.save()
    ours = affili_visit({"ref": "r-1", "aid": "a-1"}, promo=PromoFactory(campaign__brand=brand))
    affili_visit({"ref": "r-2"}, promo=PromoFactory(campaign__brand=other))
    affili_visit({"referrer": "r-3"}, promo=PromoFactory(campaign__brand=brand))

    sync(connection, kinds=["referrals"])

    [referral] = AffiliReferral.objects.all()
    assert (referral.visit_id, referral.referrer, referral.aff_id) == (ours.pk, "r-1", "a-1")


def test_each_deposit_becomes_one_buy_conversion(fake, connection):
    player = PlayerFactory(visit=affili_visit())
    first, second = deposit(player, "2000.00"), deposit(player, "12.50", n=1)
    organic = PlayerFactory(visit=VisitFactory(params={}))
    deposit(organic, "99.00")

    runs = sync(connection)

    assert runs["referrals"].created == 1 and runs["conversions_push"].created == 2
    token = AffiliReferral.objects.get().token
    assert [r.json() for r in posts(fake, "/api/merchants/conversions")] == [
        {"external_id": f"dep-{first.pk}", "amount": "2000", "token": token, "aff_id": AFF_ID, "referrer": REFERRER,
         "type": "buy", "commissions": [{"name": "buy", "sub_amount": "2000"}]},
        {"external_id": f"dep-{second.pk}", "amount": "12.5", "token": token, "aff_id": AFF_ID, "referrer": REFERRER,
         "type": "buy", "commissions": [{"name": "buy", "sub_amount": "12.5"}]},
    ]
    rows = {c.deposit_id: c for c in AffiliConversion.objects.filter(connection=connection)}
    assert set(rows) == {first.pk, second.pk}
    assert rows[first.pk].player_id == player.pk and rows[first.pk].amount == Decimal("2000.00")
    assert rows[first.pk].affili_id == fake.by_external[f"dep-{first.pk}"]
    assert rows[first.pk].status == "pending" and rows[first.pk].pushed_at is not None
    assert len(fake.conversions) == 2


def test_a_second_sync_creates_no_conversion_again(fake, connection):
    player = PlayerFactory(visit=affili_visit())
    deposit(player, "50")
    sync(connection)
    fake.requests.clear()

    runs = sync(connection)

    assert runs["conversions_push"].created == 0
    assert posts(fake, "/api/merchants/conversions") == [] and len(fake.conversions) == 1


def test_a_replay_after_a_lost_commit_keeps_affilis_conversion_instead_of_a_duplicate(fake, connection):
    # given conversions Affili created but whose rows we lost (a crash between answer and commit)
    player = PlayerFactory(visit=affili_visit())
    deposits = [deposit(player, "10", n=0), deposit(player, "20", n=1)]
    sync(connection, kinds=["referrals", "conversions_push"])
    AffiliConversion.objects.all().delete()

    runs = sync(connection, kinds=["conversions_push"])

    assert runs["conversions_push"].status == SyncRun.Status.SUCCEEDED
    assert runs["conversions_push"].created == 0 and runs["conversions_push"].skipped == 2
    assert len(fake.conversions) == 2
    kept = AffiliConversion.objects.filter(connection=connection)
    assert sorted(kept.values_list("deposit_id", flat=True)) == sorted(d.pk for d in deposits)
    assert all(c.affili_id for c in kept)


def test_a_refused_conversion_is_an_item_error_and_the_others_go(fake, connection):
    refused = PlayerFactory(visit=affili_visit({"referrer": "r-no-aff"}))
    accepted = PlayerFactory(visit=affili_visit())
    deposit(refused, "10")
    ok = deposit(accepted, "30")

    runs = sync(connection)

    push = runs["conversions_push"]
    assert push.status == SyncRun.Status.PARTIAL and push.created == 1 and push.failed == 1
    [error] = SyncItemError.objects.filter(run=push)
    assert error.status_code == 422 and "aff_id field is required" in error.message
    assert list(AffiliConversion.objects.values_list("deposit_id", flat=True)) == [ok.pk]


def test_first_deposits_only_in_one_currency_when_configured(fake):
    connection = make_connection(fake, deposits="first", currency="EUR")
    player = PlayerFactory(visit=affili_visit())
    first = deposit(player, "10")
    deposit(player, "20", n=1)
    other = PlayerFactory(visit=affili_visit())
    deposit(other, "30", currency="USD")

    sync(connection)

    assert list(AffiliConversion.objects.values_list("deposit_id", flat=True)) == [first.pk]


def test_deposits_older_than_the_look_back_wait_for_since(fake, connection):
    player = PlayerFactory(visit=affili_visit())
    old = deposit(player, "10", days_ago=45)

    sync(connection)
    assert not AffiliConversion.objects.exists()

    sync(connection, since=(timezone.now() - dt.timedelta(days=60)).date())
    assert list(AffiliConversion.objects.values_list("deposit_id", flat=True)) == [old.pk]


def test_a_push_stopped_by_an_outage_resumes_with_the_rest(fake, connection):
    player = PlayerFactory(visit=affili_visit())
    deposits = [deposit(player, str(10 + n), n=n) for n in range(4)]
    fake.outage_after_creates = 2  # the third create meets a lasting 503

    broken = sync(connection)

    assert broken["conversions_push"].status == SyncRun.Status.FAILED and "503" in broken["conversions_push"].error
    assert AffiliConversion.objects.count() == 2  # the two Affili accepted are kept

    fake.outage_after_creates = None
    resumed = sync(connection)

    assert resumed["conversions_push"].created == 2
    assert sorted(AffiliConversion.objects.values_list("deposit_id", flat=True)) == [d.pk for d in deposits]
    assert len(fake.conversions) == 4


def test_status_and_wage_come_back_on_our_pushed_conversion(fake, connection):
    player = PlayerFactory(visit=affili_visit())
    first = deposit(player, "2000")
    sync(connection)

    fake.review(f"dep-{first.pk}", status=1, wage="150")
    runs = sync(connection)

    assert runs["conversions_pull"].updated == 1
    conversion = AffiliConversion.objects.get()
    assert conversion.status == AffiliConversion.Status.APPROVED and conversion.wage == Decimal("150.00")
    assert conversion.deposit_id == first.pk and conversion.player_id == player.pk
    assert conversion.pushed_at is not None and conversion.last_pulled_at is not None


def test_a_pulled_conversion_of_ours_is_linked_to_its_deposit(fake, connection):
    player = PlayerFactory(visit=VisitFactory())
    ours = deposit(player, "75")
    fake.add_conversion(external_id=f"dep-{ours.pk}", amount=75, status=1)
    fake.add_conversion(external_id="", amount=0, kind="click", affili_id="clk01")

    sync(connection, kinds=["conversions_pull"])

    linked = AffiliConversion.objects.get(external_id=f"dep-{ours.pk}")
    assert linked.deposit_id == ours.pk and linked.player_id == player.pk
    assert AffiliConversion.objects.get(external_id="affili:clk01").conversion_type == "click"


def test_the_admin_lists_conversions_by_status_and_hides_tokens(client, fake, connection):
    player = PlayerFactory(visit=affili_visit())
    approved, pending = deposit(player, "100"), deposit(player, "200", n=1)
    sync(connection)
    fake.review(f"dep-{approved.pk}", status=1, wage="7")
    sync(connection)
    sign_in(client, StaffFactory(is_superuser=True), verified=True)

    listing = client.get(reverse("admin:affili_affiliconversion_changelist"), {"status__exact": "approved"})

    page = listing.content.decode()
    assert listing.status_code == 200
    assert f"dep-{approved.pk}" in page and f"dep-{pending.pk}" not in page
    referral = AffiliReferral.objects.get()
    detail = client.get(reverse("admin:affili_affilireferral_change", args=[referral.pk])).content.decode()
    assert REFERRER in detail and referral.token not in detail
    assert client.get(reverse("admin:affili_affiliconversion_add")).status_code == 403
