"""Bill state transitions and corrections (billing.services.bills), and the portal bills pages."""
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, connections
from django.urls import reverse

from billing.errors import BillingError
from billing.models import Balance, BalanceTransaction, Bill, BillCorrection
from billing.services.bills import (
    bill_amount_to_pay,
    bill_approve,
    bill_cancel,
    bill_correct,
    bill_hold,
    bill_release,
)
from partners.models import Event
from tests.billing.factories import (
    BillCorrectionFactory,
    BillFactory,
    BillLineFactory,
    BillPlayerLineFactory,
)
from tests.campaigns.factories import BrandFactory, CommissionPlanFactory
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Bill.Status


@pytest.fixture
def manager():
    return StaffFactory(first_name="Marta", last_name="Keller")


def owned_bill(**kwargs) -> Bill:
    """A bill whose affiliate has an owner (so there is somebody to e-mail)."""
    owner = UserFactory(email="owner@example.net")
    return BillFactory(affiliate=owner.affiliate, **kwargs)


def balance_of(bill: Bill) -> Decimal:
    row = Balance.objects.filter(affiliate=bill.affiliate, currency=bill.currency).first()
    return row.amount if row else Decimal(0)


# Approve ------------------------------------------------------------------------------------

def test_approving_credits_the_balance_records_the_event_and_emails_the_owner(manager, django_capture_on_commit_callbacks):
    bill = owned_bill(issued_amount=Decimal("120.50"))

    with django_capture_on_commit_callbacks(execute=True):
        bill_approve(bill=bill, actor=manager)

    bill.refresh_from_db()
    assert bill.status == S.APPROVED
    assert bill.processed_by == manager and bill.processed_at is not None
    entry = BalanceTransaction.objects.get(bill=bill)
    assert entry.kind == BalanceTransaction.Kind.BILL
    assert entry.amount == Decimal("120.50")
    assert entry.idempotency_key == f"bill:{bill.pk}"
    assert entry.reference.startswith(f"Bill #{bill.pk} ")
    assert balance_of(bill) == Decimal("120.50")
    event = Event.objects.get(affiliate=bill.affiliate, type=Event.Type.BILL_APPROVED)
    assert event.data == {"bill_id": bill.pk, "amount": "120.50", "currency": "EUR",
                          "period": f"{bill.period_start} – {bill.period_end}"}
    assert event.actor == manager
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@example.net"]
    assert "120.50 EUR" in message.subject
    assert f"http://testserver/partner/bills/{bill.pk}" in message.body
    assert "added to your balance" in message.body


def test_approving_pays_the_issued_amount_plus_corrections(manager):
    bill = owned_bill(issued_amount=Decimal("100.00"))
    BillCorrectionFactory(bill=bill, amount=Decimal("15.25"))
    BillCorrectionFactory(bill=bill, amount=Decimal("-40.00"))

    bill_approve(bill=bill, actor=manager)

    assert balance_of(bill) == Decimal("75.25")


def test_an_on_hold_bill_can_be_approved(manager):
    bill = owned_bill(status=S.ON_HOLD)

    bill_approve(bill=bill, actor=manager)

    assert Bill.objects.get(pk=bill.pk).status == S.APPROVED


def test_a_bill_with_nothing_to_pay_is_approved_without_a_ledger_entry(manager, django_capture_on_commit_callbacks):
    bill = owned_bill(issued_amount=Decimal("30.00"))
    BillCorrectionFactory(bill=bill, amount=Decimal("-30.00"))

    with django_capture_on_commit_callbacks(execute=True):
        approved = bill_approve(bill=bill, actor=manager)

    assert approved.status == S.APPROVED
    assert approved.ledger_entry is None
    assert not BalanceTransaction.objects.filter(bill=bill).exists()
    assert "nothing to pay" in mail.outbox[0].body


def test_no_email_when_the_owner_does_not_subscribe_to_payments(manager, django_capture_on_commit_callbacks):
    bill = owned_bill()
    bill.affiliate.subscribe_payments = False
    bill.affiliate.save(update_fields=["subscribe_payments"])

    with django_capture_on_commit_callbacks(execute=True):
        bill_approve(bill=bill, actor=manager)

    assert mail.outbox == []
    assert Event.objects.filter(type=Event.Type.BILL_APPROVED).count() == 1


