"""Automatic cash-out schedules: saving them, and the daily run that turns each one due into a
cashout of min(balance, maximum) when that reaches its minimum.

The run is safe to repeat: each (schedule, date) gets one CashoutScheduleRun row (a unique
constraint), written in the same transaction as the cashout it makes, and the cashout's
idempotency key is derived from the same pair. A run that failed is recorded with the reason
(prefix "failed: ") and is the only kind a replay of the same date tries again.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction

from backoffice.money import CURRENCIES, places, quantize
from billing import schedule_dates
from billing.errors import BillingError
from billing.models import Balance, CashoutSchedule, CashoutScheduleRun, PaymentMethod
from billing.services.cashouts import cashout_limit_error, cashout_request
from partners.models import Affiliate

logger = logging.getLogger(__name__)

FAILED_PREFIX = "failed: "


# -- saving -----------------------------------------------------------------------------------

def _validated(*, affiliate, payment_method: PaymentMethod, currency: str, min_amount: Decimal,
               max_amount: Decimal, plan: str, weekdays, month_days) -> dict:
    if payment_method is None or payment_method.affiliate_id != affiliate.pk:
        raise BillingError("Choose one of your payment methods.", field="payment_method")
    if currency not in CURRENCIES:
        raise BillingError(f"{currency} is not a supported currency.", field="currency")
    amounts = {}
    for name, value in (("min_amount", min_amount), ("max_amount", max_amount)):
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        value = Decimal(value)
        if value <= 0:
            raise BillingError("The amount must be greater than zero.", field=name)
        if quantize(value, currency) != value:
            raise BillingError(f"{currency} amounts have at most {places(currency)} decimal places.", field=name)
        amounts[name] = quantize(value, currency)
    if amounts["max_amount"] < amounts["min_amount"]:
        raise BillingError(
            f"The maximum ({amounts['max_amount']} {currency}) must not be below the minimum "
            f"({amounts['min_amount']} {currency}).", field="max_amount")
    # The same limits (and message naming both) as a withdrawal: each run requests a cashout
    # of an amount between the two, so both must be within what the payment system accepts.
    for name in ("min_amount", "max_amount"):
        error = cashout_limit_error(method_type=payment_method.type, currency=currency, amount=amounts[name])
        if error:
            raise BillingError(error, field=name, code="limits")

    if plan not in CashoutSchedule.Plan.values:
        raise BillingError("Choose a plan.", field="plan")
    weekdays = schedule_dates.clean_weekdays(weekdays) if plan == CashoutSchedule.Plan.WEEKLY else []
    month_days = schedule_dates.clean_month_days(month_days) if plan == CashoutSchedule.Plan.DATES else []
    if plan == CashoutSchedule.Plan.WEEKLY and not weekdays:
        raise BillingError("Choose at least one weekday.", field="weekdays")
    if plan == CashoutSchedule.Plan.DATES and not month_days:
        raise BillingError("Choose at least one date of the month.", field="month_days")
    return {"payment_method": payment_method, "currency": currency, **amounts, "plan": plan,
            "weekdays": weekdays, "month_days": month_days}


def cashout_schedule_create(
    *, affiliate, payment_method: PaymentMethod, currency: str, min_amount: Decimal, max_amount: Decimal,
    plan: str, weekdays=(), month_days=(), is_active: bool = True,
) -> CashoutSchedule:
    values = _validated(affiliate=affiliate, payment_method=payment_method, currency=currency,
                        min_amount=min_amount, max_amount=max_amount, plan=plan, weekdays=weekdays,
                        month_days=month_days)
    return CashoutSchedule.objects.create(affiliate=affiliate, is_active=is_active, **values)


def cashout_schedule_update(
    *, schedule: CashoutSchedule, payment_method: PaymentMethod, currency: str, min_amount: Decimal,
    max_amount: Decimal, plan: str, weekdays=(), month_days=(), is_active: bool = True,
) -> CashoutSchedule:
    values = _validated(affiliate=schedule.affiliate, payment_method=payment_method, currency=currency,
                        min_amount=min_amount, max_amount=max_amount, plan=plan, weekdays=weekdays,
                        month_days=month_days)
    for name, value in values.items():
        setattr(schedule, name, value)
    schedule.is_active = is_active
    schedule.save(update_fields=[*values, "is_active"])
    return schedule


def cashout_schedule_delete(*, schedule: CashoutSchedule) -> None:
    # Cashouts it made keep existing (Cashout.schedule is SET_NULL); its run history goes.
    schedule.delete()


# -- the daily run ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleOutcome:
    schedule_id: int
    affiliate_id: int
    currency: str
    status: str  # "created", "below_minimum", "already_ran", "failed"
    result: str
    cashout_id: int | None = None

    def __str__(self) -> str:
        return f"schedule {self.schedule_id} (affiliate {self.affiliate_id}, {self.currency}): {self.result}"


@dataclass
class ScheduleRunSummary:
    run_date: dt.date
    outcomes: list[ScheduleOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def failed(self) -> int:
        return self.count("failed")

    def as_dict(self) -> dict:
        return {"run_date": self.run_date.isoformat(), "schedules": len(self.outcomes),
                **{s: self.count(s) for s in ("created", "below_minimum", "already_ran", "failed")}}


def cashout_schedules_run(*, run_date: dt.date) -> ScheduleRunSummary:
    """Run every active schedule whose plan has a run on `run_date`. One schedule failing is
    recorded on its run and does not stop the others. Schedules of an account that is not
    active (blocked, not yet approved) are left alone: nobody could act on their cashouts."""
    summary = ScheduleRunSummary(run_date=run_date)
    schedules = (CashoutSchedule.objects.filter(is_active=True, affiliate__status=Affiliate.Status.ACTIVE)
                 .select_related("affiliate", "payment_method").order_by("pk"))
    for schedule in schedules.iterator(chunk_size=500):
        if schedule_dates.runs_on(schedule, run_date):
            summary.outcomes.append(cashout_schedule_run(schedule=schedule, run_date=run_date))
    return summary


def cashout_schedule_run(*, schedule: CashoutSchedule, run_date: dt.date) -> ScheduleOutcome:
    """One schedule on one date: at most one cashout, however often it is called."""
    def outcome(status, result, cashout_id=None):
        return ScheduleOutcome(schedule_id=schedule.pk, affiliate_id=schedule.affiliate_id,
                               currency=schedule.currency, status=status, result=result, cashout_id=cashout_id)

    try:
        with transaction.atomic():
            run, created = CashoutScheduleRun.objects.select_for_update().get_or_create(
                schedule=schedule, run_date=run_date, defaults={"result": "running"})
            if not created and not run.result.startswith(FAILED_PREFIX):
                return outcome("already_ran", f"already ran on {run_date.isoformat()}: {run.result}",
                               run.cashout_id)
            status, result, cashout = _run_once(schedule=schedule, run_date=run_date)
            run.result, run.cashout = result[:200], cashout
            run.save(update_fields=["result", "cashout"])
            return outcome(status, result, cashout.pk if cashout else None)
    except Exception as exc:  # noqa: BLE001 — one schedule's failure must not stop the run
        message = exc.message if isinstance(exc, BillingError) else f"unexpected error ({type(exc).__name__})"
        if not isinstance(exc, BillingError):
            logger.exception("cash-out schedule %s failed on %s", schedule.pk, run_date)
        result = f"{FAILED_PREFIX}{message}"
        try:
            with transaction.atomic():
                CashoutScheduleRun.objects.update_or_create(
                    schedule=schedule, run_date=run_date, defaults={"result": result[:200], "cashout": None})
        except IntegrityError:  # pragma: no cover — a concurrent run recorded it first
            pass
        return outcome("failed", result)


def _run_once(*, schedule: CashoutSchedule, run_date: dt.date):
    currency = schedule.currency
    balance = (Balance.objects.filter(affiliate_id=schedule.affiliate_id, currency=currency)
               .values_list("amount", flat=True).first()) or Decimal(0)
    # Rounded down: a balance kept to 8 places must not round up past what is there.
    step = Decimal(1).scaleb(-places(currency))
    amount = min(Decimal(balance), schedule.max_amount).quantize(step, rounding=ROUND_DOWN)
    minimum = quantize(schedule.min_amount, currency)
    if amount < minimum or amount <= 0:
        shown = Decimal(balance).quantize(step, rounding=ROUND_DOWN)
        return "below_minimum", f"balance {shown} {currency} below the minimum {minimum} {currency}", None
    cashout = cashout_request(
        affiliate=schedule.affiliate, actor=None, currency=currency, amount=amount,
        payment_method=schedule.payment_method,
        idempotency_key=f"schedule:{schedule.pk}:{run_date.isoformat()}", schedule=schedule,
    )
    if cashout.schedule_id != schedule.pk:
        cashout.schedule = schedule
        cashout.save(update_fields=["schedule"])
    return "created", f"cashout {cashout.pk} created ({amount} {currency})", cashout
