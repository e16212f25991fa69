"""Postback delivery: the outbox rows an event writes, sending them to a loopback tracker,
retries on the schedule, e-mails, disabling, signatures, and the due loop."""
import base64
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from backoffice import outbound
from campaigns.models import PlayerEvent, Postback, PostbackAttempt, PostbackDelivery
from campaigns.services.events import player_event_raise
from campaigns.services.postbacks import (
    postback_create,
    postback_deliveries_enqueue,
    postback_deliveries_send_due,
    postback_delivery_attempt,
    postback_test_send,
)
from campaigns.tasks import deliver_due_postbacks, deliver_postback
from tests.campaigns.factories import CampaignFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.fakes.sink import Sink
from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def sink(settings):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    with Sink() as s:
        yield s


@pytest.fixture
def owner():
    return UserFactory(email="owner@tracker.example")


@pytest.fixture
def promo(owner):
    return PromoFactory(campaign__affiliate=owner.affiliate, campaign__name="Summer Slots", promo_code="SUMMER")


def postback(affiliate, url, **kwargs):
    return postback_create(affiliate=affiliate, url_template=url, **{"scope": "account", "action": "registration",
                                                                      **kwargs}).postback


def register(promo, *, params=None, capture=None):
    """A player who clicked `promo`'s link registers; the fast path runs on commit."""
    visit = VisitFactory(promo=promo, params=params or {})
    player = PlayerFactory(visit=visit)
    return player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())


def test_a_registration_reaches_the_tracker_and_is_logged(sink, promo, django_capture_on_commit_callbacks):
    pb = postback(promo.affiliate, sink.url("/pb?tag=${tag}&player=${player_id}&click=${clickID}&code=${promo_code}"))

    with django_capture_on_commit_callbacks(execute=True):
        event = register(promo, params={"clickID": "abc 1"})

    [received] = sink.wait_for(1)
    assert received.method == "GET"
    assert received.query == {"tag": event.player.tag, "player": str(event.player_id), "click": "abc 1",
                              "code": "SUMMER"}
    delivery = PostbackDelivery.objects.get(postback=pb)
    assert delivery.status == PostbackDelivery.Status.SUCCEEDED
    assert delivery.webhook_id == f"msg_{event.public_id.hex}_{pb.pk}"
    attempt = delivery.attempts.get()
    assert (attempt.response_status, attempt.succeeded, attempt.response_body) == (200, True, "ok")
    assert attempt.latency_ms is not None
    assert attempt.affiliate_id == promo.affiliate_id
    assert attempt.action == "registration"


def test_only_active_postbacks_of_the_events_scope_and_action_are_queued(sink, promo):
    affiliate = promo.affiliate
    other_promo = PromoFactory(campaign=promo.campaign)
    other_campaign = CampaignFactory(affiliate=affiliate, brand=promo.brand)
    account = postback(affiliate, sink.url("/account"))
    campaign = postback(affiliate, sink.url("/campaign"), scope="campaign", campaign=promo.campaign)
    own_promo = postback(affiliate, sink.url("/promo"), scope="promo", promo=promo)
    postback(affiliate, sink.url("/other-promo"), scope="promo", promo=other_promo)
    postback(affiliate, sink.url("/other-campaign"), scope="campaign", campaign=other_campaign)
    postback(affiliate, sink.url("/deposit"), action="first_deposit")
    postback(affiliate, sink.url("/inactive"), is_active=False)
    postback(UserFactory().affiliate, sink.url("/someone-else"))

    event = register(promo)

    queued = PostbackDelivery.objects.filter(event=event)
    assert {d.postback_id for d in queued} == {account.pk, campaign.pk, own_promo.pk}
    assert {d.status for d in queued} == {PostbackDelivery.Status.PENDING}
    assert sink.requests == []  # nothing is sent before the event's transaction commits


def test_one_delivery_per_postback_and_event(sink, promo):
    pb = postback(promo.affiliate, sink.url("/pb"))
    visit = VisitFactory(promo=promo)
    player = PlayerFactory(visit=visit)

    first = player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())
    again = player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())
    postback_deliveries_enqueue(event=first)  # a replayed enqueue, too

    assert again is None
    assert PostbackDelivery.objects.filter(postback=pb).count() == 1


