"""A partner uses the wallet in a real browser: enable 2FA when asked, add a bank account,
withdraw, see the balance drop and the events log entry, then set a cash-out schedule on the
31st and see February's run on its last day in the preview."""
import calendar
import datetime as dt
import time
from decimal import Decimal

import pyotp
import pytest

from backoffice.timeutil import business_today
from billing.models import BalanceTransaction, Cashout, CashoutSchedule
from billing.services.ledger import ledger_post
from tests.partners.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _next_february_end(today: dt.date) -> dt.date:
    """The last day of the first February on or after `today` (within the next 12 runs of a
    schedule on the 31st, whatever today is)."""
    year = today.year if today.month <= 2 else today.year + 1
    return dt.date(year, 2, calendar.monthrange(year, 2)[1])


def test_partner_withdraws_and_sets_a_schedule_on_the_31st(page, live_server, screenshot, portal_sign_in):
    owner = UserFactory(email="mira@northstar-media.example", affiliate__name="Northstar Media")
    ledger_post(affiliate=owner.affiliate, currency="EUR", amount=Decimal("250.00"),
                kind=BalanceTransaction.Kind.BALANCE_CORRECTION, idempotency_key="e2e-wallet-opening-balance",
                comment="Opening balance")
    base = live_server.url

    # given: signed in, the wallet shows the balance and says financial actions need 2FA
    portal_sign_in(page, base, owner.email)
    page.goto(f"{base}/partner/wallet")
    assert page.locator("#balance-EUR").get_by_text("250.00").is_visible()
    assert page.get_by_text("require two-factor authentication").is_visible()
    screenshot(page, "wallet-before")

    # when: adding a bank account, the partner is sent to enable 2FA first
    page.locator("#payment-methods").get_by_role("link", name="Bank transfer").click()
    page.wait_for_url("**/partner/profile/2fa/enable**")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()

    # and comes back to the bank transfer form
    page.wait_for_url("**/partner/wallet/payment_methods/new**")
    page.get_by_label("Beneficiary name").fill("Northstar Media Ltd")
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("SWIFT/BIC").fill("COBADEFFXXX")
    page.get_by_label("Bank name").fill("Commerzbank")
    page.get_by_label("Bank address").fill("Kaiserplatz, 60311 Frankfurt am Main")
    screenshot(page, "bank-transfer")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(f"{base}/partner/wallet")
    methods = page.locator("#payment-methods")
    assert methods.get_by_text("Bank transfer").first.is_visible()
    assert "DE89370400440532013000" not in methods.inner_text(), "the IBAN is shown masked"

    # when: 100.00 EUR is withdrawn with a current code (the next time step: this one's code
    # was used to enable 2FA, and a code is accepted once)
    page.locator("#balance-EUR").get_by_role("link", name="Withdraw").click()
    page.wait_for_url("**/partner/wallet/withdraw**")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Amount").fill("100.00")
    page.get_by_label("2FA code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    screenshot(page, "withdraw")
    page.get_by_role("button", name="Withdraw").click()
    page.wait_for_url("**/partner/cashouts")
    assert page.get_by_text("has been requested").is_visible()

    # then: the balance dropped by the amount, and the events log says so
    page.goto(f"{base}/partner/wallet")
    assert page.locator("#balance-EUR").get_by_text("150.00").is_visible()
    screenshot(page, "wallet-after-withdraw")
    page.goto(f"{base}/partner/events")
    requested = page.locator("table tbody tr", has_text="cashout requested")
    assert requested.count() == 1
    assert page.locator("table tbody tr", has_text="payment method added").count() == 1
    screenshot(page, "events")
    cashout = Cashout.objects.get(affiliate=owner.affiliate)
    assert (cashout.amount, cashout.currency, cashout.status) == (Decimal("100.00"), "EUR", "pending")

    # when: a schedule on the 31st is previewed
    page.goto(f"{base}/partner/wallet")
    page.get_by_role("link", name="Add schedule").click()
    page.wait_for_url("**/partner/wallet/schedules/new")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Minimum amount").fill("50")
    page.get_by_label("Maximum amount").fill("1000")
    page.get_by_label("On dates of the month").check()
    page.get_by_label("31", exact=True).check()
    page.get_by_role("button", name="Preview").click()

    # then: February's run is on its last day (28th, or 29th in a leap year), and nothing is saved yet
    february_end = _next_february_end(business_today())
    preview = page.locator("#schedule-preview")
    assert preview.locator("time").count() == 12
    assert preview.locator(f'time[datetime="{february_end.isoformat()}"]').count() == 1
    assert preview.locator(f'time[datetime^="{february_end.year}-02-"]').count() == 1
    assert preview.get_by_text(f"{february_end.day} Feb {february_end.year}").is_visible()
    assert not CashoutSchedule.objects.exists()
    screenshot(page, "schedule-preview")

    # and saving it lists it on the wallet with its plan in words
    page.get_by_role("button", name="Create schedule").click()
    page.wait_for_url(f"{base}/partner/wallet")
    schedules = page.locator("#schedules")
    assert schedules.get_by_text("On the 31st of each month").is_visible()
    screenshot(page, "wallet-with-schedule")
    schedule = CashoutSchedule.objects.get(affiliate=owner.affiliate)
    assert (schedule.plan, schedule.month_days, schedule.min_amount) == ("dates", [31], Decimal("50"))
