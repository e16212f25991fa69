"""Daily stats rollups (reports.DailyStat): recomputed from the raw tables, never incremented.

A DailyStat row is one (date in the program time zone, promo, currency) cell. Whatever changes
raw data, the affected cells are recomputed from the raw tables with a few GROUP BY queries and
upserted, so a replayed activity window (which REPLACES its row) or a repeated deposit can
never be counted twice, and a cell with no raw data left is deleted.

Three ways cells get recomputed:
- ORM saves and deletes (players_ingest, admin, factories): reports.signals marks the cells
  dirty and recomputes them once the transaction commits (stats_cells_mark).
- Bulk writes that bypass model signals (the activity/deposit ingestion's INSERT ... ON
  CONFLICT, visit_record's bulk_create, the buffered visit writer): stats_refresh(), the
  watermark pass run every minute by the `reports.refresh_stats` task, finds raw rows changed
  since its previous pass and recomputes their cells. The watermark lives in the Django cache
  (no table of its own); when the cache has none, the pass recomputes the last two days.
- `manage.py rebuild_stats [--from --to]` (stats_rebuild): every cell of a date range.

What each cell counts (only attributed players: player.promo not null; computed by
reports.rollups_cells):
- visits_count: Visit.created_at day, in the promo brand's base currency row;
- registrations_count: Player.sign_up_at day, brand currency row;
- qualified_players_count: distinct players of billing.Qualification by qualified_at day,
  brand currency row;
- deposits_* / first_deposits_* (Deposit.is_first) / depositing_players_count: Deposit
  processed_at day, in the deposit's currency;
- the activity sums, bets_count (rounds), chargebacks, cashouts, fees, taxes (the values of
  PlayerActivity.extra whose key contains "tax", counts "*_count" excepted) and
  active_players_count (distinct players with bets > 0): the activity window's period_start
  day, in the window's currency;
- admin_fee_sum, revshare_income_sum (from the cell's activity sums) and cpa_income_sum (the
  Qualification amounts by qualified_at day): the commission accrued under the promo's plan,
  in the plan's currency row (reports.income: how each is approximated, bills stay the truth).

MonthlyStat (one month × promo × currency) is the sum of the month's DailyStat rows: whatever
writes DailyStat rows here re-sums the months they fall in, in the same transaction.
"""
import datetime as dt
import logging
import threading
from collections import defaultdict

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from backoffice.timeutil import business_date, business_today
from billing.models import Qualification
from campaigns.models import Deposit, Player, PlayerActivity, Promo, Visit
from campaigns.services.bulk import chunks
from reports.models import DailyStat, MonthlyStat
from reports.rollups_cells import ACTIVITY_SUMS, aggregate_cells, tax_sum  # noqa: F401 - ACTIVITY_SUMS, tax_sum re-exported

logger = logging.getLogger(__name__)

Cell = tuple[dt.date, int]  # (business date, promo id)

COUNTERS = [
    "visits_count", "registrations_count", "first_deposits_count", "first_deposits_sum", "deposits_count",
    "deposits_sum", "cashouts_count", "cashouts_sum", "bets_count", "bets_sum", "wins_sum", "wager_sum",
    "bonus_issues_sum", "additional_deductions_sum", "chargebacks_count", "chargebacks_sum",
    "payment_system_fees_sum", "game_provider_fees_sum", "jackpot_fees_sum", "taxes_sum",
    "depositing_players_count", "active_players_count", "qualified_players_count",
    "admin_fee_sum", "revshare_income_sum", "cpa_income_sum",
]
_DIMENSIONS = ["affiliate", "brand", "campaign", "plan"]

WATERMARK_KEY = "reports:stats_watermark"
# Rows are committed some time after the moment they carry (updated_at = the ingestion
# request's start; ids are taken in one order and committed in another): each pass looks back
# this far behind its previous one, so a slow transaction is still seen.
WATERMARK_SLACK = dt.timedelta(minutes=5)
ID_OVERLAP = 5000  # ids below the highest seen that are scanned again (late commits, buffered visits)
FALLBACK_DAYS = 2
REBUILD_CHUNK_DAYS = 7


def _promo_dimensions(promo_ids) -> dict[int, dict]:
    dims = {}
    for chunk in chunks(sorted(promo_ids)):
        for pk, affiliate_id, brand_id, campaign_id, plan_id in Promo.objects.filter(pk__in=chunk).values_list(
            "pk", "affiliate_id", "brand_id", "campaign_id", "campaign__commission_plan_id",
        ):
            dims[pk] = {"affiliate_id": affiliate_id, "brand_id": brand_id, "campaign_id": campaign_id,
                        "plan_id": plan_id}
    return dims


