"""What each affiliate earned under one plan in one period: the bills before they are issued.

Computed in the database where it scales (one GROUP BY per player over the period's activity,
one per affiliate for first deposits), then in Python over those aggregated rows only.

Data
    PlayerActivity windows whose `period_start` falls in the period (program time zone dates),
    in the plan's currency (activity in any other currency is ignored for the plan: conversion
    comes with reports), of players attributed to a campaign under the plan
    (`player.campaign.commission_plan == plan`). Organic players (no campaign) are ignored.
    The affiliate billed is the campaign's affiliate.

NGR (per player, summed per campaign and per affiliate)
    GGR = bets − wins; NGR = GGR − bonuses − chargebacks − payment system fees − game provider
    fees − jackpot fees − additional deductions − taxes, each deduction only when the plan's
    switch for it is on. Taxes are the sum of the `PlayerActivity.extra` money values whose key
    contains "tax" (e.g. "taxes_cents"; *_count keys are counts, not money), 0 when there are
    none. Admin fee: when the affiliate's period NGR is above 0, NGR × admin_fee_percent / 100
    is taken off; the fee is proportional, so campaign and player NGRs are reduced by the same
    factor and the lines still add up to the bill. "NGR" below is after the fee.

RevShare (plan.has_revshare)
    percent = plan.revshare_percent, or with tiers the percent of the highest tier whose
    threshold ≤ the basis: the affiliate's period NGR (tier_basis "ngr") or the number of first
    deposits (`Deposit.is_first`, processed in the period, any currency) of its players under
    the plan ("ftd_count"); below the lowest threshold the plan's own percent applies.
    Negative carryover (plan.negative_carryover): carryover_in = the carryover_out (≤ 0) of the
    affiliate's previous bill under the plan (whatever its status); effective = NGR +
    carryover_in. effective > 0: each campaign line pays its NGR × percent and, when
    carryover_in < 0, one more RevShare line without a campaign pays carryover_in × percent
    (negative), so the bill pays effective × percent; carryover_out = 0. effective ≤ 0: every
    RevShare line pays 0 and carryover_out = effective. With carryover off carryover_in is 0 and
    a negative NGR pays 0 with carryover_out 0. Worked: 30%, NGR −100, +60, +80 → 0 (carry
    −100), 0 (carry −40), 12.00 (−40 + 80 = 40 × 30%).

CPA
    Qualifications of the plan not billed yet whose `payable_from` ≤ the period's last day,
    one CPA line per campaign (base = total of their amounts, players_count = how many).

Sub-affiliate income
    For each PartnerConnection (parent, child, level) with a SubAffiliateLevel of the plan for
    that level, the parent earns percent % of the child's bill for the same plan and period —
    its CPA + RevShare (its own sub-affiliate income and later corrections not included) — as a
    sub_affiliate line on the parent's bill, which is made for the purpose when the parent has
    nothing else under the plan that period. Children's amounts are all computed before any
    parent line; a child bill issued by an earlier attempt of the run is read back as issued.

Rounding: backoffice.money.quantize (ROUND_HALF_UP, the currency's places) at the end of each
line, from exact sums; the bill's totals are the sums of its rounded lines.
"""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Sum

from backoffice.money import quantize
from billing.models import Bill, BillLine, CommissionPlan, Qualification
from billing.services.periods import Period
from campaigns.models import Deposit, PartnerConnection, PlayerActivity

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# PlayerActivity column -> the plan switch that deducts it from GGR.
DEDUCTIONS = {
    "bonus_issues_sum": "deduct_bonuses",
    "chargebacks_sum": "deduct_chargebacks",
    "payment_system_fees_sum": "deduct_payment_system_fees",
    "game_provider_fees_sum": "deduct_game_provider_fees",
    "jackpot_fees_sum": "deduct_jackpot_fees",
    "additional_deductions_sum": "deduct_additional_deductions",
}


@dataclass
class PlayerDraft:
    campaign_id: int | None
    ngr: Decimal = ZERO
    cpa: Decimal = ZERO
    revshare: Decimal = ZERO


@dataclass
class BillDraft:
    """One affiliate's bill for the plan and period, computed but not yet saved."""

    affiliate_id: int
    has_activity: bool = False
    ngr: Decimal = ZERO  # exact, after the admin fee
    carryover_in: Decimal = ZERO
    carryover_out: Decimal = ZERO
    campaign_ngr: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    campaign_players: dict = field(default_factory=lambda: defaultdict(int))
    players: dict = field(default_factory=dict)  # player id -> PlayerDraft
    qualification_ids: list = field(default_factory=list)
    lines: list = field(default_factory=list)  # unsaved BillLine

    def amount(self, kind: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == kind), ZERO)

    @property
    def own_income(self) -> Decimal:
        """CPA + RevShare: what parents' sub-affiliate lines are a percent of."""
        return self.amount(BillLine.Kind.CPA) + self.amount(BillLine.Kind.REVSHARE)

    @property
    def has_sub_affiliate_lines(self) -> bool:
        return any(line.kind == BillLine.Kind.SUB_AFFILIATE for line in self.lines)

    @property
    def worth_issuing(self) -> bool:
        """Activity (even netting to zero), a payable qualification, or sub-affiliate income."""
        return self.has_activity or bool(self.qualification_ids) or self.has_sub_affiliate_lines

    def player(self, player_id: int, campaign_id: int | None) -> PlayerDraft:
        if player_id not in self.players:
            self.players[player_id] = PlayerDraft(campaign_id=campaign_id)
        return self.players[player_id]