def test_approving_twice_credits_once_and_names_the_state(manager):
    bill = owned_bill()
    bill_approve(bill=bill, actor=manager)

    with pytest.raises(BillingError, match=f"Bill {bill.pk} is approved; only pending or on-hold bills can be approved"):
        bill_approve(bill=bill, actor=manager)  # the stale object still says "pending"

    assert BalanceTransaction.objects.filter(bill=bill).count() == 1
    assert balance_of(bill) == Decimal("100.00")
    assert Event.objects.filter(type=Event.Type.BILL_APPROVED).count() == 1


def test_a_cancelled_bill_cannot_be_approved(manager):
    bill = owned_bill(status=S.CANCELLED)

    with pytest.raises(BillingError, match=f"Bill {bill.pk} is cancelled; only pending or on-hold bills can be approved"):
        bill_approve(bill=bill, actor=manager)

    assert balance_of(bill) == 0


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_approvals_credit_the_ledger_once(manager):
    if connection.vendor != "postgresql":
        pytest.skip("Row locks (select_for_update) need PostgreSQL; SQLite serialises writers instead.")
    bill = owned_bill(issued_amount=Decimal("250.00"))
    barrier = threading.Barrier(2)
    outcomes = []

    def approve():
        try:
            barrier.wait()
            bill_approve(bill=Bill.objects.get(pk=bill.pk), actor=manager)
            outcomes.append("approved")
        except BillingError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("approved") == 1
    [refusal] = [o for o in outcomes if o != "approved"]
    assert refusal.startswith(f"Bill {bill.pk} is approved; only pending or on-hold bills can be approved")
    assert BalanceTransaction.objects.filter(bill=bill).count() == 1
    assert balance_of(bill) == Decimal("250.00")
    assert Event.objects.filter(type=Event.Type.BILL_APPROVED).count() == 1


# Hold, release, cancel ----------------------------------------------------------------------

def test_hold_and_release(manager):
    bill = owned_bill()

    bill_hold(bill=bill, actor=manager)
    assert Bill.objects.get(pk=bill.pk).status == S.ON_HOLD

    bill_release(bill=bill, actor=manager)
    assert Bill.objects.get(pk=bill.pk).status == S.PENDING


@pytest.mark.parametrize("status", [S.ON_HOLD, S.APPROVED, S.CANCELLED])
def test_only_pending_bills_can_be_put_on_hold(manager, status):
    bill = owned_bill(status=status)
    label = bill.get_status_display().lower()

    with pytest.raises(BillingError, match=f"Bill {bill.pk} is {label}; only pending bills can be put on hold"):
        bill_hold(bill=bill, actor=manager)


@pytest.mark.parametrize("status", [S.PENDING, S.APPROVED, S.CANCELLED])
def test_only_on_hold_bills_can_be_released(manager, status):
    bill = owned_bill(status=status)

    with pytest.raises(BillingError, match="only on-hold bills can be released"):
        bill_release(bill=bill, actor=manager)


@pytest.mark.parametrize("status", [S.PENDING, S.ON_HOLD])
def test_pending_and_on_hold_bills_can_be_cancelled(manager, status):
    bill = owned_bill(status=status)

    bill_cancel(bill=bill, actor=manager)

    bill.refresh_from_db()
    assert bill.status == S.CANCELLED
    assert bill.processed_at is not None and bill.processed_by == manager
    assert not BalanceTransaction.objects.exists()


@pytest.mark.parametrize("status", [S.APPROVED, S.CANCELLED])
def test_processed_bills_cannot_be_cancelled(manager, status):
    bill = owned_bill(status=status)
    label = bill.get_status_display().lower()

    with pytest.raises(BillingError, match=f"Bill {bill.pk} is {label}; only pending or on-hold bills can be cancelled"):
        bill_cancel(bill=bill, actor=manager)

    assert Bill.objects.get(pk=bill.pk).status == status


# Corrections --------------------------------------------------------------------------------

