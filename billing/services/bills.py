"""Bill state transitions: approve, hold, release, cancel, and corrections.

pending ──approve──▶ approved        (credits the ledger with the amount to be paid)
   │ ▲                 ▲
 hold release          │ approve
   ▼ │                 │
on_hold ───────────────┘
pending / on_hold ──cancel──▶ cancelled

Every transition locks the bill row (select_for_update) and re-reads its status under the
lock, so two managers clicking at once (or one double click) make one transition and, for
approval, one ledger entry; the ledger's idempotency key "bill:<pk>" is the second guard.
"""
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.mail import absolute_url, send_templated_mail
from backoffice.money import quantize
from billing.errors import BillingError
from billing.models import BalanceTransaction, Bill, BillCorrection
from billing.services.ledger import ledger_post
from partners.models import Event, User
from partners.services.events import event_record

OPEN_STATES = (Bill.Status.PENDING, Bill.Status.ON_HOLD)
# Bill amounts are stored with the field's places (2); a correction must fit them exactly.
_PLACES = BillCorrection._meta.get_field("amount").decimal_places
_MAX_DIGITS = BillCorrection._meta.get_field("amount").max_digits
COMMENT_MAX = BillCorrection._meta.get_field("comment").max_length


def bill_period_label(bill: Bill) -> str:
    if bill.period_start == bill.period_end:
        return bill.period_start.isoformat()
    return f"{bill.period_start.isoformat()} – {bill.period_end.isoformat()}"


def bill_amount_to_pay(*, bill: Bill) -> Decimal:
    """Issued amount plus every correction: what approval credits. Summed in Python so the
    result is exact Decimal on every database."""
    corrections = BillCorrection.objects.filter(bill=bill).values_list("amount", flat=True)
    return bill.issued_amount + sum(corrections, Decimal(0))


def _lock(bill: Bill) -> Bill:
    """The bill re-read under a row lock (the caller is inside transaction.atomic)."""
    try:
        return Bill.objects.select_for_update().select_related("affiliate").get(pk=bill.pk)
    except Bill.DoesNotExist:
        raise BillingError(f"Bill {bill.pk} no longer exists.", code="not_found") from None


def _refuse(bill: Bill, action: str) -> BillingError:
    return BillingError(
        f"Bill {bill.pk} is {bill.get_status_display().lower()}; "
        f"only pending or on-hold bills can be {action}.",
        code="invalid_state",
    )


@transaction.atomic
def bill_approve(*, bill: Bill, actor: User | None) -> Bill:
    """Approve a pending or on-hold bill and credit the affiliate's balance with the amount to
    be paid (nothing is posted when that amount is zero or less). Records "bill approved" and
    e-mails the account owner if they subscribe to payment news. Returns the bill; its
    `ledger_entry` attribute is the balance transaction made, or None."""
    bill = _lock(bill)
    if bill.status not in OPEN_STATES:
        raise _refuse(bill, "approved")
    amount = bill_amount_to_pay(bill=bill)
    period = bill_period_label(bill)
    entry = None
    if amount > 0:
        entry = ledger_post(
            affiliate=bill.affiliate,
            currency=bill.currency,
            amount=amount,
            kind=BalanceTransaction.Kind.BILL,
            idempotency_key=f"bill:{bill.pk}",
            actor=actor,
            bill=bill,
            reference=f"Bill #{bill.pk} {period}",
        )
    bill.status = Bill.Status.APPROVED
    bill.processed_at = timezone.now()
    bill.processed_by = actor
    bill.save(update_fields=["status", "processed_at", "processed_by"])
    shown = quantize(amount, bill.currency)
    event_record(
        affiliate=bill.affiliate,
        type=Event.Type.BILL_APPROVED,
        actor=actor,
        data={"bill_id": bill.pk, "amount": str(shown), "currency": bill.currency, "period": period},
    )
    owner = bill.affiliate.owner
    if owner is not None and bill.affiliate.subscribe_payments:
        send_templated_mail(
            to=[owner.email],
            subject=f"Bill #{bill.pk} approved: {shown} {bill.currency}",
            template="emails/billing/bill_approved.txt",
            context={
                "user": owner, "bill": bill, "amount": shown, "period": period,
                "credited": entry is not None,
                "bill_url": absolute_url(reverse("billing:bill_detail", args=[bill.pk])),
            },
        )
    bill.ledger_entry = entry
    return bill


