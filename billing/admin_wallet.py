"""Admin of the wallet side of billing: the ledger (read only), balances and the manager's
balance correction page, payment methods (masked, read only), cashout limits (editable) and
cashouts with their transitions as actions.

Money changes only through the services: nothing here saves a ledger entry, balance or
cashout directly. Imported at the end of billing/admin.py.
"""
from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from backoffice.admin_utils import ReadOnlyAdminMixin
from backoffice.money import quantize
from billing.errors import BillingError
from billing.forms_wallet import CorrectionForm
from billing.models import (
    Balance,
    BalanceTransaction,
    Cashout,
    CashoutLimit,
    CashoutSchedule,
    CashoutScheduleRun,
    PaymentMethod,
)
from billing.payment_details import masked_rows, masked_summary
from billing.services.cashouts import cashout_accept, cashout_cancel, cashout_refund, money_display
from billing.services.corrections import balance_correction_make

BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


def _masked_table(method_type: str, masked: dict):
    rows = masked_rows(method_type, masked)
    if not rows:
        return "—"
    return format_html("<table>{}</table>", format_html_join(
        "", "<tr><th>{}</th><td>{}</td></tr>", rows))


# Ledger ------------------------------------------------------------------------------------

@admin.register(BalanceTransaction)
class BalanceTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "affiliate", "kind", "signed_amount", "currency", "balance_after_shown",
                    "reference", "actor")
    list_filter = ("kind", "currency", "created_at")
    search_fields = ("affiliate__name", "affiliate__company_name", "reference", "comment", "idempotency_key")
    list_select_related = ("affiliate", "actor")
    date_hierarchy = "created_at"
    fields = ("affiliate", "kind", "amount", "currency", "balance_after", "bill", "cashout", "reference",
              "comment", "actor", "idempotency_key", "created_at")

    @admin.display(description="amount", ordering="amount")
    def signed_amount(self, obj):
        return f"{quantize(obj.amount, obj.currency):+}"

    @admin.display(description="balance after", ordering="balance_after")
    def balance_after_shown(self, obj):
        return quantize(obj.balance_after, obj.currency)


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("affiliate", "currency", "amount_shown", "updated_at", "correct_link")
    list_filter = ("currency",)
    search_fields = ("affiliate__name", "affiliate__company_name", "=affiliate__id")
    list_select_related = ("affiliate",)
    fields = ("affiliate", "currency", "amount", "updated_at")
    change_list_template = "billing/wallet/admin_balance_change_list.html"

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, obj):
        return money_display(obj.amount, obj.currency)

    @admin.display(description="")
    def correct_link(self, obj):
        url = reverse(f"{self.admin_site.name}:billing_balance_correction")
        return format_html('<a href="{}?affiliate={}&amp;currency={}">Correct</a>', url, obj.affiliate_id, obj.currency)

    # "Balance correction" page ------------------------------------------------------------

    def get_urls(self):
        return [
            path("correction/", self.admin_site.admin_view(self.correction_view), name="billing_balance_correction"),
            *super().get_urls(),
        ]

    def has_correction_permission(self, request) -> bool:
        # Posting to the ledger by hand: whoever may add balance transactions.
        return request.user.has_perm("billing.add_balancetransaction")

    def correction_view(self, request):
        if not self.has_correction_permission(request):
            raise PermissionDenied
        changelist_url = reverse(f"{self.admin_site.name}:billing_balance_changelist")
        if request.method == "POST":
            form = CorrectionForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                affiliate = data["affiliate"]
                try:
                    entry = balance_correction_make(
                        affiliate=affiliate, currency=data["currency"], amount=data["amount"],
                        comment=data["comment"], actor=request.user,
                        idempotency_key=f"correction:{data['token']}",
                    )
                except BillingError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    currency = entry.currency
                    self.message_user(
                        request,
                        f"Balance correction of {quantize(entry.amount, currency):+} {currency} made for {affiliate}; "
                        f"the balance is now {money_display(entry.balance_after, currency)} {currency}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(changelist_url)
        else:
            initial = {k: request.GET[k] for k in ("affiliate", "currency") if request.GET.get(k)}
            form = CorrectionForm(initial=initial)
        context = {
            **self.admin_site.each_context(request),
            "title": "Balance correction",
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "changelist_url": changelist_url,
        }
        return TemplateResponse(request, "billing/wallet/admin_balance_correction.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_correct": self.has_correction_permission(request),
                         "correction_url": reverse(f"{self.admin_site.name}:billing_balance_correction")}
        return super().changelist_view(request, extra_context)


# Payment methods and limits ------------------------------------------------------------------

@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Masked only: the clear details never reach a page, not even the admin."""

    list_display = ("affiliate", "type", "summary", "created_at")
    list_filter = ("type",)
    search_fields = ("affiliate__name", "affiliate__company_name", "=affiliate__id")
    list_select_related = ("affiliate",)
    fields = ("affiliate", "type", "masked_details", "created_at")
    readonly_fields = ("masked_details",)

    @admin.display(description="details (masked)")
    def summary(self, obj):
        return masked_summary(obj.type, obj.masked)

    @admin.display(description="details (masked)")
    def masked_details(self, obj):
        return _masked_table(obj.type, obj.masked)


@admin.register(CashoutLimit)
class CashoutLimitAdmin(admin.ModelAdmin):
    list_display = ("method_type", "currency", "min_amount", "max_amount")
    list_filter = ("method_type", "currency")
    list_editable = ("min_amount", "max_amount")


# Cashouts ----------------------------------------------------------------------------------

@admin.register(Cashout)
class CashoutAdmin(admin.ModelAdmin):
    list_display = ("id", "affiliate", "amount_shown", "currency", "payment_method_type", "status", "created_at",
                    "finished_at", "requested_by", "processed_by")
    list_filter = ("status", "currency", "payment_method_type", "created_at")
    search_fields = ("=id", "affiliate__name", "affiliate__company_name", "=affiliate__id")
    list_select_related = ("affiliate", "requested_by", "processed_by")
    date_hierarchy = "created_at"
    fields = ("affiliate", "amount", "currency", "status", "payment_method_type", "masked_details", "schedule",
              "requested_by", "processed_by", "comment", "created_at", "finished_at", "idempotency_key")
    readonly_fields = fields
    actions = ["accept_selected", "cancel_selected", "refund_selected"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The actions need "change"; the form itself is read only (statuses move by action).
        return obj is None and super().has_change_permission(request)

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, obj):
        return money_display(obj.amount, obj.currency)

    @admin.display(description="payment details (masked)")
    def masked_details(self, obj):
        return _masked_table(obj.payment_method_type, obj.payment_details_masked)

    def _each(self, request, queryset, apply: Callable, *, change_message: str) -> None:
        """One service call per cashout in pk order; each outcome is its own message and one
        refusal does not stop the others."""
        for cashout in queryset.select_related(None).order_by("pk"):
            try:
                message = apply(cashout)
            except BillingError as exc:
                self.message_user(request, f"Cashout #{cashout.pk}: {exc.message}", messages.WARNING)
            else:
                self.log_change(request, cashout, change_message)
                self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Accept (success)", permissions=["change"], location=BOTH)
    def accept_selected(self, request, queryset):
        def accept(c):
            c = cashout_accept(cashout=c, actor=request.user)
            return f"Cashout #{c.pk} accepted: {money_display(c.amount, c.currency)} {c.currency} paid."

        self._each(request, queryset, accept, change_message="Accepted")

    @admin.action(description="Cancel", permissions=["change"], location=BOTH)
    def cancel_selected(self, request, queryset):
        def cancel(c):
            c = cashout_cancel(cashout=c, actor=request.user)
            return (f"Cashout #{c.pk} cancelled: {money_display(c.amount, c.currency)} {c.currency} "
                    f"returned to {c.affiliate}'s balance.")

        self._each(request, queryset, cancel, change_message="Cancelled")

    @admin.action(description="Refund", permissions=["change"], location=BOTH)
    def refund_selected(self, request, queryset):
        def refund(c):
            c = cashout_refund(cashout=c, actor=request.user)
            return (f"Cashout #{c.pk} refunded: {money_display(c.amount, c.currency)} {c.currency} "
                    f"returned to {c.affiliate}'s balance.")

        self._each(request, queryset, refund, change_message="Refunded")


@admin.register(CashoutSchedule)
class CashoutScheduleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: schedules are the affiliate's (set up behind 2FA in the portal)."""

    list_display = ("id", "affiliate", "payment_method", "currency", "min_amount", "max_amount", "plan", "is_active")
    list_filter = ("plan", "currency", "is_active")
    search_fields = ("affiliate__name", "=affiliate__id")
    list_select_related = ("affiliate", "payment_method")


@admin.register(CashoutScheduleRun)
class CashoutScheduleRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each daily run of a schedule did (cashout created, balance below minimum, failed)."""

    list_display = ("run_date", "schedule", "result", "cashout", "created_at")
    list_filter = ("run_date",)
    search_fields = ("schedule__affiliate__name", "result")
    date_hierarchy = "run_date"
    list_select_related = ("schedule__affiliate", "cashout")
