"""The ledger: append-only balance transactions; a balance is their sum per currency."""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field


class BalanceTransaction(models.Model):
    """One money movement on an affiliate's balance. Never updated or deleted."""

    class Kind(models.TextChoices):
        BILL = "bill", "Bill"
        BALANCE_CORRECTION = "balance_correction", "Balance correction"
        CASHOUT = "cashout", "Payment: cashout"
        CASHOUT_CANCEL = "cashout_cancel", "Payment: cashout cancelled"
        REFUND = "refund", "Payment: refund"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.PROTECT, related_name="balance_transactions")
    currency = currency_field()
    amount = money_field(crypto=True, help_text="Positive adds to the balance, negative subtracts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    bill = models.ForeignKey("billing.Bill", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cashout = models.ForeignKey("billing.Cashout", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=200, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey("partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Makes a posting idempotent: e.g. "bill:42", "cashout:7", "cashout_cancel:7".
    idempotency_key = models.CharField(max_length=100, unique=True)
    balance_after = money_field(crypto=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "currency", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+} {self.currency}"


class Balance(models.Model):
    """The cached sum of an affiliate's transactions in one currency, updated in the same
    transaction as each posting under a row lock. The CHECK makes an overdraft impossible
    even for a write that forgot the lock."""

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.PROTECT, related_name="balances")
    currency = currency_field()
    amount = money_field(crypto=True, default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["affiliate", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "currency"], name="billing_one_balance_per_currency"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="billing_balance_never_negative"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"
