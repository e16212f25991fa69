"""Admin of the partners app: affiliates, their users and sessions, documents, the events log,
news and terms.

Account state (status, blocking, lockout, 2FA) is read-only in the forms and changes only
through the actions, which call partners.services: those record the event, end sessions and
send the e-mails that a bare form save would skip.
"""
import json
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.admin_utils import ReadOnlyAdminMixin
from backoffice.errors import ApplicationError
from backoffice.net import client_ip
from partners.models import (
    Affiliate,
    Document,
    Event,
    NewsArticle,
    TermsVersion,
    User,
    UserSession,
)
from partners.services import accounts
from partners.services.sessions import session_terminate

# Actions offered on the list and on the object's own page.
BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]

# Documents are sent as attachments in any case; only these types keep their own content type.
SAFE_DOCUMENT_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}


def _with_two_factor(queryset: QuerySet) -> QuerySet:
    """Annotate users with `two_factor` (a confirmed TOTP device, as partners.portal.has_2fa)."""
    return queryset.annotate(
        two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    )


def _for_each(
    modeladmin: admin.ModelAdmin,
    request,
    objects,
    apply: Callable[[object], object],
    *,
    done: str,
    change_message: str,
) -> int:
    """Run one service call per object; each domain error becomes a warning naming the object,
    the others still run. `done` is formatted with the number that succeeded."""
    count = 0
    for obj in objects:
        try:
            apply(obj)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
        else:
            count += 1
            modeladmin.log_change(request, obj, change_message)
    if count:
        modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)
    return count


def _label_list(objects, limit: int = 5) -> str:
    names = [str(o) for o in objects[:limit]]
    more = len(objects) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


# Affiliates ---------------------------------------------------------------------------------

class AffiliateUserInline(admin.TabularInline):
    """The account's users at a glance; they are edited on their own page (the link)."""

    model = User
    fk_name = "affiliate"
    fields = ("email", "role", "is_blocked", "locked", "two_factor", "last_login")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name = "user"
    verbose_name_plural = "users"

    def get_queryset(self, request):
        return _with_two_factor(super().get_queryset(request))

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="locked")
    def locked(self, obj):
        return obj.is_locked

    @admin.display(boolean=True, description="2FA")
    def two_factor(self, obj):
        return getattr(obj, "two_factor", False)


