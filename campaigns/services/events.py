"""Raising player events: the one door through which registrations, deposits and (from
billing) qualifications enter, and where postbacks are queued in the same transaction."""
import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from campaigns.models import Deposit, Player, PlayerEvent


def player_event_raise(
    *,
    type: PlayerEvent.Type,
    player: Player,
    occurred_at: dt.datetime,
    key: str | None = None,
    deposit: Deposit | None = None,
    amount: Decimal | None = None,
    currency: str = "",
) -> PlayerEvent | None:
    """Record the event once and queue the postbacks it triggers; None if already raised.

    `key` makes it idempotent; the default is one registration and one first deposit per
    player and one deposit event per deposit. Billing passes its own key for qualification
    (e.g. "qualification:<player>:<plan>"). Must be called inside the transaction that
    stores the cause, so the event and its outbox rows commit or roll back with it.
    """
    if key is None:
        key = f"{type}:{deposit.pk}" if deposit is not None else f"{type}:{player.pk}"
    try:
        with transaction.atomic():
            event = PlayerEvent.objects.create(
                key=key,
                type=type,
                player=player,
                affiliate_id=player.affiliate_id,
                promo_id=player.promo_id,
                campaign_id=player.campaign_id,
                visit_id=player.visit_id,
                deposit=deposit,
                amount=amount,
                currency=currency,
                occurred_at=occurred_at,
            )
    except IntegrityError:
        return None  # raised before: a replay
    if event.affiliate_id:
        from campaigns.services.postbacks import postback_deliveries_enqueue

        postback_deliveries_enqueue(event=event)
    return event
