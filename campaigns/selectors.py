"""Reads of the campaigns app for the portal."""
import datetime as dt

from django.db.models import Count, Prefetch, Q, QuerySet

from backoffice.timeutil import program_tz
from campaigns.models import (
    Brand,
    BrandContact,
    Campaign,
    Landing,
    Media,
    PartnerConnection,
    Promo,
    TrafficSource,
)
from partners.models import Affiliate


def brand_contacts() -> QuerySet[Brand]:
    """Active brands with their contacts (one query for brands, one for all contacts)."""
    return Brand.objects.filter(is_active=True).order_by("name").prefetch_related(
        Prefetch("contacts", queryset=BrandContact.objects.order_by("position", "pk"))
    )


# Campaigns and promos (portal) ------------------------------------------------------------
# Every read below takes the acting affiliate: a portal view cannot forget the scope.

def _commission_plan_model():
    # billing sits above campaigns (ARCHITECTURE.md): reach CommissionPlan through the foreign
    # key instead of importing billing.
    return Campaign._meta.get_field("commission_plan").related_model


def commission_plans_available(*, affiliate: Affiliate, brand: Brand | None = None) -> QuerySet:
    """The commission plans this affiliate may choose (for `brand` when given): active, and
    either available to all affiliates or naming this one."""
    plan_model = _commission_plan_model()
    named = plan_model.affiliates.through.objects.filter(affiliate=affiliate).values("commissionplan_id")
    plans = plan_model.objects.filter(is_active=True).filter(Q(is_default=True) | Q(pk__in=named))
    if brand is not None:
        plans = plans.filter(brand=brand)
    return plans.select_related("brand").order_by("brand__name", "name", "pk")


def commission_plans_used(*, affiliate: Affiliate) -> QuerySet:
    """The plans of this affiliate's campaigns (the campaigns list filter offers these)."""
    plan_model = _commission_plan_model()
    used = Campaign.objects.filter(affiliate=affiliate).values("commission_plan_id")
    return plan_model.objects.filter(pk__in=used).select_related("brand").order_by("brand__name", "name", "pk")


def brands_for_campaigns(*, affiliate: Affiliate) -> QuerySet[Brand]:
    """Active brands that have at least one commission plan available to this affiliate."""
    plans = commission_plans_available(affiliate=affiliate).values("brand_id")
    return Brand.objects.filter(is_active=True, pk__in=plans).order_by("name")


def brands_of_campaigns(*, affiliate: Affiliate) -> QuerySet[Brand]:
    """Brands this affiliate has campaigns for, plus the ones open to new campaigns."""
    used = Campaign.objects.filter(affiliate=affiliate).values("brand_id")
    plans = commission_plans_available(affiliate=affiliate).values("brand_id")
    return Brand.objects.filter(Q(pk__in=used) | Q(pk__in=plans, is_active=True)).order_by("name")


def campaigns_of(*, affiliate: Affiliate) -> QuerySet[Campaign]:
    """The affiliate's campaigns (the base of every portal campaign lookup)."""
    return Campaign.objects.filter(affiliate=affiliate).select_related("brand", "commission_plan")


def campaign_list(
    *,
    affiliate: Affiliate,
    state: str | None = Campaign.State.ACTIVE,
    id: int | None = None,
    name: str | None = None,
    brand: Brand | None = None,
    commission_plan=None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
) -> QuerySet[Campaign]:
    """The affiliate's campaigns, newest first, with `promos_count`. state None: all.
    Dates are whole days in the program's time zone, both ends included."""
    campaigns = campaigns_of(affiliate=affiliate).annotate(promos_count=Count("promos"))
    if state:
        campaigns = campaigns.filter(state=state)
    if id:
        campaigns = campaigns.filter(pk=id)
    if name:
        campaigns = campaigns.filter(name__icontains=name)
    if brand is not None:
        campaigns = campaigns.filter(brand=brand)
    if commission_plan is not None:
        campaigns = campaigns.filter(commission_plan=commission_plan)
    tz = program_tz()
    if created_from:
        campaigns = campaigns.filter(created_at__gte=dt.datetime.combine(created_from, dt.time.min, tzinfo=tz))
    if created_to:
        next_day = created_to + dt.timedelta(days=1)
        campaigns = campaigns.filter(created_at__lt=dt.datetime.combine(next_day, dt.time.min, tzinfo=tz))
    return campaigns.order_by("-created_at", "-pk")


def promos_of(*, affiliate: Affiliate) -> QuerySet[Promo]:
    """The affiliate's promos with what a promo page shows."""
    return Promo.objects.filter(affiliate=affiliate).select_related(
        "campaign", "campaign__commission_plan", "brand", "landing", "media", "traffic_source"
    )


def campaign_promos(*, campaign: Campaign) -> QuerySet[Promo]:
    """A campaign's promos for its page, with `postbacks_count` (promo-scoped postbacks)."""
    return (
        Promo.objects.filter(campaign=campaign)
        .select_related("brand", "landing", "media", "traffic_source")
        .annotate(postbacks_count=Count("postbacks"))
        .order_by("pk")
    )


def traffic_sources_active() -> QuerySet[TrafficSource]:
    return TrafficSource.objects.filter(is_active=True).order_by("position", "name")


def landings_available(*, brand: Brand, allows_sub_affiliates: bool) -> QuerySet[Landing]:
    """A brand's active landings a promo may send traffic to: sub-affiliate landings only
    under a commission plan that allows sub-affiliates."""
    landings = Landing.objects.filter(brand=brand, is_active=True)
    if not allows_sub_affiliates:
        landings = landings.filter(audience=Landing.Audience.PLAYERS)
    return landings.order_by("audience", "name", "pk")


def media_visible(*, affiliate: Affiliate, brand: Brand) -> QuerySet[Media]:
    """A brand's active banners this affiliate may use: public ones, and private ones that
    name the affiliate."""
    named = Media.affiliates.through.objects.filter(affiliate=affiliate).values("media_id")
    return Media.objects.filter(brand=brand, is_active=True).filter(
        Q(privacy=Media.Privacy.PUBLIC) | Q(privacy=Media.Privacy.PRIVATE, pk__in=named)
    )


def media_gallery(
    *,
    affiliate: Affiliate,
    brand: Brand,
    title: str | None = None,
    language: str | None = None,
    file_format: str | None = None,
    privacy: str | None = None,
    resolution: str | None = None,
    tag: str | None = None,
    orientation: str | None = None,
) -> QuerySet[Media]:
    """The banner gallery of the create wizard, filtered. resolution is "<width>x<height>"."""
    media = media_visible(affiliate=affiliate, brand=brand)
    if title:
        media = media.filter(title__icontains=title)
    if language:
        media = media.filter(language__iexact=language)
    if file_format:
        media = media.filter(file_format=file_format)
    if privacy:
        media = media.filter(privacy=privacy)
    if resolution:
        width, _, height = resolution.partition("x")
        media = media.filter(width=int(width), height=int(height))
    if tag:
        media = media.filter(tags__icontains=tag)
    if orientation:
        media = media.filter(orientation=orientation)
    return media.order_by("title", "pk")


def partner_connections(*, affiliate: Affiliate) -> QuerySet[PartnerConnection]:
    """The affiliate's sub-affiliates (every level), newest first."""
    return (
        PartnerConnection.objects.filter(parent=affiliate)
        .select_related("child", "campaign", "campaign__commission_plan", "promo")
        .order_by("level", "-created_at", "-pk")
    )