@admin.register(Affiliate)
class AffiliateAdmin(admin.ModelAdmin):
    list_display = (
        "id", "name", "company_name", "status", "manager", "owner_email", "country",
        "created_at", "approved_at",
    )
    list_display_links = ("id", "name")
    list_filter = ("status", "manager", "country", "default_report_currency")
    search_fields = ("name", "company_name", "users__email")
    search_help_text = "Search by name, company or a user's e-mail."
    list_select_related = ("manager",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("manager",)
    readonly_fields = ("status", "created_at", "approved_at", "blocked_at")
    fieldsets = (
        (None, {"fields": ("name", "company_name", "status", "manager")}),
        ("Contacts", {"fields": (
            "phone", "messenger", "messenger_id", "website", "country", "city", "address",
        )}),
        ("Traffic", {"fields": ("traffic_description",)}),
        ("Preferences", {"fields": (
            "default_report_currency", "subscribe_news", "subscribe_payments", "subscribe_reports",
        )}),
        ("Life cycle", {"fields": ("created_at", "approved_at", "blocked_at")}),
    )
    inlines = (AffiliateUserInline,)
    actions = ("approve_selected", "block_selected")

    def get_queryset(self, request):
        owner_email = (
            User.objects.filter(affiliate=OuterRef("pk"), role=User.Role.OWNER)
            .order_by("pk").values("email")[:1]
        )
        return super().get_queryset(request).annotate(owner_email=Subquery(owner_email))

    @admin.display(description="owner e-mail", ordering="owner_email")
    def owner_email(self, obj):
        return obj.owner_email

    @admin.action(
        description="Approve this affiliate",
        description_plural="Approve selected affiliates",
        permissions=["change"],
        location=BOTH,
    )
    def approve_selected(self, request, queryset):
        active = list(queryset.filter(status=Affiliate.Status.ACTIVE))
        if active:
            self.message_user(
                request,
                f"Skipped {len(active)} already active: {_label_list(active)}.",
                messages.INFO,
            )
        _for_each(
            self, request, queryset.exclude(status=Affiliate.Status.ACTIVE),
            lambda a: accounts.affiliate_approve(affiliate=a, actor=request.user),
            done="Approved {count} affiliate(s); their owners were e-mailed.",
            change_message="Approved",
        )

    @admin.action(
        description="Block this affiliate",
        description_plural="Block selected affiliates",
        permissions=["change"],
        location=BOTH,
    )
    def block_selected(self, request, queryset):
        _for_each(
            self, request, queryset,
            lambda a: accounts.affiliate_block(affiliate=a, actor=request.user),
            done="Blocked {count} affiliate(s); their users were signed out.",
            change_message="Blocked",
        )


# Users --------------------------------------------------------------------------------------

class UserCreationForm(BaseUserCreationForm):
    """E-mail and password; role, affiliate and permissions are set on the change page."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data.get("email"))
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this e-mail already exists.")
        return email


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data.get("email"))
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with this e-mail already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        # Fields a non-superuser sees read-only are not in the form: fall back to the row.
        affiliate = cleaned.get("affiliate", self.instance.affiliate) if "affiliate" in self.fields else self.instance.affiliate
        role = cleaned.get("role", "") if "role" in self.fields else self.instance.role
        is_staff = cleaned.get("is_staff") if "is_staff" in self.fields else self.instance.is_staff
        if affiliate is not None and not role:
            self.add_error("role", "A user of an affiliate account needs a role (owner or team member).")
        if affiliate is None and role:
            self.add_error("role", "Only users of an affiliate account have a role: clear it, or choose the affiliate.")
        if affiliate is not None and is_staff:
            self.add_error("is_staff", "Managers (staff) belong to no affiliate account: clear one of the two.")
        return cleaned


class LockedFilter(admin.SimpleListFilter):
    title = "locked"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(locked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(locked_at__isnull=True)
        return queryset


class TwoFactorFilter(admin.SimpleListFilter):
    title = "two-factor authentication"
    parameter_name = "two_factor"

    def lookups(self, request, model_admin):
        return (("on", "On"), ("off", "Off"))

    def queryset(self, request, queryset):
        if self.value() == "on":
            return queryset.filter(two_factor=True)
        if self.value() == "off":
            return queryset.filter(two_factor=False)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = (
        "email", "full_name", "affiliate", "role", "is_staff", "is_blocked", "locked",
        "two_factor", "last_login",
    )
    list_filter = ("is_staff", "role", "is_blocked", LockedFilter, TwoFactorFilter, "is_superuser", "groups")
    search_fields = ("email", "first_name", "last_name", "affiliate__name")
    search_help_text = "Search by e-mail, name or affiliate name."
    list_select_related = ("affiliate",)
    ordering = ("email",)
    autocomplete_fields = ("affiliate",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "phone", "messenger")}),
        ("Affiliate account", {"fields": ("affiliate", "role")}),
        ("Security", {
            "description": "Blocking, unlocking and resetting 2FA are actions (on this page and the list).",
            "fields": (
                "is_active", "is_blocked", "blocked_at", "locked_at", "failed_login_attempts",
                "two_factor",
            ),
        }),
        ("Permissions", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
    )
    readonly_fields = (
        "is_blocked", "blocked_at", "locked_at", "failed_login_attempts", "two_factor",
        "last_login", "date_joined",
    )
    # Only a superuser grants rights; anyone else could otherwise promote themselves.
    superuser_only_fields = ("is_staff", "is_superuser", "groups", "user_permissions")
    actions = ("unlock_selected", "reset_two_factor", "block_selected", "unblock_selected")

    def get_queryset(self, request):
        return _with_two_factor(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields += self.superuser_only_fields
        return fields

    def has_change_permission(self, request, obj=None):
        # A manager who is not a superuser may look at other staff accounts but not change
        # them (password, e-mail): that would be a way into a superuser's account.
        if obj is not None and obj.is_staff and not request.user.is_superuser and obj.pk != request.user.pk:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj):
        return f"{obj.first_name} {obj.last_name}".strip()

    @admin.display(boolean=True, description="locked", ordering="locked_at")
    def locked(self, obj):
        return obj.is_locked

    @admin.display(boolean=True, description="2FA", ordering="two_factor")
    def two_factor(self, obj):
        if hasattr(obj, "two_factor"):
            return obj.two_factor
        return TOTPDevice.objects.filter(user=obj, confirmed=True).exists()

    def _manageable(self, request, queryset) -> list[User]:
        """The selected users this manager may act on; staff accounts only for superusers."""
        users = list(queryset)
        if request.user.is_superuser:
            return users
        refused = [u for u in users if u.is_staff]
        if refused:
            self.message_user(
                request,
                f"Only a superuser can change manager accounts; skipped {_label_list(refused)}.",
                messages.WARNING,
            )
        return [u for u in users if not u.is_staff]

    @admin.action(
        description="Unlock this user",
        description_plural="Unlock selected users",
        permissions=["change"],
        location=BOTH,
    )
    def unlock_selected(self, request, queryset):
        not_locked = list(queryset.filter(locked_at__isnull=True))
        if not_locked:
            self.message_user(
                request, f"Not locked, nothing to do: {_label_list(not_locked)}.", messages.INFO
            )
        ip = client_ip(request)
        _for_each(
            self, request, self._manageable(request, queryset.filter(locked_at__isnull=False)),
            lambda u: accounts.user_unlock(user=u, actor=request.user, ip=ip),
            done="Unlocked {count} user(s).",
            change_message="Unlocked",
        )

    @admin.action(
        description="Reset two-factor authentication",
        description_plural="Reset two-factor authentication",
        permissions=["change"],
        location=BOTH,
    )
    def reset_two_factor(self, request, queryset):
        users = self._manageable(request, queryset)
        if any(u.pk == request.user.pk for u in users):
            self.message_user(
                request,
                "Your own two-factor authentication cannot be reset here: ask another manager.",
                messages.WARNING,
            )
            users = [u for u in users if u.pk != request.user.pk]
        _for_each(
            self, request, users,
            lambda u: accounts.two_factor_reset(user=u, actor=request.user),
            done="Reset two-factor authentication of {count} user(s); they were signed out and e-mailed.",
            change_message="Two-factor authentication reset",
        )

    @admin.action(
        description="Block this user",
        description_plural="Block selected users",
        permissions=["change"],
        location=BOTH,
    )
    def block_selected(self, request, queryset):
        ip = client_ip(request)
        _for_each(
            self, request, self._manageable(request, queryset),
            lambda u: accounts.user_block(user=u, actor=request.user, ip=ip),
            done="Blocked {count} user(s); their sessions were ended.",
            change_message="Blocked",
        )

    @admin.action(
        description="Unblock this user",
        description_plural="Unblock selected users",
        permissions=["change"],
        location=BOTH,
    )
    def unblock_selected(self, request, queryset):
        ip = client_ip(request)
        _for_each(
            self, request, self._manageable(request, queryset),
            lambda u: accounts.user_unblock(user=u, actor=request.user, ip=ip),
            done="Unblocked {count} user(s).",
            change_message="Unblocked",
        )


# Sessions -----------------------------------------------------------------------------------

@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    """Read-only list; ending a session goes through the service (the browser is signed out)."""

    list_display = ("user", "ip", "short_user_agent", "created_at", "last_activity_at")
    list_filter = ("user__is_staff",)
    search_fields = ("user__email", "ip", "user__affiliate__name")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("user", "ip", "user_agent", "created_at", "last_activity_at")
    readonly_fields = fields
    actions = ("terminate_selected",)

    @admin.display(description="user agent")
    def short_user_agent(self, obj):
        return Truncator(obj.user_agent).chars(60)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        session_terminate(session=obj)

    def delete_queryset(self, request, queryset):
        for session in queryset:
            session_terminate(session=session)

    @admin.action(
        description="Terminate this session",
        description_plural="Terminate selected sessions",
        permissions=["delete"],
        location=BOTH,
    )
    def terminate_selected(self, request, queryset):
        count = 0
        for session in queryset:
            session_terminate(session=session)
            count += 1
        self.message_user(request, f"Terminated {count} session(s).", messages.SUCCESS)


# Events log ---------------------------------------------------------------------------------

@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The log is append-only: nobody adds, edits or deletes entries here."""

    list_display = ("created_at", "type", "affiliate", "user", "actor_label", "ip")
    list_filter = ("type",)
    search_fields = ("affiliate__name",)
    search_help_text = "Search by affiliate name."
    list_select_related = ("affiliate", "user")
    date_hierarchy = "created_at"
    fields = ("created_at", "type", "affiliate", "user", "actor", "actor_label", "ip", "details")
    readonly_fields = fields

    @admin.display(description="data")
    def details(self, obj):
        if not obj.data:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False, sort_keys=True))


