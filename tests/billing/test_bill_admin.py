"""The admin of bills, commission plans, billing runs and qualifications: bills change only
through the actions and the "Add correction" page, which go through the services."""
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import BalanceTransaction, Bill, BillCorrection, BillingRun, CommissionPlan
from partners.models import Event
from tests.billing.factories import (
    BillCorrectionFactory,
    BillFactory,
    BillLineFactory,
    BillPlayerLineFactory,
    RevShareTierFactory,
    SubAffiliateLevelFactory,
)
from tests.campaigns.factories import BrandFactory, CommissionPlanFactory
from tests.conftest import sign_in
from tests.partners.factories import AffiliateFactory, StaffFactory

pytestmark = pytest.mark.django_db
S = Bill.Status
CHANGELIST = "admin:billing_bill_changelist"


@pytest.fixture
def superuser():
    return StaffFactory(is_superuser=True, first_name="Marta", last_name="Keller")


@pytest.fixture
def admin_client(client, superuser):
    return sign_in(client, superuser, verified=True)


def run_action(client, action: str, bills):
    data = {"action": action, "_selected_action": [b.pk for b in bills]}
    return client.post(reverse(CHANGELIST), data, follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def correction_url(bill) -> str:
    return reverse("admin:billing_bill_correction", args=[bill.pk])


# List and page ------------------------------------------------------------------------------

def test_the_bills_list_shows_the_amount_to_be_paid(admin_client):
    bill = BillFactory(issued_amount=Decimal("100.00"), affiliate=AffiliateFactory(name="Acme Media"))
    BillCorrectionFactory(bill=bill, amount=Decimal("-0.10"))
    BillCorrectionFactory(bill=bill, amount=Decimal("-0.20"))

    response = admin_client.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Media" in page and "100.00 EUR" in page and "99.70 EUR" in page


@pytest.mark.parametrize("query", [
    {"status": "approved"}, {"period": "2020-01-01_2020-01-31"}, {"period": "garbage"}, {"period": "a_b"},
    {"q": "Acme"}, {"q": "42"}, {"q": "<x>"}, {"o": "7"},
])
def test_the_bills_list_filters_and_search_never_fail(admin_client, query):
    BillFactory(affiliate=AffiliateFactory(name="Acme Media"))

    response = admin_client.get(reverse(CHANGELIST), query)

    assert response.status_code == 200


def test_the_period_filter_and_search_narrow_the_list(admin_client):
    january = BillFactory(period_start="2030-01-01", period_end="2030-01-31",
                          affiliate=AffiliateFactory(name="January Partner"))
    february = BillFactory(period_start="2030-02-01", period_end="2030-02-28",
                           affiliate=AffiliateFactory(name="February Partner"))

    by_period = admin_client.get(reverse(CHANGELIST), {"period": "2030-02-01_2030-02-28"}).content.decode()
    by_id = admin_client.get(reverse(CHANGELIST), {"q": str(january.affiliate_id)}).content.decode()

    assert "February Partner" in by_period and "January Partner" not in by_period
    assert "January Partner" in by_id and february.affiliate.name not in by_id


def test_the_bill_page_is_read_only_with_lines_corrections_and_players(admin_client):
    bill = BillFactory(issued_amount=Decimal("100.00"))
    line = BillLineFactory(bill=bill)
    BillCorrectionFactory(bill=bill, amount=Decimal("-15.00"), comment="Chargeback of player 7")
    player_line = BillPlayerLineFactory(bill=bill, ngr=Decimal("654.32"))

    response = admin_client.get(reverse("admin:billing_bill_change", args=[bill.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert line.campaign.name in page
    assert "Chargeback of player 7" in page
    assert "654.32" in page and str(player_line.player_id) in page
    assert "85.00 EUR" in page
    assert 'name="issued_amount"' not in page and 'name="status"' not in page
    assert 'name="_save"' not in page
    assert correction_url(bill) in page


def test_saving_the_bill_page_changes_nothing(admin_client):
    bill = BillFactory(issued_amount=Decimal("100.00"))

    admin_client.post(reverse("admin:billing_bill_change", args=[bill.pk]),
                      {"issued_amount": "999.00", "status": "approved", "_save": "Save"})

    bill.refresh_from_db()
    assert bill.issued_amount == Decimal("100.00") and bill.status == S.PENDING


def test_bills_cannot_be_added_or_deleted_in_the_admin(admin_client):
    bill = BillFactory()

    assert admin_client.get(reverse("admin:billing_bill_add")).status_code == 403
    assert admin_client.post(reverse("admin:billing_bill_delete", args=[bill.pk]), {"post": "yes"}).status_code == 403
    assert Bill.objects.filter(pk=bill.pk).exists()


# Actions ------------------------------------------------------------------------------------

def test_approve_action_credits_each_bill_and_reports_each(admin_client, superuser):
    paid = BillFactory(issued_amount=Decimal("70.00"))
    zero = BillFactory(issued_amount=Decimal("0.00"))
    cancelled = BillFactory(status=S.CANCELLED)

    response = run_action(admin_client, "approve_selected", [paid, zero, cancelled])

    messages = page_messages(response)
    assert any(f"Bill #{paid.pk} approved: 70.00 EUR credited" in m for m in messages)
    assert any(f"Bill #{zero.pk} approved with nothing to pay" in m and "no balance entry" in m for m in messages)
    assert any(f"Bill #{cancelled.pk}: Bill {cancelled.pk} is cancelled; only pending or on-hold bills can be approved"
               in m for m in messages)
    assert BalanceTransaction.objects.get(bill=paid).amount == Decimal("70.00")
    assert not BalanceTransaction.objects.filter(bill=zero).exists()
    assert Bill.objects.get(pk=cancelled.pk).status == S.CANCELLED
    assert Event.objects.get(affiliate=paid.affiliate, type=Event.Type.BILL_APPROVED).actor == superuser


def test_approving_twice_from_the_admin_credits_once(admin_client):
    bill = BillFactory(issued_amount=Decimal("70.00"))

    run_action(admin_client, "approve_selected", [bill])
    response = run_action(admin_client, "approve_selected", [bill])

    assert any("is approved; only pending or on-hold bills can be approved" in m for m in page_messages(response))
    assert BalanceTransaction.objects.filter(bill=bill).count() == 1


def test_approve_from_the_bill_page(admin_client):
    bill = BillFactory(issued_amount=Decimal("12.00"))

    response = admin_client.post(
        reverse("admin:billing_bill_change", args=[bill.pk]),
        {"CHANGE_FORM-action": "approve_selected", "_selected_action": [bill.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert Bill.objects.get(pk=bill.pk).status == S.APPROVED
    assert BalanceTransaction.objects.get(bill=bill).amount == Decimal("12.00")


def test_hold_release_and_cancel_actions(admin_client):
    bill = BillFactory()
    approved = BillFactory(status=S.APPROVED)

    held = run_action(admin_client, "hold_selected", [bill, approved])
    assert Bill.objects.get(pk=bill.pk).status == S.ON_HOLD
    assert any(f"Bill #{bill.pk} put on hold" in m for m in page_messages(held))
    assert any(f"Bill {approved.pk} is approved; only pending bills can be put on hold" in m
               for m in page_messages(held))

    run_action(admin_client, "release_selected", [bill])
    assert Bill.objects.get(pk=bill.pk).status == S.PENDING

    cancelled = run_action(admin_client, "cancel_selected", [bill, approved])
    assert Bill.objects.get(pk=bill.pk).status == S.CANCELLED
    assert Bill.objects.get(pk=approved.pk).status == S.APPROVED
    assert any(f"Bill #{bill.pk} cancelled" in m for m in page_messages(cancelled))
    assert any(f"Bill {approved.pk} is approved; only pending or on-hold bills can be cancelled" in m
               for m in page_messages(cancelled))


def test_staff_without_change_permission_cannot_approve(client):
    staff = StaffFactory()
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_bill"))
    sign_in(client, staff, verified=True)
    bill = BillFactory()

    client.post(reverse(CHANGELIST), {"action": "approve_selected", "_selected_action": [bill.pk]})

    assert Bill.objects.get(pk=bill.pk).status == S.PENDING
    assert client.get(correction_url(bill)).status_code == 403


# Add correction page ------------------------------------------------------------------------

def test_a_correction_is_added_and_the_amount_to_be_paid_follows(admin_client, superuser):
    bill = BillFactory(issued_amount=Decimal("100.00"))

    form = admin_client.get(correction_url(bill))
    response = admin_client.post(correction_url(bill), {"amount": "-25.50", "comment": "Bonus abuse"}, follow=True)

    assert form.status_code == 200 and "Add correction" in form.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:billing_bill_change", args=[bill.pk])
    assert any("corrected by -25.50 EUR; amount to be paid is now 74.50 EUR" in m for m in page_messages(response))
    correction = BillCorrection.objects.get(bill=bill)
    assert correction.amount == Decimal("-25.50") and correction.actor == superuser
    assert correction.comment == "Bonus abuse"


def test_a_correction_below_zero_is_refused_on_the_form(admin_client):
    bill = BillFactory(issued_amount=Decimal("100.00"))

    response = admin_client.post(correction_url(bill), {"amount": "-100.01", "comment": "Too much"})

    assert response.status_code == 200
    assert "at most 100.00 EUR can be subtracted" in response.content.decode()
    assert not BillCorrection.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"amount": "0", "comment": "Zero"}, "must not be zero"),
    ({"amount": "abc", "comment": "Text"}, "Enter a number"),
    ({"amount": "1.234", "comment": "Places"}, "2 decimal places"),
    ({"amount": "5", "comment": ""}, "This field is required"),
    ({"amount": "5", "comment": "   "}, "This field is required"),
])
def test_bad_correction_input_is_a_form_error(admin_client, data, message):
    bill = BillFactory()

    response = admin_client.post(correction_url(bill), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BillCorrection.objects.exists()


def test_an_approved_bill_cannot_be_corrected(admin_client):
    bill = BillFactory(status=S.APPROVED)

    page = admin_client.get(correction_url(bill)).content.decode()
    response = admin_client.post(correction_url(bill), {"amount": "5", "comment": "Late"})

    assert f"Bill #{bill.pk} is approved; only pending or on-hold bills can be corrected" in page
    assert response.status_code == 200
    assert "only pending or on-hold bills can be corrected" in response.content.decode()
    assert not BillCorrection.objects.exists()
    assert correction_url(bill) not in admin_client.get(
        reverse("admin:billing_bill_change", args=[bill.pk])).content.decode()


def test_the_correction_page_of_a_missing_bill_is_not_found(admin_client):
    assert admin_client.get(reverse("admin:billing_bill_correction", args=[999999])).status_code == 404


# Commission plans, runs, qualifications ----------------------------------------------------

def test_the_plan_page_groups_the_settings_and_has_tier_and_level_inlines(admin_client):
    plan = CommissionPlanFactory()
    RevShareTierFactory(plan=plan, threshold=Decimal("1000.00"), percent=Decimal("30"))
    SubAffiliateLevelFactory(plan=plan, level=2, percent=Decimal("2"))

    page = admin_client.get(reverse("admin:billing_commissionplan_change", args=[plan.pk])).content.decode()

    for heading in ("Availability", "Period", "CPA criteria", "RevShare &amp; NGR", "Sub-affiliates"):
        assert heading in page
    assert "tiers-0-threshold" in page and 'value="1000.00"' in page
    assert "sub_affiliate_levels-0-level" in page


def _plan_post(brand, **overrides):
    data = {
        "name": "Hybrid Gold", "brand": brand.pk, "currency": "EUR", "kind": "hybrid", "description": "",
        "is_active": "on", "is_default": "on", "period": "monthly", "period_weekday": "0", "period_day": "1",
        "cpa_amount": "50.00", "min_first_deposit": "20.00", "min_deposits_sum": "0", "min_deposits_count": "0",
        "min_wager": "0", "min_bets_count": "0", "qualification_window_days": "30", "exclude_duplicates": "on",
        "countries_include": "de, at", "countries_exclude": "", "hold_days": "7",
        "revshare_percent": "35", "tier_basis": "", "deduct_bonuses": "on", "admin_fee_percent": "10",
        "tiers-TOTAL_FORMS": "1", "tiers-INITIAL_FORMS": "0", "tiers-MIN_NUM_FORMS": "0", "tiers-MAX_NUM_FORMS": "1000",
        "tiers-0-threshold": "0", "tiers-0-percent": "25",
        "sub_affiliate_levels-TOTAL_FORMS": "1", "sub_affiliate_levels-INITIAL_FORMS": "0",
        "sub_affiliate_levels-MIN_NUM_FORMS": "0", "sub_affiliate_levels-MAX_NUM_FORMS": "1000",
        "sub_affiliate_levels-0-level": "1", "sub_affiliate_levels-0-percent": "5",
    }
    data.update(overrides)
    return data


def test_a_plan_is_created_with_tiers_and_levels(admin_client):
    brand = BrandFactory()

    response = admin_client.post(reverse("admin:billing_commissionplan_add"), _plan_post(brand))

    assert response.status_code == 302, response.content.decode()[:3000]
    plan = CommissionPlan.objects.get(name="Hybrid Gold")
    assert plan.kind == "hybrid" and plan.cpa_amount == Decimal("50.00") and plan.hold_days == 7
    assert list(plan.tiers.values_list("percent", flat=True)) == [Decimal("25")]
    assert list(plan.sub_affiliate_levels.values_list("level", "percent")) == [(1, Decimal("5"))]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"cpa_amount": "0"}, "pays a CPA amount per qualified player"),
    ({"countries_include": "Germany"}, "not understood: GERMANY"),
])
def test_a_plan_with_contradictory_settings_is_refused(admin_client, overrides, message):
    response = admin_client.post(reverse("admin:billing_commissionplan_add"), _plan_post(BrandFactory(), **overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CommissionPlan.objects.filter(name="Hybrid Gold").exists()


def test_billing_runs_and_qualifications_are_read_only_lists(admin_client):
    plan = CommissionPlanFactory()
    run = BillingRun.objects.create(plan=plan, period_start="2030-01-01", period_end="2030-01-31")

    assert admin_client.get(reverse("admin:billing_billingrun_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:billing_qualification_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:billing_billingrun_add")).status_code == 403
    page = admin_client.get(reverse("admin:billing_billingrun_change", args=[run.pk])).content.decode()
    assert 'name="_save"' not in page
