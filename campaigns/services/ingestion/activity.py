"""Activity windows and deposits of a brand's players: idempotent upserts, deposits unique
by deposit_id, the FTD, and the first_deposit / deposit events (raised in bulk)."""
import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.constants import OnConflict
from django.utils import timezone

from campaigns.models import Brand, Deposit, Player, PlayerActivity, PlayerEvent
from campaigns.services.events import event_key, player_events_raise_bulk
from campaigns.services.ingestion.common import (
    NOT_STORED,
    ActivityIn,
    ItemError,
    chunks,
    insert_rows,
)

logger = logging.getLogger(__name__)


_ACTIVITY_UPDATE_FIELDS = [
    f.name for f in PlayerActivity._meta.concrete_fields
    if f.name not in ("id", "player", "currency", "period_start", "period_end", "received_at")
]


@dataclass(slots=True)
class _PlayerRef:
    """What the activity path needs of a player (10,000 model instances cost ~0.1 s more)."""

    pk: int
    user_id: str
    affiliate_id: int | None
    promo_id: int | None
    campaign_id: int | None
    visit_id: int | None
    first_deposit_at: dt.datetime | None


def _player_refs_locked(brand: Brand, user_ids: set[str]) -> dict[str, _PlayerRef]:
    """The brand's players with these user_ids, locked FOR UPDATE in primary-key order (two
    batches sharing players cannot deadlock; the FTD decision cannot race)."""
    pks = []
    for chunk in chunks(user_ids):
        pks.extend(Player.objects.filter(brand=brand, user_id__in=chunk).values_list("pk", flat=True))
    players = {}
    for chunk in chunks(sorted(pks)):
        for row in Player.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list(
            "pk", "user_id", "affiliate_id", "promo_id", "campaign_id", "visit_id", "first_deposit_at",
        ):
            players[row[1]] = _PlayerRef(*row)
    return players


@dataclass
class ActivityOutcome:
    stored: int = 0
    deposits_created: int = 0
    deposits_known: int = 0
    first_deposits: int = 0
    errors: list[ItemError] = field(default_factory=list)

    def add(self, counts: "ActivityOutcome") -> None:
        self.stored += counts.stored
        self.deposits_created += counts.deposits_created
        self.deposits_known += counts.deposits_known
        self.first_deposits += counts.first_deposits


def activity_ingest(*, brand: Brand, period_start, period_end, items: list[ActivityIn]) -> ActivityOutcome:
    """Store one reporting window of activity for the brand's players, and their deposits."""
    outcome = ActivityOutcome()
    now = timezone.now()
    with transaction.atomic():
        players = _player_refs_locked(brand, {item.user_id for item in items})
        accepted = _activity_accept(items, players, outcome.errors)
        known = _deposits_known(brand, [d.deposit_id for item, _ in accepted for d in item.deposits])
        checked = []
        for item, player in accepted:
            clash = next((d for d in item.deposits if known.get(d.deposit_id, player.pk) != player.pk), None)
            if clash is not None:
                outcome.errors.append(ItemError(
                    item.index, f"deposits[{clash.position}].deposit_id",
                    f"deposit_id {clash.deposit_id!r} is already recorded for another player",
                ))
            else:
                checked.append((item, player))
        try:
            with transaction.atomic():
                counts, _ = _activity_apply(brand, period_start, period_end, checked, known, now)
        except DatabaseError:
            logger.exception("ingestion: activity batch of brand %s refused in bulk; retrying item by item", brand.pk)
            counts = ActivityOutcome()
            for item, player in checked:
                try:
                    with transaction.atomic():
                        one, first = _activity_apply(brand, period_start, period_end, [(item, player)], known, now)
                except DatabaseError:
                    logger.exception("ingestion: activity item %s of brand %s not stored", item.index, brand.pk)
                    outcome.errors.append(ItemError(item.index, "", NOT_STORED))
                    continue
                counts.add(one)
                if player.pk in first:  # later items of this player must see its FTD
                    player.first_deposit_at = first[player.pk]
        outcome.add(counts)
    outcome.errors.sort(key=lambda error: error.index)
    return outcome


def _activity_accept(items: list[ActivityIn], players: dict[str, _PlayerRef], errors: list[ItemError]):
    """Items whose player exists and that repeat no window or deposit of an earlier item."""
    accepted = []
    windows: dict[tuple[int, str], int] = {}
    deposits: dict[str, int] = {}
    for item in items:
        player = players.get(item.user_id)
        if player is None:
            errors.append(ItemError(item.index, "user_id", f"unknown player {item.user_id!r} of this brand: "
                                                           "post it to /api/v1/players first"))
            continue
        earlier = windows.get((player.pk, item.currency))
        if earlier is not None:
            errors.append(ItemError(item.index, "currency", f"items[{earlier}] already reports this player in "
                                                            f"{item.currency} for this window"))
            continue
        repeated = next((d for d in item.deposits if d.deposit_id in deposits), None)
        if repeated is not None:
            errors.append(ItemError(item.index, f"deposits[{repeated.position}].deposit_id",
                                    f"deposit_id {repeated.deposit_id!r} is also in items[{deposits[repeated.deposit_id]}]"))
            continue
        windows[(player.pk, item.currency)] = item.index
        for deposit in item.deposits:
            deposits[deposit.deposit_id] = item.index
        accepted.append((item, player))
    return accepted