def _activity(plan: CommissionPlan, period: Period):
    return PlayerActivity.objects.filter(
        player__campaign__commission_plan=plan,
        currency=plan.currency,
        period_start__gte=period.start_moment,
        period_start__lt=period.end_moment,
    )


def tax_of(extra: dict) -> Decimal:
    """The taxes in one activity window's `extra`: money values whose key contains "tax"."""
    total = ZERO
    for key, value in (extra or {}).items():
        if "tax" in key.lower() and not key.endswith("_count"):
            total += Decimal(str(value))
    return total


def _taxes_by_player(plan: CommissionPlan, period: Period) -> dict[int, Decimal]:
    taxes: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for player_id, extra in _activity(plan, period).exclude(extra={}).values_list("player_id", "extra"):
        taxes[player_id] += tax_of(extra)
    return taxes


def _ngr_drafts(plan: CommissionPlan, period: Period) -> dict[int, BillDraft]:
    """Per affiliate: NGR per player and per campaign (after the admin fee), from one GROUP BY."""
    columns = ["bets_sum", "wins_sum"] + [c for c, switch in DEDUCTIONS.items() if getattr(plan, switch)]
    rows = (
        _activity(plan, period)
        .values("player_id", "player__campaign_id", "player__campaign__affiliate_id")
        .annotate(**{f"s_{c}": Sum(c) for c in columns})
        .order_by()
    )
    taxes = _taxes_by_player(plan, period) if plan.deduct_taxes else {}
    drafts: dict[int, BillDraft] = {}
    for row in rows.iterator(chunk_size=5000):
        affiliate_id, campaign_id, player_id = (
            row["player__campaign__affiliate_id"], row["player__campaign_id"], row["player_id"],
        )
        ngr = (row["s_bets_sum"] or ZERO) - (row["s_wins_sum"] or ZERO)
        for c in columns[2:]:
            ngr -= row[f"s_{c}"] or ZERO
        ngr -= taxes.get(player_id, ZERO)
        draft = drafts.get(affiliate_id) or drafts.setdefault(affiliate_id, BillDraft(affiliate_id))
        draft.has_activity = True
        draft.player(player_id, campaign_id).ngr += ngr
        draft.ngr += ngr
    fee = plan.admin_fee_percent or ZERO
    for draft in drafts.values():
        factor = (1 - fee / HUNDRED) if fee and draft.ngr > 0 else None
        if factor is not None:
            draft.ngr *= factor
        for player in draft.players.values():
            if factor is not None:
                player.ngr *= factor
            draft.campaign_ngr[player.campaign_id] += player.ngr
            draft.campaign_players[player.campaign_id] += 1
    return drafts


def _ftd_counts(plan: CommissionPlan, period: Period) -> dict[int, int]:
    rows = (
        Deposit.objects.filter(
            is_first=True, player__campaign__commission_plan=plan,
            processed_at__gte=period.start_moment, processed_at__lt=period.end_moment,
        )
        .values("player__campaign__affiliate_id").annotate(n=Count("pk")).order_by()
    )
    return {row["player__campaign__affiliate_id"]: row["n"] for row in rows}


def tier_percent(*, plan: CommissionPlan, tiers: list, basis: Decimal | int) -> Decimal:
    """The percent of the highest tier whose threshold ≤ basis; the plan's percent below all."""
    percent = plan.revshare_percent
    for tier in tiers:  # ascending thresholds
        if tier.threshold <= basis:
            percent = tier.percent
    return percent


def previous_carryovers(*, plan: CommissionPlan, before: dt.date) -> dict[int, Decimal]:
    """affiliate id -> carryover_out (< 0) of its latest bill under `plan` before `before`."""
    later = Bill.objects.filter(
        plan=plan, affiliate=OuterRef("affiliate"), period_start__gt=OuterRef("period_start"), period_start__lt=before,
    )
    rows = (
        Bill.objects.filter(plan=plan, period_start__lt=before, carryover_out__lt=0)
        .exclude(Exists(later))
        .values_list("affiliate_id", "carryover_out")
    )
    return dict(rows)