def _store(rows: dict, existing, *, months: bool = True) -> int:
    """Upsert `rows`; delete the rows of `existing` ((pk, date, promo id, currency)) not among them;
    re-sum the MonthlyStat rows of the months changed (unless `months` is False: the caller
    re-sums them itself)."""
    now = timezone.now()
    dims = _promo_dimensions({promo_id for _, promo_id, _ in rows})
    objects = []
    for (day, promo_id, currency), values in rows.items():
        if promo_id not in dims:  # the promo was deleted meanwhile
            continue
        objects.append(DailyStat(date=day, promo_id=promo_id, currency=currency, updated_at=now,
                                 **dims[promo_id], **{name: values.get(name, 0) for name in COUNTERS}))
    stale = [pk for pk, day, promo_id, currency in existing if (day, promo_id, currency) not in rows]
    # Rows whose values did not change are not written again: a rebuild of unchanged data
    # writes nothing (and keeps updated_at meaning "last changed").
    compared = [*COUNTERS, *(f"{name}_id" for name in _DIMENSIONS)]
    current = {}
    for chunk in chunks([pk for pk, *_ in existing]):
        for row in DailyStat.objects.filter(pk__in=chunk).values("date", "promo_id", "currency", *compared):
            current[(row["date"], row["promo_id"], row["currency"])] = tuple(row[name] for name in compared)
    objects = [
        o for o in objects
        if current.get((o.date, o.promo_id, o.currency)) != tuple(getattr(o, name) for name in compared)
    ]
    changed = {(o.date, o.promo_id) for o in objects}
    changed |= {(day, promo_id) for pk, day, promo_id, currency in existing if (day, promo_id, currency) not in rows}
    with transaction.atomic():
        for chunk in chunks(stale):
            DailyStat.objects.filter(pk__in=chunk).delete()
        DailyStat.objects.bulk_create(
            objects, batch_size=500, update_conflicts=True, unique_fields=["date", "promo", "currency"],
            update_fields=[*COUNTERS, *_DIMENSIONS, "updated_at"],
        )
        if months:
            _months_store(changed, now=now)
    return len(objects)


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _months_store(cells, *, now: dt.datetime) -> None:
    """Re-sum the MonthlyStat rows of the months × promos of these (day, promo id) cells from
    DailyStat (run inside the transaction that changed the daily rows)."""
    by_month: dict[dt.date, set[int]] = defaultdict(set)
    for day, promo_id in cells:
        by_month[day.replace(day=1)].add(promo_id)
    sums = {f"s_{name}": Sum(name) for name in COUNTERS}
    for month, promo_ids in sorted(by_month.items()):
        for chunk in chunks(sorted(promo_ids)):
            dims = _promo_dimensions(chunk)
            objects = [
                MonthlyStat(date=month, promo_id=row["promo_id"], currency=row["currency"], updated_at=now,
                            **dims[row["promo_id"]], **{name: row[f"s_{name}"] or 0 for name in COUNTERS})
                for row in (DailyStat.objects.filter(date__gte=month, date__lte=_month_end(month), promo_id__in=chunk)
                            .values("promo_id", "currency").annotate(**sums).order_by())
                if row["promo_id"] in dims
            ]
            kept = {(o.promo_id, o.currency) for o in objects}
            compared = [*COUNTERS, *(f"{name}_id" for name in _DIMENSIONS)]
            current, gone = {}, []
            for row in MonthlyStat.objects.filter(date=month, promo_id__in=chunk).values(
                    "pk", "promo_id", "currency", *compared):
                key = (row["promo_id"], row["currency"])
                current[key] = tuple(row[name] for name in compared)
                if key not in kept:
                    gone.append(row["pk"])
            if gone:
                MonthlyStat.objects.filter(pk__in=gone).delete()
            # As for the daily rows: an unchanged month is not written again (updated_at = last changed).
            objects = [o for o in objects
                       if current.get((o.promo_id, o.currency)) != tuple(getattr(o, name) for name in compared)]
            MonthlyStat.objects.bulk_create(
                objects, batch_size=500, update_conflicts=True, unique_fields=["date", "promo", "currency"],
                update_fields=[*COUNTERS, *_DIMENSIONS, "updated_at"],
            )


