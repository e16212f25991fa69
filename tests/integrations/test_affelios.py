"""The Affelios connector against the fake Affelios on loopback (tests/fakes/affelios.py):
Save & Test, customers of click-key players, transactions in bulk batches, refusals, retries,
an interrupted run that resumes, a replay that sends nothing, and the read-back."""
import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Deposit, PlayerActivity
from integrations.affelios.models import AffeliosCustomer, AffeliosTransaction, PushStatus
from integrations.client import AuthError, IntegrationError
from integrations.models import Connection, SyncItemError, SyncRun
from integrations.services import connection_sync, connection_test
from tests.campaigns.factories import BrandFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.fakes.affelios import FakeAffelios
from tests.fakes.network import FakeNetwork, Reply
from tests.partners.factories import StaffFactory

pytestmark = pytest.mark.django_db

KEY = "affelios-k3y-do-not-log"
FAST = {"retries": 2, "backoff_factor": 0, "max_retry_after": 0.01}
T0 = dt.datetime(2025, 6, 28, 19, 29, 48, 174000, tzinfo=dt.UTC)


@pytest.fixture
def fake():
    with FakeAffelios(keys={KEY}, forbidden_keys={"read-only-key"}) as server:
        yield server


@pytest.fixture
def brand():
    return BrandFactory(name="Lucky UK", base_currency="EUR")


@pytest.fixture
def connection(fake, brand):
    return _connection(fake, {str(brand.pk): "lucky-uk"})


def _connection(fake, mapping, *, key=KEY, options=None, base_url=None):
    connection = Connection(network="affelios", name=f"Affelios {len(mapping)}", base_url=base_url or fake.url,
                            brand_mapping=mapping, options=options or {})
    connection.set_secret(key)
    connection.save()
    return connection


def _player(brand, *, click="ck-1", params=None, **kwargs):
    visit = VisitFactory(promo=PromoFactory(campaign__brand=brand),
                         params=params if params is not None else {"clickKey": click, "sub_id": "s1"})
    return PlayerFactory(visit=visit, sign_up_at=T0, country="GB", **kwargs)


def _deposits(player, count, *, amount="10.00", currency="EUR"):
    Deposit.objects.bulk_create(
        Deposit(brand=player.brand, player=player, deposit_id=f"{player.pk}-{n}", amount=Decimal(amount),
                currency=currency, processed_at=T0 + dt.timedelta(hours=n + 1), is_first=n == 0)
        for n in range(count)
    )
    return list(Deposit.objects.filter(player=player).order_by("pk"))


def _window(player, *, bets="100.00", wins="60.00", day=1, currency="EUR"):
    start = T0.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=day)
    return PlayerActivity.objects.create(player=player, currency=currency, period_start=start,
                                         period_end=start + dt.timedelta(days=1), bets_sum=Decimal(bets),
                                         wins_sum=Decimal(wins), wager_sum=Decimal(bets))


def _sync(connection, *kinds, since=None):
    return {run.kind: run for run in connection_sync(connection=connection, kinds=list(kinds) or None, since=since,
                                                     trigger=SyncRun.Trigger.COMMAND, **FAST)}


def _posts(fake, suffix):
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith(suffix)]


# --- Save & Test ------------------------------------------------------------------------------


def test_save_and_test_reports_plainly(fake, connection):
    assert connection_test(connection=connection, **FAST) == (
        "Affelios accepted the API key (customers can be read); 1 brand mapped; click key parameter “clickKey”.")
    assert fake.requests[-1].header("X-Api-Key") == KEY

    connection.set_secret("nobody-knows-this-key")
    with pytest.raises(AuthError, match=r"^Affelios rejected the API key \(401\)"):
        connection_test(connection=connection, **FAST)

    connection.set_secret("read-only-key")
    with pytest.raises(AuthError, match=r"^Affelios: the API key lacks permission \(403\)"):
        connection_test(connection=connection, **FAST)


def test_save_and_test_flags_a_base_url_that_is_not_affelios(fake, brand):
    fake.fail_next(404, malformed=True)  # an HTML 404: some other server
    connection = _connection(fake, {str(brand.pk): "lucky-uk"})
    with pytest.raises(IntegrationError, match="check the base URL"):
        connection_test(connection=connection, **FAST)


class OtherServer(FakeNetwork):
    """Some other JSON service: every path answers 404 {"message": "no route"}, whatever the key."""

    def not_found(self, request):
        return Reply(404, {"message": "no route"})


