"""Automatic cash-out schedules: the form with its preview, 2FA, scoping, the daily run, the
command and the task."""
import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.template.loader import render_to_string
from django.urls import reverse

from billing.models import Balance, BalanceTransaction, Cashout, CashoutSchedule, CashoutScheduleRun
from billing.selectors_schedules import schedule_list
from billing.services.ledger import ledger_post
from billing.services.schedules import cashout_schedules_run
from partners.models import Affiliate, Event
from tests.billing.factories import (
    CashoutLimitFactory,
    CashoutScheduleFactory,
    PaymentMethodFactory,
)
from tests.conftest import sign_in
from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db
Plan = CashoutSchedule.Plan
D = dt.date


def fund(affiliate, amount: str, currency: str = "EUR", key: str | None = None):
    ledger_post(affiliate=affiliate, currency=currency, amount=Decimal(amount),
                kind=BalanceTransaction.Kind.BALANCE_CORRECTION,
                idempotency_key=key or f"test-fund:{affiliate.pk}:{currency}:{amount}")


def balance(affiliate, currency="EUR") -> Decimal:
    return Balance.objects.get(affiliate=affiliate, currency=currency).amount


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def verified(client, owner):
    return sign_in(client, owner, verified=True)


def form_data(method, **overrides):
    data = {"payment_method": method.pk, "currency": "EUR", "min_amount": "50", "max_amount": "1000",
            "plan": "dates", "month_days": ["31"], "is_active": "on", "action": "save"}
    data.update(overrides)
    return data


# -- 2FA and scoping ----------------------------------------------------------------------------

