"""Withdraw (2FA code, limits, balance, idempotency) and the cashout transitions: cancel,
accept, refund — each allowed or refused with a message naming the state, and its ledger
effect; the cashouts page and its scoping."""
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction, Cashout, CashoutLimit
from billing.services.cashouts import (
    cashout_accept,
    cashout_cancel,
    cashout_refund,
    cashout_request,
)
from billing.services.ledger import ledger_post
from partners.models import Event
from tests.billing.factories import bank_method, current_code, fund
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = BalanceTransaction.Kind
WITHDRAW = reverse("billing:withdraw")


@pytest.fixture(autouse=True)
def _no_throttle_wait(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def balance(affiliate, currency="EUR") -> Decimal:
    return Balance.objects.get(affiliate=affiliate, currency=currency).amount


@pytest.fixture
def owner(client):
    user = UserFactory()
    sign_in(client, user, verified=True)
    fund(user.affiliate, "100.00")
    return user


@pytest.fixture
def method(owner):
    return bank_method(owner.affiliate, actor=owner)


def withdraw_form(client, **data):
    """GET the form (which issues the idempotency token), then the POST data to send."""
    response = client.get(WITHDRAW)
    token = response.context["form"]["token"].value()
    return {"token": str(token), **data}


def code_ahead(user, steps_ahead: int) -> str:
    import base64
    import time

    import pyotp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).at(time.time() + 30 * steps_ahead)


def request_cashout(affiliate, method, amount="10.00", key=None, actor=None):
    return cashout_request(affiliate=affiliate, actor=actor, currency="EUR", amount=Decimal(amount),
                           payment_method=method, idempotency_key=key or str(uuid.uuid4()))


# --- Withdraw on the portal ----------------------------------------------------------------

def test_withdrawing_debits_the_balance_at_once_and_logs_it(client, owner, method, django_capture_on_commit_callbacks):
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="40.00",
                         code=current_code(owner))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(WITHDRAW, data, follow=True)

    cashout = Cashout.objects.get()
    assert response.redirect_chain[-1][0] == reverse("billing:cashouts")
    html = response.content.decode()
    assert f"Cashout #{cashout.pk} of 40.00 EUR to Bank transfer has been requested." in html
    assert cashout.status == Cashout.Status.PENDING
    assert cashout.requested_by == owner
    assert cashout.payment_method_type == "bank_transfer"
    assert cashout.payment_details_masked["IBAN"] == "DE89 •••• •••• •••• 3000"
    assert cashout.idempotency_key == f"withdraw:{owner.affiliate.pk}:{data['token']}"
    assert balance(owner.affiliate) == Decimal("60.00")
    entry = BalanceTransaction.objects.get(kind=Kind.CASHOUT)
    assert (entry.amount, entry.idempotency_key, entry.cashout) == (Decimal("-40.00"), f"cashout:{cashout.pk}", cashout)
    event = Event.objects.get(type=Event.Type.CASHOUT_REQUESTED)
    assert event.data["amount"] == "40.00"
    assert event.data["currency"] == "EUR"
    assert event.data["payment_method"] == "Bank transfer"
    assert event.data["payment_details"]["IBAN"] == "DE89 •••• •••• •••• 3000"
    assert event.data["requested_by"] == owner.email
    assert "DE89370400440532013000" not in str(event.data)
    assert len(mail.outbox) == 1
    assert "40.00 EUR" in mail.outbox[0].body
    assert mail.outbox[0].to == [owner.email]


def test_a_double_submit_creates_one_cashout_and_shows_the_same_result(client, owner, method):
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="100.00",
                         code=current_code(owner))

    first = client.post(WITHDRAW, data, follow=True)
    second = client.post(WITHDRAW, data, follow=True)   # same token, same (now used) code, empty balance

    cashout = Cashout.objects.get()
    message = f"Cashout #{cashout.pk} of 100.00 EUR to Bank transfer has been requested."
    assert message in first.content.decode()
    assert message in second.content.decode()
    assert second.redirect_chain[-1][0] == reverse("billing:cashouts")
    assert BalanceTransaction.objects.filter(kind=Kind.CASHOUT).count() == 1
    assert balance(owner.affiliate) == Decimal("0.00")


def test_a_new_form_makes_a_new_cashout(client, owner, method):
    for steps_ahead in (0, 1):  # a code is accepted once: the second form carries the next one
        data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="10.00",
                             code=code_ahead(owner, steps_ahead))
        assert client.post(WITHDRAW, data).status_code == 302

    assert Cashout.objects.count() == 2
    assert balance(owner.affiliate) == Decimal("80.00")


