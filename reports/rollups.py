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

What each cell counts (only attributed players: player.promo not null):
- visits_count: Visit.created_at day, in the promo brand's base currency row;
- registrations_count: Player.sign_up_at day, brand currency row;
- qualified_players_count: distinct players of billing.Qualification by qualified_at day,
  brand currency row;
- deposits_* / first_deposits_* (Deposit.is_first) / depositing_players_count: Deposit
  processed_at day, in the deposit's currency;
- the activity sums, bets_count (rounds), chargebacks, cashouts, fees, taxes (the values of
  PlayerActivity.extra whose key contains "tax", counts "*_count" excepted) and
  active_players_count (distinct players with bets > 0): the activity window's period_start
  day, in the window's currency.
"""
import datetime as dt
import logging
import threading
from collections import defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from backoffice.timeutil import business_date, business_today, program_tz
from billing.models import Qualification
from campaigns.models import Deposit, Player, PlayerActivity, Promo, Visit
from campaigns.services.bulk import chunks
from reports.models import DailyStat

logger = logging.getLogger(__name__)

Cell = tuple[dt.date, int]  # (business date, promo id)

COUNTERS = [
    "visits_count", "registrations_count", "first_deposits_count", "first_deposits_sum", "deposits_count",
    "deposits_sum", "cashouts_count", "cashouts_sum", "bets_count", "bets_sum", "wins_sum", "wager_sum",
    "bonus_issues_sum", "additional_deductions_sum", "chargebacks_count", "chargebacks_sum",
    "payment_system_fees_sum", "game_provider_fees_sum", "jackpot_fees_sum", "taxes_sum",
    "depositing_players_count", "active_players_count", "qualified_players_count",
]
# PlayerActivity column -> DailyStat column, summed.
ACTIVITY_SUMS = {
    "bets_sum": "bets_sum", "wins_sum": "wins_sum", "wager_sum": "wager_sum", "rounds_count": "bets_count",
    "bonus_issues_sum": "bonus_issues_sum", "additional_deductions_sum": "additional_deductions_sum",
    "chargebacks_count": "chargebacks_count", "chargebacks_sum": "chargebacks_sum",
    "payment_system_fees_sum": "payment_system_fees_sum", "game_provider_fees_sum": "game_provider_fees_sum",
    "jackpot_fees_sum": "jackpot_fees_sum", "cashouts_count": "cashouts_count", "cashouts_sum": "cashouts_sum",
}
_DIMENSIONS = ["affiliate", "brand", "campaign", "plan"]

WATERMARK_KEY = "reports:stats_watermark"
# Rows are committed some time after the moment they carry (updated_at = the ingestion
# request's start; ids are taken in one order and committed in another): each pass looks back
# this far behind its previous one, so a slow transaction is still seen.
WATERMARK_SLACK = dt.timedelta(minutes=5)
ID_OVERLAP = 5000  # ids below the highest seen that are scanned again (late commits, buffered visits)
FALLBACK_DAYS = 2
REBUILD_CHUNK_DAYS = 7


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


def _aggregate(date_from: dt.date, date_to: dt.date, promo_ids: set[int] | None) -> dict:
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
    return rows


def _promo_dimensions(promo_ids) -> dict[int, dict]:
    dims = {}
    for chunk in chunks(sorted(promo_ids)):
        for pk, affiliate_id, brand_id, campaign_id, plan_id in Promo.objects.filter(pk__in=chunk).values_list(
            "pk", "affiliate_id", "brand_id", "campaign_id", "campaign__commission_plan_id",
        ):
            dims[pk] = {"affiliate_id": affiliate_id, "brand_id": brand_id, "campaign_id": campaign_id,
                        "plan_id": plan_id}
    return dims


def _store(rows: dict, existing) -> int:
    """Upsert `rows`; delete the rows of `existing` ((pk, date, promo id, currency)) not among them."""
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
    with transaction.atomic():
        for chunk in chunks(stale):
            DailyStat.objects.filter(pk__in=chunk).delete()
        DailyStat.objects.bulk_create(
            objects, batch_size=500, update_conflicts=True, unique_fields=["date", "promo", "currency"],
            update_fields=[*COUNTERS, *_DIMENSIONS, "updated_at"],
        )
    return len(objects)


def stats_recompute(*, cells: set[Cell]) -> int:
    """Recompute these (date, promo id) cells, every currency, from the raw tables; returns
    the number of DailyStat rows written."""
    by_date: dict[dt.date, set[int]] = defaultdict(set)
    for day, promo_id in cells:
        if promo_id is not None:
            by_date[day].add(promo_id)
    written = 0
    for day, promo_ids in sorted(by_date.items()):
        rows = _aggregate(day, day, promo_ids)
        rows = {key: values for key, values in rows.items() if key[0] == day and key[1] in promo_ids}
        existing = []
        for chunk in chunks(sorted(promo_ids)):
            existing.extend(DailyStat.objects.filter(date=day, promo_id__in=chunk)
                            .values_list("pk", "date", "promo_id", "currency"))
        written += _store(rows, existing)
    return written


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
        rows = _aggregate(day, last, None)
        existing = DailyStat.objects.filter(date__gte=day, date__lte=last).values_list(
            "pk", "date", "promo_id", "currency")
        written += _store(rows, list(existing))
        day = last + dt.timedelta(days=1)
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
