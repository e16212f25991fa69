"""Sub-affiliate connections: who brought whom into the program.

A sub-affiliate promo sends visitors to our sign-up page with the visit's tracking tag; the
sign-up keeps it in Affiliate.referral_tag, and when a manager approves the account
(partners.signals.affiliate_approved) the tag becomes a level-1 connection to the promo's
affiliate, plus a level n+1 connection to each ancestor of theirs, up to MAX_LEVEL.
"""
import logging
import re

from django.db import IntegrityError, transaction

from campaigns.models import Landing, PartnerConnection, Visit
from partners.models import Affiliate

logger = logging.getLogger(__name__)

# Deeper chains earn nothing in any usual sub-affiliate deal and only cost rows.
MAX_LEVEL = 5
TAG_RE = re.compile(r"([0-9]{1,18})_([0-9]{1,18})")


def referral_visit(*, tag: str) -> Visit | None:
    """The visit behind a tracking tag "<affiliate id>_<visit id>", if it exists."""
    match = TAG_RE.fullmatch(tag or "")
    if match is None:
        return None
    affiliate_id, visit_id = (int(g) for g in match.groups())
    return (
        Visit.objects.select_related("affiliate", "promo", "promo__landing", "promo__campaign")
        .filter(pk=visit_id, affiliate_id=affiliate_id)
        .first()
    )


def _connect(*, parent: Affiliate, child: Affiliate, level: int, campaign_id, promo_id) -> PartnerConnection | None:
    existing = PartnerConnection.objects.filter(parent=parent, child=child).first()
    if existing is not None:
        return existing
    if PartnerConnection.objects.filter(child=child, level=level).exists():
        return None  # another parent at this level came first: one parent per level
    try:
        with transaction.atomic():
            return PartnerConnection.objects.create(
                parent=parent, child=child, level=level, campaign_id=campaign_id, promo_id=promo_id,
            )
    except IntegrityError:
        # The same approval handled twice at once: the unique indexes keep one row.
        return PartnerConnection.objects.filter(parent=parent, child=child).first()


@transaction.atomic
def partner_connections_create(*, child: Affiliate) -> list[PartnerConnection]:
    """Connect a newly approved affiliate to whoever referred them (idempotent).

    Nothing happens unless the referral tag names an existing visit of a sub-affiliate promo
    whose affiliate is active and is not the child. Each ancestor's connection records the
    ancestor's own campaign and promo, never another affiliate's.
    """
    visit = referral_visit(tag=child.referral_tag)
    if visit is None:
        return []
    parent = visit.affiliate
    if visit.promo.landing.audience != Landing.Audience.SUB_AFFILIATES:
        logger.info("referral tag %s of affiliate %s is not a sub-affiliate promo's", child.referral_tag, child.pk)
        return []
    if parent.pk == child.pk or parent.status != Affiliate.Status.ACTIVE:
        return []
    connections = []
    first = _connect(parent=parent, child=child, level=1, campaign_id=visit.promo.campaign_id,
                     promo_id=visit.promo_id)
    if first is None:
        return []
    connections.append(first)
    ancestors = (
        PartnerConnection.objects.filter(child=parent, level__lt=MAX_LEVEL)
        .exclude(parent=child)
        .order_by("level", "pk")
    )
    for upper in ancestors.select_related("parent"):
        connection = _connect(parent=upper.parent, child=child, level=upper.level + 1,
                              campaign_id=upper.campaign_id, promo_id=upper.promo_id)
        if connection is not None:
            connections.append(connection)
    return connections
