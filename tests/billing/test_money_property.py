"""Random sequences of every money-moving service — bills approved, balance corrections,
cashouts requested, cancelled, accepted and refunded — keep the books straight: each balance
equals the sum of its ledger entries, never goes negative, and equals what the cashouts'
states imply."""
import contextlib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction, Cashout
from billing.services.bills import bill_approve
from billing.services.cashouts import (
    cashout_accept,
    cashout_cancel,
    cashout_refund,
    cashout_request,
)
from billing.services.corrections import balance_correction_make
from tests.billing.factories import BillFactory, CommissionPlanFactory, bank_method
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=2)
operations = st.lists(st.one_of(
    st.tuples(st.just("bill"), amounts),
    st.tuples(st.just("correction"), st.decimals(min_value=Decimal("-200"), max_value=Decimal("200"), places=2)),
    st.tuples(st.just("withdraw"), amounts),
    st.tuples(st.sampled_from(["cancel", "accept", "refund"]), st.integers(min_value=0, max_value=20)),
), min_size=1, max_size=30)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(operations)
def test_any_sequence_of_money_operations_keeps_the_books_straight(ops):
    owner = UserFactory()
    affiliate = owner.affiliate
    manager = StaffFactory(is_superuser=True)
    method = bank_method(affiliate)
    plan = CommissionPlanFactory(currency="EUR", brand__base_currency="EUR")
    credited = Decimal(0)
    for i, (op, value) in enumerate(ops):
        # A refused operation (overdraft, wrong state) must leave everything as it was.
        with contextlib.suppress(BillingError):
            if op == "bill":
                bill_approve(bill=BillFactory(affiliate=affiliate, plan=plan, issued_amount=value), actor=manager)
                credited += value
            elif op == "correction" and value != 0:
                balance_correction_make(affiliate=affiliate, currency="EUR", amount=value, comment="test",
                                        actor=manager, idempotency_key=f"c{affiliate.pk}:{i}")
                credited += value
            elif op == "withdraw":
                cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=value,
                                payment_method=method, idempotency_key=f"w{affiliate.pk}:{i}")
            else:
                cashouts = list(Cashout.objects.filter(affiliate=affiliate).order_by("pk"))
                if cashouts:
                    cashout = cashouts[value % len(cashouts)]
                    {"cancel": cashout_cancel, "accept": cashout_accept, "refund": cashout_refund}[op](
                        cashout=cashout, actor=manager)

    entries = BalanceTransaction.objects.filter(affiliate=affiliate, currency="EUR")
    balance = Balance.objects.filter(affiliate=affiliate, currency="EUR").first()
    held = sum((c.amount for c in Cashout.objects.filter(
        affiliate=affiliate, status__in=[Cashout.Status.PENDING, Cashout.Status.SUCCESS])), Decimal(0))
    amount = balance.amount if balance else Decimal(0)
    assert amount == sum((e.amount for e in entries), Decimal(0))
    assert amount >= 0
    assert amount == credited - held
