"""Simultaneous withdrawals against one balance: never an overdraft, never a second cashout for
one idempotency key.

Needs real row locks, so PostgreSQL only: DATABASE_URL=postgres://... .
"""
from decimal import Decimal

from django.db.models import Sum

from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction, Cashout
from billing.services.cashouts import cashout_request
from tests.billing.factories import bank_method, fund
from tests.concurrency import POSTGRES_ONLY, race
from tests.partners.factories import UserFactory

pytestmark = POSTGRES_ONLY


def assert_ledger_consistent(affiliate):
    balance = Balance.objects.get(affiliate=affiliate, currency="EUR").amount
    total = BalanceTransaction.objects.filter(affiliate=affiliate, currency="EUR").aggregate(s=Sum("amount"))["s"]
    assert balance == total
    assert balance >= 0
    assert not BalanceTransaction.objects.filter(affiliate=affiliate, balance_after__lt=0).exists()
    return balance


def test_twenty_simultaneous_withdrawals_never_overdraw():
    owner = UserFactory()
    affiliate = owner.affiliate
    method = bank_method(affiliate, actor=owner)
    fund(affiliate, "100.00")

    def withdraw(i):
        return lambda: cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("10.00"),
                                       payment_method=method, idempotency_key=f"withdraw:{affiliate.pk}:{i}")

    results, refused = race([withdraw(i) for i in range(20)], refused=(BillingError,))

    assert len(results) == 10
    assert len(refused) == 10
    assert all(exc.code == "insufficient" for exc in refused)
    assert Cashout.objects.filter(affiliate=affiliate).count() == 10
    assert BalanceTransaction.objects.filter(affiliate=affiliate, kind="cashout").count() == 10
    assert assert_ledger_consistent(affiliate) == Decimal("0.00")


def test_one_idempotency_key_from_five_threads_makes_one_cashout():
    owner = UserFactory()
    affiliate = owner.affiliate
    method = bank_method(affiliate, actor=owner)
    fund(affiliate, "100.00")
    key = f"withdraw:{affiliate.pk}:double-click"

    def withdraw():
        return cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("30.00"),
                               payment_method=method, idempotency_key=key)

    results, refused = race([withdraw] * 5, refused=(BillingError,))

    assert refused == []
    assert len({c.pk for c in results}) == 1
    assert Cashout.objects.filter(affiliate=affiliate).count() == 1
    assert BalanceTransaction.objects.filter(affiliate=affiliate, kind="cashout").count() == 1
    assert assert_ledger_consistent(affiliate) == Decimal("70.00")


def test_cancels_and_withdrawals_at_once_keep_the_ledger_consistent():
    from billing.services.cashouts import cashout_cancel

    owner = UserFactory()
    affiliate = owner.affiliate
    method = bank_method(affiliate, actor=owner)
    fund(affiliate, "50.00")
    pending = [cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("10.00"),
                               payment_method=method, idempotency_key=f"first:{i}") for i in range(5)]

    calls = [lambda c=c: cashout_cancel(cashout=c, actor=owner) for c in pending]
    calls += [lambda c=c: cashout_cancel(cashout=c, actor=owner) for c in pending]   # each cancelled twice
    calls += [lambda i=i: cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("10.00"),
                                          payment_method=method, idempotency_key=f"second:{i}") for i in range(8)]
    results, refused = race(calls, refused=(BillingError,))

    assert BalanceTransaction.objects.filter(affiliate=affiliate, kind="cashout_cancel").count() == 5
    assert all(exc.code in ("state", "insufficient") for exc in refused)
    assert sum(1 for exc in refused if exc.code == "state") == 5
    assert_ledger_consistent(affiliate)


def test_a_withdraw_form_submitted_three_times_at_once_makes_one_cashout(settings):
    from django.test import Client
    from django.urls import reverse

    from tests.billing.factories import current_code
    from tests.conftest import sign_in

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    owner = UserFactory()
    affiliate = owner.affiliate
    method = bank_method(affiliate, actor=owner)
    fund(affiliate, "100.00")
    signed_in = sign_in(Client(), owner, verified=True)
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    data = {"token": "6f1c2b9e-8a51-4a8e-9d4b-2f9e3f7c1a10", "currency": "EUR", "payment_method": method.pk,
            "amount": "60.00", "code": current_code(owner)}

    def submit():
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        return client.post(reverse("billing:withdraw"), data)

    responses, refused = race([submit] * 3, refused=(BillingError,))

    assert [r.status_code for r in responses] == [302, 302, 302]
    assert {r["Location"] for r in responses} == {reverse("billing:cashouts")}
    assert Cashout.objects.filter(affiliate=affiliate).count() == 1
    assert assert_ledger_consistent(affiliate) == Decimal("40.00")
