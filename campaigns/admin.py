"""Admin of brands, their contacts and the operator credentials of the ingestion API.

An operator secret is generated here, never typed in, and shown exactly once: in the message
after the credential is created or its secret rotated. Afterwards only its owner (the
operator's platform) knows it; the page never shows it again.
"""
import secrets

from django.contrib import admin, messages
from django.utils.html import format_html

from campaigns.models import Brand, BrandContact, OperatorCredential

SECRET_BYTES = 32  # 256 bits, as hex: 64 characters


def _new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


class BrandContactInline(admin.TabularInline):
    model = BrandContact
    fields = ("kind", "value", "label", "position")
    extra = 0


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "base_currency", "site_url", "tracking_host", "is_active", "created_at")
    list_filter = ("is_active", "base_currency")
    search_fields = ("name", "site_url", "tracking_host")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)
    fields = ("name", "base_currency", "site_url", "tracking_host", "is_active", "created_at")
    inlines = (BrandContactInline,)


@admin.register(OperatorCredential)
class OperatorCredentialAdmin(admin.ModelAdmin):
    list_display = ("brand", "name", "key", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active", "brand")
    search_fields = ("name", "key", "brand__name")
    list_select_related = ("brand",)
    date_hierarchy = "created_at"
    fields = ("brand", "name", "key", "is_active", "created_at", "last_used_at")
    readonly_fields = ("key", "created_at", "last_used_at")
    actions = ("rotate_secret",)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            # The key is generated; the add form shows only what a person chooses.
            return ()
        return fields + ("brand",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("brand", "name", "is_active")
        return super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        secret = None
        if not change:
            secret = _new_secret()
            obj.set_secret(secret)
        super().save_model(request, obj, form, change)
        if secret is not None:
            self._show_secret_once(request, obj, secret)

    def _show_secret_once(self, request, obj: OperatorCredential, secret: str) -> None:
        self.message_user(
            request,
            format_html(
                "Operator secret for key <code>{}</code>: <code>{}</code> — copy it now into "
                "the operator's platform: it is not shown again.",
                obj.key,
                secret,
            ),
            messages.WARNING,
        )

    @admin.action(
        description="Rotate the secret (the old one stops working now)",
        description_plural="Rotate secrets of selected credentials (the old ones stop working now)",
        permissions=["change"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def rotate_secret(self, request, queryset):
        for credential in queryset:
            secret = _new_secret()
            credential.set_secret(secret)
            credential.save(update_fields=["secret_encrypted"])
            self.log_change(request, credential, "Secret rotated")
            self._show_secret_once(request, credential, secret)
