"""Affili tables: the referral token of each visit that came from Affili, and the conversions
we created there (one per deposit) with the status and wage Affili gives them.

We are the merchant: the connector (integrations/affili/connector.py) obtains a token per
visit, pushes deposits as "buy" conversions and pulls back their status and Affili's wage.
"""
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from backoffice.money import money_field


class AffiliReferral(models.Model):
    """The token Affili's set-cookie call gave for one visit carrying `referrer` (and `aff_id`).

    Obtained once per connection × visit; conversions of the visit's players quote it.
    """

    # Indexed by the unique (connection, visit) constraint, which leads with it.
    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE, db_index=False,
                                   related_name="affili_referrals")
    visit = models.ForeignKey("campaigns.Visit", on_delete=models.CASCADE, related_name="affili_referrals")
    referrer = models.CharField(max_length=200)
    aff_id = models.CharField(max_length=200, blank=True)
    token = models.TextField()
    obtained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-obtained_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "visit"], name="affili_one_referral_per_visit"),
        ]

    def __str__(self):
        return f"referral of visit {self.visit_id} ({self.referrer})"


class AffiliConversion(models.Model):
    """One conversion at Affili, keyed by our external id (`dep-<deposit pk>` for the deposits we
    push). A conversion Affili reports without an external id (a click or lead it recorded on its
    own) is keyed `affili:<its id>`, so the per-connection key stays unique and upserts work.

    `created_at` / `updated_at` are Affili's times, converted from Jalali (Tehran) to UTC.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        DUPLICATED = "duplicated", "Duplicated"

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE,
                                   related_name="affili_conversions")
    external_id = models.CharField(max_length=120)
    affili_id = models.CharField("Affili id", max_length=64, blank=True)
    deposit = models.ForeignKey("campaigns.Deposit", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="affili_conversions")
    player = models.ForeignKey("campaigns.Player", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="affili_conversions")
    referral = models.ForeignKey(AffiliReferral, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="conversions")
    conversion_type = models.CharField("type", max_length=20, blank=True,
                                       help_text="buy, click or lead (Affili sometimes reports a number).")
    amount = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="Of the deposit we pushed, when known.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    wage = money_field(null=True, blank=True, help_text="Affili's fee for this conversion.")
    is_closed = models.BooleanField(default=False, help_text="Affili no longer lets it be edited.")
    checked_out = models.BooleanField(default=False)
    publisher_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, help_text="At Affili (UTC).")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="At Affili (UTC).")
    raw = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    recorded_at = models.DateTimeField(default=timezone.now)
    pushed_at = models.DateTimeField(null=True, blank=True, help_text="When we created it at Affili.")
    last_pulled_at = models.DateTimeField(null=True, blank=True,
                                          help_text="When a pull last brought a change to it (or first stored it).")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # external_id leads: the pull looks a page's ids up by external_id alone, so the
            # planner cannot prefer the connection index and read every row of the connection
            # per page (it does while a first big import leaves the statistics stale).
            models.UniqueConstraint(fields=["external_id", "connection"], name="affili_one_conversion_per_external_id"),
        ]

    def __str__(self):
        return f"Affili conversion {self.external_id} ({self.status})"