def stats_months_rebuild(*, date_from: dt.date | None = None, date_to: dt.date | None = None) -> None:
    """Re-sum every MonthlyStat row of the months from date_from to date_to (default: every
    month with daily stats) from DailyStat. Needed only after DailyStat rows were written
    some other way than by this module (a bulk load); stats_rebuild does it for its range."""
    if date_from is None or date_to is None:
        known = DailyStat.objects.aggregate(lo=Min("date"), hi=Max("date"))
        if known["lo"] is None:
            MonthlyStat.objects.all().delete()
            return
        date_from, date_to = date_from or known["lo"], date_to or known["hi"]
    month, now = date_from.replace(day=1), timezone.now()
    while month <= date_to:
        with transaction.atomic():
            promo_ids = set(DailyStat.objects.filter(date__gte=month, date__lte=_month_end(month))
                            .values_list("promo_id", flat=True).distinct())
            promo_ids |= set(MonthlyStat.objects.filter(date=month).values_list("promo_id", flat=True))
            _months_store({(month, promo_id) for promo_id in promo_ids}, now=now)
        month = _month_end(month) + dt.timedelta(days=1)


def stats_recompute(*, cells: set[Cell]) -> int:
    """Recompute these (date, promo id) cells, every currency, from the raw tables; returns
    the number of DailyStat rows written."""
    by_date: dict[dt.date, set[int]] = defaultdict(set)
    for day, promo_id in cells:
        if promo_id is not None:
            by_date[day].add(promo_id)
    written = 0
    for day, promo_ids in sorted(by_date.items()):
        rows = aggregate_cells(day, day, promo_ids)
        rows = {key: values for key, values in rows.items() if key[0] == day and key[1] in promo_ids}
        existing = []
        for chunk in chunks(sorted(promo_ids)):
            existing.extend(DailyStat.objects.filter(date=day, promo_id__in=chunk)
                            .values_list("pk", "date", "promo_id", "currency"))
        written += _store(rows, existing)
    return written


def stats_recompute_plan(*, plan_id: int) -> int:
    """Recompute every cell of the promos under a commission plan (its terms changed: the
    income accrued must follow). Returns the number of DailyStat rows written."""
    promo_ids = set(Promo.objects.filter(campaign__commission_plan_id=plan_id).values_list("pk", flat=True))
    promo_ids |= set(DailyStat.objects.filter(plan_id=plan_id).values_list("promo_id", flat=True).distinct())
    cells = set()
    for chunk in chunks(sorted(promo_ids)):
        cells |= set(DailyStat.objects.filter(promo_id__in=chunk).values_list("date", "promo_id").distinct())
    return stats_recompute(cells=cells)


def _raw_date_range() -> tuple[dt.date, dt.date] | None:
    moments = [
        Visit.objects.aggregate(lo=Min("created_at"), hi=Max("created_at")),
        Player.objects.filter(promo__isnull=False).aggregate(lo=Min("sign_up_at"), hi=Max("sign_up_at")),
        Deposit.objects.aggregate(lo=Min("processed_at"), hi=Max("processed_at")),
        PlayerActivity.objects.aggregate(lo=Min("period_start"), hi=Max("period_start")),
        Qualification.objects.aggregate(lo=Min("qualified_at"), hi=Max("qualified_at")),
    ]
    days = [business_date(m[k]) for m in moments for k in ("lo", "hi") if m[k] is not None]
    stats = DailyStat.objects.aggregate(lo=Min("date"), hi=Max("date"))
    days += [d for d in stats.values() if d is not None]
    return (min(days), max(days)) if days else None


def stats_rebuild(*, date_from: dt.date | None = None, date_to: dt.date | None = None,
                  chunk_days: int = REBUILD_CHUNK_DAYS) -> int:
    """Recompute every cell from date_from to date_to (program days, inclusive), a chunk of
    days at a time. Without dates: every day that has raw data or stats. Returns rows written."""
    if date_from is None or date_to is None:
        known = _raw_date_range()
        if known is None:
            return 0
        date_from = date_from or known[0]
        date_to = date_to or max(known[1], business_today())
    written = 0
    day = date_from
    while day <= date_to:
        last = min(date_to, day + dt.timedelta(days=chunk_days - 1))
        rows = aggregate_cells(day, last, None)
        existing = DailyStat.objects.filter(date__gte=day, date__lte=last).values_list(
            "pk", "date", "promo_id", "currency")
        written += _store(rows, list(existing), months=False)
        day = last + dt.timedelta(days=1)
    # Every month of the range re-summed once (not once per chunk), changed or not: this also
    # fills MonthlyStat for daily rows that were loaded some other way.
    stats_months_rebuild(date_from=date_from, date_to=date_to)
    return written


