"""Admin of commission plans, billing runs, qualifications and bills.

Bills are read-only here: their status and amounts change only through the actions (approve,
put on hold, release, cancel) and the "Add correction" page, which call billing.services.bills
so that the ledger entry, the events log and the e-mail are never skipped. Ledger and wallet
admin live in billing/admin_wallet.py.
"""
import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from backoffice.admin_utils import ReadOnlyAdminMixin
from backoffice.money import quantize
from billing.errors import BillingError
from billing.models import (
    Bill,
    BillCorrection,
    BillingRun,
    BillLine,
    CommissionPlan,
    Qualification,
    RevShareTier,
    SubAffiliateLevel,
)
from billing.selectors_bills import bill_corrections, bill_player_lines, with_amount_to_pay
from billing.services import bills as bill_services

# Actions offered on the list and on the object's own page.
BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
# The bill page shows this many players; the portal's bill page pages through all of them.
PLAYER_LINES_SHOWN = 100


# Commission plans ---------------------------------------------------------------------------

class RevShareTierInline(admin.TabularInline):
    model = RevShareTier
    extra = 0
    fields = ("threshold", "percent")
    verbose_name = "RevShare tier"
    verbose_name_plural = "RevShare tiers (used when “tier basis” is set: from the threshold upward, the percent applies)"


class SubAffiliateLevelInline(admin.TabularInline):
    model = SubAffiliateLevel
    extra = 0
    fields = ("level", "percent")
    verbose_name = "sub-affiliate level"
    verbose_name_plural = "Sub-affiliate commission (percent of a level-N sub-affiliate's income)"


class CommissionPlanForm(forms.ModelForm):
    """The admin builds the fields from the fieldsets; this adds the cross-field checks."""

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in (CommissionPlan.Kind.CPA, CommissionPlan.Kind.HYBRID) and not (cleaned.get("cpa_amount") or 0) > 0:
            self.add_error("cpa_amount", "A CPA or Hybrid plan pays a CPA amount per qualified player: enter it.")
        countries_in = {c.strip().upper() for c in (cleaned.get("countries_include") or "").split(",") if c.strip()}
        countries_out = {c.strip().upper() for c in (cleaned.get("countries_exclude") or "").split(",") if c.strip()}
        for name, codes in (("countries_include", countries_in), ("countries_exclude", countries_out)):
            bad = sorted(c for c in codes if len(c) != 2 or not c.isalpha())
            if bad:
                self.add_error(name, f"Use two-letter ISO codes separated by commas; not understood: {', '.join(bad)}.")
        return cleaned