def test_a_wrong_code_is_a_field_error_and_nothing_happens(client, owner, method):
    good = current_code(owner)
    wrong = "000000" if good != "000000" else "111111"
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="10.00", code=wrong)

    response = client.post(WITHDRAW, data)

    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        "The code is not correct. Enter the current code from your authenticator app."]
    assert not Cashout.objects.exists()
    assert balance(owner.affiliate) == Decimal("100.00")


def test_repeated_wrong_codes_are_throttled_with_a_message(client, owner, method, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    good = current_code(owner)
    wrong = "000000" if good != "000000" else "111111"
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="10.00", code=wrong)
    client.post(WITHDRAW, data)

    response = client.post(WITHDRAW, {**data, "code": good})

    errors = response.context["form"].errors["code"]
    assert errors and errors[0].startswith("Too many attempts with a wrong code. Wait")
    assert not Cashout.objects.exists()


def test_an_amount_outside_the_limits_names_both(client, owner, method):
    CashoutLimit.objects.create(method_type="bank_transfer", currency="EUR", min_amount=Decimal("50.00"),
                                max_amount=Decimal("5000.00"))
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="20.00",
                         code=current_code(owner))

    response = client.post(WITHDRAW, data)

    assert response.context["form"].errors["amount"] == [
        "The amount must be between 50.00 and 5,000.00 EUR with Bank transfer."]
    assert "between 50.00 and 5,000.00 EUR with Bank transfer" in response.content.decode()
    assert not Cashout.objects.exists()


def test_limits_apply_per_payment_system_and_currency(owner, method):
    CashoutLimit.objects.create(method_type="skrill", currency="EUR", min_amount=Decimal("50.00"),
                                max_amount=Decimal("60.00"))
    CashoutLimit.objects.create(method_type="bank_transfer", currency="USD", min_amount=Decimal("50.00"),
                                max_amount=Decimal("60.00"))

    request_cashout(owner.affiliate, method, amount="5.00")   # no bank transfer EUR limit: no limit

    CashoutLimit.objects.create(method_type="bank_transfer", currency="EUR", min_amount=Decimal("1.00"),
                                max_amount=Decimal("10.00"))
    request_cashout(owner.affiliate, method, amount="10.00")   # the maximum itself is allowed
    with pytest.raises(BillingError, match="between 1.00 and 10.00 EUR with Bank transfer"):
        request_cashout(owner.affiliate, method, amount="10.01")


def test_more_than_the_balance_is_refused_and_nothing_is_created(client, owner, method):
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount="100.01",
                         code=current_code(owner))

    response = client.post(WITHDRAW, data)

    assert response.context["form"].errors["amount"] == [
        "Insufficient balance: 100.00 EUR available, 100.01 EUR requested."]
    assert not Cashout.objects.exists()
    assert BalanceTransaction.objects.filter(kind=Kind.CASHOUT).count() == 0
    assert not Event.objects.filter(type=Event.Type.CASHOUT_REQUESTED).exists()


@pytest.mark.parametrize(("amount", "message"), [
    ("0", "Enter an amount greater than zero."),
    ("-5", "Ensure this value is greater than or equal to 0."),
    ("1.005", "EUR amounts have at most 2 decimal places."),
    ("abc", "Enter a number."),
])
def test_bad_amounts_are_form_errors(client, owner, method, amount, message):
    data = withdraw_form(client, currency="EUR", payment_method=method.pk, amount=amount, code=current_code(owner))

    response = client.post(WITHDRAW, data)

    assert response.status_code == 200
    assert message in response.context["form"].errors["amount"]


def test_only_currencies_with_a_balance_and_own_methods_are_offered(client, owner, method):
    fund(owner.affiliate, "5.00", "USD")
    zero = fund(owner.affiliate, "1.00", "GBP")
    # back to zero: a GBP balance row with nothing to withdraw
    ledger_post(affiliate=owner.affiliate, currency="GBP", amount=-zero.amount, kind=Kind.BALANCE_CORRECTION,
                idempotency_key="gbp-zero")
    other = UserFactory()
    other_method = bank_method(other.affiliate, actor=other)

    form = client.get(WITHDRAW).context["form"]

    assert [c for c, _ in form.fields["currency"].choices] == ["EUR", "USD"]
    assert list(form.fields["payment_method"].queryset) == [method]
    data = withdraw_form(client, currency="EUR", payment_method=other_method.pk, amount="1.00",
                         code=current_code(owner))
    assert "payment_method" in client.post(WITHDRAW, data).context["form"].errors
    data = withdraw_form(client, currency="GBP", payment_method=method.pk, amount="1.00", code=current_code(owner))
    assert "currency" in client.post(WITHDRAW, data).context["form"].errors