def test_save_and_test_fails_on_another_servers_json_404_with_a_wrong_key(brand):
    with OtherServer(keys=set()) as other:
        connection = _connection(other, {str(brand.pk): "lucky-uk"}, key="not-an-affelios-key")

        with pytest.raises(IntegrationError) as failed:
            connection_test(connection=connection, **FAST)

        assert str(failed.value.message) == f"Affelios: unexpected answer at {other.url} (404) — check the base URL"
        assert other.requests[-1].path == "/api/v1/customer/00000000-0000-0000-0000-000000000000"


def test_save_and_test_fails_on_a_wrong_path_prefix_of_the_real_fake(fake, brand):
    # The fake Affelios itself answers {"message": "no route ..."} outside its routes.
    connection = _connection(fake, {str(brand.pk): "lucky-uk"}, base_url=fake.url + "/not-affelios")

    with pytest.raises(IntegrationError, match=r"^Affelios: unexpected answer at .*/not-affelios \(404\) — check"):
        connection_test(connection=connection, **FAST)


def test_save_and_test_refuses_a_problem_other_than_not_found(fake, connection):
    fake.fail_next(400, body={"title": "Bad Request", "status": 400, "traceId": "00-1-01"})

    with pytest.raises(IntegrationError, match=r"unexpected answer at .* \(400\) — check the base URL"):
        connection_test(connection=connection, **FAST)


def test_save_and_test_passes_on_a_customer_affelios_has(fake, connection, brand):
    _player(brand)
    _sync(connection, "customers")
    pushed = AffeliosCustomer.objects.get().affelios_id

    assert connection_test(connection=connection, **FAST).startswith("Affelios accepted the API key")
    assert fake.requests[-1].path == f"/api/v1/customer/{pushed}"


def test_admin_save_and_test_shows_the_403_in_words(client, fake, connection):
    sign_in(client, StaffFactory(is_superuser=True), verified=True)
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    form = {"network": "affelios", "name": connection.name, "secret": "read-only-key", "base_url": fake.url,
            "enabled": "on", "sync_interval_minutes": "60", "options": "{}",
            "brand_mapping": f'{{"{list(connection.brand_mapping)[0]}": "lucky-uk"}}', "_save_and_test": "1"}
    page = client.post(url, form, follow=True).content.decode()
    assert "Test failed — Affelios: the API key lacks permission (403)" in page

    page = client.post(url, {**form, "secret": KEY}, follow=True).content.decode()
    assert "Test passed — Affelios accepted the API key" in page


# --- customers --------------------------------------------------------------------------------


def test_only_click_key_players_of_mapped_brands_become_customers(fake, connection, brand):
    pushed = _player(brand, click="ck-abc")
    _player(brand, params={"sub_id": "no-click-key"})
    _player(brand, params={"clickKey": ""})
    PlayerFactory(visit=None, promo=None, campaign=None, affiliate=None, brand=brand, tag="")  # organic
    _player(BrandFactory(name="Unmapped Casino"), click="ck-unmapped")

    run = _sync(connection, "customers")["customers"]

    assert (run.status, run.created, run.skipped, run.failed) == (SyncRun.Status.SUCCEEDED, 1, 1, 0)
    [post] = _posts(fake, "/api/v1/customer")
    assert post.json() == {
        "externalId": str(pushed.pk), "externalBrandId": "lucky-uk", "registrationDate": "2025-06-28T19:29:48.174Z",
        "clickKey": "ck-abc", "clickId": "ck-abc", "country": "GB", "country_code": "GB",
    }
    customer = AffeliosCustomer.objects.get()
    assert customer.player == pushed and customer.status == PushStatus.PUSHED
    assert customer.affelios_id == fake.customer_ids[str(pushed.pk)]


def test_the_click_key_parameter_name_is_an_option(fake, brand):
    connection = _connection(fake, {str(brand.pk): "lucky-uk"}, options={"click_key_param": "affclick"})
    player = _player(brand, params={"affclick": "ak-9", "clickKey": "ignored"})
    _player(brand, click="only-default-name")

    _sync(connection, "customers")

    [post] = _posts(fake, "/api/v1/customer")
    assert (post.json()["externalId"], post.json()["clickKey"]) == (str(player.pk), "ak-9")


