"""The integrations framework with a stand-in network: the base client's retries and typed
errors, sync runs with cursors and item errors, the run lock, the command and the admin."""
import datetime as dt
import logging
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations import registry
from integrations.client import (
    AuthError,
    BaseClient,
    RateLimited,
    RejectedError,
    RemoteError,
    RemoteTimeout,
)
from integrations.connector import Connector
from integrations.models import Connection, SyncItemError, SyncRun
from integrations.services import connection_sync, connection_test, connections_due
from tests.conftest import sign_in
from tests.fakes.network import FakeNetwork, Reply, route
from tests.partners.factories import StaffFactory

pytestmark = pytest.mark.django_db

KEY = "s3cret-key-123"


class FakeShop(FakeNetwork):
    """Ten items on pages of three; a /slow route that never answers in time."""

    name = "shop"

    def authenticate(self, request):
        key = request.header("x-api-key")
        if key in self.forbidden_keys:
            return Reply(403, {"title": "Forbidden"})
        if key not in self.keys:
            return Reply(401, {"title": "Unauthorized", "detail": "unknown key"})
        return None

    @route("GET", r"/me")
    def me(self, request):
        return Reply(200, {"account": "Demo shop"})

    @route("GET", r"/items")
    def items(self, request):
        page = int(request.arg("page", "1"))
        rows = [{"id": f"item-{n}", "amount": Decimal("1.10")} for n in range(1, 11)]  # a JSON number
        return Reply(200, {"data": rows[(page - 1) * 3: page * 3]})

    @route("POST", r"/orders")
    def orders(self, request):
        return Reply(201, {"ok": True})

    @route("GET", r"/slow")
    def slow(self, request):
        import time

        time.sleep(0.5)
        return Reply(200, {})


class ShopClient(BaseClient):
    network = "Shop"
    default_base_url = "https://shop.invalid/"

    def auth_headers(self):
        return {"X-Api-Key": self.secret}


class ShopConnector(Connector):
    """Pages through /items; 'item-7' is refused by our side (an item error)."""

    network = "affilae"
    kinds = ("items",)
    client_class = ShopClient
    seen: list[str] = []

    def test(self):
        return f"connected as {self.client.request('GET', '/me')['account']}"

    def run(self, kind, ctx):
        page = 1 if ctx.since else ctx.state.get("page", 1)
        while True:
            rows = self.client.request("GET", "/items", params={"page": page})["data"]
            if not rows:
                break
            with transaction.atomic():
                ctx.fetched += len(rows)
                for row in rows:
                    if row["id"] == "item-7":
                        ctx.item_failed(row["id"], "amount out of range", payload=row)
                        continue
                    ShopConnector.seen.append(row["id"])
                    ctx.created += 1
                page += 1
                ctx.checkpoint({"page": page})
        ctx.checkpoint({"page": 1, "done": True})


@pytest.fixture
def shop():
    with FakeShop(keys={KEY}, forbidden_keys={"read-only"}) as fake:
        yield fake


@pytest.fixture
def connection(shop, monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "affilae", f"{__name__}.ShopConnector")
    ShopConnector.seen = []
    conn = Connection(network="affilae", name="Shop", base_url=shop.url, sync_interval_minutes=60)
    conn.set_secret(KEY)
    conn.save()
    return conn


FAST = {"backoff_factor": 0.01, "retries": 2}


# --- the base client --------------------------------------------------------------------------

def client(shop, key=KEY, **kwargs):
    return ShopClient(secret=key, base_url=shop.url, **{**FAST, **kwargs})


def test_401_and_403_become_plain_auth_errors(shop):
    with pytest.raises(AuthError, match=r"Shop rejected the API key \(401\): unknown key"):
        client(shop, key="wrong").request("GET", "/me")
    with pytest.raises(AuthError, match=r"Shop: the API key lacks permission \(403\)"):
        client(shop, key="read-only").request("GET", "/me")


def test_429_and_5xx_are_retried_honouring_retry_after(shop):
    shop.fail_next(503)
    shop.fail_next(429, retry_after=0.2)

    assert client(shop).request("GET", "/me") == {"account": "Demo shop"}
    assert len(shop.requests) == 3


