"""Raising player events: the one door through which registrations, deposits and (from
billing) qualifications enter, and where postbacks are queued in the same transaction."""
import datetime as dt
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction

from campaigns.models import Deposit, Player, PlayerEvent
from campaigns.services.bulk import OnConflict, chunks, insert_rows


def event_key(*, type: PlayerEvent.Type, player_id: int, deposit_id: int | None = None) -> str:
    """The idempotency key: one registration and one first deposit per player, one deposit
    event per deposit. Billing passes its own for qualification ("qualification:<player>:<plan>")."""
    if type == PlayerEvent.Type.DEPOSIT:
        if deposit_id is None:
            raise ValueError("a deposit event needs its deposit")
        return f"deposit:{deposit_id}"
    return f"{type}:{player_id}"


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

    Must be called inside the transaction that stores the cause, so the event and its outbox
    rows commit or roll back with it.
    """
    if key is None:
        key = event_key(type=type, player_id=player.pk, deposit_id=deposit.pk if deposit else None)
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
        from campaigns.services.postbacks import postback_deliveries_enqueue_many

        postback_deliveries_enqueue_many(events=[event])
    return event


def player_events_raise_bulk(*, events: list[dict], now: dt.datetime) -> int:
    """The bulk twin of player_event_raise, for batches of thousands of deposits.

    `events` are PlayerEvent field values (key, type, player, affiliate ..., occurred_at).
    Same contract: recorded once per key (an existing key is a replay and is skipped), in the
    caller's transaction, with the postbacks they trigger queued in that transaction — in one
    INSERT per batch and a fixed number of queries for the postbacks, whatever the size.
    Returns how many events were new.
    """
    if not events:
        return 0
    for event in events:
        event["public_id"] = uuid.uuid4()
        event["created_at"] = now
    insert_rows(PlayerEvent, events, on_conflict=OnConflict.IGNORE)
    # public_id is drawn here per event: rows carrying ours are the ones inserted now (a key
    # that existed was skipped, and its postbacks were queued when it was first raised).
    new = []
    for chunk in chunks([event["public_id"] for event in events]):
        new.extend(PlayerEvent.objects.filter(public_id__in=chunk).order_by("pk"))
    attributed = [event for event in new if event.affiliate_id]
    if attributed:
        from campaigns.services.postbacks import postback_deliveries_enqueue_many

        postback_deliveries_enqueue_many(events=attributed)
    return len(new)
