"""Admin of the program setup (brands and their contacts, operator credentials of the
ingestion API, traffic sources, landings, banners), of affiliates' campaigns, promos and
partner connections, and a read-only view of visits, players and their activity.

An operator secret is generated here, never typed in, and shown exactly once: in the message
after the credential is created or its secret rotated. Afterwards only its owner (the
operator's platform) knows it; the page never shows it again.
"""
import secrets

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from backoffice.admin_utils import ReadOnlyAdminMixin
from campaigns.errors import CampaignsError
from campaigns.forms import MediaAdminForm
from campaigns.links import tracking_link
from campaigns.models import (
    Brand,
    BrandContact,
    Campaign,
    Deposit,
    Landing,
    Media,
    OperatorCredential,
    PartnerConnection,
    Player,
    PlayerActivity,
    PlayerEvent,
    Promo,
    SyncedVisits,
    TrafficSource,
    Visit,
)
from campaigns.services import campaigns as campaign_services

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


# Program setup: traffic sources, landings, banners ------------------------------------------

@admin.register(TrafficSource)
class TrafficSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active", "promos_count")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(promos_count=Count("promos"))

    @admin.display(description="promos", ordering="promos_count")
    def promos_count(self, obj):
        return obj.promos_count


@admin.register(Landing)
class LandingAdmin(admin.ModelAdmin):
    list_display = ("name", "brand", "audience", "language", "url", "is_active", "created_at")
    list_filter = ("brand", "audience", "language", "is_active")
    search_fields = ("name", "url", "brand__name")
    list_select_related = ("brand",)
    readonly_fields = ("created_at",)
    fields = ("brand", "name", "url", "audience", "language", "is_active", "created_at")


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    form = MediaAdminForm
    list_display = ("thumbnail", "title", "brand", "resolution", "file_format", "orientation", "language",
                    "privacy", "is_active")
    list_display_links = ("thumbnail", "title")
    list_filter = ("brand", "privacy", "file_format", "orientation", "language", "is_active")
    search_fields = ("title", "tags", "brand__name")
    list_select_related = ("brand",)
    autocomplete_fields = ("affiliates",)
    readonly_fields = ("preview", "created_at")

    @admin.display(description="")
    def thumbnail(self, obj):
        if not obj.file:
            return ""
        return format_html('<img src="{}" alt="" style="max-width:80px;max-height:50px">', obj.file.url)

    @admin.display(description="preview")
    def preview(self, obj):
        if not obj.file:
            return "—"
        return format_html('<img src="{}" alt="" style="max-width:400px;height:auto">', obj.file.url)

    @admin.display(description="resolution")
    def resolution(self, obj):
        return obj.resolution


# Affiliates' campaigns and promos --------------------------------------------------------------
# Campaigns and promos are created by affiliates in the portal (the wizard checks plan, landing
# and banner); managers look, rename, and archive. Everything else is read-only here.

class PromoInline(admin.TabularInline):
    model = Promo
    fields = ("title", "link", "landing", "media", "traffic_source", "promo_code", "created_at")
    readonly_fields = ("link", "landing", "media", "traffic_source", "promo_code", "created_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand", "landing", "media", "traffic_source")

    @admin.display(description="tracking link")
    def link(self, obj):
        return tracking_link(obj)