def test_a_retry_after_beyond_the_cap_is_cut_short(shop):
    import time

    shop.fail_next(429, retry_after=3600)
    started = time.monotonic()

    client(shop, max_retry_after=0.2).request("GET", "/me")

    assert time.monotonic() - started < 5


def test_retries_run_out_into_typed_errors(shop):
    shop.fail_next(502, times=5)
    with pytest.raises(RemoteError, match="server error 502"):
        client(shop).request("GET", "/me")
    shop.clear_failures()
    shop.fail_next(429, times=5, retry_after=0)
    with pytest.raises(RateLimited, match="429"):
        client(shop).request("GET", "/me")


def test_a_post_is_retried_only_when_the_caller_says_it_is_idempotent(shop):
    shop.fail_next(503)
    with pytest.raises(RemoteError):
        client(shop).request("POST", "/orders", json_body={"id": 1})
    assert len(shop.requests) == 1

    shop.fail_next(503)
    assert client(shop).request("POST", "/orders", json_body={"id": 1}, idempotent=True) == {"ok": True}
    assert len(shop.requests) == 3


def test_other_4xx_malformed_json_timeouts_and_refused_connections(shop):
    with pytest.raises(RejectedError, match=r"rejected \(404\)"):
        client(shop).request("GET", "/nowhere")
    shop.fail_next(200, malformed=True)
    with pytest.raises(RemoteError, match="not JSON"):
        client(shop).request("GET", "/me")
    with pytest.raises(RemoteTimeout):
        client(shop, timeout=(1, 0.1), retries=0).request("GET", "/slow")
    with pytest.raises(RemoteError, match="could not connect"):
        ShopClient(secret=KEY, base_url="http://127.0.0.1:9/", retries=0).request("GET", "/me")


def test_json_numbers_with_a_fraction_arrive_as_exact_decimals(shop):
    rows = client(shop).request("GET", "/items", params={"page": 1})["data"]

    assert rows[0]["amount"] == Decimal("1.10") and isinstance(rows[0]["amount"], Decimal)


def test_the_key_never_reaches_the_logs(shop, caplog):
    caplog.set_level(logging.DEBUG)
    shop.fail_next(503, times=5)
    with pytest.raises(RemoteError) as failure:
        client(shop).request("GET", "/me", params={"page": 1})
    assert KEY not in caplog.text
    assert KEY not in failure.value.message


# --- sync runs --------------------------------------------------------------------------------

def test_a_sync_records_a_run_with_counts_and_item_errors(connection):
    [run] = connection_sync(connection=connection, **FAST)

    assert run.status == SyncRun.Status.PARTIAL
    assert (run.fetched, run.created, run.failed) == (10, 9, 1)
    error = SyncItemError.objects.get(run=run)
    assert (error.external_id, error.message, error.payload["id"]) == ("item-7", "amount out of range", "item-7")
    connection.refresh_from_db()
    assert connection.cursors["items"] == {"page": 1, "done": True}
    assert connection.next_sync_at > timezone.now()
    assert connection.last_success_at is None  # partial is not a success


def test_an_interrupted_run_resumes_from_its_last_checkpoint(connection, shop):
    shop.fail_next(500, times=99, when="page=3")

    [failed] = connection_sync(connection=connection, **FAST)

    assert failed.status == SyncRun.Status.FAILED
    assert "server error 500" in failed.error
    assert ShopConnector.seen == ["item-1", "item-2", "item-3", "item-4", "item-5", "item-6"]
    assert failed.cursor == {"page": 3}

    shop.clear_failures()
    [resumed] = connection_sync(connection=connection, **FAST)

    assert resumed.resumed_from == {"page": 3}
    assert ShopConnector.seen == [f"item-{n}" for n in range(1, 11) if n != 7]  # nothing twice
    assert (resumed.fetched, resumed.created, resumed.failed) == (4, 3, 1)


def test_two_runs_of_one_connection_never_overlap(connection):
    Connection.objects.filter(pk=connection.pk).update(
        lock_token="someone-else", lock_expires_at=timezone.now() + dt.timedelta(minutes=5))

    assert connection_sync(connection=connection, **FAST) == []
    assert not SyncRun.objects.exists()


