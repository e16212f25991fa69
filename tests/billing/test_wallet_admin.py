"""Admin of the wallet: ledger and balances read only, the balance correction page, payment
methods masked and read only, cashout limits editable, cashout actions per item."""
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction, Cashout, CashoutLimit
from billing.services.cashouts import cashout_accept, cashout_request
from billing.services.corrections import balance_correction_make
from partners.models import Event
from tests.billing.factories import bank_method, fund
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
CORRECTION = reverse("admin:billing_balance_correction")
K = BalanceTransaction.Kind


@pytest.fixture
def manager():
    return StaffFactory(is_superuser=True, first_name="Mia", last_name="Manager")


@pytest.fixture
def admin_client(client, manager):
    return sign_in(client, manager, verified=True)


@pytest.fixture
def owner():
    user = UserFactory()
    fund(user.affiliate, "100.00")
    return user


def changelist(model):
    return reverse(f"admin:billing_{model}_changelist")


def run_action(client, action, cashouts):
    return client.post(changelist("cashout"), {"action": action, "_selected_action": [c.pk for c in cashouts]},
                       follow=True)


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def request_cashout(owner, amount="10.00"):
    return cashout_request(affiliate=owner.affiliate, actor=owner, currency="EUR", amount=Decimal(amount),
                           payment_method=owner.affiliate.payment_methods.first() or bank_method(owner.affiliate),
                           idempotency_key=str(uuid.uuid4()))


def balance(owner):
    return Balance.objects.get(affiliate=owner.affiliate, currency="EUR").amount


# --- Pages ------------------------------------------------------------------------------------

