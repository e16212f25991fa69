"""Cashouts: requesting one (the balance is debited at once) and its transitions.

    pending ──accept──▶ success ──refund──▶ refunded   (refund returns the funds)
       └─────cancel───▶ cancelled                      (cancel returns the funds)

Each transition locks the cashout row, checks the current status and names it when refusing.
Money moves only through ledger_post, with keys derived from the cashout ("cashout:7",
"cashout_cancel:7", "refund:7"), so no transition can move money twice.

Lock order: balance row, then payment method row (request); cashout row, then balance row
(cancel, refund). A request never locks an existing cashout, so the two orders cannot meet.
"""
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.mail import absolute_url, send_templated_mail
from backoffice.money import CURRENCIES, places, quantize
from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction, Cashout, CashoutLimit, PaymentMethod
from billing.services.ledger import ledger_post
from partners.errors import PartnersError
from partners.models import Event
from partners.services.events import event_record
from partners.services.otp import otp_verify

Status = Cashout.Status
Kind = BalanceTransaction.Kind


def money_display(amount: Decimal, currency: str) -> str:
    """"5,000.00" — quantized to the currency, with thousands separators."""
    return f"{quantize(amount, currency):,}"


def _who(actor) -> str:
    if actor is None:
        return "system"
    if actor.is_staff and not actor.affiliate_id:
        return f"{actor.get_full_name()} (program manager)"
    return actor.email


def _cashout_data(cashout: Cashout) -> dict:
    """What the events log shows about a cashout: masked details only."""
    return {
        "cashout_id": cashout.pk,
        "amount": str(quantize(cashout.amount, cashout.currency)),
        "currency": cashout.currency,
        "payment_method": cashout.get_payment_method_type_display(),
        "payment_details": cashout.payment_details_masked,
    }


def _mail(cashout: Cashout, *, template: str, subject: str) -> None:
    affiliate = cashout.affiliate
    owner = affiliate.owner
    if owner is None or not affiliate.subscribe_payments:
        return
    send_templated_mail(
        to=[owner.email], subject=subject, template=f"emails/billing/{template}.txt",
        context={
            "user": owner, "cashout": cashout,
            "amount": money_display(cashout.amount, cashout.currency),
            "cashouts_url": absolute_url(reverse("billing:cashouts")),
            "wallet_url": absolute_url(reverse("billing:wallet")),
        },
    )


def cashout_limit_error(*, method_type: str, currency: str, amount: Decimal) -> str | None:
    """The message naming both limits when `amount` is outside the program's limits for this
    payment system and currency; None when it is inside or no limit is set."""
    limit = CashoutLimit.objects.filter(method_type=method_type, currency=currency).first()
    if limit is None or limit.min_amount <= amount <= limit.max_amount:
        return None
    return (
        f"The amount must be between {money_display(limit.min_amount, currency)} and "
        f"{money_display(limit.max_amount, currency)} {currency} with "
        f"{PaymentMethod.Type(method_type).label}."
    )


def _clean_amount(amount, currency: str) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    if currency not in CURRENCIES:
        raise BillingError(f"{currency} is not a supported currency.", field="currency")
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise BillingError("Enter an amount greater than zero.", field="amount")
    if quantize(amount, currency) != amount:
        raise BillingError(f"{currency} amounts have at most {places(currency)} decimal places.", field="amount")
    return quantize(amount, currency)


