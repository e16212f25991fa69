"""READ SIDE models: daily stats rollups and exchange rates."""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field


class DailyStat(models.Model):
    """One day × promo × currency of an affiliate's traffic and players' activity.

    Kept current from the raw data (visits, players, activity windows, deposits, events) as it
    arrives, and rebuildable from it at any time (manage.py rebuild_stats): the raw tables are
    the truth, this table is what reports read. Dimensions are denormalised (affiliate, brand,
    campaign, plan) so a report groups without joins. Days are in the program time zone.
    """

    date = models.DateField()
    promo = models.ForeignKey("campaigns.Promo", on_delete=models.CASCADE, related_name="+")
    currency = currency_field()
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey("campaigns.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey("billing.CommissionPlan", on_delete=models.CASCADE, related_name="+")

    # Counts of the day (currency rows other than the brand's carry visits only on one row:
    # visits and registrations are counted in the brand's base currency row).
    visits_count = models.PositiveIntegerField(default=0)
    registrations_count = models.PositiveIntegerField(default=0)
    first_deposits_count = models.PositiveIntegerField(default=0)
    first_deposits_sum = money_field(crypto=True, default=0)
    deposits_count = models.PositiveIntegerField(default=0)
    deposits_sum = money_field(crypto=True, default=0)
    cashouts_count = models.PositiveIntegerField(default=0)
    cashouts_sum = money_field(crypto=True, default=0)
    bets_count = models.PositiveIntegerField(default=0)
    bets_sum = money_field(crypto=True, default=0)
    wins_sum = money_field(crypto=True, default=0)
    wager_sum = money_field(crypto=True, default=0)
    bonus_issues_sum = money_field(crypto=True, default=0)
    additional_deductions_sum = money_field(crypto=True, default=0)
    chargebacks_count = models.PositiveIntegerField(default=0)
    chargebacks_sum = money_field(crypto=True, default=0)
    payment_system_fees_sum = money_field(crypto=True, default=0)
    game_provider_fees_sum = money_field(crypto=True, default=0)
    jackpot_fees_sum = money_field(crypto=True, default=0)
    taxes_sum = money_field(crypto=True, default=0)
    depositing_players_count = models.PositiveIntegerField(default=0)
    active_players_count = models.PositiveIntegerField(default=0)
    qualified_players_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "promo", "currency"], name="reports_one_stat_per_day_promo_currency"),
        ]
        indexes = [
            models.Index(fields=["affiliate", "date"]),
            models.Index(fields=["affiliate", "campaign", "date"]),
        ]

    def __str__(self):
        return f"{self.date} promo {self.promo_id} {self.currency}"


class ExchangeRate(models.Model):
    """1 unit of `base` is worth `rate` units of `quote` on `date` (imported from a CSV)."""

    date = models.DateField()
    base = currency_field()
    quote = currency_field()
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "base", "quote"]
        constraints = [
            models.UniqueConstraint(fields=["date", "base", "quote"], name="reports_one_rate_per_day_pair"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="reports_rate_positive"),
        ]

    def __str__(self):
        return f"{self.date}: 1 {self.base} = {self.rate} {self.quote}"
