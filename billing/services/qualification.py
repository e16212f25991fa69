"""CPA qualification: which players of a plan met its criteria by the end of a period.

Rules (CommissionPlan's CPA fields; a criterion left at 0 / empty is not checked):

- Only players attributed to a campaign under the plan (`player.campaign.commission_plan`)
  count; organic players (no campaign) never qualify. A player qualifies ONCE, EVER, per plan
  (`Qualification` is unique per plan × player); a qualified player is never looked at again.
- Everything is counted from registration up to the end of the period (the first instant after
  its last day, program time zone) and, when `qualification_window_days` is set, only what
  happened before `sign_up_at + window days`: an activity window counts when its start is in
  range, a deposit when its `processed_at` is.
- Only activity and deposits in the plan's currency count (conversion comes with reports).
- first deposit (`Deposit.is_first`) amount ≥ `min_first_deposit` — when this minimum is
  above 0 a player without a first deposit in range does not qualify;
- deposits sum ≥ `min_deposits_sum` and deposits count ≥ `min_deposits_count`, taken from the
  activity windows (`deposits_sum`, `deposits_count`: the platform's own totals, which are
  sent even when single deposits are not);
- wager (`wager_sum`) ≥ `min_wager`; bets count (`rounds_count`) ≥ `min_bets_count`;
- players flagged duplicate / self-excluded / disabled are left out when the plan excludes
  them; `countries_include` (if any) and `countries_exclude` are comma-separated ISO codes,
  compared case-insensitively with the player's country.

A qualified player gets `qualified_at` = the end of the period's last day (program time zone),
`payable_from` = that date + `hold_days`, `amount` = the plan's CPA amount, and the
qualification PlayerEvent (key "qualification:<player>:<plan>") which fires qualification
postbacks, in the same transaction. Billing pays it in the first period whose last day is on or
after `payable_from` (billing.services.billing_run).
"""
import datetime as dt

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone

from billing.models import CommissionPlan, Qualification
from billing.services.periods import Period
from campaigns.models import Deposit, Player, PlayerActivity, PlayerEvent
from campaigns.services.bulk import OnConflict, chunks, insert_rows
from campaigns.services.events import player_events_raise_bulk


def country_codes(value: str) -> list[str]:
    """'de, AT ,,fr' -> ['DE', 'AT', 'FR']."""
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def qualification_candidates(*, plan: CommissionPlan, period: Period):
    """Players of `plan` not yet qualified who meet every criterion by the end of `period`."""
    cutoff = period.end_moment
    players = Player.objects.filter(
        campaign__commission_plan=plan, sign_up_at__lt=cutoff,
    ).exclude(Exists(Qualification.objects.filter(plan=plan, player=OuterRef("pk"))))
    if plan.exclude_duplicates:
        players = players.filter(is_duplicate=False)
    if plan.exclude_self_excluded:
        players = players.filter(is_self_excluded=False)
    if plan.exclude_disabled:
        players = players.filter(is_disabled=False)
    include, exclude = country_codes(plan.countries_include), country_codes(plan.countries_exclude)
    if include or exclude:
        players = players.annotate(country_code=Upper("country"))
        if include:
            players = players.filter(country_code__in=include)
        if exclude:
            players = players.exclude(country_code__in=exclude)

    window = dt.timedelta(days=plan.qualification_window_days) if plan.qualification_window_days else None
    in_range = Q(activities__currency=plan.currency, activities__period_start__lt=cutoff)
    if window is not None:
        in_range &= Q(activities__period_start__lt=F("sign_up_at") + window)
    sums = {
        "q_wager": ("wager_sum", plan.min_wager),
        "q_rounds": ("rounds_count", plan.min_bets_count),
        "q_deposits_sum": ("deposits_sum", plan.min_deposits_sum),
        "q_deposits_count": ("deposits_count", plan.min_deposits_count),
    }
    checks = {}
    for alias, (column, minimum) in sums.items():
        if minimum and minimum > 0:
            output = PlayerActivity._meta.get_field(column)
            total = Coalesce(Sum(f"activities__{column}", filter=in_range), Value(0), output_field=output)
            players = players.annotate(**{alias: total})
            checks[f"{alias}__gte"] = minimum
    if plan.min_first_deposit and plan.min_first_deposit > 0:
        first = Deposit.objects.filter(
            player=OuterRef("pk"), is_first=True, currency=plan.currency, processed_at__lt=cutoff,
        )
        if window is not None:
            first = first.filter(processed_at__lt=OuterRef("sign_up_at") + window)
        players = players.annotate(q_first_deposit=Subquery(first.values("amount")[:1]))
        checks["q_first_deposit__gte"] = plan.min_first_deposit
    return players.filter(**checks)


def players_qualify(*, plan: CommissionPlan, period: Period) -> int:
    """Record the qualifications `period` brings for `plan` and raise their events; returns
    how many players qualified now. Safe to run twice (once ever per plan × player)."""
    if not plan.has_cpa:
        return 0
    rows = list(
        qualification_candidates(plan=plan, period=period)
        .values_list("pk", "campaign__affiliate_id", "affiliate_id", "promo_id", "campaign_id", "visit_id")
        .order_by("pk")
    )
    if not rows:
        return 0
    qualified_at = period.last_moment
    payable_from = period.end + dt.timedelta(days=plan.hold_days)
    now = timezone.now()
    with transaction.atomic():
        insert_rows(
            Qualification,
            [{"plan": plan.pk, "player": pk, "affiliate": billed_affiliate, "qualified_at": qualified_at,
              "payable_from": payable_from, "amount": plan.cpa_amount, "bill": None}
             for pk, billed_affiliate, *_ in rows],
            on_conflict=OnConflict.IGNORE,  # a concurrent run qualified them first: fine
        )
        events = [
            {"key": f"qualification:{pk}:{plan.pk}", "type": PlayerEvent.Type.QUALIFICATION, "player": pk,
             "affiliate": affiliate, "promo": promo, "campaign": campaign, "visit": visit,
             "amount": plan.cpa_amount, "currency": plan.currency, "occurred_at": qualified_at}
            for pk, _, affiliate, promo, campaign, visit in rows
        ]
        # The bulk twin of player_event_raise: same key, same postbacks, one INSERT per batch.
        for chunk in chunks(events, 2000):
            player_events_raise_bulk(events=chunk, now=now)
    return len(rows)
