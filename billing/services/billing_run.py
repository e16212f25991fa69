"""The billing run: close every completed period of every active plan and issue its bills.

Per plan × period (billing.services.periods), one BillingRun:

1. The run row is created `processing` (unique per plan × period). A completed run is never
   run again; a `processing` (crashed) or `failed` one is resumed by the next run.
2. Players are qualified for CPA (billing.services.qualification), raising their
   qualification events, in one transaction; a player qualifies once ever per plan.
3. Every affiliate's bill is computed (billing.services.billing_amounts: NGR, CPA, RevShare
   with tiers and carryover, sub-affiliate income).
4. Bills are issued in batches, each batch in its own transaction: one Bill per affiliate ×
   plan × period (pending; issued_amount = CPA + RevShare + sub-affiliate lines) with its
   lines per campaign, its per-player lines, and its CPA qualifications linked to it (so they
   are never billed twice). An affiliate that already has a bill for the period (issued
   before a crash) is skipped, so a resumed run never issues a second bill; the database's
   unique constraint backs this up. A bill is issued only when there is something to show:
   any activity (a bill of 0.00 is still issued when the activity nets to zero), a payable
   qualification, or sub-affiliate income.
5. The run is marked `completed` with bills_issued (all the period's bills, resumed ones
   included). An exception marks it `failed` with the error, is logged, and stops that plan
   (its later periods depend on this one's carryover); `run_billing` carries on with the other
   plans and never raises, so the beat task and the command see a result, not a traceback.

Two runs of the same period at the same moment are not expected (one beat job); should it
happen, the loser hits the unique constraint, its batch rolls back, it is marked failed, and
the next run completes it.
"""
import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from backoffice.money import quantize
from backoffice.timeutil import business_today
from billing.models import Bill, BillingRun, BillLine, BillPlayerLine, CommissionPlan, Qualification
from billing.services.billing_amounts import BillDraft, bill_drafts
from billing.services.periods import Period, completed_periods
from billing.services.qualification import players_qualify
from campaigns.services.bulk import chunks, insert_rows

logger = logging.getLogger(__name__)

# Bills per transaction: a crash loses at most one batch of work, never half a bill.
BILL_BATCH = 500


@dataclass
class PlanOutcome:
    """What run_billing did for one plan."""

    plan: CommissionPlan
    periods: list[Period] = field(default_factory=list)
    bills_issued: int = 0
    error: str = ""


def _run_open(*, plan: CommissionPlan, period: Period) -> BillingRun:
    run, created = BillingRun.objects.get_or_create(
        plan=plan, period_start=period.start,
        defaults={"period_end": period.end, "status": BillingRun.Status.PROCESSING},
    )
    if not created and run.status != BillingRun.Status.COMPLETED:
        run.status, run.error, run.finished_at = BillingRun.Status.PROCESSING, "", None
        run.save(update_fields=["status", "error", "finished_at"])
    return run


def _bill_of(draft: BillDraft, *, run: BillingRun, plan: CommissionPlan, period: Period, now) -> Bill:
    cpa, revshare = draft.amount(BillLine.Kind.CPA), draft.amount(BillLine.Kind.REVSHARE)
    sub = draft.amount(BillLine.Kind.SUB_AFFILIATE)
    return Bill(
        affiliate_id=draft.affiliate_id, plan=plan, brand_id=plan.brand_id, run=run, currency=plan.currency,
        period_start=period.start, period_end=period.end, status=Bill.Status.PENDING,
        issued_amount=cpa + revshare + sub, cpa_amount=cpa, revshare_amount=revshare, sub_affiliate_amount=sub,
        ngr=quantize(draft.ngr, plan.currency), carryover_in=draft.carryover_in, carryover_out=draft.carryover_out,
        created_at=now,
    )


def bills_issue(*, run: BillingRun, plan: CommissionPlan, period: Period, drafts: list[BillDraft]) -> list[Bill]:
    """Save one batch of bills with their lines, player lines and qualifications, atomically."""
    now = timezone.now()
    with transaction.atomic():
        bills = Bill.objects.bulk_create(
            [_bill_of(d, run=run, plan=plan, period=period, now=now) for d in drafts]
        )
        lines, player_lines, qualification_ids = [], [], []
        for bill, draft in zip(bills, drafts, strict=True):
            for line in draft.lines:
                line.bill = bill
                lines.append(line)
            # Plain rows, not model instances: a bill run writes one per player (100,000+).
            player_lines.extend(
                {"bill": bill.pk, "player": player_id, "campaign": player.campaign_id,
                 "ngr": quantize(player.ngr, plan.currency), "cpa_amount": player.cpa,
                 "revshare_amount": player.revshare}
                for player_id, player in draft.players.items()
            )
            qualification_ids.extend(draft.qualification_ids)
        BillLine.objects.bulk_create(lines, batch_size=2000)
        insert_rows(BillPlayerLine, player_lines, on_conflict=None)
        own_bill = Bill.objects.filter(plan=plan, period_start=period.start, affiliate_id=OuterRef("affiliate_id"))
        for chunk in chunks(qualification_ids):
            Qualification.objects.filter(pk__in=chunk, bill__isnull=True).update(
                bill_id=Subquery(own_bill.values("pk")[:1])
            )
    return bills


def billing_period_close(*, plan: CommissionPlan, period: Period) -> BillingRun:
    """Close one period of one plan (resuming a crashed run); returns the run, completed.

    On an exception the run is marked failed with the error and the exception propagates.
    """
    run = _run_open(plan=plan, period=period)
    if run.status == BillingRun.Status.COMPLETED:
        return run
    try:
        players_qualify(plan=plan, period=period)
        drafts = bill_drafts(plan=plan, period=period)
        issued = set(
            Bill.objects.filter(plan=plan, period_start=period.start).values_list("affiliate_id", flat=True)
        )
        pending = [d for a, d in sorted(drafts.items()) if a not in issued and d.worth_issuing]
        for batch in chunks(pending, BILL_BATCH):
            bills_issue(run=run, plan=plan, period=period, drafts=batch)
    except Exception as exc:
        run.status = BillingRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:5000]
        run.finished_at = timezone.now()
        run.bills_issued = Bill.objects.filter(plan=plan, period_start=period.start).count()
        run.save(update_fields=["status", "error", "finished_at", "bills_issued"])
        raise
    run.status = BillingRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.bills_issued = Bill.objects.filter(plan=plan, period_start=period.start).count()
    run.save(update_fields=["status", "finished_at", "bills_issued"])
    return run


def run_billing(*, as_of: dt.date | None = None) -> list[PlanOutcome]:
    """Close, for every active plan, every period that ended before `as_of` (default: today in
    the program time zone) and is not completed yet, oldest first. Never raises for a failing
    period: it is recorded on its BillingRun and in the outcome, logged, and the plan's later
    periods wait for the next run."""
    as_of = as_of or business_today()
    outcomes = []
    for plan in CommissionPlan.objects.filter(is_active=True).order_by("pk"):
        outcome = PlanOutcome(plan=plan)
        for period in completed_periods(plan=plan, as_of=as_of):
            try:
                run = billing_period_close(plan=plan, period=period)
            except Exception as exc:
                logger.exception("billing run of plan %s for %s failed", plan.pk, period)
                outcome.error = f"{period}: {type(exc).__name__}: {exc}"
                break
            outcome.periods.append(period)
            outcome.bills_issued += run.bills_issued
        outcomes.append(outcome)
    return outcomes