@pytest.mark.parametrize("reveals_id", [True, False])
def test_a_customer_affelios_already_has_is_linked_not_failed(fake, connection, brand, reveals_id):
    player = _player(brand)
    fake.conflict_reveals_id = reveals_id
    existing = fake._customer_new({"externalId": str(player.pk), "externalBrandId": "lucky-uk",
                                   "registrationDate": "2025-06-28T19:29:48.174Z"})

    run = _sync(connection, "customers")["customers"]

    assert (run.status, run.created, run.failed) == (SyncRun.Status.SUCCEEDED, 1, 0)
    assert AffeliosCustomer.objects.get().affelios_id == existing["id"]
    lookups = [r for r in fake.requests if r.method == "GET" and r.path == "/api/v1/customer"]
    assert len(lookups) == (0 if reveals_id else 1)


def test_a_refused_customer_is_recorded_and_not_sent_again(fake, brand):
    other = BrandFactory(name="Lucky DE")
    fake.brands = {"lucky-uk"}
    connection = _connection(fake, {str(brand.pk): "lucky-uk", str(other.pk): "not-configured-at-affelios"})
    good, refused = _player(brand), _player(other)

    run = _sync(connection, "customers")["customers"]

    assert (run.status, run.created, run.failed) == (SyncRun.Status.PARTIAL, 1, 1)
    error = SyncItemError.objects.get(run=run)
    assert (error.external_id, error.status_code) == (str(refused.pk), 422)
    assert "No brand 'not-configured-at-affelios' is configured" in error.message
    assert AffeliosCustomer.objects.get(player=refused).status == PushStatus.FAILED
    assert AffeliosCustomer.objects.get(player=good).status == PushStatus.PUSHED
    posts = len(_posts(fake, "/api/v1/customer"))

    again = _sync(connection, "customers")["customers"]
    assert (again.status, again.created, again.failed) == (SyncRun.Status.SUCCEEDED, 0, 0)
    assert len(_posts(fake, "/api/v1/customer")) == posts  # a 4xx is not retried

    fake.brands.add("not-configured-at-affelios")  # fixed at Affelios; the manager re-drives
    redriven = _sync(connection, "customers", since=T0.date())["customers"]
    assert (redriven.status, redriven.updated) == (SyncRun.Status.SUCCEEDED, 1)
    assert AffeliosCustomer.objects.get(player=refused).status == PushStatus.PUSHED


def test_a_wrong_base_url_fails_the_run_instead_of_marking_players(fake, brand):
    connection = _connection(fake, {str(brand.pk): "lucky-uk"}, base_url=fake.url + "/not-affelios")
    _player(brand)
    run = _sync(connection, "customers")["customers"]
    assert run.status == SyncRun.Status.FAILED and "check the base URL" in run.error
    assert not AffeliosCustomer.objects.exists()


def test_a_malformed_answer_fails_the_run_and_the_next_run_pushes(fake, connection, brand):
    _player(brand)
    fake.fail_next(200, malformed=True)
    first = _sync(connection, "customers")["customers"]
    assert first.status == SyncRun.Status.FAILED and "not JSON" in first.error
    second = _sync(connection, "customers")["customers"]
    assert (second.status, second.created) == (SyncRun.Status.SUCCEEDED, 1)


# --- transactions -----------------------------------------------------------------------------


def test_deposits_and_windows_go_in_batches_with_stable_ids(fake, brand):
    connection = _connection(fake, {str(brand.pk): "lucky-uk"}, options={"batch_size": 50})
    player = _player(brand)
    deposits = _deposits(player, 120, amount="12.34")
    window = _window(player, bets="100.50", wins="60.25")
    _window(player, bets="0", wins="0", day=2)  # nothing played: nothing to report

    runs = _sync(connection)

    assert runs["transactions"].status == SyncRun.Status.SUCCEEDED
    assert runs["transactions"].created == 121
    assert fake.batch_sizes == [50, 50, 20, 1]
    assert all(size <= 50 for size in fake.batch_sizes)
    first = _posts(fake, "/transaction/bulk")[0].json()[0]
    assert first == {"externalId": f"dep-{deposits[0].pk}", "type": "deposit", "externalCustomerId": str(player.pk),
                     "externalBrandId": "lucky-uk", "transactionDate": "2025-06-28T20:29:48.174Z",
                     "depositAmount": Decimal("12.34"), "country": "GB"}
    revenue = fake.transactions[f"act-{window.pk}"]
    assert (revenue["type"], revenue["grossRevenue"], revenue["wageredAmount"]) == (
        "revenue", Decimal("40.25"), Decimal("100.5"))
    assert set(fake.received.values()) == {1}


