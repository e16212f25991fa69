"""Affilae tables, filled by integrations.affilae.connector (read-only everywhere else).

- AffiliateProfile: the publisher's affiliate profiles (a publisher may run several sites).
- PartnershipSnapshot (table `affilae_partnerships_history`): every sync stores each
  partnership of each profile as of the sync's (UTC) date, so a status that changes between
  two syncs leaves one row per date. A second sync on the same date updates that date's row.
- CommissionDay (table `affilae_commissions`): per date and partnership (and so per profile),
  the KPI figures. Commissions and revenue are both in `currency`, the money currency the
  connection asked Affilae for (option `currency`); a row per currency, so changing that option
  adds rows instead of overwriting figures in another currency.
"""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field
from integrations.models import Connection

# Affilae ids are 24-hex (MongoDB ObjectIds); a little slack in case that ever changes.
ID_LENGTH = 64


class AffiliateProfile(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="affilae_profiles")
    profile_id = models.CharField("Affilae profile id", max_length=ID_LENGTH)
    name = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["connection", "name", "profile_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "profile_id"], name="affilae_one_profile_per_connection"),
        ]

    def __str__(self):
        return self.name or self.profile_id


class PartnershipSnapshot(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="affilae_partnerships")
    snapshot_date = models.DateField(help_text="The (UTC) date of the sync that saw the partnership like this.")
    partnership_id = models.CharField("Affilae partnership id", max_length=ID_LENGTH)
    profile = models.ForeignKey(AffiliateProfile, on_delete=models.CASCADE, related_name="partnerships")
    program_id = models.CharField(max_length=ID_LENGTH, blank=True)
    program_name = models.CharField(max_length=200, blank=True)
    program_url = models.CharField(max_length=500, blank=True)
    tracking_id = models.CharField(max_length=120, blank=True)
    # Affilae documents active / pending / blocked / cancelled; anything else is kept as sent.
    status = models.CharField(max_length=40, blank=True)
    advertiser = models.CharField(max_length=200, blank=True)
    group_name = models.CharField("group", max_length=200, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "affilae_partnerships_history"
        verbose_name = "partnership snapshot"
        verbose_name_plural = "partnerships history"
        ordering = ["-snapshot_date", "program_name", "partnership_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "snapshot_date", "partnership_id"],
                                    name="affilae_one_snapshot_per_partnership_and_date"),
        ]
        indexes = [models.Index(fields=["connection", "partnership_id", "-snapshot_date"])]

    def __str__(self):
        return f"{self.program_name or self.partnership_id} on {self.snapshot_date}: {self.status}"


class CommissionDay(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="affilae_commissions")
    date = models.DateField()
    profile = models.ForeignKey(AffiliateProfile, on_delete=models.CASCADE, related_name="commission_days")
    partnership_id = models.CharField("Affilae partnership id", max_length=ID_LENGTH)
    program_id = models.CharField(max_length=ID_LENGTH, blank=True)
    program_name = models.CharField(max_length=200, blank=True)
    clicks = models.PositiveBigIntegerField(default=0)
    impressions = models.PositiveBigIntegerField(default=0)
    conversions = models.PositiveBigIntegerField(default=0)
    commissions = money_field(default=0)
    revenue = money_field(default=0, help_text="Sum of the day's conversion amounts in this currency "
                                               "(refused conversions excluded).")
    currency = currency_field(help_text="The currency of commissions and revenue.")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "affilae_commissions"
        verbose_name = "commission day"
        verbose_name_plural = "commissions"
        ordering = ["-date", "program_name", "partnership_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "date", "partnership_id", "currency"],
                                    name="affilae_one_commission_row_per_day_partnership_currency"),
        ]

    def __str__(self):
        return f"{self.program_name or self.partnership_id} on {self.date}"
