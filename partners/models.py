"""Affiliate accounts and their users, sessions, documents, the events log, program content."""
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from backoffice.money import CURRENCY_CHOICES, DEFAULT_CURRENCY


class Affiliate(models.Model):
    """A partner account: the business that promotes the program and gets paid."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"

    class Messenger(models.TextChoices):
        NONE = "", "—"
        TELEGRAM = "telegram", "Telegram"
        SKYPE = "skype", "Skype"
        WHATSAPP = "whatsapp", "WhatsApp"
        OTHER = "other", "Other"

    name = models.CharField("name", max_length=150)
    company_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_affiliates",
        limit_choices_to={"is_staff": True},
        help_text="The affiliate manager assigned to this account.",
    )
    # Contacts
    phone = models.CharField(max_length=32, blank=True)
    messenger = models.CharField(max_length=10, choices=Messenger.choices, blank=True)
    messenger_id = models.CharField("messenger handle", max_length=100, blank=True)
    website = models.URLField(max_length=300, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    city = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=300, blank=True)
    # Set at sign-up through a sub-affiliate promo: the tracking tag of that visit. On approval
    # campaigns turns it into partner connections (partners does not import campaigns).
    referral_tag = models.CharField(max_length=64, blank=True, editable=False)
    traffic_description = models.TextField(
        "how you promote", max_length=2000, blank=True,
        help_text="Traffic sources and promotion methods, as told at sign-up.",
    )
    # Preferences
    default_report_currency = models.CharField(
        max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY
    )
    subscribe_news = models.BooleanField("program news", default=True)
    subscribe_payments = models.BooleanField("bills and payments", default=True)
    subscribe_reports = models.BooleanField("requested reports", default=True)
    # Life cycle
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["manager", "status"])]

    def __str__(self):
        return f"{self.name} (#{self.pk})"

    @property
    def owner(self):
        return self.users.filter(role=User.Role.OWNER).order_by("pk").first()


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=self.normalize_email(username))

    def _create(self, email, password, **extra):
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


def _new_session_salt() -> str:
    return secrets.token_hex(16)


class User(AbstractBaseUser, PermissionsMixin):
    """Everybody who signs in: affiliate owners, team members and (with is_staff) managers.

    E-mail is the login, unique regardless of case. A portal user belongs to exactly one
    affiliate, as its owner or as a team member; staff users belong to none.
    """

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Team member"

    email = models.EmailField("e-mail", max_length=254, unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    messenger = models.CharField(max_length=100, blank=True, help_text="e.g. Telegram @handle")
    affiliate = models.ForeignKey(
        Affiliate, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    is_staff = models.BooleanField(
        "manager (staff)", default=False, help_text="Can sign in to the admin (with 2FA)."
    )
    is_active = models.BooleanField(default=True)
    # Blocked by a manager or by the team owner: cannot sign in until unblocked.
    is_blocked = models.BooleanField("blocked", default=False)
    blocked_at = models.DateTimeField(null=True, blank=True)
    # Locked by the system after too many failed sign-ins: unlocked by the e-mailed link.
    failed_login_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    # Part of every session's auth hash: rotating it ends all of the user's sessions
    # without touching the password (see get_session_auth_hash).
    session_salt = models.CharField(max_length=32, default=_new_session_salt, editable=False)
    # Statistic token: stored encrypted (shown back to the user, carried in feed URLs) and as
    # a SHA-256 digest (indexed lookup for the Report API). See partners/services/tokens.py.
    statistic_token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    statistic_token_encrypted = models.TextField(blank=True, editable=False)
    statistic_token_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="partners_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(affiliate__isnull=True, role="")
                | (models.Q(affiliate__isnull=False) & ~models.Q(role="")),
                name="partners_user_role_iff_affiliate",
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = User.objects.normalize_email(self.email)

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self):
        return self.first_name or self.email

    def get_session_auth_hash(self):
        # Django's default hashes the password, so a password change silently ends every
        # session. We hash a separate salt instead: the password form offers to end the
        # other sessions (and blocking always does) by rotating session_salt.
        return salted_hmac(
            "partners.User.get_session_auth_hash",
            self.session_salt,
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_portal_user(self) -> bool:
        return self.affiliate_id is not None


class UserSession(models.Model):
    """One signed-in browser session of a user, listed on the profile and terminable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="portal_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [models.Index(fields=["user", "-last_activity_at"])]

    def __str__(self):
        return f"session of {self.user} from {self.ip or '?'}"