def test_the_default_batch_is_at_most_500(fake, connection, brand):
    player = _player(brand)
    _deposits(player, 501)
    _sync(connection)
    assert fake.batch_sizes == [500, 1]


@pytest.mark.parametrize("style", ["per_item", "problem_details", "opaque"])
def test_a_refused_transaction_is_recorded_once_and_never_resent(fake, brand, style):
    fake.bulk_errors = style
    connection = _connection(fake, {str(brand.pk): "lucky-uk"}, options={"batch_size": 8})
    deposits = _deposits(_player(brand), 8)
    refused = f"dep-{deposits[5].pk}"
    fake.refuse = {refused}

    run = _sync(connection, "customers", "transactions")["transactions"]

    assert (run.status, run.created, run.failed) == (SyncRun.Status.PARTIAL, 7, 1)
    error = SyncItemError.objects.get(run=run)
    assert (error.external_id, error.status_code) == (refused, 422 if style == "per_item" else 400)
    assert error.payload["externalId"] == refused
    assert AffeliosTransaction.objects.get(external_id=refused).status == PushStatus.FAILED
    assert refused not in fake.transactions and len(fake.transactions) == 7
    alone = [r for r in _posts(fake, "/transaction/bulk") if [i["externalId"] for i in r.json()] == [refused]]
    assert len(alone) == (1 if style == "opaque" else 0)  # isolated by halving, then given up

    bulk_posts = len(_posts(fake, "/transaction/bulk"))
    again = _sync(connection, "transactions")["transactions"]
    assert (again.status, again.fetched, again.failed) == (SyncRun.Status.SUCCEEDED, 0, 0)
    assert len(_posts(fake, "/transaction/bulk")) == bulk_posts

    fake.refuse.clear()  # fixed at Affelios; the manager re-drives from a date
    redriven = _sync(connection, "transactions", since=T0.date())["transactions"]
    assert (redriven.status, redriven.updated, redriven.created) == (SyncRun.Status.SUCCEEDED, 1, 0)
    assert AffeliosTransaction.objects.get(external_id=refused).status == PushStatus.PUSHED
    assert len(fake.transactions) == 8 and set(fake.received.values()) == {1}


def test_5xx_and_429_are_retried(fake, connection, brand):
    _deposits(_player(brand), 3)
    _sync(connection, "customers")
    fake.fail_next(503)
    fake.fail_next(429, retry_after=1)

    run = _sync(connection, "transactions")["transactions"]

    assert (run.status, run.created) == (SyncRun.Status.SUCCEEDED, 3)
    assert len(_posts(fake, "/transaction/bulk")) == 3  # 503, 429, then accepted
    assert fake.batch_sizes == [3]


def test_an_interrupted_push_resumes_without_duplicates(fake, brand):
    connection = _connection(fake, {str(brand.pk): "lucky-uk"}, options={"batch_size": 50})
    player = _player(brand)
    _deposits(player, 120)
    _window(player)
    fake.bulk_outage_after = 1  # Affelios goes down after the first batch

    first = _sync(connection)["transactions"]

    assert first.status == SyncRun.Status.FAILED and "server error 503" in first.error
    assert (first.created, AffeliosTransaction.objects.count()) == (50, 50)
    assert Connection.objects.get(pk=connection.pk).cursors["transactions"]["phase"] == "deposits"

    fake.bulk_outage_after = None
    second = _sync(connection, "transactions")["transactions"]

    assert second.status == SyncRun.Status.SUCCEEDED and second.resumed_from["after"]
    assert second.created == 71
    assert len(fake.transactions) == 121 and set(fake.received.values()) == {1}


def test_a_replay_sends_nothing(fake, connection, brand):
    player = _player(brand)
    _deposits(player, 5)
    _window(player)
    _sync(connection)
    sent = len(fake.requests)

    runs = _sync(connection, "customers", "transactions")

    assert [(r.status, r.created, r.failed) for r in runs.values()] == [(SyncRun.Status.SUCCEEDED, 0, 0)] * 2
    assert len(fake.requests) == sent


