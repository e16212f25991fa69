"""Portal page /partner/commission_plans: a card per plan available to the affiliate, whose
"more" spells out every setting in plain words (plan_terms, a pure function)."""
from dataclasses import dataclass, field
from decimal import Decimal

from django.shortcuts import render
from django.views.decorators.http import require_GET

from backoffice.money import quantize
from billing.models import CommissionPlan
from billing.selectors_bills import commission_plans_for
from partners.portal import portal_view

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# In the order NGR subtracts them (CommissionPlan field, words).
DEDUCTIONS = (
    ("deduct_bonuses", "bonuses"),
    ("deduct_chargebacks", "chargebacks"),
    ("deduct_payment_system_fees", "payment system fees"),
    ("deduct_game_provider_fees", "game provider fees"),
    ("deduct_jackpot_fees", "jackpot fees"),
    ("deduct_additional_deductions", "additional deductions"),
    ("deduct_taxes", "taxes"),
)


@dataclass
class Term:
    """One setting in plain words; `rows` (threshold, percent) when it is a tier table."""

    heading: str
    text: str
    rows: list[tuple[str, str]] = field(default_factory=list)


def percent(value: Decimal) -> str:
    """35.000 → "35%", 12.500 → "12.5%"."""
    text = format(Decimal(value).normalize(), "f")
    return f"{text}%"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _countries(codes: str) -> str:
    return ", ".join(c.strip().upper() for c in codes.split(",") if c.strip())


def _cpa(plan, money) -> Term:
    criteria = []
    if plan.min_first_deposit > 0:
        criteria.append(f"a first deposit of at least {money(plan.min_first_deposit)}")
    if plan.min_deposits_sum > 0 and plan.min_deposits_count > 0:
        criteria.append(f"deposits totalling at least {money(plan.min_deposits_sum)} "
                        f"in at least {_plural(plan.min_deposits_count, 'deposit')}")
    elif plan.min_deposits_sum > 0:
        criteria.append(f"deposits totalling at least {money(plan.min_deposits_sum)}")
    elif plan.min_deposits_count > 0:
        criteria.append(f"at least {_plural(plan.min_deposits_count, 'deposit')}")
    if plan.min_wager > 0:
        criteria.append(f"wagers totalling at least {money(plan.min_wager)}")
    if plan.min_bets_count > 0:
        criteria.append(f"at least {_plural(plan.min_bets_count, 'bet')}")
    if criteria:
        rule = "A player qualifies with " + ", ".join(criteria)
    else:
        rule = "A player qualifies without minimum deposits or wagers"
    if plan.qualification_window_days:
        rule += f" within {_plural(plan.qualification_window_days, 'day')} of registration"
    clauses = [rule]
    excluded = [word for flag, word in (
        (plan.exclude_duplicates, "duplicate"),
        (plan.exclude_self_excluded, "self-excluded"),
        (plan.exclude_disabled, "disabled"),
    ) if flag]
    if excluded:
        words = excluded[0] if len(excluded) == 1 else ", ".join(excluded[:-1]) + " and " + excluded[-1]
        clauses.append(f"{words} players do not qualify")
    if _countries(plan.countries_include):
        clauses.append(f"only players from {_countries(plan.countries_include)}")
    if _countries(plan.countries_exclude):
        clauses.append(f"players from {_countries(plan.countries_exclude)} do not qualify")
    if plan.hold_days:
        clauses.append(f"paid {_plural(plan.hold_days, 'day')} after qualifying")
    text = (f"CPA: {money(plan.cpa_amount)} per qualified player. "
            + "; ".join(clauses) + ". Each player is paid once.")
    return Term("CPA", text)


def _revshare(plan, tiers, money) -> Term:
    if not plan.tier_basis:
        return Term("RevShare", f"RevShare: {percent(plan.revshare_percent)} of NGR.")
    if plan.tier_basis == CommissionPlan.TierBasis.FTD_COUNT:
        basis = "the number of first deposits in the period"
        rows = [(f"from {_plural(int(t.threshold), 'first deposit')}", percent(t.percent)) for t in tiers]
    else:
        basis = "the period NGR"
        rows = [(f"from {money(t.threshold)}", percent(t.percent)) for t in tiers]
    if not rows:
        return Term("RevShare", f"RevShare: a percent of NGR by {basis}; no tiers are set up yet.")
    text = f"RevShare: a percent of NGR by {basis}: " + ", ".join(f"{a} {b}" for a, b in rows) + "."
    return Term("RevShare", text, rows)


def _ngr(plan) -> Term:
    parts = ["bets", "wins"] + [word for attr, word in DEDUCTIONS if getattr(plan, attr)]
    if plan.admin_fee_percent > 0:
        parts.append(f"admin fee {percent(plan.admin_fee_percent)}")
    return Term("NGR", "NGR = " + " − ".join(parts) + ".")


def _period(plan) -> Term:
    if plan.period == CommissionPlan.Period.DAILY:
        text = "Billing period: daily."
    elif plan.period == CommissionPlan.Period.WEEKLY:
        text = f"Billing period: weekly, from {WEEKDAYS[plan.period_weekday % 7]}."
    else:
        text = f"Billing period: monthly, from the {ordinal(plan.period_day)}."
    return Term("Billing period", text)


def _sub_affiliates(plan, levels) -> Term:
    if levels:
        text = "Sub-affiliates: " + ", ".join(f"level {lv.level} {percent(lv.percent)}" for lv in levels)
        text += " of their income."
    elif plan.allows_sub_affiliates:
        text = "Sub-affiliates: you may refer sub-affiliates; no commission is paid on their income."
    else:
        text = "Sub-affiliates: not offered under this plan."
    return Term("Sub-affiliates", text)


def plan_terms(plan, *, tiers=(), levels=()) -> list[Term]:
    """Every setting of `plan` in plain words, in the order the card shows them. Pure: reads
    only the attributes of `plan` and the given tiers and sub-affiliate levels."""
    def money(amount):
        return f"{quantize(amount, plan.currency)} {plan.currency}"

    terms = []
    if plan.kind in (CommissionPlan.Kind.CPA, CommissionPlan.Kind.HYBRID):
        terms.append(_cpa(plan, money))
    if plan.kind in (CommissionPlan.Kind.REVSHARE, CommissionPlan.Kind.HYBRID):
        terms.append(_revshare(plan, sorted(tiers, key=lambda t: t.threshold), money))
        terms.append(_ngr(plan))
        terms.append(Term("Negative NGR", "Negative NGR is carried over to the next periods."
                          if plan.negative_carryover else
                          "Negative NGR is not carried over: each period starts from zero."))
    terms.append(_period(plan))
    terms.append(_sub_affiliates(plan, sorted(levels, key=lambda lv: lv.level)))
    return terms


@portal_view
@require_GET
def commission_plan_list_view(request):
    plans = [
        {"plan": plan, "terms": plan_terms(plan, tiers=plan.tiers.all(), levels=plan.sub_affiliate_levels.all())}
        for plan in commission_plans_for(affiliate=request.affiliate)
    ]
    return render(request, "billing/plans/plan_list.html", {"plans": plans})