def test_a_dead_run_is_marked_failed_once_its_lock_expires(connection):
    dead = SyncRun.objects.create(connection=connection, kind="items")
    Connection.objects.filter(pk=connection.pk).update(
        lock_token="dead-worker", lock_expires_at=timezone.now() - dt.timedelta(seconds=1))

    runs = connection_sync(connection=connection, **FAST)

    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and "Interrupted" in dead.error
    assert len(runs) == 1
    connection.refresh_from_db()
    assert connection.lock_expires_at is None


def test_since_rereads_from_the_start(connection):
    connection_sync(connection=connection, **FAST)
    [again] = connection_sync(connection=connection, since=dt.date(2026, 1, 1), **FAST)
    assert again.fetched == 10 and again.since == dt.date(2026, 1, 1)


def test_connection_test_reports_plainly(connection):
    assert connection_test(connection=connection, **FAST) == "connected as Demo shop"
    connection.set_secret("wrong")
    with pytest.raises(AuthError, match=r"rejected the API key \(401\)"):
        connection_test(connection=connection, **FAST)


def test_due_connections_follow_their_own_schedule(connection):
    Connection.objects.filter(pk=connection.pk).update(next_sync_at=timezone.now() - dt.timedelta(seconds=1))
    on_demand = Connection.objects.create(network="affili", name="manual", sync_interval_minutes=0)
    disabled = Connection.objects.create(network="affelios", name="off", enabled=False)

    due = connections_due()

    assert connection.pk in due and on_demand.pk not in due and disabled.pk not in due


def test_the_secret_is_encrypted_at_rest(connection):
    raw = Connection.objects.values_list("secret_encrypted", flat=True).get(pk=connection.pk)
    assert KEY not in raw
    assert Connection.objects.get(pk=connection.pk).secret == KEY


# --- command and admin ------------------------------------------------------------------------

def test_sync_integrations_command(connection):
    out = StringIO()
    call_command("sync_integrations", "--connection", str(connection.pk), stdout=out)
    assert "items: partial — fetched 10, created 9" in out.getvalue()

    with pytest.raises(CommandError, match="--since must be a date"):
        call_command("sync_integrations", "--since", "yesterday", stdout=StringIO())
    with pytest.raises(CommandError, match="no connection 999"):
        call_command("sync_integrations", "--connection", "999", stdout=StringIO())


@pytest.fixture
def admin_client(client):
    return sign_in(client, StaffFactory(is_superuser=True), verified=True)


def test_admin_save_and_test_reports_the_outcome(admin_client, connection, shop):
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    form = {"network": "affilae", "name": "Shop", "secret": "", "base_url": shop.url, "enabled": "on",
            "sync_interval_minutes": "60", "options": "{}", "brand_mapping": "{}", "_save_and_test": "1"}

    page = admin_client.post(url, form, follow=True).content.decode()
    assert "Test passed — connected as Demo shop" in page

    page = admin_client.post(url, {**form, "secret": "wrong"}, follow=True).content.decode()
    assert "Test failed — Shop rejected the API key (401)" in page
    assert "wrong" not in Connection.objects.get(pk=connection.pk).secret_encrypted


def test_admin_requires_a_key_for_a_new_connection(admin_client):
    page = admin_client.post(reverse("admin:integrations_connection_add"), {
        "network": "affili", "name": "New", "secret": "", "sync_interval_minutes": "60", "options": "{}",
        "brand_mapping": "{}", "_save": "1"}).content.decode()
    assert "Enter the API key the network gave you." in page
    assert not Connection.objects.filter(name="New").exists()


def test_admin_sync_now_runs_the_sync_and_lists_the_run(admin_client, connection,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page = admin_client.post(reverse("admin:integrations_connection_sync", args=[connection.pk]),
                                 follow=True).content.decode()

    assert "Sync queued for" in page
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.ADMIN
    detail = admin_client.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    assert "item-7" in detail and "amount out of range" in detail


def test_sync_now_runs_a_disabled_connection_but_the_schedule_does_not(admin_client, connection,
                                                                       django_capture_on_commit_callbacks):
    from integrations.tasks import sync_connection

    Connection.objects.filter(pk=connection.pk).update(enabled=False)
    sync_connection(connection.pk)  # the scheduler's call
    assert not SyncRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:integrations_connection_sync", args=[connection.pk]))

    assert SyncRun.objects.get().trigger == SyncRun.Trigger.ADMIN