@admin.register(CommissionPlan)
class CommissionPlanAdmin(admin.ModelAdmin):
    form = CommissionPlanForm
    list_display = ("name", "brand", "currency", "kind", "period", "is_default", "named_affiliates",
                    "allows_sub_affiliates", "is_active", "created_at")
    list_filter = ("brand", "currency", "kind", "period", "is_default", "allows_sub_affiliates", "is_active")
    search_fields = ("name", "brand__name", "description")
    list_select_related = ("brand",)
    filter_horizontal = ("affiliates",)
    readonly_fields = ("created_at",)
    inlines = (RevShareTierInline, SubAffiliateLevelInline)
    fieldsets = (
        (None, {"fields": ("name", "brand", "currency", "kind", "description", "is_active", "created_at")}),
        ("Availability", {
            "fields": ("is_default", "affiliates"),
            "description": "A default plan is offered to every affiliate; otherwise only to the affiliates "
                           "chosen here.",
        }),
        ("Period", {
            "fields": ("period", "period_weekday", "period_day"),
            "description": "Bills are issued when a period closes (end of its last day, program time zone).",
        }),
        ("CPA criteria", {
            "fields": (
                "cpa_amount", "min_first_deposit", "min_deposits_sum", "min_deposits_count", "min_wager",
                "min_bets_count", "qualification_window_days", "exclude_duplicates", "exclude_self_excluded",
                "exclude_disabled", "countries_include", "countries_exclude", "hold_days",
            ),
            "description": "CPA and Hybrid plans: a fixed amount per player who meets every criterion; "
                           "a player qualifies once, ever, per plan. Zero = no minimum.",
        }),
        ("RevShare & NGR", {
            "fields": (
                "revshare_percent", "tier_basis", "deduct_bonuses", "deduct_chargebacks",
                "deduct_payment_system_fees", "deduct_game_provider_fees", "deduct_jackpot_fees",
                "deduct_additional_deductions", "deduct_taxes", "admin_fee_percent", "negative_carryover",
            ),
            "description": "RevShare and Hybrid plans: NGR = bets − wins − the deductions ticked − the admin "
                           "fee percent. With a tier basis, the RevShare tiers below replace the one percent.",
        }),
        ("Sub-affiliates", {
            "fields": ("allows_sub_affiliates",),
            "description": "The percent per level is set in “Sub-affiliate commission” below.",
        }),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(named_count=Count("affiliates"))

    @admin.display(description="named affiliates", ordering="named_count")
    def named_affiliates(self, obj):
        return "all" if obj.is_default else obj.named_count


# Billing runs and qualifications ------------------------------------------------------------

@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the billing job did; a run stuck in "processing" crashed and resumes on the next run."""

    list_display = ("id", "plan", "period_start", "period_end", "status", "bills_issued", "started_at", "finished_at")
    list_filter = ("status", "plan__brand", "plan")
    search_fields = ("plan__name",)
    list_select_related = ("plan", "plan__brand")
    date_hierarchy = "period_start"
    fields = ("plan", "period_start", "period_end", "status", "bills_issued", "started_at", "finished_at", "error")
    readonly_fields = fields


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "player_id", "plan", "affiliate", "qualified_at", "payable_from", "amount", "bill")
    list_filter = ("plan__brand", "plan")
    search_fields = ("=player__id", "player__user_id", "=affiliate__id", "affiliate__name")
    search_help_text = "Search by player id (ours or the operator's), affiliate id or name."
    list_select_related = ("plan", "plan__brand", "affiliate", "bill")
    date_hierarchy = "qualified_at"
    fields = ("plan", "player", "affiliate", "qualified_at", "payable_from", "amount", "bill")
    readonly_fields = fields


# Bills --------------------------------------------------------------------------------------

class PeriodListFilter(admin.SimpleListFilter):
    """Bills of one billing period (start – end), most recent periods first."""

    title = "period"
    parameter_name = "period"
    LIMIT = 36

    def lookups(self, request, model_admin):
        periods = (
            Bill.objects.order_by("-period_start", "-period_end")
            .values_list("period_start", "period_end").distinct()[: self.LIMIT]
        )
        return [(f"{start.isoformat()}_{end.isoformat()}", f"{start.isoformat()} – {end.isoformat()}")
                for start, end in periods]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            start, end = (dt.date.fromisoformat(part) for part in value.split("_"))
        except ValueError:
            # A hand-edited URL: show nothing rather than fail.
            return queryset.none()
        return queryset.filter(period_start=start, period_end=end)


class BillLineInline(admin.TabularInline):
    model = BillLine
    fields = ("kind", "campaign", "sub_affiliate", "level", "players_count", "base", "rate", "amount")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = "line"
    verbose_name_plural = "lines"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BillCorrectionInline(admin.TabularInline):
    model = BillCorrection
    fields = ("created_at", "amount", "comment", "actor")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = "correction"
    verbose_name_plural = "corrections (add one with “Add correction” above)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BillCorrectionForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=20, decimal_places=2,
        help_text="Positive adds to the amount to be paid, negative subtracts (e.g. -25.00).",
    )
    comment = forms.CharField(
        max_length=BillCorrection._meta.get_field("comment").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the bill is corrected. The affiliate sees this comment on the bill page.",
    )


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = ("id", "affiliate", "brand", "plan", "period", "issued", "to_be_paid", "status",
                    "created_at", "processed_at")
    list_display_links = ("id",)
    list_filter = ("status", "brand", "plan", PeriodListFilter)
    search_fields = ("=id", "=affiliate__id", "affiliate__name")
    search_help_text = "Search by bill id, affiliate id or affiliate name."
    list_select_related = ("affiliate", "brand", "plan")
    change_form_template = "billing/bills/admin_change_form.html"
    fieldsets = (
        (None, {"fields": ("affiliate", "brand", "plan", "period", "status")}),
        ("Amounts", {"fields": (
            "issued", "corrections_sum", "to_be_paid", "cpa_amount", "revshare_amount",
            "sub_affiliate_amount", "ngr", "carryover_in", "carryover_out",
        )}),
        ("Processing", {"fields": ("run", "created_at", "processed_at", "processed_by")}),
        ("Players", {"fields": ("player_breakdown",)}),
    )
    readonly_fields = (
        "affiliate", "brand", "plan", "period", "status", "issued", "corrections_sum", "to_be_paid",
        "cpa_amount", "revshare_amount", "sub_affiliate_amount", "ngr", "carryover_in", "carryover_out",
        "run", "created_at", "processed_at", "processed_by", "player_breakdown",
    )
    inlines = (BillLineInline, BillCorrectionInline)
    actions = ("approve_selected", "hold_selected", "release_selected", "cancel_selected")

    def get_queryset(self, request):
        return with_amount_to_pay(super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # bills are issued by the billing run

    def has_delete_permission(self, request, obj=None):
        return False  # a bill stays for the record; cancel it instead

    def save_model(self, request, obj, form, change):
        # Every field is read-only: a "Save" must not write the row back over a transition
        # made meanwhile. Changes go through the actions and "Add correction".
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
            "show_delete": False,
        }
        if object_id is not None:
            extra_context["correction_url"] = reverse(
                f"{self.admin_site.name}:billing_bill_correction", args=[object_id]
            )
        return super().changeform_view(request, object_id, form_url, extra_context)

    # Columns and fields -------------------------------------------------------------------

    @admin.display(description="period", ordering="period_start")
    def period(self, obj):
        return bill_services.bill_period_label(obj)

    @admin.display(description="issued amount", ordering="issued_amount")
    def issued(self, obj):
        return f"{obj.issued_amount} {obj.currency}"

    @admin.display(description="corrections")
    def corrections_sum(self, obj):
        return f"{quantize(obj.corrections_total, obj.currency):+} {obj.currency}"

    @admin.display(description="amount to be paid", ordering="amount_to_pay")
    def to_be_paid(self, obj):
        return f"{quantize(obj.amount_to_pay, obj.currency)} {obj.currency}"

    @admin.display(description="per-player breakdown")
    def player_breakdown(self, obj):
        lines = list(bill_player_lines(bill=obj)[: PLAYER_LINES_SHOWN + 1])
        if not lines:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((line.player_id, line.campaign.name if line.campaign else "—", line.ngr, line.cpa_amount,
              line.revshare_amount) for line in lines[:PLAYER_LINES_SHOWN]),
        )
        more = ""
        if len(lines) > PLAYER_LINES_SHOWN:
            total = obj.player_lines.count()
            more = format_html("<p>Showing the first {} of {} players.</p>", PLAYER_LINES_SHOWN, total)
        return format_html(
            "<table><thead><tr><th>player id</th><th>campaign</th><th>NGR</th><th>CPA</th><th>RevShare</th>"
            "</tr></thead><tbody>{}</tbody></table>{}",
            rows, more,
        )

    # Actions ------------------------------------------------------------------------------

    def _each_bill(self, request, queryset, apply: Callable, *, change_message: str) -> None:
        """One service call per bill (pk order, the lock order); each outcome is a message
        naming the bill, and one refusal does not stop the others."""
        for bill in queryset.select_related(None).order_by("pk"):
            try:
                message = apply(bill)
            except BillingError as exc:
                self.message_user(request, f"Bill #{bill.pk}: {exc.message}", messages.WARNING)
            else:
                self.log_change(request, bill, change_message)
                self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Approve this bill", description_plural="Approve selected bills",
                  permissions=["change"], location=BOTH)
    def approve_selected(self, request, queryset):
        def approve(bill):
            bill = bill_services.bill_approve(bill=bill, actor=request.user)
            entry = bill.ledger_entry
            if entry is None:
                to_pay = bill_services.bill_amount_to_pay(bill=bill)
                return (f"Bill #{bill.pk} approved with nothing to pay ({quantize(to_pay, bill.currency)} "
                        f"{bill.currency}): no balance entry was made.")
            return (f"Bill #{bill.pk} approved: {quantize(entry.amount, bill.currency)} {bill.currency} "
                    f"credited to {bill.affiliate}'s balance.")

        self._each_bill(request, queryset, approve, change_message="Approved")

    @admin.action(description="Put this bill on hold", description_plural="Put selected bills on hold",
                  permissions=["change"], location=BOTH)
    def hold_selected(self, request, queryset):
        self._each_bill(
            request, queryset,
            lambda b: f"Bill #{bill_services.bill_hold(bill=b, actor=request.user).pk} put on hold.",
            change_message="Put on hold",
        )

    @admin.action(description="Release this bill from hold (back to pending)",
                  description_plural="Release selected bills from hold (back to pending)",
                  permissions=["change"], location=BOTH)
    def release_selected(self, request, queryset):
        self._each_bill(
            request, queryset,
            lambda b: f"Bill #{bill_services.bill_release(bill=b, actor=request.user).pk} is pending again.",
            change_message="Released from hold",
        )

    @admin.action(description="Cancel this bill", description_plural="Cancel selected bills",
                  permissions=["change"], location=BOTH)
    def cancel_selected(self, request, queryset):
        self._each_bill(
            request, queryset,
            lambda b: f"Bill #{bill_services.bill_cancel(bill=b, actor=request.user).pk} cancelled: nothing will be paid.",
            change_message="Cancelled",
        )

    # "Add correction" page ----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/correction/",
                self.admin_site.admin_view(self.correction_view),
                name="billing_bill_correction",
            ),
            *super().get_urls(),
        ]

    def correction_view(self, request, object_id):
        bill = self.get_object(request, unquote(object_id))
        if bill is None:
            raise Http404("No such bill.")
        if not self.has_change_permission(request, bill):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:billing_bill_change", args=[bill.pk])
        bill.amount_to_pay = quantize(bill_services.bill_amount_to_pay(bill=bill), bill.currency)
        form = BillCorrectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                correction = bill_services.bill_correct(
                    bill=bill, actor=request.user,
                    amount=form.cleaned_data["amount"], comment=form.cleaned_data["comment"],
                )
            except BillingError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                to_pay = bill_services.bill_amount_to_pay(bill=bill)
                self.log_change(request, bill, f"Correction {correction.amount:+}: {correction.comment}")
                self.message_user(
                    request,
                    f"Bill #{bill.pk} corrected by {correction.amount:+} {bill.currency}; "
                    f"amount to be paid is now {quantize(to_pay, bill.currency)} {bill.currency}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Add correction to bill #{bill.pk}",
            "subtitle": None,
            "opts": self.opts,
            "original": bill,
            "bill": bill,
            "period": bill_services.bill_period_label(bill),
            "corrections": bill_corrections(bill=bill),
            "can_correct": bill.status in bill_services.OPEN_STATES,
            "form": form,
            "change_url": change_url,
            "has_view_permission": self.has_view_permission(request, bill),
        }
        return TemplateResponse(request, "billing/bills/admin_correction.html", context)

from billing import admin_wallet  # noqa: E402,F401