def _day(moment: dt.datetime) -> dt.date:
    return business_date(moment)


def stats_refresh() -> int:
    """The watermark pass: recompute the cells of raw rows written since the previous pass
    (bulk writes bypass model signals). Returns the number of cells recomputed.

    Watermark (Django cache, WATERMARK_KEY): the start of the previous pass and the highest
    Visit, Deposit and Qualification ids seen. Activity windows and players are found by
    updated_at (a replayed window keeps its id but gets a new updated_at); append-only tables
    by id. Without a watermark (empty cache) the last FALLBACK_DAYS days are recomputed (the
    count returned is then of rows rebuilt).

    The cache must be shared by the processes that run the task (Redis in production); with a
    per-process cache (locmem) each process keeps its own watermark, which is still correct
    (each pass looks back to that process's previous pass), only the first pass of each
    process recomputes the last days.
    """
    started = timezone.now()
    state = cache.get(WATERMARK_KEY)
    maxima = {
        "visit_id": Visit.objects.aggregate(m=Max("pk"))["m"] or 0,
        "deposit_id": Deposit.objects.aggregate(m=Max("pk"))["m"] or 0,
        "qualification_id": Qualification.objects.aggregate(m=Max("pk"))["m"] or 0,
    }
    if state is None:
        today = business_today()
        written = stats_rebuild(date_from=today - dt.timedelta(days=FALLBACK_DAYS - 1), date_to=today)
        cache.set(WATERMARK_KEY, {"at": started.isoformat(), **maxima}, None)
        return written
    since = dt.datetime.fromisoformat(state["at"]) - WATERMARK_SLACK
    cells: set[Cell] = set()
    for moment, promo_id in PlayerActivity.objects.filter(
        updated_at__gte=since, player__promo__isnull=False,
    ).values_list("period_start", "player__promo_id").distinct():
        cells.add((_day(moment), promo_id))
    for moment, promo_id in Player.objects.filter(
        updated_at__gte=since, promo__isnull=False,
    ).values_list("sign_up_at", "promo_id").distinct():
        cells.add((_day(moment), promo_id))
    for model, key, moment_field, promo_field, extra in (
        (Visit, "visit_id", "created_at", "promo_id", {}),
        (Deposit, "deposit_id", "processed_at", "player__promo_id", {"player__promo__isnull": False}),
        (Qualification, "qualification_id", "qualified_at", "player__promo_id", {"player__promo__isnull": False}),
    ):
        after = max(0, int(state.get(key, 0)) - ID_OVERLAP)
        for moment, promo_id in model.objects.filter(pk__gt=after, **extra).values_list(
            moment_field, promo_field,
        ).distinct():
            cells.add((_day(moment), promo_id))
    stats_recompute(cells=cells)
    cache.set(WATERMARK_KEY, {"at": started.isoformat(), **maxima}, None)
    return len(cells)


# --- cells marked dirty by model signals, recomputed on commit --------------------------------

_local = threading.local()  # connections are per thread, and so are their pending cells


def _pending() -> dict[str, set[Cell]]:
    if not hasattr(_local, "pending"):
        _local.pending = {}
    return _local.pending


def stats_cells_mark(cells, *, using: str = "default") -> None:
    """Recompute these cells once the current transaction commits (at once without one).

    One set per transaction and database: the cells of a whole ingestion batch are recomputed
    together, once. A rolled-back transaction drops its callback; the next mark starts afresh.
    """
    cells = {cell for cell in cells if cell[1] is not None}
    if not cells:
        return
    connection = transaction.get_connection(using)
    registry = _pending()
    entry = registry.get(using)  # (cells, flush, its index in connection.run_on_commit)
    if entry is not None and connection.in_atomic_block:
        pending, registered, index = entry
        queued = connection.run_on_commit
        # Still queued at its place? A savepoint rollback that dropped it shifts or shortens the
        # list. (An index, not a scan: an ingestion batch queues thousands of callbacks.)
        if index < len(queued) and queued[index][1] is registered:
            pending.update(cells)
            return
    pending = set(cells)

    def flush():
        current = registry.get(using)
        if current is not None and current[0] is pending:
            del registry[using]
        try:
            stats_recompute(cells=pending)
        except Exception:  # the data is committed; the next watermark pass recomputes these cells
            logger.exception("reports: recomputing %s stats cells failed", len(pending))

    if connection.in_atomic_block:
        registry[using] = (pending, flush, len(connection.run_on_commit))
    transaction.on_commit(flush, using=using)
