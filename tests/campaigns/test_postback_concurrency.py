"""Two delivery workers at once: every due delivery is sent exactly once.

Needs real row locks (select_for_update(skip_locked=True)), so PostgreSQL only.
Run with DATABASE_URL=postgres://... .
"""

from django.utils import timezone

from campaigns.models import PlayerEvent, PostbackAttempt, PostbackDelivery
from campaigns.services.events import player_event_raise
from campaigns.services.postbacks import (
    postback_create,
    postback_deliveries_send_due,
    postback_delivery_attempt,
)
from campaigns.tasks import deliver_postback
from tests.campaigns.factories import PlayerFactory, PromoFactory, VisitFactory
from tests.concurrency import POSTGRES_ONLY, race
from tests.fakes.sink import Sink

pytestmark = POSTGRES_ONLY

DELIVERIES = 60


def test_parallel_due_loops_and_fast_path_send_each_delivery_once(settings, monkeypatch):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    monkeypatch.setattr(deliver_postback, "delay", lambda *args, **kwargs: None)  # queue only
    with Sink() as sink:
        sink.respond(200, delay=0.01)
        promo = PromoFactory()
        postback_create(affiliate=promo.affiliate, scope="account", action="registration",
                        url_template=sink.url("/pb?e=${event_id}"))
        for _ in range(DELIVERIES):
            player = PlayerFactory(visit=VisitFactory(promo=promo))
            player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=timezone.now())
        ids = list(PostbackDelivery.objects.values_list("pk", flat=True))

        race([
            postback_deliveries_send_due,
            postback_deliveries_send_due,
            lambda: [postback_delivery_attempt(delivery_id=i) for i in ids],
        ])

        assert PostbackDelivery.objects.filter(status="succeeded").count() == DELIVERIES
        assert PostbackAttempt.objects.count() == DELIVERIES
        assert len(sink.requests) == DELIVERIES
        assert len({r.query["e"] for r in sink.requests}) == DELIVERIES
