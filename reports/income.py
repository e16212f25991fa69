"""Commission as it accrues, for the stats rollups and the raw-data reports: the admin fee,
RevShare and CPA of a cell (a day × promo × currency, or any group of activity), from the
terms of the promo's commission plan (billing.CommissionPlan).

The bills (billing.services.billing_amounts) stay authoritative: they settle a whole billing
period at once, which a day cannot know. A cell accrues:

- plan NGR: bets − wins − the deductions the plan switches on (bonuses, chargebacks, payment
  system / game provider / jackpot fees, additional deductions, taxes) — only for activity in
  the plan's currency: billing ignores activity in any other currency, and so does this.
- admin fee = plan NGR × admin_fee_percent / 100. Billing takes the fee off the affiliate's
  period NGR only when that is above 0; per cell the fee is linear (a losing day carries a
  negative fee), so over a billing period with positive NGR the cells add up to the bill's fee.
- RevShare = (plan NGR − admin fee) × revshare_percent / 100 (RevShare and Hybrid plans).
  Tiers, negative carryover and "a negative period pays 0" are period-level rules: cells use the
  plan's own percent (the percent below the lowest tier) and may be negative; over a period
  with positive NGR and no tiers or carryover they add up to the bill's RevShare lines.
- CPA = the Qualification amounts of the players qualified that day (qualified_at, the last
  day of the period they qualified in), in the plan's currency — exactly what the bills pay
  once the hold days are over. Sub-affiliate income is not accrued (it is a percent of other
  affiliates' bills).

Amounts are kept to 8 decimal places (the rollups' money columns); reports round when they
render.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing.models import CommissionPlan
from billing.services.billing_amounts import DEDUCTIONS

ZERO = Decimal(0)
HUNDRED = Decimal(100)
STORED = Decimal("1e-8")  # the rollups' money columns have 8 decimal places


@dataclass(frozen=True)
class PlanTerms:
    currency: str
    revshare_rate: Decimal  # 0 for CPA-only plans
    admin_fee_rate: Decimal
    deductions: tuple[str, ...]  # DailyStat columns taken off GGR (taxes_sum included when switched on)


def stored(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(STORED, rounding=ROUND_HALF_UP)


def plan_terms(plan_ids) -> dict[int, PlanTerms]:
    """plan id -> its terms, for these plans (one query)."""
    terms = {}
    for plan in CommissionPlan.objects.filter(pk__in=set(plan_ids) - {None}):
        deductions = [column for column, switch in DEDUCTIONS.items() if getattr(plan, switch)]
        if plan.deduct_taxes:
            deductions.append("taxes_sum")
        terms[plan.pk] = PlanTerms(
            currency=plan.currency,
            revshare_rate=(plan.revshare_percent or ZERO) / HUNDRED if plan.has_revshare else ZERO,
            admin_fee_rate=(plan.admin_fee_percent or ZERO) / HUNDRED,
            deductions=tuple(deductions),
        )
    return terms


def accrual(terms: PlanTerms | None, currency: str, sums: dict) -> tuple[Decimal, Decimal]:
    """(admin fee, RevShare) accrued by activity `sums` (DailyStat column names) in `currency`
    under `terms`; zeros for another currency than the plan's or without a plan."""
    if terms is None or currency != terms.currency:
        return ZERO, ZERO
    ngr = Decimal(sums.get("bets_sum") or 0) - Decimal(sums.get("wins_sum") or 0)
    for column in terms.deductions:
        ngr -= Decimal(sums.get(column) or 0)
    fee = ngr * terms.admin_fee_rate
    return stored(fee), stored((ngr - fee) * terms.revshare_rate)