def _apply(modeladmin, request, queryset, service, done: str):
    count = 0
    for campaign in queryset:
        try:
            service(campaign=campaign)
        except CampaignsError as exc:
            modeladmin.message_user(request, exc.message, messages.WARNING)
        else:
            modeladmin.log_change(request, campaign, done)
            count += 1
    if count:
        modeladmin.message_user(request, f"{done}: {count}.", messages.SUCCESS)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "affiliate", "brand", "commission_plan", "state", "promos_count", "created_at")
    list_display_links = ("id", "name")
    list_filter = ("state", "brand", "commission_plan")
    search_fields = ("=id", "name", "affiliate__name")
    list_select_related = ("affiliate", "brand", "commission_plan")
    date_hierarchy = "created_at"
    fields = ("name", "affiliate", "brand", "commission_plan", "state", "created_at", "archived_at")
    readonly_fields = ("affiliate", "brand", "commission_plan", "state", "created_at", "archived_at")
    inlines = (PromoInline,)
    actions = ("archive", "unarchive")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(promos_count=Count("promos"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # archive instead: visits, players and bills point at campaigns

    @admin.display(description="promos", ordering="promos_count")
    def promos_count(self, obj):
        return obj.promos_count

    def save_model(self, request, obj, form, change):
        obj.save(update_fields=["name"])

    def save_formset(self, request, form, formset, change):
        for promo in formset.save(commit=False):
            promo.save(update_fields=["title"])

    @admin.action(description="Archive selected campaigns", permissions=["change"])
    def archive(self, request, queryset):
        _apply(self, request, queryset, campaign_services.campaign_archive, "Archived")

    @admin.action(description="Unarchive selected campaigns", permissions=["change"])
    def unarchive(self, request, queryset):
        _apply(self, request, queryset, campaign_services.campaign_unarchive, "Unarchived")


@admin.register(Promo)
class PromoAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "campaign", "affiliate", "brand", "landing", "audience", "promo_code", "code",
                    "created_at")
    list_display_links = ("id", "title")
    list_filter = ("brand", "landing__audience", "traffic_source")
    search_fields = ("=id", "title", "=code", "promo_code", "campaign__name", "affiliate__name")
    list_select_related = ("campaign", "affiliate", "brand", "landing")
    date_hierarchy = "created_at"
    fields = ("title", "link", "campaign", "affiliate", "brand", "landing", "media", "traffic_source",
              "promo_code", "code", "created_at")
    readonly_fields = ("link", "campaign", "affiliate", "brand", "landing", "media", "traffic_source",
                       "promo_code", "code", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="audience", ordering="landing__audience")
    def audience(self, obj):
        return obj.landing.get_audience_display()

    @admin.display(description="tracking link")
    def link(self, obj):
        return tracking_link(obj)

    def save_model(self, request, obj, form, change):
        obj.save(update_fields=["title"])


@admin.register(PartnerConnection)
class PartnerConnectionAdmin(admin.ModelAdmin):
    list_display = ("child", "parent", "level", "campaign", "promo", "created_at")
    list_filter = ("level",)
    search_fields = ("parent__name", "child__name", "=parent__id", "=child__id")
    list_select_related = ("parent", "child", "campaign", "promo")
    autocomplete_fields = ("parent", "child")
    raw_id_fields = ("campaign", "promo")
    date_hierarchy = "created_at"


# What the tracking link and the operator's platform report: read-only -------------------------

class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows written by the tracking link and the ingestion API; the admin only shows them."""

    show_full_result_count = False  # big tables: no COUNT(*) of the whole table per page


@admin.register(SyncedVisits)
class SyncedVisitsAdmin(ReadOnlyAdmin):
    list_display = ("promo", "affiliate", "period_start", "period_end", "visits_count", "updated_at")
    list_filter = ("promo__brand",)
    search_fields = ("=promo__code", "affiliate__name")
    date_hierarchy = "period_start"
    list_select_related = ("promo", "affiliate")


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("id", "tag", "promo", "affiliate", "created_at", "ip", "referrer")
    search_fields = ("=id", "=promo__code", "affiliate__name", "=ip")
    list_select_related = ("promo", "affiliate")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")


class FirstDepositFilter(admin.SimpleListFilter):
    title = "first deposit"
    parameter_name = "ftd"

    def lookups(self, request, model_admin):
        return (("yes", "Made"), ("no", "Not yet"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(first_deposit_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(first_deposit_at__isnull=True)
        return queryset


class AttributedFilter(admin.SimpleListFilter):
    title = "attribution"
    parameter_name = "attributed"

    def lookups(self, request, model_admin):
        return (("yes", "Through an affiliate"), ("no", "Organic"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(affiliate__isnull=False)
        if self.value() == "no":
            return queryset.filter(affiliate__isnull=True)
        return queryset


@admin.register(Player)
class PlayerAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "brand", "affiliate", "campaign", "promo", "country", "sign_up_at",
                    "first_deposit_at", "is_disabled", "is_duplicate", "is_self_excluded")
    list_filter = ("brand", AttributedFilter, FirstDepositFilter, "is_disabled", "is_duplicate",
                   "is_self_excluded", "country")
    search_fields = ("=user_id", "=tag", "affiliate__name", "campaign__name")
    list_select_related = ("brand", "affiliate", "campaign", "promo")
    date_hierarchy = "sign_up_at"
    ordering = ("-sign_up_at", "-pk")


@admin.register(PlayerActivity)
class PlayerActivityAdmin(ReadOnlyAdmin):
    list_display = ("player", "currency", "period_start", "period_end", "bets_sum", "wins_sum",
                    "deposits_sum", "cashouts_sum", "bonus_issues_sum")
    list_filter = ("currency", "player__brand")
    search_fields = ("=player__user_id",)
    list_select_related = ("player", "player__brand")
    date_hierarchy = "period_start"
    ordering = ("-period_start", "-pk")


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ("deposit_id", "player", "brand", "amount", "currency", "processed_at", "is_first")
    list_filter = ("brand", "currency", "is_first")
    search_fields = ("=deposit_id", "=player__user_id")
    list_select_related = ("player", "player__brand", "brand")
    date_hierarchy = "processed_at"
    ordering = ("-processed_at", "-pk")


@admin.register(PlayerEvent)
class PlayerEventAdmin(ReadOnlyAdmin):
    list_display = ("type", "player", "affiliate", "promo", "amount", "currency", "occurred_at", "public_id")
    list_filter = ("type",)
    search_fields = ("=key", "=player__user_id", "affiliate__name", "=public_id")
    list_select_related = ("player", "player__brand", "affiliate", "promo")
    date_hierarchy = "occurred_at"


from campaigns import admin_postbacks  # noqa: E402,F401
