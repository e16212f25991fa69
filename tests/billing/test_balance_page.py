"""/partner/balance: the affiliate's ledger with its filters."""
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.models import BalanceTransaction
from billing.services.cashouts import (
    cashout_accept,
    cashout_cancel,
    cashout_refund,
    cashout_request,
)
from billing.services.corrections import balance_correction_make
from tests.billing.factories import bank_method, fund
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("billing:balance")


@pytest.fixture
def owner(client):
    user = UserFactory()
    sign_in(client, user)
    return user


@pytest.fixture
def ledger(owner):
    """bill +500 EUR (1 Mar), correction -20 EUR (2 Mar), cashout -100 EUR cancelled (3 Mar),
    cashout -200 EUR paid then refunded (4 Mar), bill +0.12345678 BTC (5 Mar), bill +7 USD."""
    affiliate, manager = owner.affiliate, StaffFactory()
    method = bank_method(affiliate)
    with time_machine.travel(dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        fund(affiliate, "500.00")
    with time_machine.travel(dt.datetime(2024, 3, 2, 12, tzinfo=dt.UTC), tick=False):
        balance_correction_make(affiliate=affiliate, currency="EUR", amount=Decimal("-20.00"),
                                comment="Chargeback of March", actor=manager, idempotency_key="c1")
    with time_machine.travel(dt.datetime(2024, 3, 3, 12, tzinfo=dt.UTC), tick=False):
        c1 = cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("100.00"),
                             payment_method=method, idempotency_key="w1")
        cashout_cancel(cashout=c1, actor=owner)
    with time_machine.travel(dt.datetime(2024, 3, 4, 12, tzinfo=dt.UTC), tick=False):
        c2 = cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("200.00"),
                             payment_method=method, idempotency_key="w2")
        cashout_accept(cashout=c2, actor=manager)
        cashout_refund(cashout=c2, actor=manager)
    with time_machine.travel(dt.datetime(2024, 3, 5, 23, 30, tzinfo=dt.UTC), tick=False):
        fund(affiliate, "0.12345678", "BTC")
        fund(affiliate, "7.00", "USD")
    return {"cancelled": c1, "refunded": c2}


def shown(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def kinds(response):
    return [(e.kind, e.amount) for e in response.context["page_obj"]]


K = BalanceTransaction.Kind


def test_every_entry_newest_first_with_signed_quantized_amounts_and_balance_after(client, ledger):
    response = shown(client)

    assert len(kinds(response)) == 8
    html = response.content.decode()
    assert "+500.00" in html
    assert "\u221220.00" in html          # a real minus sign
    assert "+0.12345678" in html           # crypto: 8 places
    assert "Chargeback of March" in html
    assert f"Cashout #{ledger['cancelled'].pk} cancelled" in html
    assert "480.00" in html                # balance after the correction
    assert kinds(response)[-1] == (K.BILL, Decimal("500.00"))


@pytest.mark.parametrize(("type_", "expected"), [
    ("payment", {K.CASHOUT, K.CASHOUT_CANCEL, K.REFUND}),
    ("cashout", {K.CASHOUT, K.CASHOUT_CANCEL}),
    ("refund", {K.REFUND}),
    ("bill", {K.BILL}),
    ("balance_correction", {K.BALANCE_CORRECTION}),
])
def test_type_filter(client, ledger, type_, expected):
    assert {k for k, _ in kinds(shown(client, type=type_))} == expected


def test_payment_all_is_every_cashout_movement(client, ledger):
    amounts = sorted(a for _, a in kinds(shown(client, type="payment")))

    assert amounts == [Decimal("-200.00"), Decimal("-100.00"), Decimal("100.00"), Decimal("200.00")]


def test_action_filter(client, ledger):
    added = kinds(shown(client, action="added"))
    subtracted = kinds(shown(client, action="subtracted"))

    assert all(a > 0 for _, a in added) and len(added) == 5
    assert all(a < 0 for _, a in subtracted) and len(subtracted) == 3


def test_currency_filter(client, ledger):
    assert kinds(shown(client, currency="BTC")) == [(K.BILL, Decimal("0.12345678"))]
    assert kinds(shown(client, currency="USD")) == [(K.BILL, Decimal("7.00"))]


def test_amount_range_is_on_the_absolute_value(client, ledger):
    amounts = sorted(a for _, a in kinds(shown(client, currency="EUR", amount_min="100", amount_max="200")))

    assert amounts == [Decimal("-200.00"), Decimal("-100.00"), Decimal("100.00"), Decimal("200.00")]
    assert [a for _, a in kinds(shown(client, amount_max="0.2"))] == [Decimal("0.12345678")]


def test_date_range_is_whole_days(client, ledger):
    entries = kinds(shown(client, date_from="2024-03-03", date_to="2024-03-04"))

    assert {k for k, _ in entries} == {K.CASHOUT, K.CASHOUT_CANCEL, K.REFUND}
    assert len(entries) == 4


def test_date_range_uses_the_program_time_zone(client, ledger, settings):
    # 23:30 UTC on 5 March is already 6 March in Tallinn (UTC+2)
    settings.PROGRAM_TIME_ZONE = "Europe/Tallinn"

    assert len(kinds(shown(client, date_from="2024-03-06", date_to="2024-03-06"))) == 2
    assert len(kinds(shown(client, date_from="2024-03-05", date_to="2024-03-05"))) == 0


def test_filters_combine(client, ledger):
    assert kinds(shown(client, type="payment", action="added", amount_min="150")) == [(K.REFUND, Decimal("200.00"))]


@pytest.mark.parametrize("params", [
    {"amount_min": "abc"},
    {"amount_min": "-5"},
    {"amount_min": "1e400"},
    {"amount_min": "NaN"},
    {"amount_min": "10", "amount_max": "5"},
    {"date_from": "2024-02-30"},
    {"date_from": "0001-01-01"},
    {"date_from": "2024-03-05", "date_to": "2024-03-01"},
    {"type": "nonsense"},
    {"action": "both"},
    {"currency": "XXX"},
    {"page": "x"},
])
def test_bad_filter_input_is_a_form_error_never_a_500(client, ledger, params):
    response = client.get(URL, params)

    assert response.status_code == 200
    if "page" not in params:
        assert response.context["form"].errors
        assert "Correct the filter" in response.content.decode()


def test_pagination(client, owner):
    for _ in range(30):
        fund(owner.affiliate, "1.00")

    first, second = shown(client), shown(client, page=2)

    assert len(first.context["page_obj"]) == 25
    assert len(second.context["page_obj"]) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_only_the_affiliates_own_entries(client, owner):
    fund(owner.affiliate, "1.00")
    fund(UserFactory().affiliate, "999.00")

    assert kinds(shown(client)) == [(K.BILL, Decimal("1.00"))]
    assert "999.00" not in shown(client).content.decode()


def test_an_empty_ledger(client, owner):
    assert "No transactions" in shown(client).content.decode()
