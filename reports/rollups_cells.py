"""What each stats rollup cell counts, computed from the raw tables (reports.rollups stores it).

aggregate_cells gives (date, promo id, currency) -> {DailyStat column: value} over a range of
program days with a few GROUP BY queries per raw table (the rules are in reports.rollups), the
commission accrued included (reports.income). The raw-data reports (reports.engine.players)
use the same ACTIVITY_SUMS and tax_sum, so their numbers match the rollups'.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from backoffice.timeutil import program_tz
from billing.models import Qualification
from campaigns.models import Deposit, Player, PlayerActivity, Promo, Visit
from campaigns.services.bulk import chunks
from reports.income import accrual, plan_terms

# PlayerActivity column -> DailyStat column, summed.
ACTIVITY_SUMS = {
    "bets_sum": "bets_sum", "wins_sum": "wins_sum", "wager_sum": "wager_sum", "rounds_count": "bets_count",
    "bonus_issues_sum": "bonus_issues_sum", "additional_deductions_sum": "additional_deductions_sum",
    "chargebacks_count": "chargebacks_count", "chargebacks_sum": "chargebacks_sum",
    "payment_system_fees_sum": "payment_system_fees_sum", "game_provider_fees_sum": "game_provider_fees_sum",
    "jackpot_fees_sum": "jackpot_fees_sum", "cashouts_count": "cashouts_count", "cashouts_sum": "cashouts_sum",
}

def tax_sum(extra: dict) -> Decimal:
    """The taxes in an activity window's `extra`: every value whose key contains "tax" (counts,
    keys ending in "_count", excepted)."""
    total = Decimal(0)
    for key, value in (extra or {}).items():
        name = key.lower()
        if "tax" in name and not name.endswith("_count") and value not in (None, ""):
            total += Decimal(str(value))
    return total


def _day_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of date_from, start of the day after date_to) in the program time zone."""
    tz = program_tz()
    return (dt.datetime.combine(date_from, dt.time.min, tzinfo=tz),
            dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def aggregate_cells(date_from: dt.date, date_to: dt.date, promo_ids: set[int] | None) -> dict:
    """(date, promo id, currency) -> {counter: value} from the raw tables over [date_from,
    date_to] (program days), for these promos (None: every promo)."""
    start, end = _day_bounds(date_from, date_to)
    tz = program_tz()
    rows: dict[tuple, dict] = defaultdict(dict)
    promo_chunks = [None] if promo_ids is None else list(chunks(sorted(promo_ids)))
    brand_currency: dict[int, str] = {}

    def promo_currency(promo_id: int) -> str:
        if promo_id not in brand_currency:
            brand_currency.update(Promo.objects.filter(pk=promo_id).values_list("pk", "brand__base_currency"))
        return brand_currency[promo_id]

    if promo_ids is None:
        brand_currency.update(Promo.objects.values_list("pk", "brand__base_currency"))
    for chunk in promo_chunks:
        if chunk is not None:
            brand_currency.update(Promo.objects.filter(pk__in=chunk).values_list("pk", "brand__base_currency"))

        def scoped(query, field, chunk=chunk):
            return query if chunk is None else query.filter(**{f"{field}__in": chunk})

        visits = scoped(Visit.objects.filter(created_at__gte=start, created_at__lt=end), "promo_id")
        for day, promo_id, n in (visits.annotate(day=TruncDate("created_at", tzinfo=tz))
                                 .values("day", "promo_id").annotate(n=Count("pk"))
                                 .values_list("day", "promo_id", "n").order_by()):
            rows[(day, promo_id, promo_currency(promo_id))]["visits_count"] = n

        players = scoped(Player.objects.filter(promo__isnull=False, sign_up_at__gte=start, sign_up_at__lt=end),
                         "promo_id")
        for day, promo_id, n in (players.annotate(day=TruncDate("sign_up_at", tzinfo=tz))
                                 .values("day", "promo_id").annotate(n=Count("pk"))
                                 .values_list("day", "promo_id", "n").order_by()):
            rows[(day, promo_id, promo_currency(promo_id))]["registrations_count"] = n

        qualified = scoped(Qualification.objects.filter(player__promo__isnull=False, qualified_at__gte=start,
                                                        qualified_at__lt=end), "player__promo_id")
        for day, promo_id, n in (qualified.annotate(day=TruncDate("qualified_at", tzinfo=tz))
                                 .values("day", "player__promo_id").annotate(n=Count("player_id", distinct=True))
                                 .values_list("day", "player__promo_id", "n").order_by()):
            rows[(day, promo_id, promo_currency(promo_id))]["qualified_players_count"] = n

        deposits = scoped(Deposit.objects.filter(player__promo__isnull=False, processed_at__gte=start,
                                                 processed_at__lt=end), "player__promo_id")
        first = Q(is_first=True)
        for row in (deposits.annotate(day=TruncDate("processed_at", tzinfo=tz))
                    .values("day", "player__promo_id", "currency")
                    .annotate(deposits_count=Count("pk"), deposits_sum=Sum("amount"),
                              first_deposits_count=Count("pk", filter=first),
                              first_deposits_sum=Sum("amount", filter=first),
                              depositing_players_count=Count("player_id", distinct=True))
                    .order_by()):
            key = (row.pop("day"), row.pop("player__promo_id"), row.pop("currency"))
            rows[key].update({name: value or 0 for name, value in row.items()})

        activity = scoped(PlayerActivity.objects.filter(player__promo__isnull=False, period_start__gte=start,
                                                        period_start__lt=end), "player__promo_id")
        activity = activity.annotate(day=TruncDate("period_start", tzinfo=tz))
        # Annotation names must not shadow the model's columns: "s_" + the DailyStat column.
        sums = {f"s_{target}": Sum(column) for column, target in ACTIVITY_SUMS.items()}
        for row in (activity.values("day", "player__promo_id", "currency")
                    .annotate(**sums, s_active_players_count=Count("player_id", distinct=True,
                                                                   filter=Q(bets_sum__gt=0)))
                    .order_by()):
            key = (row.pop("day"), row.pop("player__promo_id"), row.pop("currency"))
            rows[key].update({name[2:]: value or 0 for name, value in row.items()})
            rows[key].setdefault("taxes_sum", Decimal(0))
        # Only windows whose extra mentions "tax" at all are read back (JSON text match).
        for day, promo_id, currency, extra in (activity.filter(extra__icontains="tax")
                                               .values_list("day", "player__promo_id", "currency", "extra")):
            taxes = tax_sum(extra)
            if taxes:
                rows[(day, promo_id, currency)]["taxes_sum"] += taxes

        cpa = (qualified.annotate(day=TruncDate("qualified_at", tzinfo=tz))
               .values("day", "player__promo_id", "plan__currency").annotate(amount=Sum("amount")).order_by())
        for row in cpa:
            rows[(row["day"], row["player__promo_id"], row["plan__currency"])]["cpa_income_sum"] = row["amount"] or 0
    _add_accruals(rows)
    return rows


def _add_accruals(rows: dict) -> None:
    """Admin fee and RevShare of each cell with activity, under its promo's plan."""
    active = {key for key, values in rows.items() if "bets_sum" in values}
    plan_of: dict[int, int] = {}
    for chunk in chunks(sorted({promo_id for _, promo_id, _ in active})):
        plan_of.update(Promo.objects.filter(pk__in=chunk).values_list("pk", "campaign__commission_plan_id"))
    terms = plan_terms(set(plan_of.values()))
    for key in active:
        fee, revshare = accrual(terms.get(plan_of.get(key[1])), key[2], rows[key])
        rows[key]["admin_fee_sum"], rows[key]["revshare_income_sum"] = fee, revshare
