"""Commission plans: how an affiliate is paid (CPA, RevShare, Hybrid), when (billing period),
and what their sub-affiliates earn them."""
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field

PERCENT = {"max_digits": 6, "decimal_places": 3,
           "validators": [MinValueValidator(0), MaxValueValidator(100)]}


class CommissionPlan(models.Model):
    """How an affiliate is paid for a campaign. Default plans are available to every
    affiliate; individual plans only to the affiliates named."""

    class Kind(models.TextChoices):
        CPA = "cpa", "CPA"
        REVSHARE = "revshare", "RevShare"
        HYBRID = "hybrid", "Hybrid (CPA + RevShare)"

    class Period(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    class TierBasis(models.TextChoices):
        NONE = "", "No tiers (one percent)"
        NGR = "ngr", "Period NGR"
        FTD_COUNT = "ftd_count", "Period first deposits count"

    name = models.CharField(max_length=150)
    brand = models.ForeignKey("campaigns.Brand", on_delete=models.PROTECT, related_name="commission_plans")
    currency = currency_field()
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REVSHARE)
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

    # Billing period: a period closes at the end of its last day (program time zone).
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    period_weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)],
        help_text="Weekly: the weekday a period starts on (0 = Monday).",
    )
    period_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Monthly: the day of month a period starts on (1–28).",
    )

    # CPA: a fixed amount per qualified player, once ever per plan.
    cpa_amount = money_field(default=0)
    min_first_deposit = money_field(default=0)
    min_deposits_sum = money_field(default=0)
    min_deposits_count = models.PositiveIntegerField(default=0)
    min_wager = money_field(default=0)
    min_bets_count = models.PositiveIntegerField(default=0)
    qualification_window_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Criteria must be met within this many days of registration; empty = no limit."
    )
    exclude_duplicates = models.BooleanField(default=True)
    exclude_self_excluded = models.BooleanField(default=True)
    exclude_disabled = models.BooleanField(default=True)
    countries_include = models.CharField(max_length=500, blank=True, help_text="ISO codes, comma-separated; empty = all")
    countries_exclude = models.CharField(max_length=500, blank=True, help_text="ISO codes, comma-separated")
    hold_days = models.PositiveIntegerField(
        default=0, help_text="A qualified player is paid only once this many days have passed since qualifying."
    )

    # RevShare: a percent of NGR, flat or by tier (RevShareTier rows).
    revshare_percent = models.DecimalField(default=0, **PERCENT)
    tier_basis = models.CharField(max_length=10, choices=TierBasis.choices, blank=True, default=TierBasis.NONE)
    # NGR = GGR (bets − wins) minus the deductions switched on, minus the admin fee percent.
    deduct_bonuses = models.BooleanField(default=True)
    deduct_chargebacks = models.BooleanField(default=True)
    deduct_payment_system_fees = models.BooleanField(default=True)
    deduct_game_provider_fees = models.BooleanField(default=True)
    deduct_jackpot_fees = models.BooleanField(default=True)
    deduct_additional_deductions = models.BooleanField(default=True)
    deduct_taxes = models.BooleanField(default=True)
    admin_fee_percent = models.DecimalField(default=0, **PERCENT)
    negative_carryover = models.BooleanField(
        default=False, help_text="A negative period NGR is carried into the next periods' NGR."
    )

    class Meta:
        ordering = ["brand", "name"]

    def __str__(self):
        return f"{self.name} ({self.brand}, {self.currency})"

    @property
    def has_cpa(self) -> bool:
        return self.kind in (self.Kind.CPA, self.Kind.HYBRID)

    @property
    def has_revshare(self) -> bool:
        return self.kind in (self.Kind.REVSHARE, self.Kind.HYBRID)


class RevShareTier(models.Model):
    """From `threshold` (period NGR, or period FTD count) upward, `percent` applies."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="tiers")
    threshold = money_field(default=0)
    percent = models.DecimalField(**PERCENT)

    class Meta:
        ordering = ["plan", "threshold"]
        constraints = [models.UniqueConstraint(fields=["plan", "threshold"], name="billing_tier_unique")]

    def __str__(self):
        return f"from {self.threshold}: {self.percent}%"


class SubAffiliateLevel(models.Model):
    """Parent affiliates earn `percent` of their level-N sub-affiliates' income under this plan."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="sub_affiliate_levels")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    percent = models.DecimalField(**PERCENT)

    class Meta:
        ordering = ["plan", "level"]
        constraints = [models.UniqueConstraint(fields=["plan", "level"], name="billing_sub_level_unique")]

    def __str__(self):
        return f"level {self.level}: {self.percent}%"
