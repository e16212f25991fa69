"""Manager balance corrections: add to or subtract from an affiliate's balance, with a comment
the affiliate sees in the events log."""
from decimal import Decimal

from django.db import transaction

from backoffice.money import CURRENCIES, places, quantize
from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction
from billing.services.ledger import ledger_post
from partners.models import Event
from partners.services.events import event_record


def balance_correction_make(
    *,
    affiliate,
    currency: str,
    amount: Decimal,
    comment: str,
    actor,
    idempotency_key: str,
) -> BalanceTransaction:
    """Post a signed correction (positive adds, negative subtracts) and log it. Idempotent by
    `idempotency_key`: a resubmitted form returns the entry it made. A subtraction below zero
    is refused with the available amount."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    if currency not in CURRENCIES:
        raise BillingError(f"{currency} is not a supported currency.", field="currency")
    amount = Decimal(amount)
    if not amount.is_finite() or amount == 0:
        raise BillingError("Enter a non-zero amount: positive adds to the balance, negative subtracts.",
                           field="amount")
    if quantize(amount, currency) != amount:
        raise BillingError(f"{currency} amounts have at most {places(currency)} decimal places.", field="amount")
    comment = (comment or "").strip()
    if not comment:
        raise BillingError("Say why the balance is corrected: the affiliate sees this comment.", field="comment")
    key = idempotency_key
    with transaction.atomic():
        Balance.objects.get_or_create(affiliate=affiliate, currency=currency)
        # Under the balance lock a replay of the key sees the first entry (and logs nothing).
        balance = Balance.objects.select_for_update().get(affiliate=affiliate, currency=currency)
        existing = BalanceTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None and existing.affiliate_id == affiliate.pk:
            return existing
        if balance.amount + amount < 0:
            raise BillingError(
                f"This correction would make the balance negative: {quantize(balance.amount, currency)} "
                f"{currency} available, {quantize(-amount, currency)} {currency} to subtract.",
                field="amount", code="insufficient",
            )
        entry = ledger_post(
            affiliate=affiliate, currency=currency, amount=amount, kind=BalanceTransaction.Kind.BALANCE_CORRECTION,
            idempotency_key=key, actor=actor, reference="Balance correction", comment=comment,
        )
        event_record(
            affiliate=affiliate, type=Event.Type.BALANCE_CORRECTION_MADE, actor=actor,
            data={
                "amount": f"{quantize(amount, currency):+}",
                "currency": currency,
                "comment": comment,
                "balance_after": str(quantize(entry.balance_after, currency)),
            },
        )
    return entry
