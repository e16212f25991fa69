"""Campaigns, promos (tracking links) and sub-affiliate connections."""
import secrets

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from campaigns.models.program import Brand, Landing, Media, TrafficSource


class Campaign(models.Model):
    """An affiliate's campaign for one brand under one commission plan; holds promos."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=150)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="campaigns")
    # A lower layer pointing up: billing owns commission plans (ARCHITECTURE.md).
    commission_plan = models.ForeignKey(
        "billing.CommissionPlan", on_delete=models.PROTECT, related_name="campaigns"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "state", "-created_at"])]

    def __str__(self):
        return f"{self.name} (#{self.pk})"

    @property
    def is_archived(self) -> bool:
        return self.state == self.State.ARCHIVED


def _new_tracking_code() -> str:
    # 10 characters of [a-z0-9]: ~51 bits, unguessable enough to not enumerate promos, short
    # enough to type. Lower-case only, so a code survives case-folding by mail clients.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Promo(models.Model):
    """One tracking link of a campaign: landing, optional banner, optional promo code."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="promos")
    # Denormalised from the campaign: tracking and scoping read it without a join, and a
    # promo code is unique per brand.
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="promos")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="promos")
    title = models.CharField(max_length=150)
    code = models.CharField("tracking code", max_length=32, unique=True, default=_new_tracking_code)
    landing = models.ForeignKey(Landing, on_delete=models.PROTECT, related_name="promos")
    media = models.ForeignKey(Media, null=True, blank=True, on_delete=models.SET_NULL, related_name="promos",
                              help_text="Empty: a direct link without a banner.")
    # Optional; once set it never changes (the manual).
    traffic_source = models.ForeignKey(TrafficSource, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="promos")
    promo_code = models.CharField(max_length=50, blank=True, help_text="Bonus code players enter at sign-up.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(
                "brand", Lower("promo_code"), condition=~models.Q(promo_code=""),
                name="campaigns_promo_code_unique_per_brand",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.code})"

    @property
    def is_sub_affiliate(self) -> bool:
        return self.landing.audience == Landing.Audience.SUB_AFFILIATES


class PartnerConnection(models.Model):
    """A sub-affiliate relation: `child` signed up through `parent`'s sub-affiliate promo
    (level 1), or through a sub-affiliate of theirs (level 2 ...)."""

    parent = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="sub_affiliate_connections")
    child = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="parent_connections")
    level = models.PositiveSmallIntegerField(default=1)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    promo = models.ForeignKey(Promo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["parent", "level", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="campaigns_connection_unique"),
            models.UniqueConstraint(fields=["child", "level"], name="campaigns_one_parent_per_level"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("child")), name="campaigns_connection_not_self"),
        ]

    def __str__(self):
        return f"{self.child} under {self.parent} (level {self.level})"
