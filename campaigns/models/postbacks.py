"""Postbacks: an affiliate's URL templates, the outbox of deliveries, and the log of attempts."""
from django.db import models
from django.utils import timezone

from campaigns.models.players import PlayerEvent
from campaigns.models.promos import Campaign, Promo


class Postback(models.Model):
    """Calls an affiliate's tracker when a player event of `action` happens in its scope."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "Account (all campaigns)"
        CAMPAIGN = "campaign", "Campaign"
        PROMO = "promo", "Promo"

    class Method(models.TextChoices):
        GET = "GET", "GET"
        POST = "POST", "POST"

    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="postbacks")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="postbacks")
    promo = models.ForeignKey(Promo, null=True, blank=True, on_delete=models.CASCADE, related_name="postbacks")
    action = models.CharField(max_length=20, choices=PlayerEvent.Type.choices)
    url_template = models.CharField("postback URL", max_length=2000)
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.GET)
    # Optional Standard Webhooks signing secret ("whsec_..."), encrypted at rest.
    signing_secret_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "action", "is_active"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="account", campaign__isnull=True, promo__isnull=True)
                    | models.Q(scope="campaign", campaign__isnull=False, promo__isnull=True)
                    | models.Q(scope="promo", promo__isnull=False)
                ),
                name="campaigns_postback_scope_matches_target",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} postback #{self.pk}"


class PostbackDelivery(models.Model):
    """The outbox: one row per (postback, event), written in the event's transaction and
    sent by a worker; retries wait in the database (next_attempt_at), not in the broker."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    postback = models.ForeignKey(Postback, on_delete=models.CASCADE, related_name="deliveries")
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(PlayerEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    is_test = models.BooleanField(default=False)
    url = models.CharField(max_length=4000)
    method = models.CharField(max_length=4, default="GET")
    body = models.TextField(blank=True)
    webhook_id = models.CharField(max_length=64, help_text="Stable across retries (Standard Webhooks webhook-id)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "postback deliveries"
        constraints = [
            models.UniqueConstraint(fields=["postback", "event"], condition=models.Q(event__isnull=False),
                                    name="campaigns_one_delivery_per_postback_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"delivery #{self.pk} ({self.status})"


class PostbackAttempt(models.Model):
    """One HTTP attempt of a delivery: the postbacks log."""

    delivery = models.ForeignKey(PostbackDelivery, on_delete=models.CASCADE, related_name="attempts")
    postback = models.ForeignKey(Postback, on_delete=models.CASCADE, related_name="attempts")
    affiliate = models.ForeignKey("partners.Affiliate", on_delete=models.CASCADE, related_name="+")
    attempted_at = models.DateTimeField(default=timezone.now)
    url = models.CharField(max_length=4000)
    method = models.CharField(max_length=4)
    action = models.CharField(max_length=20, choices=PlayerEvent.Type.choices)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1000, blank=True, help_text="First 1000 characters")
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "-attempted_at"])]

    def __str__(self):
        return f"{self.method} {self.url[:60]} → {self.response_status or self.error[:30]}"
