"""MONEY models. The commission plan skeleton campaigns need; the Billing release builds it out
(kinds, CPA criteria, RevShare tiers, periods), plus bills, ledger and cashouts."""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field


class CommissionPlan(models.Model):
    """How an affiliate is paid for a campaign. Default plans are available to every
    affiliate; individual plans only to the affiliates named."""

    name = models.CharField(max_length=150)
    brand = models.ForeignKey("campaigns.Brand", on_delete=models.PROTECT, related_name="commission_plans")
    currency = currency_field()
    description = models.TextField(blank=True)
    is_default = models.BooleanField(
        "available to all affiliates", default=True,
        help_text="Off: only the affiliates listed below may choose this plan.",
    )
    affiliates = models.ManyToManyField("partners.Affiliate", blank=True, related_name="individual_plans")
    allows_sub_affiliates = models.BooleanField(
        default=False, help_text="Campaigns under this plan may use sub-affiliate landings."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["brand", "name"]

    def __str__(self):
        return f"{self.name} ({self.brand}, {self.currency})"
