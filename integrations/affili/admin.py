"""Read-only admin lists of Affili referrals and conversions (the connector writes them)."""
from django.contrib import admin

from backoffice.admin_utils import ReadOnlyAdminMixin
from integrations.affili.models import AffiliConversion, AffiliReferral


@admin.register(AffiliReferral)
class AffiliReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "connection", "visit", "referrer", "aff_id", "obtained_at"]
    list_filter = ["connection"]
    list_select_related = ["connection"]
    search_fields = ["referrer", "aff_id", "=visit__id"]
    date_hierarchy = "obtained_at"
    # The token is a credential of the visitor at Affili: not shown.
    fields = ["connection", "visit", "referrer", "aff_id", "obtained_at"]
    readonly_fields = fields
    raw_id_fields = ["visit"]


@admin.register(AffiliConversion)
class AffiliConversionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "affili_id", "connection", "status", "conversion_type", "amount", "currency",
                    "wage", "is_closed", "checked_out", "created_at", "updated_at", "pushed_at", "last_pulled_at"]
    list_filter = ["status", "is_closed", "checked_out", "connection"]
    list_select_related = ["connection"]
    search_fields = ["external_id", "affili_id", "publisher_id"]
    fields = ["connection", "external_id", "affili_id", "status", "conversion_type", "amount", "currency", "wage",
              "is_closed", "checked_out", "publisher_id", "created_at", "updated_at", "deposit", "player", "referral",
              "recorded_at", "pushed_at", "last_pulled_at", "raw"]
    readonly_fields = fields