def _add_revshare(plan: CommissionPlan, period: Period, drafts: dict[int, BillDraft]) -> None:
    currency = plan.currency
    tiers = list(plan.tiers.order_by("threshold")) if plan.tier_basis else []
    ftds = _ftd_counts(plan, period) if tiers and plan.tier_basis == CommissionPlan.TierBasis.FTD_COUNT else {}
    carried = previous_carryovers(plan=plan, before=period.start) if plan.negative_carryover else {}
    for affiliate_id, draft in drafts.items():
        if not draft.has_activity:
            continue
        if not tiers:
            percent = plan.revshare_percent
        elif plan.tier_basis == CommissionPlan.TierBasis.NGR:
            percent = tier_percent(plan=plan, tiers=tiers, basis=draft.ngr)
        else:
            percent = tier_percent(plan=plan, tiers=tiers, basis=ftds.get(affiliate_id, 0))
        rate = percent / HUNDRED
        draft.carryover_in = carried.get(affiliate_id, ZERO)
        effective = draft.ngr + draft.carryover_in
        pays = effective > 0
        for campaign_id, ngr in sorted(draft.campaign_ngr.items(), key=lambda item: item[0] or 0):
            draft.lines.append(BillLine(
                kind=BillLine.Kind.REVSHARE, campaign_id=campaign_id, base=quantize(ngr, currency), rate=percent,
                players_count=draft.campaign_players[campaign_id],
                amount=quantize(ngr * rate, currency) if pays else ZERO,
            ))
        if pays and draft.carryover_in < 0:
            draft.lines.append(BillLine(
                kind=BillLine.Kind.REVSHARE, campaign_id=None, base=draft.carryover_in, rate=percent,
                amount=quantize(draft.carryover_in * rate, currency),
            ))
        draft.carryover_out = ZERO if pays or not plan.negative_carryover else quantize(effective, currency)
        if pays:
            for player in draft.players.values():
                player.revshare = quantize(player.ngr * rate, currency)


def _add_cpa(plan: CommissionPlan, period: Period, drafts: dict[int, BillDraft]) -> None:
    rows = (
        Qualification.objects.filter(plan=plan, bill__isnull=True, payable_from__lte=period.end)
        .values_list("pk", "affiliate_id", "player_id", "player__campaign_id", "amount")
        .order_by("pk")
    )
    per_campaign: dict[tuple, list] = defaultdict(list)
    for pk, affiliate_id, player_id, campaign_id, amount in rows:
        draft = drafts.get(affiliate_id) or drafts.setdefault(affiliate_id, BillDraft(affiliate_id))
        draft.qualification_ids.append(pk)
        draft.player(player_id, campaign_id).cpa += amount
        per_campaign[(affiliate_id, campaign_id)].append(amount)
    for (affiliate_id, campaign_id), amounts in sorted(per_campaign.items(), key=lambda i: (i[0][0], i[0][1] or 0)):
        total = quantize(sum(amounts, ZERO), plan.currency)
        drafts[affiliate_id].lines.append(BillLine(
            kind=BillLine.Kind.CPA, campaign_id=campaign_id, base=total, players_count=len(amounts), amount=total,
        ))


def _add_sub_affiliate_income(plan: CommissionPlan, period: Period, drafts: dict[int, BillDraft]) -> None:
    levels = dict(plan.sub_affiliate_levels.values_list("level", "percent"))
    if not levels:
        return
    income = {affiliate_id: draft.own_income for affiliate_id, draft in drafts.items()}
    issued = Bill.objects.filter(plan=plan, period_start=period.start).values_list(
        "affiliate_id", "cpa_amount", "revshare_amount",
    )
    for affiliate_id, cpa, revshare in issued:  # issued before a crash: as issued
        income[affiliate_id] = cpa + revshare
    connections = (
        PartnerConnection.objects.filter(level__in=list(levels))
        .values_list("parent_id", "child_id", "level").order_by("parent_id", "level", "child_id")
    )
    for parent_id, child_id, level in connections:
        base = income.get(child_id, ZERO)
        if base <= 0:
            continue
        percent = levels[level]
        parent = drafts.get(parent_id) or drafts.setdefault(parent_id, BillDraft(parent_id))
        parent.lines.append(BillLine(
            kind=BillLine.Kind.SUB_AFFILIATE, sub_affiliate_id=child_id, level=level, base=base, rate=percent,
            amount=quantize(base * percent / HUNDRED, plan.currency),
        ))


def bill_drafts(*, plan: CommissionPlan, period: Period) -> dict[int, BillDraft]:
    """affiliate id -> its bill for `plan` and `period`, computed (see the module's rules)."""
    drafts = _ngr_drafts(plan, period)
    _add_cpa(plan, period, drafts)
    if plan.has_revshare:
        _add_revshare(plan, period, drafts)
    _add_sub_affiliate_income(plan, period, drafts)
    return drafts