def test_organic_players_trigger_no_postback(sink, promo):
    postback(promo.affiliate, sink.url("/pb"))
    player = PlayerFactory(visit=None, promo=None, campaign=None, affiliate=None)

    player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())

    assert not PostbackDelivery.objects.exists()


def test_post_sends_every_variable_as_json(sink, promo, django_capture_on_commit_callbacks):
    postback(promo.affiliate, sink.url("/pb?e=${event_id}"), method="POST", action="first_deposit")
    player = PlayerFactory(visit=VisitFactory(promo=promo, params={"sub_id": "s1"}))

    with django_capture_on_commit_callbacks(execute=True):
        event = player_event_raise(type=PlayerEvent.Type.FIRST_DEPOSIT, player=player, occurred_at=T0,
                                   amount=Decimal("10.00"), currency="EUR")

    [received] = sink.wait_for(1)
    assert received.method == "POST"
    assert received.headers["Content-Type"] == "application/json"
    assert received.query == {"e": str(event.public_id)}
    body = json.loads(received.body)
    assert body["amount"] == "10.00" and body["currency"] == "EUR" and body["sub_id"] == "s1"
    assert body["event_id"] == str(event.public_id)
    assert body["promo_code"] == "SUMMER"
    assert body["timestamp"] == str(int(T0.timestamp()))


