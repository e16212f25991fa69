"""Billing runs, bills with their lines and corrections, and CPA qualifications."""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field
from billing.models.plans import CommissionPlan


class BillingRun(models.Model):
    """Closing one period of one plan. `processing` stays visible if a run crashes; the next
    run of the same period resumes it (bills already issued are kept, never duplicated)."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, related_name="billing_runs")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    bills_issued = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_start", "plan"]
        constraints = [models.UniqueConstraint(fields=["plan", "period_start"], name="billing_one_run_per_period")]

    def __str__(self):
        return f"{self.plan} {self.period_start}–{self.period_end} ({self.status})"


class Bill(models.Model):
    """What one affiliate earned under one plan in one period."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On hold"
        APPROVED = "approved", "Approved"
        CANCELLED = "cancelled", "Cancelled"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.PROTECT, related_name="bills")
    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, related_name="bills")
    brand = models.ForeignKey("campaigns.Brand", on_delete=models.PROTECT, related_name="bills")
    run = models.ForeignKey(BillingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="bills")
    currency = currency_field()
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    issued_amount = money_field(default=0, help_text="As computed by the billing run")
    cpa_amount = money_field(default=0)
    revshare_amount = money_field(default=0)
    sub_affiliate_amount = money_field(default=0)
    ngr = money_field(default=0, help_text="Period NGR before carryover")
    carryover_in = money_field(default=0, help_text="Negative NGR carried in from earlier periods (≤ 0)")
    carryover_out = money_field(default=0, help_text="Negative NGR carried to the next period (≤ 0)")
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey("partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "plan", "period_start"], name="billing_one_bill_per_period"),
        ]
        indexes = [models.Index(fields=["affiliate", "-period_start"])]

    def __str__(self):
        return f"bill #{self.pk} {self.affiliate_id} {self.period_start}–{self.period_end}"


class BillLine(models.Model):
    """A bill's amount for one campaign (or the sub-affiliate income line)."""

    class Kind(models.TextChoices):
        CPA = "cpa", "CPA"
        REVSHARE = "revshare", "RevShare"
        SUB_AFFILIATE = "sub_affiliate", "Sub-affiliate income"

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sub_affiliate = models.ForeignKey("partners.Affiliate", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    base = money_field(default=0, help_text="NGR, qualified players' CPA total, or the sub-affiliate's income")
    rate = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    players_count = models.PositiveIntegerField(default=0)
    amount = money_field(default=0)

    class Meta:
        ordering = ["bill", "kind", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.amount}"


class BillPlayerLine(models.Model):
    """Per-player breakdown of a bill."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="player_lines")
    player = models.ForeignKey("campaigns.Player", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ngr = money_field(default=0)
    cpa_amount = money_field(default=0)
    revshare_amount = money_field(default=0)

    class Meta:
        ordering = ["bill", "player"]
        constraints = [models.UniqueConstraint(fields=["bill", "player"], name="billing_one_line_per_player")]

    def __str__(self):
        return f"player {self.player_id}: {self.cpa_amount} + {self.revshare_amount}"


class BillCorrection(models.Model):
    """A manager's adjustment of a bill (signed amount) with the reason."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="corrections")
    amount = money_field(help_text="Positive adds, negative subtracts")
    comment = models.CharField(max_length=500)
    actor = models.ForeignKey("partners.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bill", "created_at"]

    def __str__(self):
        return f"{self.amount:+} ({self.comment[:40]})"


class Qualification(models.Model):
    """A player met the plan's CPA criteria: once, ever, per plan."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, related_name="qualifications")
    player = models.ForeignKey("campaigns.Player", on_delete=models.PROTECT, related_name="qualifications")
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.PROTECT, related_name="+")
    qualified_at = models.DateTimeField()
    payable_from = models.DateField(help_text="qualified date + hold days")
    amount = money_field()
    bill = models.ForeignKey(Bill, null=True, blank=True, on_delete=models.SET_NULL, related_name="qualifications")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "player"], name="billing_qualifies_once_per_plan")]

    def __str__(self):
        return f"player {self.player_id} qualified for {self.plan_id}"
