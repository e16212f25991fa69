"""Connections to affiliate networks and the record of every sync run.

The network-specific tables (Affilae partnerships and commissions, Affelios customers and
transactions, Affili referrals and conversions) live in the sub-apps integrations.affilae,
integrations.affelios and integrations.affili; this module holds what every network shares.
"""
import datetime as dt

from django.db import models
from django.utils import timezone

from backoffice import crypto


class Network(models.TextChoices):
    AFFILAE = "affilae", "Affilae"
    AFFELIOS = "affelios", "Affelios"
    AFFILI = "affili", "Affili"


class Connection(models.Model):
    """One account at one network, with its credentials (encrypted at rest) and schedule.

    `options` holds the network's settings (Affilae: money currency, look-back days; Affelios:
    click-key parameter; Affili: referrer parameter, commission name ...); each connector
    documents its keys and defaults. `brand_mapping` maps our brand id (a string key) to the
    network's brand id. `cursors` holds, per sync kind, where the next run continues: it is
    written in the same transaction as the rows of each page, so an interrupted run resumes
    exactly where its last committed page ended.
    """

    network = models.CharField(max_length=20, choices=Network.choices)
    name = models.CharField(max_length=120)
    secret_encrypted = models.TextField(blank=True, editable=False)
    base_url = models.URLField(
        blank=True, help_text="Leave empty for the network's documented address; set it when the docs disagree "
                              "or to point at a sandbox.",
    )
    enabled = models.BooleanField(default=True)
    sync_interval_minutes = models.PositiveIntegerField(
        default=60, help_text="How often the scheduler runs this connection's sync (0: only on demand).",
    )
    options = models.JSONField(default=dict, blank=True)
    brand_mapping = models.JSONField(
        default=dict, blank=True, help_text='Our brand id → the network\'s brand id, e.g. {"1": "brand-uk"}.',
    )
    cursors = models.JSONField(default=dict, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The run lock: a connection is syncing while lock_expires_at is in the future.
    lock_token = models.CharField(max_length=36, blank=True, editable=False)
    lock_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["network", "name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="integrations_one_connection_name_per_network"),
        ]

    def __str__(self):
        return f"{self.get_network_display()}: {self.name}"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value) if value else ""

    def option(self, key: str, default=None):
        value = (self.options or {}).get(key)
        return default if value in (None, "") else value

    @property
    def is_due(self) -> bool:
        return self.enabled and self.sync_interval_minutes > 0 and (
            self.next_sync_at is None or self.next_sync_at <= timezone.now()
        )

    def schedule_next(self, *, after: dt.datetime | None = None) -> None:
        if self.sync_interval_minutes:
            self.next_sync_at = (after or timezone.now()) + dt.timedelta(minutes=self.sync_interval_minutes)


class SyncRun(models.Model):
    """One execution of one kind of sync (e.g. Affilae commissions) for one connection."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial (some items failed)"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin (Sync now)"
        COMMAND = "command", "Command"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=40)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    since = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cursor = models.JSONField(default=dict, blank=True, help_text="Where this run stood at its last checkpoint.")
    resumed_from = models.JSONField(null=True, blank=True, help_text="The cursor this run started from, if it resumed.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connection", "kind", "-started_at"])]

    def __str__(self):
        return f"{self.connection} {self.kind} #{self.pk}"

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


class SyncItemError(models.Model):
    """One item a run could not take (a per-item 4xx, a row that does not parse ...)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="item_errors")
    external_id = models.CharField(max_length=120, blank=True)
    message = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.external_id or '?'}: {self.message[:60]}"