def _verify_standard_webhook(secret: str, headers: dict, body: bytes) -> bool:
    """An independent receiver's check (Standard Webhooks spec)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split())


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_signed_postbacks_carry_verifiable_standard_webhooks_headers(method, sink, promo,
                                                                     django_capture_on_commit_callbacks):
    saved = postback_create(affiliate=promo.affiliate, scope="account", action="registration",
                            url_template=sink.url("/pb"), method=method, generate_secret=True)
    assert saved.secret.startswith("whsec_") and len(base64.b64decode(saved.secret[6:])) == 24
    assert saved.secret not in Postback.objects.get(pk=saved.postback.pk).signing_secret_encrypted

    with django_capture_on_commit_callbacks(execute=True):
        event = register(promo)

    [received] = sink.wait_for(1)
    headers = {k.lower(): v for k, v in received.headers.items()}
    assert headers["webhook-id"] == f"msg_{event.public_id.hex}_{saved.postback.pk}"
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert _verify_standard_webhook(saved.secret, headers, received.body)
    assert not _verify_standard_webhook("whsec_" + base64.b64encode(b"x" * 24).decode(), headers, received.body)


def test_the_webhook_id_stays_the_same_across_retries(sink, promo, settings):
    settings.POSTBACK_RETRY_SCHEDULE = [0]
    postback_create(affiliate=promo.affiliate, scope="account", action="registration",
                    url_template=sink.url("/pb"), generate_secret=True)
    sink.queue(500)
    register(promo)

    postback_deliveries_send_due()
    postback_deliveries_send_due()

    first, second = sink.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_failures_are_retried_on_the_schedule_then_failed_and_the_owner_told(
    sink, promo, owner, settings, django_capture_on_commit_callbacks,
):
    settings.POSTBACK_RETRY_SCHEDULE = [5, 300]
    sink.respond(500, "down for maintenance")
    pb = postback(promo.affiliate, sink.url("/pb"))

    with time_machine.travel(T0, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            register(promo)  # attempt 1, at once
        delivery = PostbackDelivery.objects.get(postback=pb)
        assert delivery.status == "pending" and delivery.attempts_count == 1
        assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=5)

        clock.shift(4)
        assert postback_deliveries_send_due() == 0  # not due yet
        clock.shift(1)
        with django_capture_on_commit_callbacks(execute=True):
            assert postback_deliveries_send_due() == 1  # attempt 2
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.attempts_count == 2
        assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=305)
        assert mail.outbox == []

        clock.shift(300)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_due_postbacks.delay().get() == 1  # attempt 3, the last
        delivery.refresh_from_db()

    assert delivery.status == "failed" and delivery.next_attempt_at is None and delivery.finished_at
    assert len(sink.requests) == 3
    assert [a.response_status for a in delivery.attempts.all()] == [500, 500, 500]
    assert delivery.attempts.first().error == "The tracker answered 500; only 2xx counts as delivered."
    [message] = mail.outbox
    assert message.to == ["owner@tracker.example"]
    assert "Postback delivery failed" in message.subject
    assert sink.url("/pb") in message.body and "HTTP 500" in message.body
    pb.refresh_from_db()
    assert pb.consecutive_failures == 1 and pb.is_active


def test_a_later_success_ends_the_retries_and_resets_the_failure_count(sink, promo, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.POSTBACK_RETRY_SCHEDULE = [0, 0]
    pb = postback(promo.affiliate, sink.url("/pb"))
    Postback.objects.filter(pk=pb.pk).update(consecutive_failures=7)
    sink.queue(503)

    with django_capture_on_commit_callbacks(execute=True):
        register(promo)
    postback_deliveries_send_due()

    delivery = PostbackDelivery.objects.get(postback=pb)
    assert delivery.status == "succeeded" and delivery.attempts_count == 2
    pb.refresh_from_db()
    assert pb.consecutive_failures == 0
    assert mail.outbox == []


def test_a_postback_failing_n_deliveries_in_a_row_is_disabled_and_the_owner_told(
    sink, promo, settings, django_capture_on_commit_callbacks,
):
    settings.POSTBACK_RETRY_SCHEDULE = []  # one attempt per delivery
    settings.POSTBACK_DISABLE_AFTER_FAILURES = 2
    sink.respond(404)
    pb = postback(promo.affiliate, sink.url("/pb"))

    with django_capture_on_commit_callbacks(execute=True):
        register(promo)
    pb.refresh_from_db()
    assert pb.is_active and pb.consecutive_failures == 1
    with django_capture_on_commit_callbacks(execute=True):
        register(promo)
    pb.refresh_from_db()
    assert not pb.is_active
    assert pb.disabled_at is not None
    assert pb.disabled_reason == "Disabled after 2 failed deliveries in a row."
    assert [m.subject.split("] ")[1] for m in mail.outbox] == [
        "Postback delivery failed", "Postback delivery failed", "Postback disabled after repeated failures"]
    assert "Disabled after 2 failed deliveries" in mail.outbox[2].body

    with django_capture_on_commit_callbacks(execute=True):
        register(promo)  # a disabled postback gets no more deliveries
    assert PostbackDelivery.objects.filter(postback=pb).count() == 2
    assert len(sink.requests) == 2


def test_a_redirect_is_a_failure_and_not_followed(sink, promo, settings, django_capture_on_commit_callbacks):
    settings.POSTBACK_RETRY_SCHEDULE = [60]
    with Sink() as elsewhere:
        sink.respond(302, location=elsewhere.url("/stolen"))
        postback(promo.affiliate, sink.url("/pb"))
        with django_capture_on_commit_callbacks(execute=True):
            register(promo)
        assert elsewhere.requests == []
    attempt = PostbackAttempt.objects.get()
    assert attempt.response_status == 302 and not attempt.succeeded
    assert "not followed" in attempt.error
    assert PostbackDelivery.objects.get().status == "pending"  # retried later


def test_a_slow_tracker_times_out_and_is_retried(sink, promo, settings, django_capture_on_commit_callbacks):
    settings.POSTBACK_TIMEOUT_SECONDS = 0.2
    sink.respond(200, delay=1.0)
    postback(promo.affiliate, sink.url("/pb"))

    with django_capture_on_commit_callbacks(execute=True):
        register(promo)

    attempt = PostbackAttempt.objects.get()
    assert attempt.response_status is None and not attempt.succeeded
    assert attempt.error == "No response within 0.2 s."
    assert attempt.latency_ms >= 150
    assert PostbackDelivery.objects.get().next_attempt_at > timezone.now()


def test_dns_rebinding_after_save_is_refused_at_send(monkeypatch, promo, settings, django_capture_on_commit_callbacks):
    # given a postback saved while its host resolved to a public address
    answers = iter([["93.184.216.34"], ["169.254.169.254"]])
    monkeypatch.setattr(outbound, "resolve", lambda host, port: next(answers))
    pb = postback(promo.affiliate, "http://tracker.example/pb?t=${tag}")

    # when the event is sent and the name now points at the metadata service
    with django_capture_on_commit_callbacks(execute=True):
        register(promo)

    # then nothing is sent, and the log says why
    attempt = PostbackAttempt.objects.get(postback=pb)
    assert attempt.response_status is None and not attempt.succeeded
    assert attempt.error.startswith("Not sent: The host tracker.example (169.254.169.254) is a link-local address")


def test_the_task_is_safe_to_run_twice(sink, promo, django_capture_on_commit_callbacks):
    postback(promo.affiliate, sink.url("/pb"))
    with django_capture_on_commit_callbacks(execute=True):
        register(promo)
    delivery = PostbackDelivery.objects.get()

    deliver_postback.delay(delivery.pk)
    deliver_postback.delay(delivery.pk + 1000)  # gone: nothing to do

    assert len(sink.requests) == 1
    assert delivery.attempts.count() == 1


def test_a_delivery_not_yet_due_is_left_alone(sink, promo, settings):
    settings.POSTBACK_RETRY_SCHEDULE = [300]
    sink.queue(500)
    postback(promo.affiliate, sink.url("/pb"))
    register(promo)
    delivery = PostbackDelivery.objects.get()
    postback_delivery_attempt(delivery_id=delivery.pk)

    assert postback_delivery_attempt(delivery_id=delivery.pk) is None  # a duplicate task: too early

    assert len(sink.requests) == 1


def test_a_delivery_stuck_in_sending_is_retried(sink, promo):
    postback(promo.affiliate, sink.url("/pb"))
    register(promo)
    delivery = PostbackDelivery.objects.get()
    # a worker claimed it 10 minutes ago and died
    PostbackDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts_count=1, last_attempt_at=timezone.now() - dt.timedelta(minutes=10))

    assert postback_deliveries_send_due() == 1

    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts_count == 2
    assert len(sink.requests) == 1


def test_a_delivery_in_flight_is_not_taken_by_the_due_loop(sink, promo):
    postback(promo.affiliate, sink.url("/pb"))
    register(promo)
    PostbackDelivery.objects.update(status="sending", last_attempt_at=timezone.now())

    assert postback_deliveries_send_due() == 0
    assert sink.requests == []


def test_a_postback_disabled_after_queueing_is_not_called(sink, promo):
    pb = postback(promo.affiliate, sink.url("/pb"))
    register(promo)
    Postback.objects.filter(pk=pb.pk).update(is_active=False)

    postback_deliveries_send_due()

    assert sink.requests == []
    assert PostbackDelivery.objects.get().status == "failed"


def test_the_management_command_sends_due_deliveries(sink, promo):
    postback(promo.affiliate, sink.url("/pb"))
    register(promo)
    register(promo)

    from io import StringIO
    out = StringIO()
    call_command("deliver_postbacks", "--once", stdout=out)

    assert "postback deliveries sent: 2" in out.getvalue()
    assert len(sink.requests) == 2


def test_send_test_fires_sample_values_once(sink, promo, settings):
    settings.POSTBACK_RETRY_SCHEDULE = [5]
    pb = postback(promo.affiliate, sink.url("/pb?p=${player_id}&t=${tag}&a=${amount}&c=${currency}&x=${click}"),
                  action="deposit", scope="promo", promo=promo)

    attempt = postback_test_send(postback=pb)

    assert attempt.succeeded and attempt.response_status == 200
    [received] = sink.requests
    assert received.query == {"p": "0", "t": "0_0", "a": "10.00", "c": "EUR", "x": "${click}"}
    assert attempt.delivery.is_test and attempt.delivery.event is None
    # a failing test is not retried and mails nobody
    sink.respond(500)
    failed = postback_test_send(postback=pb)
    failed.delivery.refresh_from_db()
    assert not failed.succeeded and failed.delivery.status == "failed"
    assert postback_deliveries_send_due() == 0
    assert mail.outbox == []
    pb.refresh_from_db()
    assert pb.consecutive_failures == 0


def test_a_rendered_url_too_long_to_store_fails_visibly(sink, promo):
    postback(promo.affiliate, sink.url("/pb?" + "&".join(f"v{i}=${{p{i}}}" for i in range(30))))
    visit_params = {f"p{i}": "é" * 256 for i in range(30)}  # 30 x 256 x 6 encoded bytes

    register(promo, params=visit_params)

    delivery = PostbackDelivery.objects.get()
    assert delivery.status == "failed"
    assert "longer than 4000 characters" in delivery.attempts.get().error
    assert postback_deliveries_send_due() == 0
    assert sink.requests == []


def test_the_beat_schedule_runs_the_due_loop_every_few_seconds(settings):
    from backoffice.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["deliver-due-postbacks"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 10
