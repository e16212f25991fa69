"""Portal pages of the wallet: /partner/balance (the ledger), /partner/wallet (balances,
payment methods, schedules), adding and deleting payment methods, withdraw, /partner/cashouts.

Viewing is open to every user of the account; every financial action (add/delete a method,
withdraw, cancel a cashout) passes partners.portal.require_2fa first.
"""
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.views.decorators.http import require_GET, require_POST

from backoffice.money import quantize
from backoffice.net import client_ip
from billing.errors import BillingError
from billing.forms_wallet import BalanceFilterForm, PaymentMethodForm, WithdrawForm
from billing.models import Cashout, PaymentMethod
from billing.payment_details import FIELDS, PaymentDetailsInvalid
from billing.selectors import balance_list
from billing.selectors_wallet import (
    balance_currencies,
    balance_transaction_list,
    cashout_list,
    payment_method_list,
    payment_methods_for_display,
    withdrawable_currencies,
)
from billing.services.cashouts import cashout_cancel, cashout_request_confirmed, money_display
from billing.services.wallet import payment_method_add, payment_method_delete
from partners.portal import has_2fa, portal_view, require_2fa

TRANSACTIONS_PER_PAGE = 25
CASHOUTS_PER_PAGE = 25
SCHEDULES_TEMPLATE = "billing/wallet/_schedules.html"


def _form_error(form, exc: BillingError) -> None:
    if isinstance(exc, PaymentDetailsInvalid):
        for name, message in exc.errors.items():
            form.add_error(name if name in form.fields else None, message)
        return
    visible = {f.name for f in form.visible_fields()}
    form.add_error(exc.field if exc.field in visible else None, exc.message)


# Balance -----------------------------------------------------------------------------------

@portal_view
@require_GET
def balance_view(request):
    affiliate = request.affiliate
    form = BalanceFilterForm(request.GET or None, currencies=balance_currencies(affiliate=affiliate))
    filters = form.filters()
    if form.is_bound and form.errors:
        entries = balance_transaction_list(affiliate=affiliate).none()
    else:
        entries = balance_transaction_list(affiliate=affiliate, **filters)
    page = Paginator(entries, TRANSACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
        entry.amount_display = f"{quantize(entry.amount, entry.currency):+,}".replace("-", "\u2212")
        entry.balance_after_display = f"{quantize(entry.balance_after, entry.currency):,}"
    return render(request, "billing/wallet/balance.html", {
        "form": form,
        "page_obj": page,
        "filtered": form.is_bound and any(form.data.get(name) for name in form.fields),
    })


# Wallet ------------------------------------------------------------------------------------

def _schedules_context(affiliate) -> dict:
    """The schedules section is built in its own module; shown only once it exists."""
    try:
        select_template([SCHEDULES_TEMPLATE])
    except TemplateDoesNotExist:
        return {"show_schedules": False}
    try:
        from billing.selectors_schedules import schedule_list
    except ImportError:
        schedules = None
    else:
        schedules = schedule_list(affiliate=affiliate)
    return {"show_schedules": True, "schedules_template": SCHEDULES_TEMPLATE, "schedules": schedules}


@portal_view
@require_GET
def wallet_view(request):
    affiliate = request.affiliate
    withdrawable = set(withdrawable_currencies(affiliate=affiliate))
    balances = [
        {"currency": b.currency, "amount": money_display(b.amount, b.currency), "withdrawable": b.currency in withdrawable}
        for b in balance_list(affiliate=affiliate)
    ]
    added = {m.type for m in payment_method_list(affiliate=affiliate)}
    return render(request, "billing/wallet/wallet.html", {
        "balances": balances,
        "methods": payment_methods_for_display(affiliate=affiliate),
        "addable_types": [(value, label) for value, label in PaymentMethod.Type.choices if value not in added],
        "has_2fa": has_2fa(request.user) and request.user.is_verified(),
        **_schedules_context(affiliate),
    })


# Payment methods ---------------------------------------------------------------------------

@portal_view
@require_2fa
def payment_method_create_view(request):
    affiliate = request.affiliate
    method_type = request.POST.get("type") if request.method == "POST" else request.GET.get("type")
    added = {m.type for m in payment_method_list(affiliate=affiliate)}
    if method_type not in FIELDS:
        # First step: choose the payment system.
        return render(request, "billing/wallet/payment_method_choose.html", {
            "types": [(value, label, value in added) for value, label in PaymentMethod.Type.choices],
        })
    label = PaymentMethod.Type(method_type).label
    if request.method == "POST":
        form = PaymentMethodForm(request.POST, method_type=method_type)
        if form.is_valid():
            try:
                payment_method_add(affiliate=affiliate, actor=request.user, type=method_type,
                                   details=form.details, ip=client_ip(request))
            except BillingError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"{label} has been added to your payment methods.")
                return redirect("billing:wallet")
    else:
        form = PaymentMethodForm(method_type=method_type)
    return render(request, "billing/wallet/payment_method_form.html", {
        "form": form, "type_label": label, "already_added": method_type in added,
    })


