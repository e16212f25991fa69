"""Admin of commission plans (the skeleton campaigns need; the Billing work adds kinds, CPA
criteria, RevShare tiers and periods)."""
from django.contrib import admin
from django.db.models import Count

from billing.models import CommissionPlan


@admin.register(CommissionPlan)
class CommissionPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "brand", "currency", "is_default", "named_affiliates", "allows_sub_affiliates",
                    "is_active", "created_at")
    list_filter = ("brand", "currency", "is_default", "allows_sub_affiliates", "is_active")
    search_fields = ("name", "brand__name", "description")
    list_select_related = ("brand",)
    filter_horizontal = ("affiliates",)
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "brand", "currency", "description", "is_active", "created_at")}),
        ("Who may choose it", {
            "fields": ("is_default", "affiliates"),
            "description": "A default plan is offered to every affiliate; otherwise only to the affiliates "
                           "chosen here.",
        }),
        ("Sub-affiliates", {"fields": ("allows_sub_affiliates",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(named_count=Count("affiliates"))

    @admin.display(description="named affiliates", ordering="named_count")
    def named_affiliates(self, obj):
        return "all" if obj.is_default else obj.named_count
