import contextlib
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction
from billing.services.ledger import ledger_post
from tests.partners.factories import AffiliateFactory

pytestmark = pytest.mark.django_db
Kind = BalanceTransaction.Kind


def test_a_posting_moves_the_balance_and_records_the_balance_after():
    affiliate = AffiliateFactory()

    ledger_post(affiliate=affiliate, currency="EUR", amount=Decimal("120.50"), kind=Kind.BILL, idempotency_key="bill:1")
    entry = ledger_post(affiliate=affiliate, currency="EUR", amount=Decimal("-20.25"), kind=Kind.CASHOUT,
                        idempotency_key="cashout:1")

    assert Balance.objects.get(affiliate=affiliate, currency="EUR").amount == Decimal("100.25")
    assert entry.balance_after == Decimal("100.25")


def test_a_replayed_key_returns_the_first_entry_and_moves_nothing():
    affiliate = AffiliateFactory()
    first = ledger_post(affiliate=affiliate, currency="EUR", amount=Decimal("10"), kind=Kind.BILL, idempotency_key="bill:9")

    again = ledger_post(affiliate=affiliate, currency="EUR", amount=Decimal("10"), kind=Kind.BILL, idempotency_key="bill:9")

    assert again.pk == first.pk
    assert Balance.objects.get(affiliate=affiliate).amount == Decimal("10.00")


def test_a_key_reused_for_another_posting_is_refused_not_returned():
    first, second = AffiliateFactory(), AffiliateFactory()
    ledger_post(affiliate=first, currency="EUR", amount=Decimal("10"), kind=Kind.BILL, idempotency_key="k:1")

    with pytest.raises(BillingError, match="already used for another posting"):
        ledger_post(affiliate=second, currency="EUR", amount=Decimal("10"), kind=Kind.BILL, idempotency_key="k:1")

    assert not Balance.objects.filter(affiliate=second, amount__gt=0).exists()


def test_an_overdraft_is_refused_with_the_available_amount():
    affiliate = AffiliateFactory()
    ledger_post(affiliate=affiliate, currency="USD", amount=Decimal("5"), kind=Kind.BILL, idempotency_key="bill:2")

    with pytest.raises(BillingError, match="5.00 USD available, 7.00 USD requested"):
        ledger_post(affiliate=affiliate, currency="USD", amount=Decimal("-7"), kind=Kind.CASHOUT, idempotency_key="c:2")

    assert Balance.objects.get(affiliate=affiliate).amount == Decimal("5.00")
    assert BalanceTransaction.objects.count() == 1


def test_the_database_itself_refuses_a_negative_balance():
    affiliate = AffiliateFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.create(affiliate=affiliate, currency="EUR", amount=Decimal("-0.01"))


def test_floats_are_refused():
    with pytest.raises(TypeError):
        ledger_post(affiliate=AffiliateFactory(), currency="EUR", amount=0.1, kind=Kind.BILL, idempotency_key="f")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["EUR", "USD"]),
                          st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False)),
                min_size=1, max_size=25))
def test_every_balance_equals_the_sum_of_its_entries_and_is_never_negative(moves):
    affiliate = AffiliateFactory()
    for i, (currency, amount) in enumerate(moves):
        if amount == 0:
            continue
        with contextlib.suppress(BillingError):  # an overdraft is refused; the property must still hold
            ledger_post(affiliate=affiliate, currency=currency, amount=amount,
                        kind=Kind.BILL if amount > 0 else Kind.CASHOUT, idempotency_key=f"{affiliate.pk}:{i}")
    for balance in Balance.objects.filter(affiliate=affiliate):
        entries = BalanceTransaction.objects.filter(affiliate=affiliate, currency=balance.currency)
        assert balance.amount == sum((e.amount for e in entries), Decimal(0))
        assert balance.amount >= 0