@require_POST
@portal_view
@require_2fa
def payment_method_delete_view(request, method_id: int):
    method = get_object_or_404(payment_method_list(affiliate=request.affiliate), pk=method_id)
    label = method.get_type_display()
    try:
        payment_method_delete(payment_method=method, actor=request.user, ip=client_ip(request))
    except BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{label} has been deleted from your payment methods.")
    return redirect("billing:wallet")


# Withdraw ----------------------------------------------------------------------------------

def _withdraw_key(affiliate, token) -> str:
    return f"withdraw:{affiliate.pk}:{token}"


def _requested(request, cashout: Cashout):
    messages.success(
        request,
        f"Cashout #{cashout.pk} of {money_display(cashout.amount, cashout.currency)} {cashout.currency} "
        f"to {cashout.get_payment_method_type_display()} has been requested. "
        f"The amount has been taken from your balance.",
    )
    return redirect("billing:cashouts")


def _replayed_cashout(affiliate, token) -> Cashout | None:
    """The cashout a form with this token already made (a double submit), if any."""
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        return None
    return cashout_list(affiliate=affiliate).filter(idempotency_key=_withdraw_key(affiliate, token)).first()


@portal_view
@require_2fa
def withdraw_view(request):
    affiliate = request.affiliate
    methods = payment_method_list(affiliate=affiliate)
    currencies = withdrawable_currencies(affiliate=affiliate)
    available = {b.currency: money_display(b.amount, b.currency) for b in balance_list(affiliate=affiliate)}
    kwargs = {"currencies": currencies, "payment_methods": methods, "balances": available}
    if request.method == "POST":
        # A second submit of the same form shows what the first one did.
        done = _replayed_cashout(affiliate, request.POST.get("token"))
        if done is not None:
            return _requested(request, done)
        form = WithdrawForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                cashout = cashout_request_confirmed(
                    affiliate=affiliate, actor=request.user, code=data["code"], currency=data["currency"],
                    amount=data["amount"], payment_method=data["payment_method"],
                    idempotency_key=_withdraw_key(affiliate, data["token"]),
                )
            except BillingError as exc:
                _form_error(form, exc)
            else:
                return _requested(request, cashout)
        else:
            # The first submit may have committed (and emptied the balance) meanwhile.
            done = _replayed_cashout(affiliate, request.POST.get("token"))
            if done is not None:
                return _requested(request, done)
    else:
        initial = {}
        if request.GET.get("currency") in currencies:
            initial["currency"] = request.GET["currency"]
        form = WithdrawForm(initial=initial, **kwargs)
    return render(request, "billing/wallet/withdraw.html", {
        "form": form, "has_currencies": bool(currencies), "has_methods": methods.exists(),
    })


# Cashouts ----------------------------------------------------------------------------------

@portal_view
@require_GET
def cashout_list_view(request):
    page = Paginator(cashout_list(affiliate=request.affiliate), CASHOUTS_PER_PAGE).get_page(request.GET.get("page"))
    for cashout in page:
        cashout.amount_display = money_display(cashout.amount, cashout.currency)
    return render(request, "billing/wallet/cashout_list.html", {"page_obj": page})


@require_POST
@portal_view
@require_2fa
def cashout_cancel_view(request, cashout_id: int):
    cashout = get_object_or_404(cashout_list(affiliate=request.affiliate), pk=cashout_id)
    try:
        cashout_cancel(cashout=cashout, actor=request.user)
    except BillingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Cashout #{cashout.pk} has been cancelled; {money_display(cashout.amount, cashout.currency)} "
            f"{cashout.currency} is back on your balance.",
        )
    return redirect("billing:cashouts")