def cashout_request(
    *,
    affiliate,
    actor,
    currency: str,
    amount: Decimal,
    payment_method: PaymentMethod,
    idempotency_key: str,
    schedule=None,
) -> Cashout:
    """Create a pending cashout and debit the balance at once, in one transaction.

    Idempotent by `idempotency_key`: a replay (double submit, re-run schedule) returns the
    cashout the first request made. Raises BillingError for an amount outside the limits of
    the payment system, a payment method that is not the affiliate's, or an insufficient
    balance (code "insufficient"); nothing is created then.
    """
    existing = Cashout.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, affiliate)
    amount = _clean_amount(amount, currency)
    if payment_method is None or payment_method.affiliate_id != affiliate.pk:
        raise BillingError("Choose one of your payment methods.", field="payment_method")
    limit_error = cashout_limit_error(method_type=payment_method.type, currency=currency, amount=amount)
    if limit_error:
        raise BillingError(limit_error, field="amount", code="limits")

    with transaction.atomic():
        # Every request on this balance queues here; the key is checked again under the lock,
        # where a concurrent request with the same key has committed its cashout.
        balance = Balance.objects.select_for_update().filter(affiliate=affiliate, currency=currency).first()
        existing = Cashout.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, affiliate)
        if balance is None:
            raise BillingError(f"You have no {currency} balance to withdraw.", field="currency", code="insufficient")
        method = PaymentMethod.objects.select_for_update().filter(pk=payment_method.pk, affiliate=affiliate).first()
        if method is None:
            raise BillingError("This payment method has been deleted. Choose another one.", field="payment_method")
        try:
            with transaction.atomic():
                cashout = Cashout.objects.create(
                    affiliate=affiliate, currency=currency, amount=amount, payment_method=method,
                    payment_method_type=method.type, payment_details_masked=method.masked,
                    requested_by=actor, idempotency_key=idempotency_key, schedule=schedule,
                )
        except IntegrityError:
            # The same key on another currency's balance (a different lock) got there first.
            existing = Cashout.objects.filter(idempotency_key=idempotency_key).first()
            if existing is None:
                raise
            return _replayed(existing, affiliate)
        ledger_post(
            affiliate=affiliate, currency=currency, amount=-amount, kind=Kind.CASHOUT,
            idempotency_key=f"cashout:{cashout.pk}", actor=actor, cashout=cashout,
            reference=f"Cashout #{cashout.pk}",
        )
        event_record(
            affiliate=affiliate, type=Event.Type.CASHOUT_REQUESTED, actor=actor,
            data={**_cashout_data(cashout), "requested_by": _who(actor)},
        )
        _mail(cashout, template="cashout_requested",
              subject=f"Cashout #{cashout.pk} of {money_display(amount, currency)} {currency} requested")
    return cashout


def _replayed(existing: Cashout, affiliate) -> Cashout:
    if existing.affiliate_id != affiliate.pk:
        raise BillingError("This request was already used. Reload the page and try again.")
    return existing


def cashout_request_confirmed(
    *,
    affiliate,
    actor,
    code: str,
    currency: str,
    amount: Decimal,
    payment_method: PaymentMethod,
    idempotency_key: str,
) -> Cashout:
    """The portal's withdraw: check `actor`'s current 2FA code, then cashout_request.

    A double submit carries the same key and the same code; the second would fail the code
    check (a code is accepted once), so the key is looked up first, under the lock of the
    user's device row: the second submit waits for the first to commit and gets its cashout.
    """
    error: BillingError | None = None
    cashout = None
    with transaction.atomic():
        TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=True).order_by("pk").first()
        existing = Cashout.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, affiliate)
        try:
            verified = otp_verify(user=actor, code=code)
        except PartnersError as exc:
            error = BillingError(exc.message, field="code", code="throttled")
        else:
            if not verified:
                # Not raised inside the transaction: the failed attempt must be committed so
                # that guessing stays throttled.
                error = BillingError("The code is not correct. Enter the current code from your "
                                     "authenticator app.", field="code", code="wrong_code")
            else:
                try:
                    with transaction.atomic():
                        cashout = cashout_request(
                            affiliate=affiliate, actor=actor, currency=currency, amount=amount,
                            payment_method=payment_method, idempotency_key=idempotency_key,
                        )
                except BillingError as exc:
                    error = exc
    if error is not None:
        raise error
    return cashout


def _locked(cashout: Cashout) -> Cashout:
    # The cashout row only: FOR UPDATE through a join would lock the affiliate row too, which
    # every concurrent insert referencing it needs (deadlock).
    return Cashout.objects.select_for_update().get(pk=cashout.pk)


def _refuse(cashout: Cashout, allowed: str, verb: str) -> BillingError:
    return BillingError(
        f"cashout {cashout.pk} is {cashout.get_status_display().lower()}; only {allowed} cashouts can be {verb}.",
        code="state",
    )


