"""The billing run: runs per plan × period, idempotent re-runs, crash and resume, the command
and the beat task."""
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from billing.models import Bill, BillingRun, BillLine, BillPlayerLine, CommissionPlan, Qualification
from billing.services import billing_run
from billing.services.billing_run import run_billing
from billing.tasks import run_billing_task
from tests.billing.factories import PlayerActivityFactory, billing_plan, player_of
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db

JUNE_1 = dt.date(2024, 6, 1)


def _program(affiliates=5, **plan_kwargs):
    """A hybrid plan (CPA 10.00 for everyone, 30% RevShare) and `affiliates` affiliates whose
    one player each brings NGR 100 in May."""
    plan_kwargs = {"kind": CommissionPlan.Kind.HYBRID, "cpa_amount": Decimal("10.00"),
                   "revshare_percent": Decimal("30"), **plan_kwargs}
    plan = billing_plan(**plan_kwargs)
    for _ in range(affiliates):
        campaign = CampaignFactory(commission_plan=plan, brand=plan.brand)
        PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("100"))
    return plan


def _one_bill_each(plan):
    affiliates = list(Bill.objects.filter(plan=plan).values_list("affiliate", flat=True))
    assert len(affiliates) == len(set(affiliates)) == plan.campaigns.count()
    for bill in Bill.objects.filter(plan=plan):
        assert bill.issued_amount == Decimal("40.00")  # CPA 10 + 30% of 100
        assert bill.lines.count() == 2 and bill.player_lines.count() == 1
    assert Qualification.objects.filter(plan=plan, bill__isnull=True).count() == 0


def test_a_run_closes_the_period_and_records_it():
    plan = _program(affiliates=3)

    outcomes = run_billing(as_of=JUNE_1)

    run = BillingRun.objects.get(plan=plan)
    assert (run.status, run.period_start, run.period_end, run.bills_issued, run.error) == (
        BillingRun.Status.COMPLETED, dt.date(2024, 5, 1), dt.date(2024, 5, 31), 3, "")
    assert run.finished_at is not None
    assert set(Bill.objects.filter(plan=plan).values_list("run", flat=True)) == {run.pk}
    outcome = next(o for o in outcomes if o.plan == plan)
    assert ([str(p) for p in outcome.periods], outcome.bills_issued, outcome.error) == (
        ["2024-05-01–2024-05-31"], 3, "")
    _one_bill_each(plan)


def test_running_again_issues_nothing_new():
    plan = _program(affiliates=3)
    run_billing(as_of=JUNE_1)

    outcomes = run_billing(as_of=JUNE_1)

    assert next(o for o in outcomes if o.plan == plan).periods == []
    assert BillingRun.objects.filter(plan=plan).count() == 1
    _one_bill_each(plan)
    assert BillLine.objects.count() == 6 and BillPlayerLine.objects.count() == 3


