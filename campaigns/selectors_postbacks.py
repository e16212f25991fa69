"""Reads of postbacks and their log, always scoped by the acting affiliate."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from campaigns.models import Campaign, Postback, PostbackAttempt, Promo


def postback_list(*, affiliate, campaign: Campaign | None = None, promo: Promo | None = None) -> QuerySet[Postback]:
    """The affiliate's postbacks, newest first, each with its last attempt (last_attempt_at,
    last_status, last_succeeded, last_error).

    campaign: only that campaign's campaign-level postbacks; promo: only that promo's.
    """
    qs = Postback.objects.filter(affiliate=affiliate)
    if campaign is not None:
        qs = qs.filter(scope=Postback.Scope.CAMPAIGN, campaign=campaign)
    if promo is not None:
        qs = qs.filter(scope=Postback.Scope.PROMO, promo=promo)
    last = PostbackAttempt.objects.filter(postback=OuterRef("pk")).order_by("-attempted_at", "-pk")
    return (
        qs.select_related("campaign", "promo")
        .annotate(
            last_attempt_at=Subquery(last.values("attempted_at")[:1]),
            last_status=Subquery(last.values("response_status")[:1]),
            last_succeeded=Subquery(last.values("succeeded")[:1]),
            last_error=Subquery(last.values("error")[:1]),
        )
        .order_by("-created_at", "-pk")
    )


def postback_get(*, affiliate, postback_id: int) -> Postback:
    """The affiliate's postback, or 404 (another affiliate's is as missing as a deleted one)."""
    return get_object_or_404(
        Postback.objects.select_related("campaign", "promo__campaign"), pk=postback_id, affiliate=affiliate)


def postback_campaign_choices(*, affiliate) -> QuerySet[Campaign]:
    return Campaign.objects.filter(affiliate=affiliate).select_related("brand").order_by("-created_at", "-pk")


def postback_promo_choices(*, affiliate) -> QuerySet[Promo]:
    return Promo.objects.filter(affiliate=affiliate).select_related("campaign").order_by("campaign__name", "pk")


@dataclass(frozen=True)
class AttemptFilters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    url: str = ""
    action: str = ""
    response_code: int | None = None
    campaign_name: str = ""
    campaign_id: int | None = None
    promo_code: str = ""
    promo_id: int | None = None


def postback_attempt_list(*, affiliate, filters: AttemptFilters | None = None) -> QuerySet[PostbackAttempt]:
    """The postbacks log: the affiliate's attempts, newest first, filtered.

    A campaign or promo matches through the postback (campaign/promo scope) or through the
    event that triggered the delivery (account-wide postbacks).
    """
    f = filters or AttemptFilters()
    qs = PostbackAttempt.objects.filter(affiliate=affiliate)
    if f.since:
        qs = qs.filter(attempted_at__gte=f.since)
    if f.until:
        qs = qs.filter(attempted_at__lte=f.until)
    if f.url:
        qs = qs.filter(url__icontains=f.url)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.response_code is not None:
        qs = qs.filter(response_status=f.response_code)
    if f.campaign_id is not None:
        qs = qs.filter(Q(postback__campaign_id=f.campaign_id) | Q(delivery__event__campaign_id=f.campaign_id))
    if f.campaign_name:
        qs = qs.filter(Q(postback__campaign__name__icontains=f.campaign_name)
                       | Q(delivery__event__campaign__name__icontains=f.campaign_name))
    if f.promo_id is not None:
        qs = qs.filter(Q(postback__promo_id=f.promo_id) | Q(delivery__event__promo_id=f.promo_id))
    if f.promo_code:
        code = f.promo_code
        qs = qs.filter(
            Q(postback__promo__promo_code__iexact=code) | Q(postback__promo__code__iexact=code)
            | Q(delivery__event__promo__promo_code__iexact=code) | Q(delivery__event__promo__code__iexact=code)
        )
    return qs.select_related(
        "postback", "delivery__event__campaign", "delivery__event__promo", "postback__campaign", "postback__promo",
    ).order_by("-attempted_at", "-pk")