def test_corrections_add_and_subtract_from_the_amount_to_be_paid(manager):
    bill = owned_bill(issued_amount=Decimal("100.00"))

    bill_correct(bill=bill, actor=manager, amount=Decimal("20.00"), comment="Missed player")
    correction = bill_correct(bill=bill, actor=manager, amount=Decimal("-5.50"), comment="  Chargeback  ")

    assert correction.comment == "Chargeback" and correction.actor == manager
    assert bill_amount_to_pay(bill=bill) == Decimal("114.50")
    assert Bill.objects.get(pk=bill.pk).issued_amount == Decimal("100.00")


def test_an_on_hold_bill_can_be_corrected(manager):
    bill = owned_bill(status=S.ON_HOLD)

    bill_correct(bill=bill, actor=manager, amount=Decimal("1.00"), comment="Rounding")

    assert bill_amount_to_pay(bill=bill) == Decimal("101.00")


@pytest.mark.parametrize("status", [S.APPROVED, S.CANCELLED])
def test_processed_bills_cannot_be_corrected(manager, status):
    bill = owned_bill(status=status)
    label = bill.get_status_display().lower()

    with pytest.raises(BillingError, match=f"Bill {bill.pk} is {label}; only pending or on-hold bills can be corrected"):
        bill_correct(bill=bill, actor=manager, amount=Decimal("5.00"), comment="Too late")

    assert not BillCorrection.objects.exists()


def test_a_correction_may_bring_the_amount_to_zero_but_not_below(manager):
    bill = owned_bill(issued_amount=Decimal("100.00"))
    bill_correct(bill=bill, actor=manager, amount=Decimal("-60.00"), comment="Fraud")

    with pytest.raises(BillingError, match="at most 40.00 EUR can be subtracted"):
        bill_correct(bill=bill, actor=manager, amount=Decimal("-40.01"), comment="More fraud")

    bill_correct(bill=bill, actor=manager, amount=Decimal("-40.00"), comment="More fraud")
    assert bill_amount_to_pay(bill=bill) == Decimal("0.00")


@pytest.mark.parametrize(("amount", "comment", "message"), [
    (Decimal("0"), "Why", "must not be zero"),
    (Decimal("1.005"), "Why", "at most 2 decimal places"),
    ("abc", "Why", "Enter the amount as a number"),
    (Decimal("5"), "   ", "comment is required"),
    (Decimal("5"), "x" * 501, "within 500 characters"),
])
def test_bad_corrections_are_refused_with_a_reason(manager, amount, comment, message):
    bill = owned_bill()

    with pytest.raises(BillingError, match=message):
        bill_correct(bill=bill, actor=manager, amount=amount, comment=comment)

    assert not BillCorrection.objects.exists()


def test_floats_are_refused_as_money(manager):
    with pytest.raises(TypeError):
        bill_correct(bill=owned_bill(), actor=manager, amount=0.1, comment="float")


# Portal: bills list -------------------------------------------------------------------------

def test_the_bills_page_lists_the_affiliates_bills_with_the_amount_to_be_paid(client):
    owner = UserFactory()
    bill = BillFactory(affiliate=owner.affiliate, issued_amount=Decimal("100.00"))
    BillCorrectionFactory(bill=bill, amount=Decimal("-12.50"))
    BillCorrectionFactory(bill=bill, amount=Decimal("2.00"))
    other = BillFactory(issued_amount=Decimal("777.77"))
    sign_in(client, owner)

    response = client.get(reverse("billing:bills"))

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("billing:bill_detail", args=[bill.pk]) in page
    assert "100.00 EUR" in page and "89.50 EUR" in page
    assert bill.plan.name in page and "Pending" in page
    assert "777.77" not in page
    assert reverse("billing:bill_detail", args=[other.pk]) not in page


def test_the_bills_page_filters_by_state_and_brand(client):
    owner = UserFactory()
    euro = CommissionPlanFactory(brand=BrandFactory(name="Euro Casino"))
    dollar = CommissionPlanFactory(brand=BrandFactory(name="Dollar Slots", base_currency="USD"))
    pending = BillFactory(affiliate=owner.affiliate, plan=euro, issued_amount=Decimal("11.11"))
    approved = BillFactory(affiliate=owner.affiliate, plan=euro, status=S.APPROVED, issued_amount=Decimal("22.22"))
    usd = BillFactory(affiliate=owner.affiliate, plan=dollar, issued_amount=Decimal("33.33"))
    sign_in(client, owner)

    by_state = client.get(reverse("billing:bills"), {"state": "approved"}).content.decode()
    by_brand = client.get(reverse("billing:bills"), {"brand": dollar.brand_id}).content.decode()

    assert "22.22" in by_state and "11.11" not in by_state and "33.33" not in by_state
    assert "33.33 USD" in by_brand and "11.11" not in by_brand
    assert pending and approved and usd


