"""Writes of campaigns and promos: the create wizard's finish, adding and editing promos,
archiving and unarchiving.

Every rule a portal form checks is checked here again, against the database as it is now:
the wizard keeps its choices in the session, and a plan, landing or banner may have been
withdrawn (or a forged id posted) between one step and the Finish button.
"""
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.errors import CampaignsError
from campaigns.models import Brand, Campaign, Landing, Media, Promo, TrafficSource
from campaigns.selectors import commission_plans_available, media_visible
from partners.models import Affiliate

NAME_MAX_LENGTH = Campaign._meta.get_field("name").max_length
TITLE_MAX_LENGTH = Promo._meta.get_field("title").max_length
PROMO_CODE_MAX_LENGTH = Promo._meta.get_field("promo_code").max_length


def campaign_ensure_editable(campaign: Campaign) -> None:
    """Refuse changes under an archived campaign (new promos, promo edits, postbacks).

    Its tracking links keep working: only the tracking view ignores the state."""
    if campaign.is_archived:
        raise CampaignsError(
            f"Campaign {campaign.pk} is archived; unarchive it to add or change promos and postbacks.",
            code="archived",
        )


# Checks shared by campaign_create and promo_create ----------------------------------------

def _check_commission_plan(*, affiliate: Affiliate, brand: Brand, commission_plan) -> None:
    if not commission_plans_available(affiliate=affiliate, brand=brand).filter(pk=commission_plan.pk).exists():
        raise CampaignsError(
            f"The commission plan \u201c{commission_plan.name}\u201d is not available to you for "
            f"{brand.name}. Choose one of the plans offered.",
            field="commission_plan",
        )


def _check_landing(*, landing: Landing, brand: Brand, commission_plan) -> None:
    if landing.brand_id != brand.pk or not landing.is_active:
        raise CampaignsError(
            f"The landing \u201c{landing.name}\u201d is not an active landing of {brand.name}. "
            "Choose one of the landings offered.",
            field="landing",
        )
    if landing.audience == Landing.Audience.SUB_AFFILIATES and not commission_plan.allows_sub_affiliates:
        raise CampaignsError(
            f"The commission plan \u201c{commission_plan.name}\u201d does not allow sub-affiliates: "
            "choose a landing for players.",
            field="landing",
        )


def _check_media(*, media: Media | None, affiliate: Affiliate, brand: Brand) -> None:
    if media is not None and not media_visible(affiliate=affiliate, brand=brand).filter(pk=media.pk).exists():
        raise CampaignsError(
            f"The banner \u201c{media.title}\u201d is not available for {brand.name}. "
            "Choose another banner or Direct Link.",
            field="media",
        )


def _check_traffic_source(traffic_source: TrafficSource | None) -> None:
    if traffic_source is not None and not traffic_source.is_active:
        raise CampaignsError(
            f"The traffic source \u201c{traffic_source.name}\u201d is no longer offered. Choose another one.",
            field="traffic_source",
        )