def test_schedule_pages_require_2fa(client, owner):
    schedule = CashoutScheduleFactory(affiliate=owner.affiliate)
    sign_in(client, owner)  # signed in, no 2FA

    for url in (reverse("billing:schedule_create"), reverse("billing:schedule_edit", args=[schedule.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("partners:two_factor_enable"))
        assert "next=" in response.url

    response = client.post(reverse("billing:schedule_delete", args=[schedule.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("partners:two_factor_enable"))
    assert CashoutSchedule.objects.filter(pk=schedule.pk).exists()


def test_another_affiliates_schedule_is_not_found(client, verified, owner):
    theirs = CashoutScheduleFactory()

    assert client.get(reverse("billing:schedule_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("billing:schedule_edit", args=[theirs.pk]),
                       form_data(PaymentMethodFactory(affiliate=owner.affiliate))).status_code == 404
    assert client.post(reverse("billing:schedule_delete", args=[theirs.pk])).status_code == 404
    assert CashoutSchedule.objects.filter(pk=theirs.pk, affiliate=theirs.affiliate).exists()


def test_only_the_affiliates_own_payment_methods_are_offered(client, verified, owner):
    mine = PaymentMethodFactory(affiliate=owner.affiliate)
    theirs = PaymentMethodFactory(type="neteller")

    response = client.get(reverse("billing:schedule_create"))
    assert list(response.context["form"].fields["payment_method"].queryset) == [mine]
    page = response.content.decode()
    assert f'<option value="{mine.pk}">Skrill' in page and "Neteller" not in page

    response = client.post(reverse("billing:schedule_create"), form_data(theirs))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not CashoutSchedule.objects.exists()


def test_without_a_payment_method_the_page_says_to_add_one(client, verified):
    page = client.get(reverse("billing:schedule_create")).content.decode()
    assert "you have none yet" in page
    assert reverse("billing:payment_method_create") in page


# -- the form -----------------------------------------------------------------------------------

def test_creating_a_schedule_on_dates_of_the_month(client, verified, owner):
    method = PaymentMethodFactory(affiliate=owner.affiliate)

    response = client.post(reverse("billing:schedule_create"),
                           form_data(method, month_days=["31", "15"], min_amount="50.00", max_amount="1000"))

    assert response.status_code == 302 and response.url == reverse("billing:wallet")
    schedule = CashoutSchedule.objects.get()
    assert (schedule.affiliate, schedule.payment_method, schedule.currency) == (owner.affiliate, method, "EUR")
    assert (schedule.min_amount, schedule.max_amount) == (Decimal("50"), Decimal("1000"))
    assert (schedule.plan, schedule.month_days, schedule.weekdays, schedule.is_active) == ("dates", [15, 31], [], True)


def test_weekly_keeps_only_the_weekdays_and_inactive_is_kept(client, verified, owner):
    method = PaymentMethodFactory(affiliate=owner.affiliate)
    data = form_data(method, plan="weekly", weekdays=["4", "0"], month_days=["31"])
    del data["is_active"]

    client.post(reverse("billing:schedule_create"), data)

    schedule = CashoutSchedule.objects.get()
    assert (schedule.weekdays, schedule.month_days, schedule.is_active) == ([0, 4], [], False)


@pytest.mark.parametrize(("overrides", "field_error"), [
    ({"min_amount": "500", "max_amount": "100"}, "The maximum must not be below the minimum."),
    ({"min_amount": "0"}, "The amount must be greater than zero."),
    ({"min_amount": "-5"}, "greater than or equal to 0"),
    ({"min_amount": "abc"}, "Enter a number."),
    ({"plan": "weekly", "weekdays": []}, "Choose at least one weekday."),
    ({"plan": "dates", "month_days": []}, "Choose at least one date of the month."),
    ({"month_days": ["32"]}, "Select a valid choice"),
    ({"min_amount": "10.005"}, "EUR amounts have at most 2 decimal places."),
])
def test_invalid_input_is_explained_and_nothing_is_saved(client, verified, owner, overrides, field_error):
    method = PaymentMethodFactory(affiliate=owner.affiliate)

    response = client.post(reverse("billing:schedule_create"), form_data(method, **overrides))

    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert not CashoutSchedule.objects.exists()


def test_amounts_outside_the_payment_systems_limits_name_both_limits(client, verified, owner):
    method = PaymentMethodFactory(affiliate=owner.affiliate, type="skrill")
    CashoutLimitFactory(method_type="skrill", currency="EUR", min_amount=Decimal("20"), max_amount=Decimal("500"))

    for overrides in ({"min_amount": "10", "max_amount": "100"}, {"min_amount": "50", "max_amount": "800"}):
        response = client.post(reverse("billing:schedule_create"), form_data(method, **overrides))
        assert response.status_code == 200
        assert "The amount must be between 20.00 and 500.00 EUR with Skrill." in response.content.decode()
    assert not CashoutSchedule.objects.exists()

    # A limit for another currency does not apply.
    response = client.post(reverse("billing:schedule_create"), form_data(method, currency="USD", max_amount="800"))
    assert response.status_code == 302


@time_machine.travel(dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC), tick=False)
def test_preview_shows_the_next_12_dates_without_saving(client, verified, owner):
    method = PaymentMethodFactory(affiliate=owner.affiliate)

    response = client.post(reverse("billing:schedule_create"), form_data(method, month_days=["31"], action="preview"))

    assert response.status_code == 200
    page = response.content.decode()
    assert not CashoutSchedule.objects.exists()
    dates = [f"2025-{m:02d}-{d:02d}" for m, d in
             ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31), (11, 30),
              (12, 31))]
    for iso in dates:
        assert f'datetime="{iso}"' in page
    assert "Fri, 28 Feb 2025" in page
    assert page.count("<time datetime=") == 12
    # The entered values are kept in the form.
    assert '<input type="checkbox" name="month_days" value="31" id="id_month_days_30" checked>' in page
    assert '<input type="checkbox" name="month_days" value="30" id="id_month_days_29">' in page


@time_machine.travel(dt.datetime(2024, 2, 10, 12, tzinfo=dt.UTC), tick=False)
def test_preview_in_a_leap_year_and_of_weekdays(client, verified, owner):
    method = PaymentMethodFactory(affiliate=owner.affiliate)

    page = client.post(reverse("billing:schedule_create"),
                       form_data(method, month_days=["30", "31"], action="preview")).content.decode()
    assert 'datetime="2024-02-29"' in page and 'datetime="2024-02-28"' not in page
    assert page.count('datetime="2024-02-29"') == 1  # 30 and 31 land on the same day: one run

    page = client.post(reverse("billing:schedule_create"),
                       form_data(method, plan="weekly", weekdays=["0"], action="preview")).content.decode()
    assert 'datetime="2024-02-12"' in page and 'datetime="2024-04-29"' in page  # 12 Mondays
    assert page.count("<time datetime=") == 12


def test_preview_of_an_incomplete_plan_explains_what_to_choose(client, verified, owner):
    method = PaymentMethodFactory(affiliate=owner.affiliate)
    page = client.post(reverse("billing:schedule_create"),
                       form_data(method, plan="weekly", weekdays=[], action="preview")).content.decode()
    assert "Choose at least one weekday." in page
    assert "<time datetime=" not in page


def test_editing_a_schedule(client, verified, owner):
    schedule = CashoutScheduleFactory(affiliate=owner.affiliate, plan=Plan.WEEKLY, weekdays=[2],
                                      min_amount=Decimal("50"), max_amount=Decimal("100"))
    url = reverse("billing:schedule_edit", args=[schedule.pk])

    page = client.get(url).content.decode()
    assert 'value="50.00"' in page and 'value="100.00"' in page
    assert page.count("<time datetime=") == 12  # the saved plan is previewed

    response = client.post(url, form_data(schedule.payment_method, plan="monthly", max_amount="2000"))

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.plan, schedule.weekdays, schedule.max_amount) == ("monthly", [], Decimal("2000"))


def test_deleting_a_schedule(client, verified, owner):
    schedule = CashoutScheduleFactory(affiliate=owner.affiliate)
    assert client.get(reverse("billing:schedule_delete", args=[schedule.pk])).status_code == 405

    response = client.post(reverse("billing:schedule_delete", args=[schedule.pk]))

    assert response.status_code == 302 and response.url == reverse("billing:wallet")
    assert not CashoutSchedule.objects.exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Cash-out schedule #{schedule.pk} deleted."]


def test_the_wallet_section_lists_schedules_with_their_next_run(rf, owner):
    a = CashoutScheduleFactory(affiliate=owner.affiliate, plan=Plan.DATES, month_days=[31],
                               min_amount=Decimal("50"), max_amount=Decimal("1000"))
    CashoutScheduleFactory(affiliate=owner.affiliate, plan=Plan.DAILY, is_active=False, currency="USD",
                           payment_method=a.payment_method)
    CashoutScheduleFactory()  # another affiliate's
    CashoutScheduleRun.objects.create(schedule=a, run_date=D(2025, 2, 28), result="balance 0.00 EUR below ...")

    schedules = schedule_list(affiliate=owner.affiliate, today=D(2025, 2, 28))
    assert len(schedules) == 2
    assert schedules[0].next_run == D(2025, 3, 31)  # today's run already happened
    assert schedules[1].next_run is None  # inactive

    html = render_to_string("billing/wallet/_schedules.html", {"schedules": schedules}, request=rf.get("/"))
    assert "On the 31st of each month (the last day in months without that date)" in html
    assert "Mon, 31 Mar 2025" in html
    assert "50.00" in html and "1,000.00" in html
    assert "Add schedule" in html and reverse("billing:schedule_create") in html
    assert reverse("billing:schedule_edit", args=[a.pk]) in html
    assert reverse("billing:schedule_delete", args=[a.pk]) in html


# -- the run --------------------------------------------------------------------------------------

def test_a_due_schedule_cashes_out_the_balance_up_to_its_maximum():
    schedule = CashoutScheduleFactory(min_amount=Decimal("50"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "250.00")

    summary = cashout_schedules_run(run_date=D(2025, 3, 3))

    cashout = Cashout.objects.get()
    assert (cashout.affiliate, cashout.amount, cashout.currency) == (schedule.affiliate, Decimal("100"), "EUR")
    assert cashout.schedule == schedule and cashout.payment_method == schedule.payment_method
    assert cashout.status == Cashout.Status.PENDING
    assert cashout.idempotency_key == f"schedule:{schedule.pk}:2025-03-03"
    assert balance(schedule.affiliate) == Decimal("150")
    run = CashoutScheduleRun.objects.get()
    assert (run.schedule, run.run_date, run.cashout) == (schedule, D(2025, 3, 3), cashout)
    assert run.result.startswith(f"cashout {cashout.pk} created")
    assert Event.objects.filter(affiliate=schedule.affiliate, type=Event.Type.CASHOUT_REQUESTED).count() == 1
    assert summary.created == 1


def test_a_balance_between_minimum_and_maximum_is_cashed_out_whole():
    schedule = CashoutScheduleFactory(min_amount=Decimal("50"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "80.00")

    cashout_schedules_run(run_date=D(2025, 3, 3))

    assert Cashout.objects.get().amount == Decimal("80")
    assert balance(schedule.affiliate) == Decimal("0")


def test_a_balance_below_the_minimum_makes_no_cashout():
    schedule = CashoutScheduleFactory(min_amount=Decimal("50"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "30.00")
    empty = CashoutScheduleFactory(currency="USD")  # no USD balance at all

    summary = cashout_schedules_run(run_date=D(2025, 3, 3))

    assert not Cashout.objects.exists()
    assert balance(schedule.affiliate) == Decimal("30")
    assert CashoutScheduleRun.objects.get(schedule=schedule).result == "balance 30.00 EUR below the minimum 50.00 EUR"
    assert CashoutScheduleRun.objects.get(schedule=empty).result == "balance 0.00 USD below the minimum 50.00 USD"
    assert summary.count("below_minimum") == 2


def test_only_the_schedules_balance_currency_is_used():
    schedule = CashoutScheduleFactory(min_amount=Decimal("50"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "500.00", currency="USD")

    cashout_schedules_run(run_date=D(2025, 3, 3))

    assert not Cashout.objects.exists()
    assert balance(schedule.affiliate, "USD") == Decimal("500")


def test_running_the_same_date_twice_makes_one_cashout():
    schedule = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "250.00")

    cashout_schedules_run(run_date=D(2025, 3, 3))
    again = cashout_schedules_run(run_date=D(2025, 3, 3))

    assert Cashout.objects.count() == 1
    assert CashoutScheduleRun.objects.count() == 1
    assert balance(schedule.affiliate) == Decimal("150")
    assert [o.status for o in again.outcomes] == ["already_ran"]

    # The next date is a new run.
    cashout_schedules_run(run_date=D(2025, 3, 4))
    assert Cashout.objects.count() == 2
    assert balance(schedule.affiliate) == Decimal("50")


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_runs_of_the_same_date_make_one_cashout():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent writers need PostgreSQL; SQLite serialises them.")
    schedule = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "250.00")
    barrier = threading.Barrier(2)
    statuses = []

    def run():
        try:
            barrier.wait()
            statuses.extend(o.status for o in cashout_schedules_run(run_date=D(2025, 3, 3)).outcomes)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == ["already_ran", "created"]
    assert Cashout.objects.count() == 1 and CashoutScheduleRun.objects.count() == 1
    assert balance(schedule.affiliate) == Decimal("150")


def test_the_31st_runs_once_on_the_last_day_of_february_and_not_before():
    schedule = CashoutScheduleFactory(plan=Plan.DATES, month_days=[29, 30, 31], min_amount=Decimal("10"),
                                      max_amount=Decimal("100"))
    fund(schedule.affiliate, "1000.00")

    for day in range(1, 28):
        cashout_schedules_run(run_date=D(2025, 2, day))
    assert not Cashout.objects.exists()

    cashout_schedules_run(run_date=D(2025, 2, 28))
    cashout_schedules_run(run_date=D(2025, 2, 28))

    assert Cashout.objects.count() == 1  # 29, 30 and 31 land on 28 February: one cashout
    assert list(CashoutScheduleRun.objects.values_list("run_date", flat=True)) == [D(2025, 2, 28)]


def test_weekly_and_monthly_schedules_run_only_on_their_days():
    weekly = CashoutScheduleFactory(plan=Plan.WEEKLY, weekdays=[0], min_amount=Decimal("1"))  # Mondays
    monthly = CashoutScheduleFactory(plan=Plan.MONTHLY, min_amount=Decimal("1"))
    fund(weekly.affiliate, "100")
    fund(monthly.affiliate, "100")

    cashout_schedules_run(run_date=D(2025, 4, 2))  # a Wednesday, not the 1st
    assert not CashoutScheduleRun.objects.exists()

    cashout_schedules_run(run_date=D(2025, 4, 7))  # Monday
    cashout_schedules_run(run_date=D(2025, 5, 1))  # the 1st
    assert list(Cashout.objects.order_by("pk").values_list("schedule", flat=True)) == [weekly.pk, monthly.pk]


def test_an_inactive_schedule_does_nothing():
    schedule = CashoutScheduleFactory(is_active=False, min_amount=Decimal("1"))
    fund(schedule.affiliate, "100")

    summary = cashout_schedules_run(run_date=D(2025, 3, 3))

    assert summary.outcomes == []
    assert not Cashout.objects.exists() and not CashoutScheduleRun.objects.exists()


def test_a_blocked_accounts_schedule_does_nothing():
    schedule = CashoutScheduleFactory(affiliate__status=Affiliate.Status.BLOCKED, min_amount=Decimal("1"))
    fund(schedule.affiliate, "100")

    assert cashout_schedules_run(run_date=D(2025, 3, 3)).outcomes == []
    assert not Cashout.objects.exists()


def test_one_failing_schedule_does_not_stop_the_others(monkeypatch):
    import billing.services.schedules as schedules
    from billing.errors import BillingError

    first = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    failing = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    crashing = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    last = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    for schedule in (first, failing, crashing, last):
        fund(schedule.affiliate, "100")
    real = schedules.cashout_request

    def flaky(**kwargs):
        if kwargs["affiliate"] == failing.affiliate:
            raise BillingError("The payment system is unavailable.")
        if kwargs["affiliate"] == crashing.affiliate:
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(schedules, "cashout_request", flaky)

    summary = cashout_schedules_run(run_date=D(2025, 3, 3))

    assert set(Cashout.objects.values_list("schedule", flat=True)) == {first.pk, last.pk}
    assert CashoutScheduleRun.objects.get(schedule=failing).result == "failed: The payment system is unavailable."
    assert CashoutScheduleRun.objects.get(schedule=crashing).result == "failed: unexpected error (RuntimeError)"
    assert balance(failing.affiliate) == Decimal("100") and balance(crashing.affiliate) == Decimal("100")
    assert (summary.created, summary.failed) == (2, 2)

    # A replay of the date retries only the failed runs, once the cause is gone.
    monkeypatch.setattr(schedules, "cashout_request", real)
    again = cashout_schedules_run(run_date=D(2025, 3, 3))
    assert Cashout.objects.count() == 4
    assert sorted(o.status for o in again.outcomes) == ["already_ran", "already_ran", "created", "created"]
    assert CashoutScheduleRun.objects.get(schedule=failing).cashout is not None


def test_a_payment_system_limit_below_the_amount_fails_that_run_only():
    # The manager lowered the Skrill limit after the schedule was set.
    schedule = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("1000"))
    fund(schedule.affiliate, "700")
    CashoutLimitFactory(method_type=schedule.payment_method.type, currency="EUR",
                        min_amount=Decimal("10"), max_amount=Decimal("500"))

    cashout_schedules_run(run_date=D(2025, 3, 3))

    run = CashoutScheduleRun.objects.get()
    assert run.result.startswith("failed: ") and "500.00" in run.result
    assert not Cashout.objects.exists()
    assert balance(schedule.affiliate) == Decimal("700")


# -- the command and the task --------------------------------------------------------------------

def test_the_command_prints_what_happened_per_schedule():
    made = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    low = CashoutScheduleFactory(min_amount=Decimal("50"), max_amount=Decimal("100"))
    fund(made.affiliate, "250")
    fund(low.affiliate, "20")

    out = StringIO()
    call_command("run_cashout_schedules", "--date", "2025-03-03", stdout=out)

    text = out.getvalue()
    cashout = Cashout.objects.get()
    assert f"schedule {made.pk} (affiliate {made.affiliate_id}, EUR): cashout {cashout.pk} created" in text
    assert f"schedule {low.pk} (affiliate {low.affiliate_id}, EUR): balance 20.00 EUR below the minimum 50.00 EUR" in text
    assert "2025-03-03: 2 schedule(s) due; 1 cashout(s) created, 1 below the minimum" in text

    out = StringIO()
    call_command("run_cashout_schedules", "--date", "2025-03-03", stdout=out)
    assert "already ran on 2025-03-03" in out.getvalue()
    assert Cashout.objects.count() == 1


@time_machine.travel(dt.datetime(2025, 3, 3, 1, tzinfo=dt.UTC), tick=False)
def test_the_command_defaults_to_today():
    CashoutScheduleFactory(min_amount=Decimal("10"))
    out = StringIO()
    call_command("run_cashout_schedules", stdout=out)
    assert CashoutScheduleRun.objects.get().run_date == D(2025, 3, 3)


@pytest.mark.parametrize("bad", ["2025-02-30", "yesterday", "03/03/2025"])
def test_the_command_refuses_a_bad_date(bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_cashout_schedules", "--date", bad)


def test_the_task_runs_the_date_and_is_safe_twice():
    from billing.tasks_schedules import run_cashout_schedules

    schedule = CashoutScheduleFactory(min_amount=Decimal("10"), max_amount=Decimal("100"))
    fund(schedule.affiliate, "250")

    first = run_cashout_schedules.delay("2025-03-03").get()
    second = run_cashout_schedules("2025-03-03")

    assert first["created"] == 1 and second["already_ran"] == 1
    assert Cashout.objects.count() == 1