def _move(bill: Bill, *, source: Bill.Status, target: Bill.Status, refusal: str) -> Bill:
    """Lock the bill and move it from `source` to `target`, or refuse naming its state."""
    bill = _lock(bill)
    if bill.status != source:
        raise BillingError(f"Bill {bill.pk} is {bill.get_status_display().lower()}; {refusal}.",
                           code="invalid_state")
    bill.status = target
    bill.save(update_fields=["status"])
    return bill


@transaction.atomic
def bill_hold(*, bill: Bill, actor: User | None) -> Bill:
    """Put a pending bill on hold while it is investigated."""
    return _move(bill, source=Bill.Status.PENDING, target=Bill.Status.ON_HOLD,
                 refusal="only pending bills can be put on hold")


@transaction.atomic
def bill_release(*, bill: Bill, actor: User | None) -> Bill:
    """Return an on-hold bill to pending."""
    return _move(bill, source=Bill.Status.ON_HOLD, target=Bill.Status.PENDING,
                 refusal="only on-hold bills can be released")


@transaction.atomic
def bill_cancel(*, bill: Bill, actor: User | None) -> Bill:
    """Cancel a pending or on-hold bill: nothing will be paid for it."""
    bill = _lock(bill)
    if bill.status not in OPEN_STATES:
        raise _refuse(bill, "cancelled")
    bill.status = Bill.Status.CANCELLED
    bill.processed_at = timezone.now()
    bill.processed_by = actor
    bill.save(update_fields=["status", "processed_at", "processed_by"])
    return bill


def _parse_amount(amount) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    try:
        value = Decimal(str(amount).strip()) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError):
        raise BillingError("Enter the amount as a number, e.g. 25.00 or -25.00.", field="amount") from None
    if not value.is_finite():
        raise BillingError("Enter the amount as a number, e.g. 25.00 or -25.00.", field="amount")
    if value != value.quantize(Decimal(1).scaleb(-_PLACES)):
        raise BillingError(f"Use at most {_PLACES} decimal places.", field="amount")
    if abs(value) >= Decimal(10) ** (_MAX_DIGITS - _PLACES):
        raise BillingError("The amount is too large.", field="amount")
    if value == 0:
        raise BillingError("The correction amount must not be zero: positive adds, negative subtracts.",
                           field="amount")
    return value


@transaction.atomic
def bill_correct(*, bill: Bill, actor: User | None, amount: Decimal, comment: str) -> BillCorrection:
    """Add (positive amount) to or subtract (negative) from a pending or on-hold bill's amount
    to be paid, with the reason. The amount to be paid may fall to zero, never below."""
    amount = _parse_amount(amount)
    comment = (comment or "").strip()
    if not comment:
        raise BillingError("Say why the bill is corrected: the comment is required.", field="comment")
    if len(comment) > COMMENT_MAX:
        raise BillingError(f"Keep the comment within {COMMENT_MAX} characters.", field="comment")
    bill = _lock(bill)
    if bill.status not in OPEN_STATES:
        raise _refuse(bill, "corrected")
    current = bill_amount_to_pay(bill=bill)
    if current + amount < 0:
        most = max(current, Decimal(0))
        raise BillingError(
            f"This correction would make the amount to be paid negative: bill {bill.pk} has "
            f"{quantize(current, bill.currency)} {bill.currency} to be paid, so at most "
            f"{quantize(most, bill.currency)} {bill.currency} can be subtracted.",
            field="amount", code="negative_total",
        )
    return BillCorrection.objects.create(bill=bill, amount=amount, comment=comment, actor=actor)
