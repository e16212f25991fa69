"""Affelios tables: what we pushed to Affelios and what it computed (see connector.py).

We are the operator: Affelios tracks the affiliates, we report our players (customers) and
their money (transactions) to it. One AffeliosCustomer per (connection, player) and one
AffeliosTransaction per (connection, external id) record each push — the Affelios id, the
status, the error of a refused item — so a replayed run sends nothing twice and a refused item
is not sent again by itself (`sync_integrations --since` re-drives failed items).
"""
from django.db import models
from django.utils import timezone

from backoffice.money import money_field


class PushStatus(models.TextChoices):
    PUSHED = "pushed", "Pushed"
    FAILED = "failed", "Failed (refused by Affelios)"


class AffeliosCustomer(models.Model):
    """One of our players as an Affelios customer (externalId = our player id)."""

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE,
                                   related_name="affelios_customers")
    player = models.ForeignKey("campaigns.Player", on_delete=models.CASCADE, related_name="affelios_customers")
    external_id = models.CharField(max_length=64, help_text="externalId sent: our player id.")
    external_brand_id = models.CharField(max_length=120)
    click_key = models.CharField(max_length=256, blank=True)
    affelios_id = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Affelios's id of the customer (empty if it answered 409 and the id could not be found).",
    )
    status = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.PUSHED)
    error = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField(default=timezone.now)
    last_transaction_at = models.DateTimeField(
        null=True, blank=True, help_text="When transactions of this customer were last pushed (read-back is due after).",
    )
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="Last read-back of Affelios's figures.")
    # What Affelios computed, from the last read-back (null: not read yet / not in the answer).
    has_deposited = models.BooleanField(null=True, blank=True)
    ftd_date = models.DateTimeField(null=True, blank=True)
    first_deposit_amount = money_field(crypto=True, null=True, blank=True)
    lifetime_deposits = money_field(crypto=True, null=True, blank=True)
    lifetime_revenue = money_field(crypto=True, null=True, blank=True)
    lifetime_commission = money_field(crypto=True, null=True, blank=True)
    cpa_qualified = models.BooleanField(null=True, blank=True)
    cpa_qualification_date = models.DateTimeField(null=True, blank=True)
    affiliate_ref = models.CharField("Affelios affiliate", max_length=200, blank=True,
                                     help_text="tracking.affiliateName (affiliateId) as Affelios attributed it.")
    raw = models.JSONField(null=True, blank=True, help_text="The last customer object read (its transactions left out).")

    class Meta:
        ordering = ["-pushed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "player"], name="affelios_one_customer_per_player"),
        ]
        indexes = [models.Index(fields=["connection", "status", "refreshed_at"])]

    def __str__(self):
        return f"customer {self.external_id} ({self.affelios_id or self.get_status_display()})"


class AffeliosTransaction(models.Model):
    """One transaction pushed through the bulk endpoint.

    A deposit is one transaction `dep-<deposit id>`; an activity window is `act-<activity id>`
    (GGR and wagered amount). A window the operator re-posts with other sums is sent again as
    the difference, `act-<id>-r<n>`: Affelios adds transactions up, so it ends with the right
    totals and never sees one externalId twice. The amounts sent are kept for that difference.
    """

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        REVENUE = "revenue", "Revenue (activity window)"

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE,
                                   related_name="affelios_transactions")
    customer = models.ForeignKey(AffeliosCustomer, on_delete=models.CASCADE, related_name="transactions")
    external_id = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    deposit = models.ForeignKey("campaigns.Deposit", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    activity = models.ForeignKey("campaigns.PlayerActivity", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    revision = models.PositiveIntegerField(default=0)
    source_updated_at = models.DateTimeField(null=True, blank=True,
                                             help_text="The activity window's updated_at when it was sent.")
    transaction_date = models.DateTimeField()
    currency = models.CharField(max_length=3)
    deposit_amount = money_field(crypto=True, default=0)
    gross_revenue = money_field(crypto=True, default=0)
    wagered_amount = money_field(crypto=True, default=0)
    status = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.PUSHED)
    error = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pushed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="affelios_one_transaction_per_external_id"),
        ]
        # The anti-joins of selectors.py probe by source row first; with only single-column
        # indexes SQLite may pick the connection's (every row matches) and go quadratic.
        indexes = [
            models.Index(fields=["deposit", "connection"], name="affelios_tx_by_deposit"),
            models.Index(fields=["activity", "connection"], name="affelios_tx_by_activity"),
        ]

    def __str__(self):
        return f"transaction {self.external_id} ({self.get_status_display()})"
