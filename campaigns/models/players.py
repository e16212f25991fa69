"""Visits, players, their activity windows and deposits, and the domain events they raise."""
import uuid

from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field
from campaigns.models.program import Brand
from campaigns.models.promos import Campaign, Promo


class Visit(models.Model):
    """A click on a tracking link. Its tag `<affiliate id>_<visit id>` goes to the landing."""

    promo = models.ForeignKey(Promo, on_delete=models.CASCADE, related_name="visits")
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="visits")
    created_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    referrer = models.CharField(max_length=1000, blank=True)
    # Every query parameter of the click (custom parameters feed postback variables and
    # dynamic_tag_<param> report groupers), length-limited.
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["promo", "created_at"]),
            models.Index(fields=["affiliate", "created_at"]),
        ]

    def __str__(self):
        return self.tag

    @property
    def tag(self) -> str:
        return f"{self.affiliate_id}_{self.pk}"


class Player(models.Model):
    """A player of a brand, as the operator's platform reports it, attributed to a visit.

    Only what commissions and reports need is kept: no e-mail, name or birth date (the
    ingestion API accepts and drops them). A player without a known tag is organic
    (affiliate is null) and is kept all the same.
    """

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="players")
    user_id = models.CharField("operator's player id", max_length=64)
    tag = models.CharField(max_length=64, blank=True)
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="players")
    promo = models.ForeignKey(Promo, null=True, blank=True, on_delete=models.SET_NULL, related_name="players")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="players")
    affiliate = models.ForeignKey("partners.Affiliate", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="players")
    country = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=8, blank=True)
    sign_up_at = models.DateTimeField()
    first_deposit_at = models.DateTimeField(null=True, blank=True)
    is_disabled = models.BooleanField(default=False)
    is_duplicate = models.BooleanField(default=False)
    is_self_excluded = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "user_id"], name="campaigns_player_unique_per_brand")]
        indexes = [
            models.Index(fields=["affiliate", "sign_up_at"]),
            models.Index(fields=["tag"]),
            models.Index(fields=["updated_at"]),  # the stats watermark pass (reports)
        ]

    def __str__(self):
        return f"player {self.user_id} of {self.brand}"


class PlayerActivity(models.Model):
    """A player's totals over one reporting window (from, to) in one currency.

    Amount columns carry 8 decimal places because a brand may run in a crypto currency;
    fiat values simply have zeros there (backoffice.money.quantize formats per currency).

    Re-posting the same window replaces the row (idempotent); amounts arrive in minor units
    and are stored as exact Decimals.
    """

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="activities")
    currency = currency_field()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    bets_sum = money_field(crypto=True, default=0)
    wins_sum = money_field(crypto=True, default=0)
    wager_sum = money_field(crypto=True, default=0)
    rounds_count = models.PositiveIntegerField(default=0)
    bonus_issues_sum = money_field(crypto=True, default=0)
    additional_deductions_sum = money_field(crypto=True, default=0)
    chargebacks_sum = money_field(crypto=True, default=0)
    chargebacks_count = models.PositiveIntegerField(default=0)
    deposits_sum = money_field(crypto=True, default=0)
    deposits_count = models.PositiveIntegerField(default=0)
    cashouts_sum = money_field(crypto=True, default=0)
    cashouts_count = models.PositiveIntegerField(default=0)
    game_provider_fees_sum = money_field(crypto=True, default=0)
    payment_system_fees_sum = money_field(crypto=True, default=0)
    jackpot_fees_sum = money_field(crypto=True, default=0)
    # Sportsbook (sb_*_cents) and any other *_cents the platform sends: name -> Decimal string.
    extra = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "player activities"
        constraints = [
            models.UniqueConstraint(
                fields=["player", "currency", "period_start", "period_end"],
                name="campaigns_activity_window_unique",
            ),
            models.CheckConstraint(condition=models.Q(period_end__gt=models.F("period_start")),
                                   name="campaigns_activity_window_ordered"),
        ]
        indexes = [
            models.Index(fields=["period_start"]),
            models.Index(fields=["updated_at"]),  # the stats watermark pass (reports)
        ]

    def __str__(self):
        return f"activity of {self.player_id} {self.period_start:%Y-%m-%d %H:%M}–{self.period_end:%H:%M} {self.currency}"


class Deposit(models.Model):
    """One deposit, unique per brand by the operator's deposit_id; the first is the FTD."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="deposits")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="deposits")
    deposit_id = models.CharField(max_length=64)
    amount = money_field(crypto=True)
    currency = currency_field()
    processed_at = models.DateTimeField()
    is_first = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "deposit_id"], name="campaigns_deposit_unique_per_brand"),
            models.UniqueConstraint(fields=["player"], condition=models.Q(is_first=True),
                                    name="campaigns_one_first_deposit_per_player"),
        ]
        indexes = [models.Index(fields=["player", "processed_at"])]

    def __str__(self):
        return f"deposit {self.deposit_id}: {self.amount} {self.currency}"


class PlayerEvent(models.Model):
    """A domain event about a player (registration, first deposit, deposit, qualification).

    Raised once per `key` (idempotent), in the same transaction that stores its cause;
    postbacks are queued from it in that transaction (the outbox).
    """

    class Type(models.TextChoices):
        REGISTRATION = "registration", "Registration"
        FIRST_DEPOSIT = "first_deposit", "First deposit"
        DEPOSIT = "deposit", "Deposit"
        QUALIFICATION = "qualification", "Qualification"

    key = models.CharField(max_length=100, unique=True, help_text="e.g. registration:<player id>")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                                 help_text="event_id sent with postbacks; stable across retries")
    type = models.CharField(max_length=20, choices=Type.choices, db_index=True)
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="events")
    affiliate = models.ForeignKey("partners.Affiliate", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="player_events")
    promo = models.ForeignKey(Promo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deposit = models.ForeignKey(Deposit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount = money_field(crypto=True, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "type", "occurred_at"])]

    def __str__(self):
        return f"{self.type} of {self.player_id}"


class SyncedVisits(models.Model):
    """Visits of a promo over a window, counted elsewhere (the operator's own tracker) and
    posted to /api/v1/synced_visits_data. Re-posting the same window replaces the count."""

    promo = models.ForeignKey(Promo, on_delete=models.CASCADE, related_name="synced_visits")
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="synced_visits")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    visits_count = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "synced visits"
        constraints = [
            models.UniqueConstraint(fields=["promo", "period_start", "period_end"],
                                    name="campaigns_synced_visits_window_unique"),
            models.CheckConstraint(condition=models.Q(period_end__gt=models.F("period_start")),
                                   name="campaigns_synced_visits_window_ordered"),
        ]
        indexes = [models.Index(fields=["affiliate", "period_start"])]

    def __str__(self):
        return f"{self.visits_count} visits of promo {self.promo_id} from {self.period_start:%Y-%m-%d %H:%M}"
