"""Players of a brand posted by its platform: upsert by user_id, first-touch attribution by
tracking tag (or bonus code), the registration event; and the tag -> visit lookup."""
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from campaigns.models import Brand, Player, PlayerEvent, Promo, Visit
from campaigns.services.events import player_event_raise
from campaigns.services.ingestion.common import (
    NOT_STORED,
    BatchOutcome,
    ItemError,
    PlayerIn,
    chunks,
)

logger = logging.getLogger(__name__)

TAG_RE = re.compile(r"([0-9]{1,18})_([0-9]{1,18})", re.ASCII)


def _players_locked(brand: Brand, user_ids: set[str]) -> dict[str, Player]:
    """The brand's players with these user_ids, locked FOR UPDATE (in primary-key order, so
    two batches sharing players cannot deadlock) until the transaction ends."""
    pks = []
    for chunk in chunks(user_ids):
        pks.extend(Player.objects.filter(brand=brand, user_id__in=chunk).values_list("pk", flat=True))
    players = {}
    for chunk in chunks(sorted(pks)):
        for player in Player.objects.select_for_update().filter(pk__in=chunk).order_by("pk"):
            players[player.user_id] = player
    return players


def visits_by_tag(*, brand: Brand, tags: Iterable[str]) -> dict[str, Visit]:
    """tag -> Visit for the tags `<affiliate id>_<visit id>` of this brand's promos; any other
    tag (malformed, unknown, another brand's, affiliate id not the visit's) is absent."""
    parsed = {}
    for tag in tags:
        match = TAG_RE.fullmatch(tag)
        if match:
            parsed[tag] = (int(match[1]), int(match[2]))
    visits = {}
    for chunk in chunks({visit_id for _, visit_id in parsed.values()}):
        for visit in Visit.objects.filter(pk__in=chunk, promo__brand=brand).select_related("promo", "affiliate"):
            visits[visit.pk] = visit
    return {
        tag: visits[visit_id]
        for tag, (affiliate_id, visit_id) in parsed.items()
        if visit_id in visits and visits[visit_id].affiliate_id == affiliate_id
    }


@dataclass
class _Attribution:
    promo: Promo
    visit: Visit | None = None

    @property
    def tag(self) -> str | None:
        return self.visit.tag if self.visit else None


def players_ingest(*, brand: Brand, items: list[PlayerIn]) -> BatchOutcome:
    """Create or update the brand's players, attributing them by tag or bonus code."""
    outcome = BatchOutcome()
    now = timezone.now()
    with transaction.atomic():
        players = _players_locked(brand, {item.user_id for item in items})
        visits = visits_by_tag(brand=brand, tags={item.tag for item in items if item.tag})
        promos = _promos_by_bonus_code(brand, {item.bonus_code for item in items if item.bonus_code})
        for item in items:
            attribution, warnings = None, []
            if item.tag:
                if item.tag in visits:
                    attribution = _Attribution(promo=visits[item.tag].promo, visit=visits[item.tag])
                else:
                    warnings.append(f"tag {item.tag!r} is not a tracking tag of this brand")
            if item.bonus_code:
                promo = promos.get(item.bonus_code.lower())
                if promo is None:
                    warnings.append(f"bonus code {item.bonus_code!r} is not a promo code of this brand")
                elif attribution is None:
                    attribution = _Attribution(promo=promo)
            # Two tries: a new player that a concurrent request created meanwhile makes the
            # INSERT fail on the unique (brand, user_id); the second try updates that row.
            for attempt in (1, 2):
                try:
                    with transaction.atomic():
                        player, created, kept = _player_upsert(
                            brand=brand, item=item, player=players.get(item.user_id), attribution=attribution,
                            now=now,
                        )
                    break
                except DatabaseError:
                    # The savepoint is gone, and with it what we held in memory of this player.
                    was_new = players.pop(item.user_id, None) is None
                    reloaded = Player.objects.select_for_update().filter(brand=brand, user_id=item.user_id).first()
                    if reloaded is not None:
                        players[item.user_id] = reloaded
                    if attempt == 1 and was_new and reloaded is not None:
                        continue
                    logger.exception("ingestion: player item %s of brand %s not stored", item.index, brand.pk)
                    outcome.errors.append(ItemError(item.index, "", NOT_STORED))
                    player = None
                    break
            if player is None:
                continue
            players[item.user_id] = player
            if kept:
                warnings.append("the player was attributed before; the first attribution is kept")
            if player.affiliate_id is None and warnings:
                warnings.append("the player is organic")
            result = {
                "index": item.index,
                "user_id": player.user_id,
                "status": "created" if created else "updated",
                "attributed": player.affiliate_id is not None,
                "affiliate_id": player.affiliate_id,
                "campaign_id": player.campaign_id,
                "promo_id": player.promo_id,
                "tag": player.tag or None,
            }
            if warnings:
                result["warnings"] = warnings
            outcome.results.append(result)
    return outcome


def _promos_by_bonus_code(brand: Brand, codes: set[str]) -> dict[str, Promo]:
    lowered = {code.lower() for code in codes}
    promos = {}
    for chunk in chunks(lowered):
        # promo_code is unique per brand case-insensitively (a functional unique index).
        for promo in Promo.objects.alias(code_lower=Lower("promo_code")).filter(brand=brand, code_lower__in=chunk):
            promos[promo.promo_code.lower()] = promo
    return promos


def _attribute(player: Player, attribution: _Attribution) -> None:
    player.visit = attribution.visit
    player.promo = attribution.promo
    player.campaign_id = attribution.promo.campaign_id
    player.affiliate_id = attribution.promo.affiliate_id
    if attribution.tag:
        player.tag = attribution.tag


_ATTRIBUTION_FIELDS = ["visit", "promo", "campaign", "affiliate", "tag"]


def _player_upsert(*, brand: Brand, item: PlayerIn, player: Player | None, attribution: _Attribution | None,
                   now) -> tuple[Player, bool, bool]:
    """(player, created, attribution_kept): attribution_kept when an attributed player was
    offered another attribution and kept its first."""
    kept = False
    if player is None:
        player = Player(
            brand=brand, user_id=item.user_id, tag=item.tag, sign_up_at=item.sign_up_at or now,
            country=item.country or "", language=item.language or "", is_duplicate=bool(item.duplicate),
            created_at=now, updated_at=now,
        )
        if attribution is not None:
            _attribute(player, attribution)
        player.save(force_insert=True)
        created, newly_attributed = True, attribution is not None
    else:
        fields = ["updated_at"]
        for name, value in (("sign_up_at", item.sign_up_at), ("country", item.country),
                            ("language", item.language), ("is_duplicate", item.duplicate)):
            if value is not None:
                setattr(player, name, value)
                fields.append(name)
        newly_attributed = False
        if player.affiliate_id is None:
            if attribution is not None:
                _attribute(player, attribution)
                fields.extend(_ATTRIBUTION_FIELDS)
                newly_attributed = True
            elif item.tag and item.tag != player.tag:
                player.tag = item.tag  # organic: remember the latest tag the platform had
                fields.append("tag")
        elif attribution is not None and (attribution.promo.pk, getattr(attribution.visit, "pk", None)) != (
            player.promo_id, player.visit_id
        ):
            kept = True
        player.updated_at = now
        player.save(update_fields=fields)
        created = False
    if newly_attributed:
        player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=player.sign_up_at)
    return player, created, kept