# Documents ----------------------------------------------------------------------------------

@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Affiliates upload in the portal; a manager reviews here. Approve/decline are actions:
    declining needs a reason, written in "Review comment" on the document's page first."""

    list_display = (
        "title", "affiliate", "kind", "status", "created_at", "reviewed_by", "reviewed_at",
        "download",
    )
    list_filter = ("status", "kind")
    search_fields = ("title", "original_name", "affiliate__name")
    list_select_related = ("affiliate", "reviewed_by")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("affiliate", "kind", "title", "description", "download")}),
        ("File", {"fields": ("original_name", "content_type", "size", "uploaded_by", "created_at")}),
        ("Review", {
            "description": "Approve or decline with the actions (on this page or the list). "
                           "To decline, write the reason here first: the affiliate sees it.",
            "fields": ("status", "review_comment", "reviewed_by", "reviewed_at"),
        }),
    )
    readonly_fields = (
        "affiliate", "kind", "title", "description", "download", "original_name",
        "content_type", "size", "uploaded_by", "created_at", "status", "reviewed_by",
        "reviewed_at",
    )
    actions = ("approve_selected", "decline_selected")

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="partners_document_file",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="file")
    def download(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse(f"{self.admin_site.name}:partners_document_file", args=[obj.pk])
        return format_html('<a href="{}">Download</a> ({})', url, obj.original_name)

    def file_view(self, request, object_id):
        """The document's file, as an attachment, to staff who may view documents."""
        document = self.get_object(request, unquote(object_id))
        if document is None:
            raise Http404("No such document.")
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        try:
            handle = document.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("The document's file is missing from storage.") from exc
        content_type = document.content_type if document.content_type in SAFE_DOCUMENT_TYPES else "application/octet-stream"
        response = FileResponse(
            handle, as_attachment=True, filename=document.original_name, content_type=content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @staticmethod
    def _comment(request, document: Document) -> str:
        """The review comment: on the document's own page, what the manager just typed into
        "Review comment" (the action is posted with the form); on the list, the saved one."""
        if "CHANGE_FORM-action" in request.POST and "review_comment" in request.POST:
            return request.POST["review_comment"].strip()
        return document.review_comment.strip()

    @admin.action(
        description="Approve this document",
        description_plural="Approve selected documents",
        permissions=["change"],
        location=BOTH,
    )
    def approve_selected(self, request, queryset):
        from partners.services.documents import document_approve

        _for_each(
            self, request, queryset,
            lambda d: document_approve(document=d, actor=request.user, comment=self._comment(request, d)),
            done="Approved {count} document(s).",
            change_message="Approved",
        )

    @admin.action(
        description="Decline this document (give the reason in “Review comment”)",
        description_plural="Decline selected documents (each needs a saved review comment)",
        permissions=["change"],
        location=BOTH,
    )
    def decline_selected(self, request, queryset):
        from partners.services.documents import document_decline

        documents = [(d, self._comment(request, d)) for d in queryset]
        without_reason = [d for d, comment in documents if not comment]
        if without_reason:
            self.message_user(
                request,
                "Not declined, no reason given: " + _label_list(without_reason)
                + ". Write the reason in “Review comment” on the document's page, then decline it.",
                messages.WARNING,
            )
        _for_each(
            self, request, [d for d, comment in documents if comment],
            lambda d: document_decline(document=d, actor=request.user, comment=self._comment(request, d)),
            done="Declined {count} document(s).",
            change_message="Declined",
        )


# Program content ----------------------------------------------------------------------------

@admin.register(NewsArticle)
class NewsArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "is_published", "published_at", "created_at")
    list_filter = ("is_published",)
    search_fields = ("title", "summary", "body")
    date_hierarchy = "published_at"
    readonly_fields = ("created_at",)
    fields = ("title", "summary", "body", "is_published", "published_at", "created_at")


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ("title", "is_published", "published_at")
    list_filter = ("is_published",)
    search_fields = ("title", "body")
    date_hierarchy = "published_at"
    fields = ("title", "body", "is_published", "published_at")