def test_a_crash_midway_stays_processing_and_the_next_run_resumes_it(monkeypatch):
    # given bills issued one per transaction and the process killed while issuing the third
    plan = _program(affiliates=5)
    monkeypatch.setattr(billing_run, "BILL_BATCH", 1)
    real_issue, calls = billing_run.bills_issue, []

    def dies_on_the_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # not an Exception: nothing marks the run, as after a kill
        return real_issue(**kwargs)

    monkeypatch.setattr(billing_run, "bills_issue", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run_billing(as_of=JUNE_1)

    run = BillingRun.objects.get(plan=plan)
    assert run.status == BillingRun.Status.PROCESSING
    assert Bill.objects.filter(plan=plan).count() == 2
    assert Qualification.objects.filter(plan=plan).count() == 5  # qualified before issuing

    # when the next run comes
    monkeypatch.setattr(billing_run, "bills_issue", real_issue)
    run_billing(as_of=JUNE_1)

    # then the same run completes and every affiliate has exactly one bill
    run.refresh_from_db()
    assert (run.status, run.bills_issued) == (BillingRun.Status.COMPLETED, 5)
    assert BillingRun.objects.filter(plan=plan).count() == 1
    _one_bill_each(plan)


def test_an_error_marks_the_run_failed_without_raising_and_the_next_run_completes_it(monkeypatch, caplog):
    plan = _program(affiliates=4)
    other = _program(affiliates=1)
    monkeypatch.setattr(billing_run, "BILL_BATCH", 2)
    real_issue = billing_run.bills_issue

    def refuses_the_second_batch(**kwargs):
        if kwargs["plan"] == plan and Bill.objects.filter(plan=plan).exists():
            raise RuntimeError("database went away")
        return real_issue(**kwargs)

    monkeypatch.setattr(billing_run, "bills_issue", refuses_the_second_batch)
    outcomes = run_billing(as_of=JUNE_1)  # does not raise

    run = BillingRun.objects.get(plan=plan)
    assert (run.status, run.error, run.bills_issued) == (
        BillingRun.Status.FAILED, "RuntimeError: database went away", 2)
    assert "RuntimeError: database went away" in next(o for o in outcomes if o.plan == plan).error
    assert "billing run of plan" in caplog.text
    # the other plan was billed all the same
    assert BillingRun.objects.get(plan=other).status == BillingRun.Status.COMPLETED

    monkeypatch.setattr(billing_run, "bills_issue", real_issue)
    run_billing(as_of=JUNE_1)

    run.refresh_from_db()
    assert (run.status, run.error, run.bills_issued) == (BillingRun.Status.COMPLETED, "", 4)
    _one_bill_each(plan)


def test_a_failed_period_holds_back_the_plans_later_periods(monkeypatch):
    plan = _program(affiliates=1, period=CommissionPlan.Period.DAILY)
    monkeypatch.setattr(billing_run, "bill_drafts", lambda **kw: (_ for _ in ()).throw(RuntimeError("boom")))

    run_billing(as_of=dt.date(2024, 5, 4))

    assert list(BillingRun.objects.filter(plan=plan).values_list("period_start", "status")) == [
        (dt.date(2024, 5, 1), BillingRun.Status.FAILED)]


def test_catching_up_closes_every_period_in_order():
    plan = billing_plan(period=CommissionPlan.Period.DAILY, revshare_percent=Decimal("50"))
    campaign = CampaignFactory(commission_plan=plan, brand=plan.brand)
    player = player_of(campaign)
    for day, bets in ((1, "10"), (3, "30")):
        PlayerActivityFactory(player=player, period_start=dt.datetime(2024, 5, day, 6, tzinfo=dt.UTC),
                              bets_sum=Decimal(bets))

    run_billing(as_of=dt.date(2024, 5, 4))

    assert BillingRun.objects.filter(plan=plan, status=BillingRun.Status.COMPLETED).count() == 3
    assert list(Bill.objects.filter(plan=plan).order_by("period_start").values_list(
        "period_start", "period_end", "issued_amount")) == [
        (dt.date(2024, 5, 1), dt.date(2024, 5, 1), Decimal("5.00")),
        (dt.date(2024, 5, 3), dt.date(2024, 5, 3), Decimal("15.00")),
    ]


def test_inactive_plans_are_not_billed():
    plan = _program(affiliates=1, is_active=False)

    run_billing(as_of=JUNE_1)

    assert not BillingRun.objects.filter(plan=plan).exists()
    assert not Bill.objects.exists()


def test_the_command_prints_what_it_closed():
    plan = _program(affiliates=2)
    out = StringIO()

    call_command("run_billing", "--date", "2024-06-01", stdout=out)

    assert f"{plan}: periods closed: 2024-05-01–2024-05-31; bills issued: 2" in out.getvalue()
    assert Bill.objects.filter(plan=plan).count() == 2


def test_the_command_defaults_to_today():
    plan = _program(affiliates=1)
    out = StringIO()
    with time_machine.travel(dt.datetime(2024, 6, 1, 0, 30, tzinfo=dt.UTC), tick=False):
        call_command("run_billing", stdout=out)

    assert "bills issued: 1" in out.getvalue()
    assert Bill.objects.filter(plan=plan).count() == 1


@pytest.mark.parametrize("value", ["2024-13-01", "yesterday", "01/06/2024"])
def test_the_command_refuses_a_bad_date(value):
    with pytest.raises(CommandError, match=r"--date must be a date as YYYY-MM-DD, e\.g\. 2024-06-01"):
        call_command("run_billing", "--date", value)


def test_the_command_fails_loudly_when_a_plan_fails(monkeypatch):
    _program(affiliates=1)
    monkeypatch.setattr(billing_run, "bill_drafts", lambda **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    err = StringIO()

    with pytest.raises(CommandError, match="1 plan\\(s\\) failed"):
        call_command("run_billing", "--date", "2024-06-01", stderr=err)

    assert "RuntimeError: boom" in err.getvalue()


def test_the_beat_task_runs_the_billing():
    plan = _program(affiliates=2)

    issued = run_billing_task.delay("2024-06-01").get()

    assert issued == 2
    assert Bill.objects.filter(plan=plan).count() == 2
    assert run_billing_task.delay("2024-06-01").get() == 0  # safe twice
    assert Bill.objects.filter(plan=plan).count() == 2


def test_the_beat_schedule_runs_the_task_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["run-billing"]
    assert entry["task"] == run_billing_task.name == "billing.run_billing"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {30})
