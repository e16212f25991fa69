"""Read-only admin lists of what was pushed to Affelios and what it computed."""
from django.contrib import admin

from backoffice.admin_utils import ReadOnlyAdminMixin
from integrations.affelios.models import AffeliosCustomer, AffeliosTransaction


@admin.register(AffeliosCustomer)
class AffeliosCustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "affelios_id", "connection", "external_brand_id", "status", "pushed_at",
                    "cpa_qualified", "lifetime_deposits", "lifetime_revenue", "lifetime_commission", "refreshed_at"]
    list_filter = ["status", "cpa_qualified", "connection"]
    list_select_related = ["connection"]
    search_fields = ["external_id", "affelios_id", "click_key", "player__user_id"]
    date_hierarchy = "pushed_at"
    raw_id_fields = ["player"]
    readonly_fields = [f.name for f in AffeliosCustomer._meta.fields]
    fields = readonly_fields


@admin.register(AffeliosTransaction)
class AffeliosTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "kind", "connection", "transaction_date", "currency", "deposit_amount",
                    "gross_revenue", "wagered_amount", "status", "status_code", "pushed_at"]
    list_filter = ["status", "kind", "connection"]
    list_select_related = ["connection"]
    search_fields = ["external_id", "customer__external_id", "customer__affelios_id"]
    date_hierarchy = "pushed_at"
    readonly_fields = [f.name for f in AffeliosTransaction._meta.fields]
    fields = readonly_fields