def test_a_corrected_window_is_sent_as_the_difference(fake, connection, brand):
    player = _player(brand)
    window = _window(player, bets="100.00", wins="60.00")
    _sync(connection, "customers", "transactions")

    PlayerActivity.objects.filter(pk=window.pk).update(bets_sum=Decimal("150.00"), updated_at=dt.datetime.now(dt.UTC))
    run = _sync(connection, "transactions")["transactions"]

    assert run.created == 1
    correction = fake.transactions[f"act-{window.pk}-r1"]
    assert (correction["grossRevenue"], correction["wageredAmount"]) == (Decimal(50), Decimal(50))
    assert fake.customer_by_external(player.pk)["lifetimeRevenue"] == Decimal("90.00")

    PlayerActivity.objects.filter(pk=window.pk).update(updated_at=dt.datetime.now(dt.UTC))  # same sums re-posted
    same = _sync(connection, "transactions")["transactions"]
    assert (same.created, same.skipped) == (0, 1)
    assert len(fake.transactions) == 2
    assert _sync(connection, "transactions")["transactions"].fetched == 0


def test_amounts_in_another_currency_are_refused_locally(fake, connection, brand):
    player = _player(brand)
    _deposits(player, 1, currency="USD")
    run = _sync(connection, "customers", "transactions")["transactions"]
    assert (run.status, run.failed) == (SyncRun.Status.PARTIAL, 1)
    assert "carry no currency" in SyncItemError.objects.get(run=run).message
    assert not fake.transactions


# --- read-back --------------------------------------------------------------------------------


def test_the_read_back_stores_what_affelios_computed(fake, connection, brand):
    player = _player(brand)
    _deposits(player, 3, amount="10.00")
    _window(player, bets="200.00", wins="120.00")

    runs = _sync(connection)

    assert runs["customers_refresh"].updated == 1
    customer = AffeliosCustomer.objects.get()
    assert customer.cpa_qualified is True and customer.has_deposited is True
    assert customer.lifetime_deposits == Decimal("30.00") and customer.first_deposit_amount == Decimal("10.00")
    assert customer.lifetime_revenue == Decimal("80.00")
    assert customer.lifetime_commission == Decimal("70.00")  # 25 % of 80 + 50 CPA at the fake
    assert customer.ftd_date == T0 + dt.timedelta(hours=1)
    assert customer.affiliate_ref == "Fake Media (aff-1)"
    assert "transactions" not in customer.raw

    gets = [r for r in fake.requests if r.method == "GET"]
    assert _sync(connection, "customers_refresh")["customers_refresh"].fetched == 0  # fresh: not read again
    assert [r for r in fake.requests if r.method == "GET"] == gets

    _deposits(player, 0)
    Deposit.objects.create(brand=brand, player=player, deposit_id="late", amount=Decimal("5"), currency="EUR",
                           processed_at=T0 + dt.timedelta(days=3))
    runs = _sync(connection)  # new transactions make the figures due again
    assert runs["customers_refresh"].updated == 1
    assert AffeliosCustomer.objects.get().lifetime_deposits == Decimal("35.00")


def test_a_customer_affelios_lost_is_an_item_error(fake, connection, brand):
    _player(brand)
    _sync(connection, "customers")
    fake.customers.clear()
    run = _sync(connection, "customers_refresh")["customers_refresh"]
    assert (run.status, run.failed) == (SyncRun.Status.PARTIAL, 1)
    assert SyncItemError.objects.get(run=run).status_code == 404


# --- secrets ----------------------------------------------------------------------------------


def test_the_key_never_reaches_logs_runs_or_item_errors(fake, connection, brand, caplog):
    caplog.set_level(logging.DEBUG)
    player = _player(brand)
    _deposits(player, 2)
    fake.refuse = {f"dep-{Deposit.objects.first().pk}"}
    fake.fail_next(503)
    _sync(connection)
    connection.refresh_from_db()
    connection.set_secret(KEY + "-wrong")
    connection.save()
    Deposit.objects.create(brand=brand, player=player, deposit_id="late", amount=Decimal("5"), currency="EUR",
                           processed_at=T0)
    refused = _sync(connection, "transactions")["transactions"]
    assert refused.status == SyncRun.Status.FAILED and "rejected the API key (401)" in refused.error

    assert KEY not in caplog.text
    for run in SyncRun.objects.all():
        assert KEY not in run.error and KEY not in str(run.cursor)
    for error in SyncItemError.objects.all():
        assert KEY not in error.message and KEY not in str(error.payload)
