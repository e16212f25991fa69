"""Program setup: brands and their contacts, operator credentials, traffic sources, landings,
media (banners)."""
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


class TrafficSource(models.Model):
    """A channel an affiliate declares for a tracking link (SEO, social, e-mail, paid ...)."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Landing(models.Model):
    """A page of a brand that tracking links send visitors to."""

    class Audience(models.TextChoices):
        PLAYERS = "players", "Players"
        SUB_AFFILIATES = "sub_affiliates", "Sub-affiliates"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="landings")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.PLAYERS)
    language = models.CharField(max_length=8, default="en", help_text="ISO 639-1 code, e.g. en, de")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["brand", "audience", "name"]

    def __str__(self):
        return f"{self.brand}: {self.name}"


def _media_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"media/{instance.brand_id}/{secrets.token_hex(8)}.{ext}"


class Media(models.Model):
    """A banner (creative) affiliates can attach to a promo."""

    class Privacy(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private (named affiliates only)"

    class Orientation(models.TextChoices):
        HORIZONTAL = "horizontal", "Horizontal"
        VERTICAL = "vertical", "Vertical"
        SQUARE = "square", "Square"

    class Format(models.TextChoices):
        PNG = "png", "PNG"
        JPG = "jpg", "JPG"
        GIF = "gif", "GIF"
        WEBP = "webp", "WebP"
        # No SVG: an SVG can carry script, and banners are served from our own origin.

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="media")
    title = models.CharField(max_length=150)
    language = models.CharField(max_length=8, default="en")
    file_format = models.CharField(max_length=5, choices=Format.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    orientation = models.CharField(max_length=10, choices=Orientation.choices)
    tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated, e.g. slots, welcome bonus")
    privacy = models.CharField(max_length=10, choices=Privacy.choices, default=Privacy.PUBLIC)
    affiliates = models.ManyToManyField(
        "partners.Affiliate", blank=True, related_name="private_media",
        help_text="For private media: the affiliates who may use it.",
    )
    file = models.FileField(upload_to=_media_path, max_length=255)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["brand", "title"]
        verbose_name = "media (banner)"
        verbose_name_plural = "media (banners)"

    def __str__(self):
        return f"{self.title} ({self.resolution})"

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]
