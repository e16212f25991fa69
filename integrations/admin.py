"""Admin of connections (Save & Test, Sync now) and of sync runs with their item errors.

Network tables (Affilae partnerships/commissions, Affelios customers/transactions, Affili
referrals/conversions) are registered by their sub-apps' own admin modules.
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from backoffice.admin_utils import ReadOnlyAdminMixin
from integrations.client import IntegrationError
from integrations.models import Connection, SyncItemError, SyncRun
from integrations.services import connection_save, connection_test
from integrations.tasks import sync_connection

SECRET_LABELS = {"affilae": "API key", "affelios": "API key (X-Api-Key)", "affili": "Access ID"}


class ConnectionForm(forms.ModelForm):
    secret = forms.CharField(
        label="API key / access id", required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the saved one.",
    )

    class Meta:
        model = Connection
        fields = ["network", "name", "secret", "base_url", "enabled", "sync_interval_minutes", "options",
                  "brand_mapping"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        network = self.instance.network if self.instance and self.instance.pk else None
        if network in SECRET_LABELS:
            self.fields["secret"].label = SECRET_LABELS[network]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("secret") and not (self.instance and self.instance.secret_encrypted):
            self.add_error("secret", "Enter the API key the network gave you.")
        if cleaned.get("options") is not None and not isinstance(cleaned["options"], dict):
            self.add_error("options", 'Options are a JSON object, e.g. {"lookback_days": 7}.')
        mapping = cleaned.get("brand_mapping")
        if mapping is not None and not isinstance(mapping, dict):
            self.add_error("brand_mapping", 'The brand mapping is a JSON object, e.g. {"1": "brand-uk"}.')
        return cleaned


class SyncItemErrorInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SyncItemError
    fields = ["external_id", "status_code", "message", "payload"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "connection", "kind", "status_badge", "trigger", "started_at", "finished_at", "fetched",
                    "created", "updated", "skipped", "failed"]
    list_filter = ["status", "kind", "trigger", "connection__network", "connection"]
    list_select_related = ["connection"]
    search_fields = ["connection__name", "error"]
    date_hierarchy = "started_at"
    fields = ["connection", "kind", "status", "trigger", "since", "started_at", "finished_at", "duration", "fetched",
              "created", "updated", "skipped", "failed", "error", "resumed_from", "cursor"]
    readonly_fields = fields
    inlines = [SyncItemErrorInline]

    @admin.display(description="status", ordering="status")
    def status_badge(self, run):
        colour = {"succeeded": "#1a7f37", "partial": "#9a6700", "failed": "#cf222e"}.get(run.status, "#57606a")
        return format_html('<strong style="color:{}">{}</strong>', colour, run.get_status_display())


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    change_form_template = "integrations/admin_connection_change_form.html"
    list_display = ["name", "network", "enabled", "sync_interval_minutes", "last_success_at", "next_sync_at",
                    "last_run"]
    list_filter = ["network", "enabled"]
    search_fields = ["name"]
    readonly_fields = ["last_success_at", "next_sync_at", "cursors", "created_at"]
    actions = ["sync_now_action"]

    @admin.display(description="last run")
    def last_run(self, connection):
        run = connection.runs.order_by("-started_at").first()
        if run is None:
            return "—"
        url = reverse("admin:integrations_syncrun_change", args=[run.pk])
        return format_html('<a href="{}">{} {}</a>', url, run.kind, run.get_status_display().lower())

    def save_model(self, request, obj, form, change):
        connection_save(connection=obj, secret=form.cleaned_data.get("secret"))

    def _test(self, request, connection) -> None:
        try:
            outcome = connection_test(connection=connection)
        except IntegrationError as exc:
            self.message_user(request, f"Test failed — {exc.message}", messages.ERROR)
        else:
            self.message_user(request, f"Test passed — {outcome}", messages.SUCCESS)

    def response_add(self, request, obj, post_url_continue=None):
        if "_save_and_test" in request.POST:
            self._test(request, obj)
            return HttpResponseRedirect(reverse("admin:integrations_connection_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_save_and_test" in request.POST:
            self._test(request, obj)
            return HttpResponseRedirect(reverse("admin:integrations_connection_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def _queue_sync(self, request, connections) -> None:
        for connection in connections:
            transaction.on_commit(lambda pk=connection.pk: sync_connection.delay(pk, trigger=SyncRun.Trigger.ADMIN))
        names = ", ".join(str(c) for c in connections)
        self.message_user(request, f"Sync queued for {names}; its runs appear under Sync runs.", messages.SUCCESS)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now_action(self, request, queryset):
        self._queue_sync(request, list(queryset))

    def get_urls(self):
        return [
            path("<path:object_id>/sync/", self.admin_site.admin_view(self.sync_view),
                 name="integrations_connection_sync"),
            *super().get_urls(),
        ]

    def sync_view(self, request, object_id):
        connection = self.get_object(request, unquote(object_id))
        if connection is None:
            raise Http404("No such connection.")
        if request.method != "POST" or not self.has_change_permission(request, connection):
            raise PermissionDenied
        self._queue_sync(request, [connection])
        return HttpResponseRedirect(reverse("admin:integrations_connection_change", args=[connection.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["recent_runs"] = obj.runs.order_by("-started_at")[:10] if obj else []
        return super().render_change_form(request, context, add, change, form_url, obj)
