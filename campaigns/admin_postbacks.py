"""Admin of postbacks: see and enable/disable affiliates' postbacks, watch the outbox, re-send
failed deliveries, read the log. URL templates are the affiliate's to edit (in the portal,
where they are linted); managers switch postbacks on and off."""
from django.contrib import admin, messages

from backoffice.admin_utils import ReadOnlyAdminMixin
from campaigns.models import Postback, PostbackAttempt, PostbackDelivery
from campaigns.services.postbacks import postback_deliveries_resend, postback_set_active


class PostbackAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PostbackAttempt
    fk_name = "delivery"
    fields = ("attempted_at", "response_status", "latency_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-attempted_at",)


@admin.register(Postback)
class PostbackAdmin(admin.ModelAdmin):
    list_display = ("id", "affiliate", "scope", "campaign", "promo", "action", "method", "url_template",
                    "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active", "action", "scope", "method")
    search_fields = ("url_template", "affiliate__name", "campaign__name")
    list_select_related = ("affiliate", "campaign", "promo")
    raw_id_fields = ("affiliate", "campaign", "promo")
    date_hierarchy = "created_at"
    readonly_fields = ("affiliate", "scope", "campaign", "promo", "action", "method", "url_template", "signed",
                       "is_active", "consecutive_failures", "disabled_at", "disabled_reason", "created_at",
                       "updated_at")
    fields = readonly_fields
    actions = ("enable", "disable")

    def has_add_permission(self, request):
        return False  # affiliates create postbacks in the portal

    @admin.display(boolean=True, description="signed")
    def signed(self, obj):
        return bool(obj.signing_secret_encrypted)

    @admin.action(description="Enable selected postbacks (failure count reset)", permissions=["change"])
    def enable(self, request, queryset):
        for postback in queryset.filter(is_active=False):
            postback_set_active(postback=postback, active=True)
            self.log_change(request, postback, "Enabled")
        self.message_user(request, "Selected postbacks are enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected postbacks", permissions=["change"])
    def disable(self, request, queryset):
        for postback in queryset.filter(is_active=True):
            postback_set_active(postback=postback, active=False,
                                reason=f"Disabled by the affiliate manager ({request.user.get_full_name() or request.user.email}).")
            self.log_change(request, postback, "Disabled")
        self.message_user(request, "Selected postbacks are disabled.", messages.SUCCESS)


@admin.register(PostbackDelivery)
class PostbackDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "affiliate", "postback", "status", "is_test", "attempts_count", "next_attempt_at",
                    "last_attempt_at", "created_at", "url")
    list_filter = ("status", "is_test", "method")
    search_fields = ("url", "webhook_id", "affiliate__name")
    list_select_related = ("affiliate", "postback")
    date_hierarchy = "created_at"
    readonly_fields = ("postback", "affiliate", "event", "is_test", "url", "method", "body", "webhook_id",
                       "status", "attempts_count", "next_attempt_at", "last_attempt_at", "created_at",
                       "finished_at")
    fields = readonly_fields
    inlines = (PostbackAttemptInline,)
    actions = ("resend",)

    def has_change_permission(self, request, obj=None):
        # Read-only pages; the re-send action needs "change", checked on the real permission.
        return super(ReadOnlyAdminMixin, self).has_change_permission(request, obj) if obj is None else False

    @admin.action(description="Re-send selected failed deliveries", permissions=["change"])
    def resend(self, request, queryset):
        queued, skipped = postback_deliveries_resend(delivery_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"{queued} failed deliveries re-queued with a fresh retry schedule.",
            messages.SUCCESS if queued else messages.WARNING)
        if skipped:
            self.message_user(request, f"{skipped} not re-sent: their postback is disabled; enable it first.",
                              messages.WARNING)


@admin.register(PostbackAttempt)
class PostbackAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("attempted_at", "affiliate", "postback", "action", "method", "url", "response_status",
                    "latency_ms", "succeeded", "error")
    list_filter = ("succeeded", "action", "response_status")
    search_fields = ("url", "error", "affiliate__name")
    list_select_related = ("affiliate", "postback")
    date_hierarchy = "attempted_at"
    readonly_fields = ("delivery", "postback", "affiliate", "attempted_at", "url", "method", "action",
                       "response_status", "latency_ms", "response_body", "error", "succeeded")
    fields = readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # the log is the affiliate's evidence; it goes with its postback
