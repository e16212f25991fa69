"""Save & Test of an Affilae connection: one cheap authenticated call, reported plainly."""
import datetime as dt
import logging

import pytest
import time_machine
from django.urls import reverse

from integrations.affilae.models import CommissionDay, PartnershipSnapshot
from integrations.client import AuthError
from integrations.models import Connection
from integrations.registry import connector_class
from integrations.services import connection_save, connection_sync, connection_test
from tests.conftest import sign_in
from tests.fakes.affilae import FakeAffilae, demo
from tests.partners.factories import StaffFactory

pytestmark = pytest.mark.django_db

KEY = "affilae-live-0d1e2f3a4b"
FAST = {"retries": 1, "backoff_factor": 0, "max_retry_after": 0.05}


@pytest.fixture
def fake():
    with FakeAffilae(keys={KEY}, forbidden_keys={"read-only-key"}) as server:
        yield server


def connection_with(fake, key: str) -> Connection:
    return connection_save(connection=Connection(network="affilae", name="Affilae", base_url=fake.url), secret=key)


def test_the_registry_serves_affilae_with_its_connector():
    assert connector_class("affilae").__name__ == "AffilaeConnector"
    assert connector_class("affilae").kinds == ("partnerships", "commissions")


def test_a_good_key_is_confirmed_with_the_publisher_name_in_one_call(fake):
    outcome = connection_test(connection=connection_with(fake, KEY), **FAST)

    assert outcome == f"Affilae accepted the API key (publisher Fake Publisher, {fake.publisher['id']})."
    assert [r.path for r in fake.requests] == ["/publisher/publishers.me"]
    assert fake.requests[0].header("Authorization") == f"Bearer {KEY}"


def test_a_wrong_key_is_reported_as_rejected(fake, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as failure:
        connection_test(connection=connection_with(fake, "affilae-wrong-key"), **FAST)

    assert failure.value.message == "Affilae rejected the API key (401): Invalid API key"
    assert len(fake.requests) == 1  # a 401 is not retried
    assert "affilae-wrong-key" not in caplog.text


def test_a_key_without_the_publisher_permission_is_reported_as_such(fake):
    with pytest.raises(AuthError, match=r"^Affilae: the API key lacks permission \(403\)"):
        connection_test(connection=connection_with(fake, "read-only-key"), **FAST)


def test_the_admin_save_and_test_button_shows_the_outcome(client, fake):
    sign_in(client, StaffFactory(is_superuser=True), verified=True)
    connection = connection_with(fake, KEY)
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    form = {"network": "affilae", "name": "Affilae", "secret": "", "base_url": fake.url, "enabled": "on",
            "sync_interval_minutes": "60", "options": '{"currency": "EUR", "lookback_days": 7}',
            "brand_mapping": "{}", "_save_and_test": "1"}

    page = client.post(url, form, follow=True).content.decode()
    assert "Test passed — Affilae accepted the API key (publisher Fake Publisher" in page

    page = client.post(url, {**form, "secret": "affilae-typo"}, follow=True).content.decode()
    assert "Test failed — Affilae rejected the API key (401)" in page
    assert "affilae-typo" not in page


@time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
def test_the_demo_fake_syncs_with_the_default_options():
    with demo(0) as fake:
        connection = connection_save(connection=Connection(network="affilae", name="Demo", base_url=fake.url),
                                     secret="demo-affilae-key")
        assert "Demo Media SAS" in connection_test(connection=connection, **FAST)

        runs = connection_sync(connection=connection, **FAST)

    assert [(run.kind, run.status, run.error) for run in runs] == [
        ("partnerships", "succeeded", ""), ("commissions", "succeeded", "")]
    assert PartnershipSnapshot.objects.count() == 5
    # The first sync starts 30 days ago: 31 dates, today included.
    dates = set(CommissionDay.objects.values_list("date", flat=True))
    assert len(dates) == 31 and max(dates) == dt.date(2026, 3, 10)
    assert CommissionDay.objects.filter(commissions__gt=0).exists()