def test_withdraw_needs_2fa_enabled(client, method):
    user = UserFactory()
    sign_in(client, user)

    response = client.post(WITHDRAW, {"currency": "EUR"}, follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("partners:two_factor_enable"))
    assert "Financial actions require two-factor authentication." in response.content.decode()
    assert not Cashout.objects.exists()


def test_a_tampered_token_is_a_form_error_not_a_crash(client, owner, method):
    response = client.post(WITHDRAW, {"token": "not-a-uuid", "currency": "EUR", "payment_method": method.pk,
                                      "amount": "1.00", "code": current_code(owner)})

    assert response.status_code == 200
    assert "This form is out of date. Reload the page and submit it again." in response.content.decode()


# --- The request service --------------------------------------------------------------------

def test_a_request_with_the_same_key_returns_the_first_cashout(owner, method):
    first = request_cashout(owner.affiliate, method, amount="10.00", key="same")
    again = request_cashout(owner.affiliate, method, amount="10.00", key="same")

    assert again.pk == first.pk
    assert balance(owner.affiliate) == Decimal("90.00")


def test_a_method_of_another_affiliate_is_refused(owner):
    other = UserFactory()
    with pytest.raises(BillingError, match="Choose one of your payment methods."):
        request_cashout(owner.affiliate, bank_method(other.affiliate))


def test_floats_are_refused(owner, method):
    with pytest.raises(TypeError):
        cashout_request(affiliate=owner.affiliate, actor=owner, currency="EUR", amount=10.0,
                        payment_method=method, idempotency_key="f")


# --- Transitions ----------------------------------------------------------------------------

@pytest.fixture
def manager():
    return StaffFactory(first_name="Mia", last_name="Manager")


def test_cancel_returns_the_funds(owner, method, django_capture_on_commit_callbacks):
    cashout = request_cashout(owner.affiliate, method, amount="30.00")

    with django_capture_on_commit_callbacks(execute=True):
        cashout_cancel(cashout=cashout, actor=owner)

    cashout.refresh_from_db()
    assert cashout.status == Cashout.Status.CANCELLED
    assert cashout.finished_at is not None
    assert balance(owner.affiliate) == Decimal("100.00")
    entry = BalanceTransaction.objects.get(kind=Kind.CASHOUT_CANCEL)
    assert (entry.amount, entry.idempotency_key) == (Decimal("30.00"), f"cashout_cancel:{cashout.pk}")
    event = Event.objects.get(type=Event.Type.CASHOUT_CANCELLED)
    assert event.data["cancelled_by"] == owner.email
    assert "cancelled" in mail.outbox[-1].subject


def test_a_manager_can_cancel_and_is_named(owner, method, manager):
    cashout = request_cashout(owner.affiliate, method)

    cashout_cancel(cashout=cashout, actor=manager)

    assert Event.objects.get(type=Event.Type.CASHOUT_CANCELLED).data["cancelled_by"] == "Mia Manager (program manager)"


def test_accept_closes_it_without_moving_money(owner, method, manager):
    cashout = request_cashout(owner.affiliate, method, amount="30.00")

    cashout_accept(cashout=cashout, actor=manager)

    cashout.refresh_from_db()
    assert cashout.status == Cashout.Status.SUCCESS
    assert cashout.finished_at is not None
    assert cashout.processed_by == manager
    assert balance(owner.affiliate) == Decimal("70.00")
    assert BalanceTransaction.objects.count() == 2   # fund + cashout
    assert Event.objects.filter(type=Event.Type.CASHOUT_ACCEPTED).count() == 1


def test_refund_returns_the_funds_and_names_the_original_payment(owner, method, manager):
    cashout = request_cashout(owner.affiliate, method, amount="30.00")
    cashout_accept(cashout=cashout, actor=manager)

    cashout_refund(cashout=cashout, actor=manager)

    cashout.refresh_from_db()
    assert cashout.status == Cashout.Status.REFUNDED
    assert balance(owner.affiliate) == Decimal("100.00")
    entry = BalanceTransaction.objects.get(kind=Kind.REFUND)
    assert (entry.amount, entry.idempotency_key) == (Decimal("30.00"), f"refund:{cashout.pk}")
    event = Event.objects.get(type=Event.Type.REFUND_MADE)
    assert event.data["refunded_amount"] == "30.00"
    assert event.data["original_payment"]["cashout_id"] == cashout.pk
    assert event.data["original_payment"]["paid_at"]


