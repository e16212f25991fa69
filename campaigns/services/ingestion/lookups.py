"""The rest of the API: player flags, synced visit counts, and partners by tag."""
import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from campaigns.models import Brand, Player, Promo, SyncedVisits
from campaigns.services.ingestion.common import (
    NOT_STORED,
    BatchOutcome,
    ItemError,
    SyncedLinkIn,
    chunks,
)
from campaigns.services.ingestion.players import visits_by_tag
from partners.models import User

logger = logging.getLogger(__name__)


def partners_by_tags(*, brand: Brand, tags: list[str]) -> tuple[list[dict], list[str]]:
    """The affiliate, campaign and promo behind each tag of this brand; and the tags not found."""
    visits = visits_by_tag(brand=brand, tags=tags)
    owners: dict[int, str] = {}
    affiliate_ids = {visit.affiliate_id for visit in visits.values()}
    for affiliate_id, email in (
        User.objects.filter(affiliate_id__in=affiliate_ids, role=User.Role.OWNER)
        .order_by("-pk").values_list("affiliate_id", "email")
    ):
        owners[affiliate_id] = email  # the oldest owner wins (ordered newest first)
    partners, not_found = [], []
    for tag in tags:
        visit = visits.get(tag)
        if visit is None:
            not_found.append(tag)
            continue
        partners.append({
            "tag": tag,
            "affiliate_id": visit.affiliate_id,
            "name": visit.affiliate.name,
            "email": owners.get(visit.affiliate_id),
            "campaign_id": visit.promo.campaign_id,
            "promo_id": visit.promo_id,
            "promo_code": visit.promo.promo_code or None,
        })
    return partners, not_found


# --- flags -------------------------------------------------------------------------------

PLAYER_FLAGS = {"disabled": "is_disabled", "duplicate": "is_duplicate", "self_excluded": "is_self_excluded"}


def player_flags_set(*, brand: Brand, flag: str, value: bool, tags: list[str], user_ids: list[str]) -> dict:
    """Set (or clear) a CPA-relevant flag on the brand's players found by tag or user_id."""
    column = PLAYER_FLAGS[flag]
    now = timezone.now()
    found = {"tags": set(), "user_ids": set()}
    players = 0
    with transaction.atomic():
        for name, lookup, wanted in (("tags", "tag", tags), ("user_ids", "user_id", user_ids)):
            for chunk in chunks(wanted):
                query = Player.objects.filter(brand=brand, **{f"{lookup}__in": chunk})
                found[name].update(query.values_list(lookup, flat=True))
                players += query.update(**{column: value, "updated_at": now})
    return {
        "players_count": players,
        "updated": {"tags": [t for t in tags if t in found["tags"]],
                    "user_ids": [u for u in user_ids if u in found["user_ids"]]},
        "not_found": {"tags": [t for t in tags if t not in found["tags"]],
                      "user_ids": [u for u in user_ids if u not in found["user_ids"]]},
    }


# --- synced visits -------------------------------------------------------------------------


def synced_visits_store(*, brand: Brand, period_start, period_end, links: list[SyncedLinkIn]) -> BatchOutcome:
    """Store visit counts of the brand's promos over a window (a re-post replaces them)."""
    outcome = BatchOutcome()
    now = timezone.now()
    promos = {}
    for chunk in chunks({link.code for link in links}):
        promos.update({p.code: p for p in Promo.objects.filter(brand=brand, code__in=chunk)})
    emails: dict[int, set[str]] = {}
    for affiliate_id, email in User.objects.filter(
        affiliate_id__in={p.affiliate_id for p in promos.values()}
    ).values_list("affiliate_id", "email"):
        emails.setdefault(affiliate_id, set()).add(email.lower())
    seen: dict[str, int] = {}
    with transaction.atomic():
        for link in links:
            promo = promos.get(link.code)
            if promo is None:
                outcome.errors.append(ItemError(link.index, "code", f"{link.code!r} is not a tracking code of this brand"))
                continue
            if link.affiliate_email.lower() not in emails.get(promo.affiliate_id, ()):
                outcome.errors.append(ItemError(link.index, "affiliate_email",
                                                "affiliate_email is not the e-mail of a user of the promo's affiliate"))
                continue
            if link.code in seen:
                outcome.errors.append(ItemError(link.index, "code", f"code listed twice (also links[{seen[link.code]}])"))
                continue
            seen[link.code] = link.index
            try:
                with transaction.atomic():
                    row, created = SyncedVisits.objects.update_or_create(
                        promo=promo, period_start=period_start, period_end=period_end,
                        defaults={"visits_count": link.visits_count, "affiliate_id": promo.affiliate_id,
                                  "updated_at": now},
                        create_defaults={"visits_count": link.visits_count, "affiliate_id": promo.affiliate_id,
                                         "received_at": now, "updated_at": now},
                    )
            except DatabaseError:
                logger.exception("ingestion: synced visits link %s of brand %s not stored", link.index, brand.pk)
                outcome.errors.append(ItemError(link.index, "", NOT_STORED))
                continue
            outcome.results.append({"index": link.index, "code": link.code, "promo_id": promo.pk,
                                    "visits_count": row.visits_count, "status": "created" if created else "updated"})
    return outcome