def _close(cashout: Cashout, *, status, actor, comment: str, finished: bool = True) -> None:
    """Save a transition: the new status, who and when it finished (a refund keeps the
    payment's own finish), and the comment if one was given."""
    cashout.status = status
    fields = ["status"]
    if finished:
        cashout.finished_at = timezone.now()
        cashout.processed_by = actor
        fields += ["finished_at", "processed_by"]
    if comment:
        cashout.comment = comment[:500]
        fields.append("comment")
    cashout.save(update_fields=fields)


def _require_manager(actor, verb: str) -> None:
    if actor is not None and not actor.is_staff:
        raise BillingError(f"Only a program manager can {verb} a cashout.", code="forbidden")


def cashout_cancel(*, cashout: Cashout, actor, comment: str = "") -> Cashout:
    """pending → cancelled, by the affiliate or a manager; the amount returns to the balance."""
    with transaction.atomic():
        cashout = _locked(cashout)
        if cashout.status != Status.PENDING:
            raise _refuse(cashout, "pending", "cancelled")
        if actor is not None and not actor.is_staff and actor.affiliate_id != cashout.affiliate_id:
            raise BillingError("This cashout is not yours.", code="forbidden")
        _close(cashout, status=Status.CANCELLED, actor=actor, comment=comment)
        ledger_post(
            affiliate=cashout.affiliate, currency=cashout.currency, amount=cashout.amount,
            kind=Kind.CASHOUT_CANCEL, idempotency_key=f"cashout_cancel:{cashout.pk}", actor=actor,
            cashout=cashout, reference=f"Cashout #{cashout.pk} cancelled", comment=comment,
        )
        event_record(
            affiliate=cashout.affiliate, type=Event.Type.CASHOUT_CANCELLED, actor=actor,
            data={**_cashout_data(cashout), "cancelled_by": _who(actor),
                  **({"comment": comment} if comment else {})},
        )
        _mail(cashout, template="cashout_cancelled",
              subject=f"Cashout #{cashout.pk} cancelled: the amount is back on your balance")
    return cashout


def cashout_accept(*, cashout: Cashout, actor, comment: str = "") -> Cashout:
    """pending → success: the manager has paid it."""
    _require_manager(actor, "accept")
    with transaction.atomic():
        cashout = _locked(cashout)
        if cashout.status != Status.PENDING:
            raise _refuse(cashout, "pending", "accepted")
        _close(cashout, status=Status.SUCCESS, actor=actor, comment=comment)
        event_record(
            affiliate=cashout.affiliate, type=Event.Type.CASHOUT_ACCEPTED, actor=actor,
            data={**_cashout_data(cashout), "accepted_by": _who(actor)},
        )
        _mail(cashout, template="cashout_accepted", subject=f"Cashout #{cashout.pk} has been paid")
    return cashout


def cashout_refund(*, cashout: Cashout, actor, comment: str = "") -> Cashout:
    """success → refunded: the payment came back; the amount returns to the balance."""
    _require_manager(actor, "refund")
    with transaction.atomic():
        cashout = _locked(cashout)
        if cashout.status != Status.SUCCESS:
            raise _refuse(cashout, "successful", "refunded")
        paid_at = cashout.finished_at
        _close(cashout, status=Status.REFUNDED, actor=actor, comment=comment, finished=False)
        ledger_post(
            affiliate=cashout.affiliate, currency=cashout.currency, amount=cashout.amount,
            kind=Kind.REFUND, idempotency_key=f"refund:{cashout.pk}", actor=actor, cashout=cashout,
            reference=f"Refund of cashout #{cashout.pk}", comment=comment,
        )
        event_record(
            affiliate=cashout.affiliate, type=Event.Type.REFUND_MADE, actor=actor,
            data={
                "refunded_amount": str(quantize(cashout.amount, cashout.currency)),
                "currency": cashout.currency,
                "original_payment": {
                    **_cashout_data(cashout),
                    "paid_at": paid_at.isoformat() if paid_at else None,
                },
                "refunded_by": _who(actor),
                **({"comment": comment} if comment else {}),
            },
        )
        _mail(cashout, template="cashout_refunded",
              subject=f"Cashout #{cashout.pk} refunded: the amount is back on your balance")
    return cashout
