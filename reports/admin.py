"""Admin of the reports app: the daily stats (read-only: they are computed from the raw data,
manage.py rebuild_stats recomputes them) and the exchange rates (manage.py
import_exchange_rates imports a CSV; single rates are added or corrected here)."""
from django import forms
from django.contrib import admin

from backoffice.admin_utils import ReadOnlyAdminMixin
from reports.models import DailyStat, ExchangeRate, RequestedReport


@admin.register(DailyStat)
class DailyStatAdmin(admin.ModelAdmin):
    list_display = ["date", "promo", "currency", "affiliate", "campaign", "visits_count", "registrations_count",
                    "first_deposits_count", "deposits_count", "deposits_sum", "bets_sum", "wins_sum",
                    "qualified_players_count", "updated_at"]
    list_filter = ["currency", "brand"]
    date_hierarchy = "date"
    list_select_related = ["promo", "affiliate", "campaign"]
    search_fields = ["promo__code", "promo__title", "campaign__name", "affiliate__name"]
    show_full_result_count = False  # a count(*) over millions of rows on every page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["date", "base", "quote", "rate"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("base") and cleaned.get("base") == cleaned.get("quote"):
            self.add_error("quote", f"A rate converts one currency into another; both are {cleaned['base']}.")
        rate = cleaned.get("rate")
        if rate is not None and rate <= 0:
            self.add_error("rate", "A rate must be positive.")
        return cleaned


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["date", "base", "quote", "rate", "imported_at"]
    list_filter = ["base", "quote"]
    date_hierarchy = "date"
    fields = ["date", "base", "quote", "rate"]
    ordering = ["-date", "base", "quote"]


# --- requested reports (read only: built by reports.services.requested) -----------------------

@admin.register(RequestedReport)
class RequestedReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "name", "affiliate", "requested_by", "source", "status", "rows_count", "requested_at",
                    "finished_at"]
    list_filter = ["status", "source"]
    list_select_related = ["affiliate", "requested_by"]
    search_fields = ["=id", "name", "affiliate__name", "requested_by__email"]
    date_hierarchy = "requested_at"
    # The files sit on private storage (no public URL): their names only; the affiliate
    # downloads them from the portal.
    fields = ["affiliate", "requested_by", "name", "source", "status", "error", "params", "rows_count", "files",
              "requested_at", "finished_at"]
    readonly_fields = ["files"]

    @admin.display(description="Files")
    def files(self, obj):
        return ", ".join(f.name for f in (obj.csv_zip, obj.xlsx) if f) or "—"
