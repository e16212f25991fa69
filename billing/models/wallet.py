"""The wallet: payment methods, cashout limits per payment system, cashouts, schedules."""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field


class PaymentMethodType(models.TextChoices):
    COINSPAID = "coinspaid", "Coinspaid"
    NETELLER = "neteller", "Neteller"
    SKRILL = "skrill", "Skrill"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CAPITALIST = "capitalist", "Capitalist"
    PLAYER_ACCOUNT = "player_account", "Player account"
    WEBMONEY = "webmoney", "Webmoney"
    OTHER = "other", "Other"


class PaymentMethod(models.Model):
    """Where an affiliate is paid: one per type. Details are stored encrypted; `masked` is what
    pages show."""

    Type = PaymentMethodType

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="payment_methods")
    type = models.CharField(max_length=20, choices=PaymentMethodType.choices)
    details_encrypted = models.TextField(editable=False)
    masked = models.JSONField(default=dict, editable=False, help_text="field label -> masked value")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["affiliate", "type"]
        constraints = [models.UniqueConstraint(fields=["affiliate", "type"], name="billing_one_method_per_type")]

    def __str__(self):
        return self.get_type_display()


class CashoutLimit(models.Model):
    """Managers' minimum and maximum for one cashout, per payment system and currency."""

    method_type = models.CharField(max_length=20, choices=PaymentMethodType.choices)
    currency = currency_field()
    min_amount = money_field(crypto=True)
    max_amount = money_field(crypto=True)

    class Meta:
        ordering = ["method_type", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["method_type", "currency"], name="billing_one_limit_per_type_currency"),
            models.CheckConstraint(condition=models.Q(max_amount__gte=models.F("min_amount")),
                                   name="billing_limit_max_not_below_min"),
        ]

    def __str__(self):
        return f"{self.get_method_type_display()} {self.currency}: {self.min_amount}–{self.max_amount}"


class Cashout(models.Model):
    """A withdrawal: debits the balance when requested; cancel returns it; success closes it;
    refund (after success) returns it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Success"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.PROTECT, related_name="cashouts")
    currency = currency_field()
    amount = money_field(crypto=True)
    payment_method = models.ForeignKey(PaymentMethod, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="cashouts")
    # Snapshot: the cashout keeps what it was paid to, even if the method is deleted later.
    payment_method_type = models.CharField(max_length=20, choices=PaymentMethodType.choices)
    payment_details_masked = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey("partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    processed_by = models.ForeignKey("partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # One cashout per submitted form (or schedule run), however often it is sent.
    idempotency_key = models.CharField(max_length=100, unique=True)
    schedule = models.ForeignKey("billing.CashoutSchedule", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="cashouts")
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "-created_at"])]

    def __str__(self):
        return f"cashout #{self.pk} {self.amount} {self.currency} ({self.status})"


class CashoutSchedule(models.Model):
    """Automatic cashouts of the available balance on chosen days."""

    class Plan(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "On weekdays"
        MONTHLY = "monthly", "Monthly (1st)"
        DATES = "dates", "On dates of the month"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="cashout_schedules")
    payment_method = models.ForeignKey(PaymentMethod, on_delete=models.CASCADE, related_name="schedules")
    currency = currency_field()
    min_amount = money_field(crypto=True)
    max_amount = money_field(crypto=True)
    plan = models.CharField(max_length=10, choices=Plan.choices)
    weekdays = models.JSONField(default=list, blank=True, help_text="0 = Monday … 6 = Sunday")
    month_days = models.JSONField(default=list, blank=True, help_text="1–31; a day a month lacks runs on its last day")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["affiliate", "currency", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(max_amount__gte=models.F("min_amount")),
                                   name="billing_schedule_max_not_below_min"),
        ]

    def __str__(self):
        return f"{self.get_plan_display()} {self.currency} schedule #{self.pk}"


class CashoutScheduleRun(models.Model):
    """One run of a schedule on one date: unique, so running the job twice is harmless."""

    schedule = models.ForeignKey(CashoutSchedule, on_delete=models.CASCADE, related_name="runs")
    run_date = models.DateField()
    cashout = models.ForeignKey(Cashout, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    result = models.CharField(max_length=200, help_text="What happened, e.g. 'cashout 12 created' or 'balance below minimum'")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-run_date"]
        constraints = [models.UniqueConstraint(fields=["schedule", "run_date"], name="billing_one_run_per_schedule_date")]

    def __str__(self):
        return f"{self.schedule_id} on {self.run_date}: {self.result}"