def test_pages_open_and_show_masked_details_only(admin_client, owner):
    cashout = request_cashout(owner)
    method = cashout.payment_method
    CashoutLimit.objects.create(method_type="bank_transfer", currency="EUR", min_amount=Decimal("1"),
                                max_amount=Decimal("10"))
    entry = BalanceTransaction.objects.first()
    pages = [
        changelist("balancetransaction"), changelist("balance"), changelist("paymentmethod"),
        changelist("cashoutlimit"), changelist("cashout"), CORRECTION,
        reverse("admin:billing_balancetransaction_change", args=[entry.pk]),
        reverse("admin:billing_paymentmethod_change", args=[method.pk]),
        reverse("admin:billing_cashout_change", args=[cashout.pk]),
        changelist("cashout") + "?status__exact=pending",
        changelist("balancetransaction") + "?kind__exact=cashout",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for clear in ("DE89370400440532013000", "Johanna Schmidt", "COBADEFFXXX"):
            assert clear not in html, url
    html = admin_client.get(reverse("admin:billing_paymentmethod_change", args=[method.pk])).content.decode()
    assert "DE89 •••• •••• •••• 3000" in html


def test_ledger_balances_and_methods_cannot_be_added_changed_or_deleted(admin_client, owner):
    method = bank_method(owner.affiliate)
    entry = BalanceTransaction.objects.first()
    balance_row = Balance.objects.first()

    for model in ("balancetransaction", "balance", "paymentmethod", "cashout"):
        assert admin_client.get(reverse(f"admin:billing_{model}_add")).status_code == 403
    for model, obj in (("balancetransaction", entry), ("balance", balance_row), ("paymentmethod", method)):
        assert admin_client.post(reverse(f"admin:billing_{model}_delete", args=[obj.pk]), {"post": "yes"}
                                 ).status_code == 403
    response = admin_client.post(reverse("admin:billing_balancetransaction_change", args=[entry.pk]),
                                 {"amount": "1000000"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.amount == Decimal("100.00")


def test_cashout_limits_are_editable(admin_client):
    response = admin_client.post(reverse("admin:billing_cashoutlimit_add"), {
        "method_type": "skrill", "currency": "EUR", "min_amount": "50", "max_amount": "5000"}, follow=True)

    assert response.status_code == 200
    limit = CashoutLimit.objects.get()
    assert (limit.min_amount, limit.max_amount) == (Decimal("50"), Decimal("5000"))

    response = admin_client.post(reverse("admin:billing_cashoutlimit_change", args=[limit.pk]), {
        "method_type": "skrill", "currency": "EUR", "min_amount": "60", "max_amount": "10"})
    assert response.status_code == 200  # form shown again with the error
    limit.refresh_from_db()
    assert limit.min_amount == Decimal("50")


# --- Cashout actions ----------------------------------------------------------------------------

def test_accept_action_reports_each_cashout(admin_client, owner, manager):
    pending = request_cashout(owner, "10.00")
    cancelled = request_cashout(owner, "5.00")
    run_action(admin_client, "cancel_selected", [cancelled])

    response = run_action(admin_client, "accept_selected", [pending, cancelled])

    msgs = page_messages(response)
    assert f"Cashout #{pending.pk} accepted: 10.00 EUR paid." in msgs
    assert (f"Cashout #{cancelled.pk}: cashout {cancelled.pk} is cancelled; only pending cashouts can be accepted."
            in msgs)
    pending.refresh_from_db()
    assert (pending.status, pending.processed_by) == (Cashout.Status.SUCCESS, manager)
    assert Event.objects.get(type=Event.Type.CASHOUT_ACCEPTED).data["accepted_by"] == "Mia Manager (program manager)"


def test_cancel_action_returns_the_funds(admin_client, owner):
    cashout = request_cashout(owner, "30.00")
    assert balance(owner) == Decimal("70.00")

    response = run_action(admin_client, "cancel_selected", [cashout])

    assert f"Cashout #{cashout.pk} cancelled: 30.00 EUR returned to {owner.affiliate}'s balance." in page_messages(
        response)
    assert balance(owner) == Decimal("100.00")
    assert Event.objects.get(type=Event.Type.CASHOUT_CANCELLED).data["cancelled_by"] == "Mia Manager (program manager)"


def test_refund_action_only_for_successful_cashouts(admin_client, owner, manager):
    paid = request_cashout(owner, "30.00")
    cashout_accept(cashout=paid, actor=manager)
    pending = request_cashout(owner, "20.00")

    response = run_action(admin_client, "refund_selected", [paid, pending])

    msgs = page_messages(response)
    assert f"Cashout #{paid.pk} refunded: 30.00 EUR returned to {owner.affiliate}'s balance." in msgs
    assert f"Cashout #{pending.pk}: cashout {pending.pk} is pending; only successful cashouts can be refunded." in msgs
    assert balance(owner) == Decimal("80.00")
    assert BalanceTransaction.objects.filter(kind=K.REFUND).count() == 1


def test_a_manager_without_change_permission_gets_no_actions(client, owner):
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_cashout"))
    sign_in(client, viewer, verified=True)
    cashout = request_cashout(owner)

    response = run_action(client, "accept_selected", [cashout])

    cashout.refresh_from_db()
    assert cashout.status == Cashout.Status.PENDING
    assert response.status_code == 200


# --- Balance correction -----------------------------------------------------------------------

def correction_data(admin_client, **data):
    token = admin_client.get(CORRECTION).context["form"]["token"].value()
    return {"token": str(token), **data}


def test_the_correction_page_adds_and_logs(admin_client, owner, manager):
    data = correction_data(admin_client, affiliate=owner.affiliate.pk, currency="EUR", amount="25.50",
                           comment="Bonus for the March campaign")

    response = admin_client.post(CORRECTION, data, follow=True)

    assert (f"Balance correction of +25.50 EUR made for {owner.affiliate}; the balance is now 125.50 EUR."
            in page_messages(response))
    entry = BalanceTransaction.objects.get(kind=K.BALANCE_CORRECTION)
    assert (entry.amount, entry.actor, entry.comment) == (Decimal("25.50"), manager, "Bonus for the March campaign")
    event = Event.objects.get(type=Event.Type.BALANCE_CORRECTION_MADE)
    assert event.data == {"amount": "+25.50", "currency": "EUR", "comment": "Bonus for the March campaign",
                          "balance_after": "125.50"}
    assert event.actor == manager


def test_a_resubmitted_correction_is_made_once(admin_client, owner):
    data = correction_data(admin_client, affiliate=owner.affiliate.pk, currency="EUR", amount="-10",
                           comment="Chargeback")

    admin_client.post(CORRECTION, data)
    admin_client.post(CORRECTION, data)

    assert balance(owner) == Decimal("90.00")
    assert Event.objects.filter(type=Event.Type.BALANCE_CORRECTION_MADE).count() == 1


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"amount": "-100.01", "comment": "x"}, "amount",
     "This correction would make the balance negative: 100.00 EUR available, 100.01 EUR to subtract."),
    ({"amount": "0", "comment": "x"}, "amount", "Enter a non-zero amount"),
    ({"amount": "1.001", "comment": "x"}, "amount", "EUR amounts have at most 2 decimal places."),
    ({"amount": "5", "comment": "   "}, "comment", "This field is required."),
    ({"amount": "abc", "comment": "x"}, "amount", "Enter a number."),
])
def test_the_correction_page_refuses_with_the_reason(admin_client, owner, data, field, message):
    response = admin_client.post(CORRECTION, correction_data(admin_client, affiliate=owner.affiliate.pk,
                                                             currency="EUR", **data))

    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert balance(owner) == Decimal("100.00")
    assert not BalanceTransaction.objects.filter(kind=K.BALANCE_CORRECTION).exists()


def test_an_unknown_affiliate_is_a_form_error(admin_client):
    response = admin_client.post(CORRECTION, correction_data(admin_client, affiliate=999999, currency="EUR",
                                                             amount="5", comment="x"))
    assert "affiliate" in response.context["form"].errors


def test_the_correction_page_needs_permission(client, owner):
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_balance"))
    sign_in(client, viewer, verified=True)

    assert client.get(CORRECTION).status_code == 403
    assert "Balance correction" not in client.get(changelist("balance")).content.decode()


def test_the_balance_list_links_to_the_correction_page(admin_client, owner):
    html = admin_client.get(changelist("balance")).content.decode()

    assert f"{CORRECTION}?affiliate={owner.affiliate.pk}&amp;currency=EUR" in html
    assert admin_client.get(CORRECTION, {"affiliate": owner.affiliate.pk, "currency": "EUR"}).context[
        "form"].initial["affiliate"] == str(owner.affiliate.pk)


def test_the_service_refuses_an_empty_comment_and_floats(owner, manager):
    with pytest.raises(BillingError, match="Say why"):
        balance_correction_make(affiliate=owner.affiliate, currency="EUR", amount=Decimal("1"), comment=" ",
                                actor=manager, idempotency_key="k")
    with pytest.raises(TypeError):
        balance_correction_make(affiliate=owner.affiliate, currency="EUR", amount=1.0, comment="x",
                                actor=manager, idempotency_key="k")
