"""Brands and what the operator's platform needs to talk to us (operator credentials)."""
import secrets

from django.db import models
from django.utils import timezone

from backoffice import crypto
from backoffice.money import currency_field


class Brand(models.Model):
    """A casino (or any merchant site) the program promotes. Bills are in its base currency."""

    name = models.CharField(max_length=100, unique=True)
    base_currency = currency_field()
    site_url = models.URLField(max_length=300)
    tracking_host = models.CharField(
        max_length=253, blank=True,
        help_text="Host name tracking links are served on, e.g. go.example-casino.com.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class BrandContact(models.Model):
    """A way to reach the program team of a brand, listed on /partner/contacts."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        TELEGRAM = "telegram", "Telegram"
        SKYPE = "skype", "Skype"
        WHATSAPP = "whatsapp", "WhatsApp"
        WEBSITE = "website", "Website"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200)
    label = models.CharField(max_length=100, blank=True, help_text="e.g. Affiliate support, Payments")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["brand", "position", "pk"]

    def __str__(self):
        return f"{self.brand}: {self.get_kind_display()} {self.value}"


def _new_operator_key() -> str:
    return secrets.token_hex(16)


class OperatorCredential(models.Model):
    """Key + secret with which a brand's platform signs ingestion API calls (HMAC-SHA512).

    The secret is needed in clear to verify signatures, so it is stored encrypted
    (backoffice.crypto), never hashed.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="operator_credentials")
    name = models.CharField(max_length=100, default="Platform")
    key = models.CharField(max_length=64, unique=True, default=_new_operator_key)
    secret_encrypted = models.TextField(editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand", "pk"]

    def __str__(self):
        return f"{self.brand} / {self.name} ({self.key[:8]}…)"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret)