@pytest.mark.parametrize("query", [
    {"state": "paid"}, {"brand": "abc"}, {"brand": "999999"}, {"page": "x"}, {"page": "99"},
    {"state": "<script>"}, {"brand": "1.5"},
])
def test_bad_filters_never_fail_the_bills_page(client, query):
    owner = UserFactory()
    BillFactory(affiliate=owner.affiliate, issued_amount=Decimal("44.44"))
    sign_in(client, owner)

    response = client.get(reverse("billing:bills"), query)

    assert response.status_code == 200
    assert "44.44" in response.content.decode()  # the list stays, unfiltered


def test_another_affiliates_brand_is_not_a_filter_choice(client):
    owner = UserFactory()
    BillFactory(affiliate=owner.affiliate, issued_amount=Decimal("44.44"))
    foreign = BillFactory(plan=CommissionPlanFactory(brand=BrandFactory(name="Secret Brand")))
    sign_in(client, owner)

    response = client.get(reverse("billing:bills"), {"brand": foreign.brand_id})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Secret Brand" not in page
    assert "Correct the filters" in page


def test_the_bills_page_needs_a_signed_in_user(client):
    response = client.get(reverse("billing:bills"))

    assert response.status_code == 302
    assert "/partner/login" in response["Location"] or "login" in response["Location"]


# Portal: bill page --------------------------------------------------------------------------

def test_the_bill_page_shows_amounts_lines_corrections_and_players(client):
    owner = UserFactory()
    bill = BillFactory(affiliate=owner.affiliate, issued_amount=Decimal("100.00"))
    line = BillLineFactory(bill=bill, base=Decimal("400.00"), rate=Decimal("25"), amount=Decimal("100.00"))
    BillCorrectionFactory(bill=bill, amount=Decimal("-15.00"), comment="Chargeback of a deposit")
    player_line = BillPlayerLineFactory(bill=bill, ngr=Decimal("321.09"))
    sign_in(client, owner)

    response = client.get(reverse("billing:bill_detail", args=[bill.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Bill #{bill.pk}" in page
    assert "Issued amount" in page and "100.00 EUR" in page
    assert "Amount to be paid" in page and "85.00 EUR" in page
    assert bill.brand.name in page and bill.plan.name in page and "Pending" in page
    assert line.campaign.name in page and "400.00 EUR" in page and "25%" in page
    assert "Chargeback of a deposit" in page and "Subtract" in page and "-15.00 EUR" in page
    assert "321.09 EUR" in page
    assert f"<td>{player_line.player_id}</td>" in page
    assert player_line.player.user_id not in page  # the operator's id never shows


def test_the_bill_pages_players_are_paginated(client):
    owner = UserFactory()
    bill = BillFactory(affiliate=owner.affiliate)
    for _ in range(51):
        BillPlayerLineFactory(bill=bill)
    sign_in(client, owner)

    first = client.get(reverse("billing:bill_detail", args=[bill.pk]))
    second = client.get(reverse("billing:bill_detail", args=[bill.pk]), {"page": "2"})
    bad = client.get(reverse("billing:bill_detail", args=[bill.pk]), {"page": "nope"})

    assert "Page 1 of 2" in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    assert bad.status_code == 200


def test_another_affiliates_bill_is_not_found(client):
    owner = UserFactory()
    foreign = BillFactory(issued_amount=Decimal("999.99"))
    sign_in(client, owner)

    response = client.get(reverse("billing:bill_detail", args=[foreign.pk]))

    assert response.status_code == 404
    assert "999.99" not in response.content.decode()


def test_a_team_member_sees_the_accounts_bills(client):
    from tests.partners.factories import MemberFactory

    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    bill = BillFactory(affiliate=owner.affiliate)
    sign_in(client, member)

    assert client.get(reverse("billing:bill_detail", args=[bill.pk])).status_code == 200