def _clean_text(value: str, *, label: str, max_length: int, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CampaignsError(f"Enter the {label}.", field=field)
    if len(value) > max_length:
        raise CampaignsError(f"The {label} can be at most {max_length} characters long.", field=field)
    return value


def _promo_new(
    *,
    campaign: Campaign,
    landing: Landing,
    media: Media | None,
    traffic_source: TrafficSource | None,
    title: str,
) -> Promo:
    _check_landing(landing=landing, brand=campaign.brand, commission_plan=campaign.commission_plan)
    _check_media(media=media, affiliate=campaign.affiliate, brand=campaign.brand)
    _check_traffic_source(traffic_source)
    title = _clean_text(title, label="promo title", max_length=TITLE_MAX_LENGTH, field="title", required=False)
    if not title:
        number = Promo.objects.filter(campaign=campaign).count() + 1
        title = f"{campaign.name} \u2013 promo {number}"[:TITLE_MAX_LENGTH]
    # The tracking code is random (~51 bits): a collision is practically impossible, but the
    # unique index decides, and a retry with a fresh code costs nothing.
    for attempt in range(3):
        promo = Promo(
            campaign=campaign, affiliate_id=campaign.affiliate_id, brand_id=campaign.brand_id,
            title=title, landing=landing, media=media, traffic_source=traffic_source,
        )
        try:
            with transaction.atomic():
                promo.save(force_insert=True)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        return promo
    raise AssertionError("unreachable")


# Campaigns --------------------------------------------------------------------------------

@transaction.atomic
def campaign_create(
    *,
    affiliate: Affiliate,
    name: str,
    brand: Brand,
    commission_plan,
    landing: Landing,
    media: Media | None = None,
    traffic_source: TrafficSource | None = None,
    promo_title: str = "",
) -> Campaign:
    """Create a campaign and its first promo (its first tracking link) in one transaction.

    The first promo's title defaults to "<campaign name> – promo 1"."""
    name = _clean_text(name, label="campaign name", max_length=NAME_MAX_LENGTH, field="name")
    if not brand.is_active:
        raise CampaignsError(f"{brand.name} does not take new campaigns. Choose another brand.", field="brand")
    if commission_plan.brand_id != brand.pk:
        raise CampaignsError(
            f"The commission plan \u201c{commission_plan.name}\u201d is not a plan of {brand.name}. "
            "Choose one of its plans.",
            field="commission_plan",
        )
    _check_commission_plan(affiliate=affiliate, brand=brand, commission_plan=commission_plan)
    campaign = Campaign.objects.create(
        affiliate=affiliate, name=name, brand=brand, commission_plan=commission_plan,
    )
    _promo_new(campaign=campaign, landing=landing, media=media, traffic_source=traffic_source,
               title=promo_title)
    return campaign


@transaction.atomic
def campaign_archive(*, campaign: Campaign) -> Campaign:
    """Move a campaign out of the active list. Its links keep tracking; its promos and
    postbacks are frozen until it is unarchived."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.is_archived:
        raise CampaignsError(f"Campaign {campaign.pk} is already archived.")
    campaign.state = Campaign.State.ARCHIVED
    campaign.archived_at = timezone.now()
    campaign.save(update_fields=["state", "archived_at"])
    return campaign


@transaction.atomic
def campaign_unarchive(*, campaign: Campaign) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_archived:
        raise CampaignsError(f"Campaign {campaign.pk} is active; only an archived campaign can be unarchived.")
    campaign.state = Campaign.State.ACTIVE
    campaign.archived_at = None
    campaign.save(update_fields=["state", "archived_at"])
    return campaign


# Promos -----------------------------------------------------------------------------------

@transaction.atomic
def promo_create(
    *,
    campaign: Campaign,
    landing: Landing,
    media: Media | None = None,
    traffic_source: TrafficSource | None = None,
    title: str = "",
) -> Promo:
    """Add a promo (a new tracking link) to an active campaign. The title defaults to
    "<campaign name> – promo <n>"."""
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("brand", "commission_plan")
        .get(pk=campaign.pk)
    )
    campaign_ensure_editable(campaign)
    return _promo_new(campaign=campaign, landing=landing, media=media, traffic_source=traffic_source,
                      title=title)


def _promo_code_conflict(*, promo: Promo, promo_code: str) -> Promo | None:
    return (
        Promo.objects.filter(brand_id=promo.brand_id, promo_code__iexact=promo_code)
        .exclude(pk=promo.pk)
        .first()
    )


def _promo_code_taken(*, promo: Promo, promo_code: str) -> CampaignsError:
    return CampaignsError(
        f"The promo code \u201c{promo_code}\u201d is already used for {promo.brand.name} "
        "(codes are unique per brand, whatever the case). Choose another code.",
        field="promo_code",
    )


def promo_update(
    *,
    promo: Promo,
    title: str | None = None,
    traffic_source: TrafficSource | None = None,
    promo_code: str | None = None,
) -> Promo:
    """Edit a promo: its title, its promo code (optional, unique per brand regardless of
    case), and its traffic source while it has none. None leaves a value as it is.

    Once set, the traffic source never changes (the manual): reports and the operator rely
    on one source per link.
    """
    with transaction.atomic():
        # of=self: the traffic source is a nullable (outer) join, which PostgreSQL cannot lock.
        promo = (
            Promo.objects.select_for_update(of=("self",))
            .select_related("campaign", "brand", "traffic_source")
            .get(pk=promo.pk)
        )
        campaign_ensure_editable(promo.campaign)
        changed: list[str] = []
        if title is not None:
            title = _clean_text(title, label="promo title", max_length=TITLE_MAX_LENGTH, field="title")
            if title != promo.title:
                promo.title = title
                changed.append("title")
        if traffic_source is not None and traffic_source.pk != promo.traffic_source_id:
            if promo.traffic_source_id is not None:
                raise CampaignsError(
                    f"The traffic source of promo {promo.pk} is \u201c{promo.traffic_source.name}\u201d "
                    "and cannot be changed. Create a new promo for another traffic source.",
                    field="traffic_source",
                )
            _check_traffic_source(traffic_source)
            promo.traffic_source = traffic_source
            changed.append("traffic_source")
        if promo_code is not None:
            promo_code = _clean_text(promo_code, label="promo code", max_length=PROMO_CODE_MAX_LENGTH,
                                     field="promo_code", required=False)
            if promo_code != promo.promo_code:
                if promo_code and _promo_code_conflict(promo=promo, promo_code=promo_code):
                    raise _promo_code_taken(promo=promo, promo_code=promo_code)
                promo.promo_code = promo_code
                changed.append("promo_code")
        if not changed:
            return promo
        try:
            # A concurrent save of the same code passes the check above; the unique index
            # (brand, lower(promo_code)) refuses the second one.
            with transaction.atomic():
                promo.save(update_fields=changed)
        except IntegrityError as exc:
            raise _promo_code_taken(promo=promo, promo_code=promo.promo_code) from exc
    return promo
