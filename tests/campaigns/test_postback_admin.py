"""Admin of postbacks: enable/disable, re-send failed deliveries, read-only log."""
import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import PlayerEvent, Postback, PostbackAttempt, PostbackDelivery
from campaigns.services.events import player_event_raise
from campaigns.services.postbacks import postback_create, postback_test_send
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.fakes.sink import Sink
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    with Sink() as s:
        yield s


@pytest.fixture
def admin_client(client):
    return sign_in(client, StaffFactory(is_superuser=True), verified=True)


def changelist(model):
    return reverse(f"admin:campaigns_{model}_changelist")


def run_action(client, model, action, objects):
    return client.post(changelist(model), {"action": action, "_selected_action": [o.pk for o in objects]},
                       follow=True)


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def failed_delivery(sink, settings):
    settings.POSTBACK_RETRY_SCHEDULE = []
    owner = UserFactory()
    promo = PromoFactory(campaign__affiliate=owner.affiliate)
    pb = postback_create(affiliate=owner.affiliate, scope="account", action="registration",
                         url_template=sink.url("/pb")).postback
    sink.respond(500)
    player = PlayerFactory(visit=VisitFactory(promo=promo))
    player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())
    from campaigns.services.postbacks import postback_deliveries_send_due

    postback_deliveries_send_due()
    delivery = PostbackDelivery.objects.get(postback=pb)
    assert delivery.status == "failed"
    return delivery


def test_pages_open(admin_client, failed_delivery):
    for model in ("postback", "postbackdelivery", "postbackattempt"):
        assert admin_client.get(changelist(model)).status_code == 200
    assert admin_client.get(reverse("admin:campaigns_postbackdelivery_change",
                                    args=[failed_delivery.pk])).status_code == 200
    attempt = PostbackAttempt.objects.get()
    assert admin_client.get(reverse("admin:campaigns_postbackattempt_change", args=[attempt.pk])).status_code == 200
    assert admin_client.get(changelist("postbackdelivery") + "?status__exact=failed").status_code == 200


def test_re_sending_failed_deliveries_queues_them_with_a_fresh_schedule(
    admin_client, failed_delivery, sink, django_capture_on_commit_callbacks,
):
    sink.respond(200)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "postbackdelivery", "resend", [failed_delivery])

    assert "1 failed deliveries re-queued with a fresh retry schedule." in page_messages(response)
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == "succeeded"
    assert failed_delivery.attempts_count == 1  # reset, then the new attempt
    assert [a.response_status for a in failed_delivery.attempts.order_by("pk")] == [500, 200]


def test_re_sending_skips_deliveries_of_disabled_postbacks_and_ones_not_failed(admin_client, failed_delivery, sink):
    Postback.objects.filter(pk=failed_delivery.postback_id).update(is_active=False)
    pending = postback_test_send(postback=failed_delivery.postback)  # a succeeded test delivery

    response = run_action(admin_client, "postbackdelivery", "resend", [failed_delivery, pending.delivery])

    assert "1 not re-sent: their postback is disabled; enable it first." in page_messages(response)
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == "failed"


def test_managers_disable_and_enable_postbacks(admin_client, failed_delivery):
    pb = failed_delivery.postback
    Postback.objects.filter(pk=pb.pk).update(consecutive_failures=4)

    run_action(admin_client, "postback", "disable", [pb])
    pb.refresh_from_db()
    assert not pb.is_active and pb.disabled_at and "affiliate manager" in pb.disabled_reason

    run_action(admin_client, "postback", "enable", [pb])
    pb.refresh_from_db()
    assert pb.is_active and pb.consecutive_failures == 0 and pb.disabled_at is None


def test_the_log_is_read_only(admin_client, failed_delivery):
    attempt = PostbackAttempt.objects.get()

    response = admin_client.post(reverse("admin:campaigns_postbackattempt_delete", args=[attempt.pk]),
                                 {"post": "yes"})

    assert response.status_code == 403
    assert PostbackAttempt.objects.filter(pk=attempt.pk).exists()
    assert admin_client.get(reverse("admin:campaigns_postback_add")).status_code == 403