def _deposits_known(brand: Brand, deposit_ids: list[str]) -> dict[str, int]:
    """deposit_id -> player id of the deposits of the brand already recorded."""
    known = {}
    for chunk in chunks(deposit_ids):
        known.update(Deposit.objects.filter(brand=brand, deposit_id__in=chunk).values_list("deposit_id", "player_id"))
    return known


def _activity_apply(brand: Brand, period_start, period_end, pairs, known: dict[str, int], now):
    """Upsert the windows, insert the new deposits, record FTDs, raise the events.

    Returns (counts, {player id: first_deposit_at} of the FTDs recorded).
    """
    counts = ActivityOutcome(stored=len(pairs))
    if not pairs:
        return counts, {}
    insert_rows(
        PlayerActivity,
        [{"player": player.pk, "currency": item.currency, "period_start": period_start, "period_end": period_end,
          "extra": item.extra, "received_at": now, "updated_at": now, **item.values}
         for item, player in pairs],
        on_conflict=OnConflict.UPDATE,
        unique_fields=["player", "currency", "period_start", "period_end"],
        update_fields=_ACTIVITY_UPDATE_FIELDS,
    )
    new = [(item, player, d) for item, player in pairs for d in item.deposits if d.deposit_id not in known]
    counts.deposits_known = sum(len(item.deposits) for item, _ in pairs) - len(new)
    if not new:
        return counts, {}
    # The FTD of a player who has none yet: the earliest of the deposits it brings now.
    first = {}
    for _, player, deposit in new:
        if player.first_deposit_at is None:
            current = first.get(player.pk)
            if current is None or (deposit.processed_at, deposit.deposit_id) < (current.processed_at, current.deposit_id):
                first[player.pk] = deposit
    # ON CONFLICT DO NOTHING: a deposit another request recorded meanwhile is a replay.
    insert_rows(
        Deposit,
        [{"brand": brand.pk, "player": player.pk, "deposit_id": deposit.deposit_id, "amount": deposit.amount,
          "currency": item.currency, "processed_at": deposit.processed_at,
          "is_first": first.get(player.pk) is deposit, "created_at": now}
         for item, player, deposit in new],
        on_conflict=OnConflict.IGNORE,
    )
    stored = {}
    for chunk in chunks([deposit.deposit_id for _, _, deposit in new]):
        for pk, deposit_id, player_id in Deposit.objects.filter(brand=brand, deposit_id__in=chunk).values_list(
            "pk", "deposit_id", "player_id"
        ):
            stored[deposit_id] = (pk, player_id)
    events, first_deposit_at = [], {}
    for item, player, deposit in new:
        pk, player_id = stored.get(deposit.deposit_id, (None, None))
        if player_id != player.pk:
            # Not ours (and not seen when we looked): give the item up whole, never half.
            raise IntegrityError(f"deposit {deposit.deposit_id!r} was not stored")
        counts.deposits_created += 1
        event = {"player": player.pk, "affiliate": player.affiliate_id, "promo": player.promo_id,
                 "campaign": player.campaign_id, "visit": player.visit_id, "deposit": pk, "amount": deposit.amount,
                 "currency": item.currency, "occurred_at": deposit.processed_at}
        if first.get(player.pk) is deposit:
            counts.first_deposits += 1
            first_deposit_at[player.pk] = deposit.processed_at
            events.append({**event, "type": PlayerEvent.Type.FIRST_DEPOSIT,
                           "key": event_key(type=PlayerEvent.Type.FIRST_DEPOSIT, player_id=player.pk)})
        events.append({**event, "type": PlayerEvent.Type.DEPOSIT,
                       "key": event_key(type=PlayerEvent.Type.DEPOSIT, player_id=player.pk, deposit_id=pk)})
    for chunk in chunks(first_deposit_at):
        Player.objects.filter(pk__in=chunk, first_deposit_at__isnull=True).update(
            first_deposit_at=Subquery(
                Deposit.objects.filter(player_id=OuterRef("pk"), is_first=True).values("processed_at")[:1]
            ),
            updated_at=now,
        )
    player_events_raise_bulk(events=events, now=now)
    return counts, first_deposit_at
