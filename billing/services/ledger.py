"""The one way money moves on a balance: post an entry to the append-only ledger.

Every posting, in one transaction: lock the (affiliate, currency) balance row, refuse if the
result would be negative, update the cached balance and append the entry with the balance
after it. The idempotency key makes a retried request (double click, re-run job, replayed
task) return the entry it already made instead of moving money twice.
"""
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backoffice.money import quantize
from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction


def ledger_post(
    *,
    affiliate,
    currency: str,
    amount: Decimal,
    kind: BalanceTransaction.Kind,
    idempotency_key: str,
    actor=None,
    bill=None,
    cashout=None,
    reference: str = "",
    comment: str = "",
) -> BalanceTransaction:
    """Append one entry (positive adds, negative subtracts) and return it; on a replay of
    `idempotency_key` return the earlier entry unchanged. Raises BillingError (code
    "insufficient") when the balance would go below zero."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    amount = quantize(Decimal(amount), currency)
    if amount == 0:
        raise BillingError("The amount must not be zero.", field="amount")
    with transaction.atomic():
        Balance.objects.get_or_create(affiliate=affiliate, currency=currency)
        # One balance row per (affiliate, currency): a single lock, so no lock-order deadlock.
        balance = Balance.objects.select_for_update().get(affiliate=affiliate, currency=currency)
        # Checked under the lock: a concurrent request with the same key has committed by now.
        existing = BalanceTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.affiliate_id, existing.currency, existing.amount, existing.kind) != (
                affiliate.pk, currency, amount, kind,
            ):
                # Same key, different posting: a caller bug, never a reason to move money.
                raise BillingError(
                    f"Idempotency key {idempotency_key!r} was already used for another posting.",
                    code="idempotency_conflict",
                )
            return existing
        after = balance.amount + amount
        if after < 0:
            raise BillingError(
                f"Insufficient balance: {quantize(balance.amount, currency)} {currency} available, "
                f"{-amount} {currency} requested.",
                field="amount", code="insufficient",
            )
        balance.amount = after
        balance.updated_at = timezone.now()
        balance.save(update_fields=["amount", "updated_at"])
        return BalanceTransaction.objects.create(
            affiliate=affiliate, currency=currency, amount=amount, kind=kind,
            idempotency_key=idempotency_key, actor=actor, bill=bill, cashout=cashout,
            reference=reference[:200], comment=comment[:500], balance_after=after,
        )
