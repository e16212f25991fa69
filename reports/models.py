"""READ SIDE models: daily stats rollups and exchange rates."""
from django.db import models
from django.utils import timezone

from backoffice.money import currency_field, money_field


class StatCounters(models.Model):
    """The dimensions and counters a stats rollup row carries (DailyStat, MonthlyStat).

    Dimensions are denormalised (affiliate, brand, campaign, plan) so a report groups without
    joins. Counts of the cell (currency rows other than the brand's carry visits only on one
    row: visits and registrations are counted in the brand's base currency row). The income
    counters are accruals of the promo's commission plan (reports.income), in the plan's
    currency row; bills stay authoritative.
    """

    promo = models.ForeignKey("campaigns.Promo", on_delete=models.CASCADE, related_name="+")
    currency = currency_field()
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey("campaigns.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey("billing.CommissionPlan", on_delete=models.CASCADE, related_name="+")

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
    # Commission accrued (reports.income): the plan's admin fee on the cell's NGR, RevShare on
    # the NGR after the fee, CPA amounts of the players qualified that day.
    admin_fee_sum = money_field(crypto=True, default=0)
    revshare_income_sum = money_field(crypto=True, default=0)
    cpa_income_sum = money_field(crypto=True, default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class DailyStat(StatCounters):
    """One day × promo × currency of an affiliate's traffic and players' activity.

    Kept current from the raw data (visits, players, activity windows, deposits, events) as it
    arrives, and rebuildable from it at any time (manage.py rebuild_stats): the raw tables are
    the truth, this table is what reports read. Days are in the program time zone.
    """

    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "promo", "currency"], name="reports_one_stat_per_day_promo_currency"),
        ]
        indexes = [
            models.Index(fields=["affiliate", "date"]),
            models.Index(fields=["affiliate", "campaign", "date"]),
            # The engine's freshness check of MonthlyStat (newest daily row of an affiliate).
            models.Index(fields=["affiliate", "updated_at"], name="reports_dai_aff_updated_idx"),
        ]

    def __str__(self):
        return f"{self.date} promo {self.promo_id} {self.currency}"


class MonthlyStat(StatCounters):
    """The sum of a month's DailyStat rows of one promo × currency (`date` is the 1st).

    Written by the same code that writes DailyStat (reports.rollups), in the same transaction,
    so reports over whole months (grouped by month, year, brand, campaign, promo, plan or not
    at all) read ~30 times fewer rows. `updated_at` is when the row was last summed: the engine
    reads this table only while no DailyStat row of the affiliate is newer (a DailyStat row
    written some other way, e.g. by hand, sends reports back to the daily rows).
    """

    date = models.DateField(help_text="The first day of the month.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "promo", "currency"], name="reports_one_stat_per_month_promo_currency"),
        ]
        indexes = [
            models.Index(fields=["affiliate", "date"], name="reports_mon_aff_date_idx"),
            models.Index(fields=["affiliate", "updated_at"], name="reports_mon_aff_updated_idx"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m} promo {self.promo_id} {self.currency}"


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


class ReportFavorite(models.Model):
    """A saved report configuration (filters, groupers, columns, currency) of one affiliate.

    `params` holds the report's query parameters exactly as the report page and the Report API
    take them (lists as lists), without the dates: the period is either fixed (`date_from`,
    `date_to`) or relative (`relative_period`, resolved against today whenever it is loaded),
    as in the partner manual.
    """

    class Period(models.TextChoices):
        FIXED = "fixed", "Fixed dates"
        TODAY = "today", "Today"
        YESTERDAY = "yesterday", "Yesterday"
        LAST_7_DAYS = "last_7_days", "Last 7 days"
        LAST_30_DAYS = "last_30_days", "Last 30 days"
        THIS_WEEK = "this_week", "This week"
        LAST_WEEK = "last_week", "Last week"
        THIS_MONTH = "this_month", "This month"
        LAST_MONTH = "last_month", "Last month"
        THIS_YEAR = "this_year", "This year"
        LAST_YEAR = "last_year", "Last year"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="report_favorites")
    created_by = models.ForeignKey(
        "partners.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    name = models.CharField(max_length=120)
    params = models.JSONField(default=dict, blank=True)
    period = models.CharField(max_length=20, choices=Period.choices, default=Period.FIXED)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "name"], name="reports_one_favorite_name_per_affiliate"),
            models.CheckConstraint(
                condition=~models.Q(period="fixed") | (models.Q(date_from__isnull=False) & models.Q(date_to__isnull=False)),
                name="reports_fixed_favorite_has_dates",
            ),
        ]

    def __str__(self):
        return self.name


def _requested_report_path(instance, filename):
    return f"requested-reports/{instance.affiliate_id}/{instance.pk or 'new'}/{filename}"


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


class RequestedReport(models.Model):
    """A report built in the background (Celery) and kept as files to download.

    Requested from the report page as a file, or when a report is too large for the page, or
    through the Report API with `async=true`. `params` are the report's query parameters with
    resolved dates. Both files are written when the build succeeds: a zip of two CSV files
    (rows, totals) and one XLSX workbook with two sheets (rows, totals).
    """

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        SUCCESSFUL = "successful", "Successful"

    class Source(models.TextChoices):
        PORTAL = "portal", "Report page"
        API = "api", "Report API"
        FAVORITE = "favorite", "Favorite"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="requested_reports")
    requested_by = models.ForeignKey(
        "partners.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    name = models.CharField(max_length=120, blank=True)
    params = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PORTAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    error = models.TextField(blank=True)
    rows_count = models.PositiveIntegerField(null=True, blank=True)
    csv_zip = models.FileField(upload_to=_requested_report_path, storage=_private_storage, max_length=255, blank=True)
    xlsx = models.FileField(upload_to=_requested_report_path, storage=_private_storage, max_length=255, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["affiliate", "-requested_at"])]

    def __str__(self):
        return self.name or f"Requested report {self.pk}"