class Event(models.Model):
    """The events log: what happened to an affiliate account, by whom. Append-only."""

    class Type(models.TextChoices):
        BILL_APPROVED = "bill_approved", "bill approved"
        CASHOUT_REQUESTED = "cashout_requested", "cashout requested"
        CASHOUT_CANCELLED = "cashout_cancelled", "cashout cancelled"
        CASHOUT_ACCEPTED = "cashout_accepted", "cashout accepted"
        REFUND_MADE = "refund_made", "refund made"
        PAYMENT_METHOD_ADDED = "payment_method_added", "payment method added"
        PAYMENT_METHOD_DELETED = "payment_method_deleted", "payment method deleted"
        TWO_FACTOR_ENABLED = "two_factor_enabled", "two factor authentication enabled"
        TWO_FACTOR_DISABLED = "two_factor_disabled", "two factor authentication disabled"
        BALANCE_CORRECTION_MADE = "balance_correction_made", "balance correction made"
        SIGNED_IN = "signed_in", "sign in"
        LOCKED = "locked", "locked"
        UNLOCKED = "unlocked", "unlocked"
        STATISTIC_TOKEN_REGENERATED = "statistic_token_regenerated", "statistic token regenerated"
        PASSWORD_CHANGED = "password_changed", "password changed"
        SESSION_TERMINATED = "session_terminated", "session terminated"
        USER_CREATED = "user_created", "team member added"
        USER_BLOCKED = "user_blocked", "user blocked"
        USER_UNBLOCKED = "user_unblocked", "user unblocked"
        ACCOUNT_APPROVED = "account_approved", "account approved"
        ACCOUNT_BLOCKED = "account_blocked", "account blocked"
        DOCUMENT_UPLOADED = "document_uploaded", "document uploaded"
        DOCUMENT_REVIEWED = "document_reviewed", "document reviewed"
        DOCUMENT_DELETED = "document_deleted", "document deleted"
        PROFILE_UPDATED = "profile_updated", "profile updated"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40, choices=Type.choices, db_index=True)
    # Whose account the event is about (a team member's 2FA, say); null = the account as a whole.
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who did it; null = the system. actor_label keeps the name if the actor is deleted.
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["affiliate", "-created_at"])]

    def __str__(self):
        return f"#{self.pk} {self.get_type_display()}"


def _document_path(instance, filename):
    # The stored name is random: the original name is kept in the row, never in the path.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"documents/{instance.affiliate_id}/{uuid.uuid4().hex}.{ext}"


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


class Document(models.Model):
    """A verification document an affiliate uploads and a manager approves or declines."""

    class Kind(models.TextChoices):
        PASSPORT = "passport", "Passport"
        ID_CARD = "id_card", "ID card"
        DRIVING_LICENCE = "driving_licence", "Driving licence"
        PROOF_OF_ADDRESS = "proof_of_address", "Proof of address"
        COMPANY_REGISTRATION = "company_registration", "Company registration"
        BANK_STATEMENT = "bank_statement", "Bank statement"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="documents")
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField("type", max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=150)
    description = models.TextField(max_length=1000, blank=True)
    file = models.FileField(upload_to=_document_path, storage=_private_storage, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    review_comment = models.TextField(max_length=1000, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title


class NewsArticle(models.Model):
    """Program news shown on /partner/news, written by managers in the admin."""

    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-pk"]

    def __str__(self):
        return self.title


class TermsVersion(models.Model):
    """Program terms and conditions; the newest published version is the one in force."""

    title = models.CharField(max_length=200, default="Affiliate program terms and conditions")
    body = models.TextField()
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = "terms version"

    def __str__(self):
        return f"{self.title} ({self.published_at:%Y-%m-%d})"