@pytest.mark.parametrize(("setup", "transition", "message"), [
    ("cancelled", "cancel", "cashout {pk} is cancelled; only pending cashouts can be cancelled."),
    ("success", "cancel", "cashout {pk} is success; only pending cashouts can be cancelled."),
    ("cancelled", "accept", "cashout {pk} is cancelled; only pending cashouts can be accepted."),
    ("success", "accept", "cashout {pk} is success; only pending cashouts can be accepted."),
    ("pending", "refund", "cashout {pk} is pending; only successful cashouts can be refunded."),
    ("cancelled", "refund", "cashout {pk} is cancelled; only successful cashouts can be refunded."),
    ("refunded", "refund", "cashout {pk} is refunded; only successful cashouts can be refunded."),
    ("refunded", "cancel", "cashout {pk} is refunded; only pending cashouts can be cancelled."),
])
def test_refused_transitions_name_the_current_state_and_move_nothing(owner, method, manager, setup, transition,
                                                                      message):
    cashout = request_cashout(owner.affiliate, method, amount="30.00")
    if setup in ("success", "refunded"):
        cashout_accept(cashout=cashout, actor=manager)
    if setup == "refunded":
        cashout_refund(cashout=cashout, actor=manager)
    if setup == "cancelled":
        cashout_cancel(cashout=cashout, actor=owner)
    before = (balance(owner.affiliate), BalanceTransaction.objects.count(), Event.objects.count())
    service = {"cancel": cashout_cancel, "accept": cashout_accept, "refund": cashout_refund}[transition]

    with pytest.raises(BillingError) as exc:
        service(cashout=cashout, actor=manager)

    assert exc.value.message == message.format(pk=cashout.pk)
    assert (balance(owner.affiliate), BalanceTransaction.objects.count(), Event.objects.count()) == before


def test_only_a_manager_accepts_or_refunds(owner, method):
    cashout = request_cashout(owner.affiliate, method)
    with pytest.raises(BillingError, match="Only a program manager can accept a cashout."):
        cashout_accept(cashout=cashout, actor=owner)


# --- The cashouts page ----------------------------------------------------------------------

def test_the_cashouts_page_lists_amount_status_dates_and_payment_system(client, owner, method, manager):
    fund(owner.affiliate, "2000.00")
    pending = request_cashout(owner.affiliate, method, amount="1234.5")
    done = request_cashout(owner.affiliate, method, amount="5.00")
    cashout_accept(cashout=done, actor=manager)
    other = UserFactory()
    fund(other.affiliate, "50.00")
    foreign = request_cashout(other.affiliate, bank_method(other.affiliate), amount="50.00")

    html = client.get(reverse("billing:cashouts")).content.decode()

    assert "1,234.50 EUR" in html
    assert "Bank transfer" in html
    assert "Pending" in html and "Success" in html
    assert reverse("billing:cashout_cancel", args=[pending.pk]) in html
    assert reverse("billing:cashout_cancel", args=[done.pk]) not in html
    assert f'id="cashout-{foreign.pk}"' not in html


def test_cancelling_on_the_portal(client, owner, method):
    cashout = request_cashout(owner.affiliate, method, amount="30.00", actor=owner)

    response = client.post(reverse("billing:cashout_cancel", args=[cashout.pk]), follow=True)

    assert f"Cashout #{cashout.pk} has been cancelled; 30.00 EUR is back on your balance." in response.content.decode()
    assert balance(owner.affiliate) == Decimal("100.00")


def test_cancelling_a_finished_cashout_on_the_portal_shows_why(client, owner, method, manager):
    cashout = request_cashout(owner.affiliate, method)
    cashout_accept(cashout=cashout, actor=manager)

    response = client.post(reverse("billing:cashout_cancel", args=[cashout.pk]), follow=True)

    assert f"cashout {cashout.pk} is success; only pending cashouts can be cancelled." in response.content.decode()


def test_another_affiliates_cashout_is_404(client, owner):
    other = UserFactory()
    fund(other.affiliate, "50.00")
    cashout = request_cashout(other.affiliate, bank_method(other.affiliate))

    response = client.post(reverse("billing:cashout_cancel", args=[cashout.pk]))

    assert response.status_code == 404
    cashout.refresh_from_db()
    assert cashout.status == Cashout.Status.PENDING


def test_cancelling_needs_2fa(client, method):
    user = method.affiliate.users.first() or UserFactory(affiliate=method.affiliate)
    cashout = request_cashout(method.affiliate, method)
    client.logout()
    sign_in(client, user)  # not verified

    response = client.post(reverse("billing:cashout_cancel", args=[cashout.pk]))

    assert response["Location"].startswith(reverse("partners:two_factor_enable"))
    cashout.refresh_from_db()
    assert cashout.status == Cashout.Status.PENDING
