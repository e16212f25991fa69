"""Property: after any sequence of ingestion requests (players, activity windows with their
deposits, visits), replays with changed amounts and repeated deposits included, the daily
stats equal a plain aggregate of the raw tables (the commission accrued under the promos' plan
included, by the formula written out here), the monthly stats equal the sum of the days, and a
rebuild gives the same tables.

Each request runs as it does in production: its own transaction whose on-commit callbacks run
(the model signals' recompute), while the bulk-written rows (activity windows, deposits,
visits) wait for the watermark pass, run at random points and once at the end.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.timeutil import business_date
from billing.models import CommissionPlan
from campaigns.api.validation import activity_items
from campaigns.models import Deposit, Player, PlayerActivity, Visit
from campaigns.services.ingestion import PlayerIn, activity_ingest, players_ingest
from campaigns.services.visits import visit_record
from reports import rollups
from reports.models import DailyStat, MonthlyStat
from reports.rollups import WATERMARK_KEY, stats_rebuild, stats_refresh, tax_sum
from tests.campaigns.factories import (
    BrandFactory,
    CampaignFactory,
    CommissionPlanFactory,
    PromoFactory,
)

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
# Windows that cross midnight in one zone or another, so program days matter.
WINDOWS = [(0, 24), (22, 26), (27, 29), (47, 48)]
USERS = [f"u-{n}" for n in range(5)]
DEPOSIT_IDS = [f"d-{n}" for n in range(6)]

EIGHT_PLACES = Decimal("1e-8")
hours = st.integers(min_value=0, max_value=71)
deposit = st.fixed_dictionaries({
    "deposit_id": st.sampled_from(DEPOSIT_IDS), "amount_cents": st.integers(min_value=1, max_value=10**7),
    "hour": hours,
})
activity_item = st.fixed_dictionaries({
    "user": st.sampled_from(USERS), "currency": st.sampled_from(["EUR", "BTC"]),
    "bets_sum_cents": st.integers(min_value=0, max_value=10**7),
    "wins_sum_cents": st.integers(min_value=0, max_value=10**7),
    "rounds_count": st.integers(min_value=0, max_value=50),
    "cashouts_sum_cents": st.integers(min_value=0, max_value=10**6),
    "sb_tax_sum_cents": st.integers(min_value=0, max_value=10**5),
    "deposits": st.lists(deposit, max_size=2, unique_by=lambda d: d["deposit_id"]),
})
operation = st.one_of(
    st.tuples(st.just("player"), st.sampled_from(USERS), st.sampled_from([None, 0, 1, 2, 3]),
              st.none() | hours),
    st.tuples(st.just("activity"), st.integers(min_value=0, max_value=len(WINDOWS) - 1),
              st.lists(activity_item, min_size=1, max_size=3)),
    st.tuples(st.just("visit"), st.integers(min_value=0, max_value=1), hours),
    st.tuples(st.just("refresh")),
)


def at(hour: int) -> dt.datetime:
    return BASE + dt.timedelta(hours=hour)


def _activity_payload(item: dict) -> dict:
    return {
        "user_id": item["user"], "currency": item["currency"],
        **{k: v for k, v in item.items() if k.endswith(("_cents", "_count"))},
        "deposits": [{"deposit_id": d["deposit_id"], "amount_cents": d["amount_cents"],
                      "processed_at": at(d["hour"]).isoformat()} for d in item["deposits"]],
    }


def raw_aggregate(*, plan_promo_id: int) -> dict:
    """(date, promo id, currency) -> counters, straight from the raw rows, in Python; the
    commission accrues on the promo `plan_promo_id` only (the other's plan pays 0 %)."""
    table: dict = defaultdict(lambda: defaultdict(Decimal))
    depositing, active = defaultdict(set), defaultdict(set)
    for visit in Visit.objects.select_related("promo__brand"):
        table[(business_date(visit.created_at), visit.promo_id, visit.promo.brand.base_currency)]["visits_count"] += 1
    for player in Player.objects.filter(promo__isnull=False).select_related("promo__brand"):
        key = (business_date(player.sign_up_at), player.promo_id, player.promo.brand.base_currency)
        table[key]["registrations_count"] += 1
    for d in Deposit.objects.filter(player__promo__isnull=False).select_related("player"):
        key = (business_date(d.processed_at), d.player.promo_id, d.currency)
        table[key]["deposits_count"] += 1
        table[key]["deposits_sum"] += d.amount
        table[key]["first_deposits_count"] += int(d.is_first)
        table[key]["first_deposits_sum"] += d.amount if d.is_first else 0
        depositing[key].add(d.player_id)
    for a in PlayerActivity.objects.filter(player__promo__isnull=False).select_related("player"):
        key = (business_date(a.period_start), a.player.promo_id, a.currency)
        row = table[key]
        for column, target in rollups.ACTIVITY_SUMS.items():
            row[target] += getattr(a, column)
        row["taxes_sum"] += tax_sum(a.extra)
        if a.bets_sum > 0:
            active[key].add(a.player_id)
    result = {}
    for key, row in table.items():
        row["depositing_players_count"] = len(depositing[key])
        row["active_players_count"] = len(active[key])
        if key[1] == plan_promo_id and key[2] == "EUR":  # the plan's currency: 12.5 % admin fee, then 25 % RevShare; taxes not deducted
            ngr = row["bets_sum"] - row["wins_sum"] - sum(row[c] for c in (
                "bonus_issues_sum", "additional_deductions_sum", "chargebacks_sum", "payment_system_fees_sum",
                "game_provider_fees_sum", "jackpot_fees_sum"))
            fee = ngr * Decimal("0.125")
            row["admin_fee_sum"] = fee.quantize(EIGHT_PLACES)
            row["revshare_income_sum"] = ((ngr - fee) * Decimal("0.25")).quantize(EIGHT_PLACES)
        result[key] = {name: Decimal(row.get(name, 0)) for name in rollups.COUNTERS}
    return result


def months_of(days: dict) -> dict:
    months: dict = {}
    for (day, promo_id, currency), row in days.items():
        into = months.setdefault((day.replace(day=1), promo_id, currency), dict.fromkeys(rollups.COUNTERS, Decimal(0)))
        for name, value in row.items():
            into[name] += value
    return months


def monthly_table() -> dict:
    return {
        (row["date"], row["promo_id"], row["currency"]): {name: Decimal(row[name]) for name in rollups.COUNTERS}
        for row in MonthlyStat.objects.values("date", "promo_id", "currency", *rollups.COUNTERS)
    }


def stats_table() -> dict:
    return {
        (row["date"], row["promo_id"], row["currency"]): {name: Decimal(row[name]) for name in rollups.COUNTERS}
        for row in DailyStat.objects.values("date", "promo_id", "currency", *rollups.COUNTERS)
    }


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=14),
       zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))
def test_stats_equal_the_raw_aggregate_after_any_ingestion(operations, zone, django_capture_on_commit_callbacks,
                                                           monkeypatch):
    # Requests run one after another here: no slack needed, so a watermark that skips rows fails.
    monkeypatch.setattr(rollups, "WATERMARK_SLACK", dt.timedelta(0))
    monkeypatch.setattr(rollups, "ID_OVERLAP", 0)

    def request(call, *args, **kwargs):
        """One request: its own transaction, committed (its on-commit callbacks run)."""
        rollups._pending().clear()
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    with override_settings(PROGRAM_TIME_ZONE=zone), transaction.atomic():
        cache.delete(WATERMARK_KEY)
        brand = BrandFactory(base_currency="EUR")
        plan = CommissionPlanFactory(brand=brand, currency="EUR", kind=CommissionPlan.Kind.HYBRID,
                                     revshare_percent=Decimal("25"), admin_fee_percent=Decimal("12.5"),
                                     deduct_taxes=False)
        campaign = CampaignFactory(brand=brand, commission_plan=plan)
        promos = [PromoFactory(brand=brand, campaign=campaign), PromoFactory(brand=brand)]
        stats_refresh()  # no watermark yet: sets it
        visits = [visit_record(promo_id=p.pk, affiliate_id=p.affiliate_id, ip=None, user_agent="", referrer="",
                               params={"sub_id": "x"}, created_at=at(hour))
                  for p, hour in ((promos[0], 1), (promos[0], 23), (promos[1], 30), (promos[1], 50))]
        for op in operations:
            if op[0] == "player":
                _, user, visit, hour = op
                item = PlayerIn(index=0, user_id=user, tag=visits[visit].tag if visit is not None else "",
                                sign_up_at=None if hour is None else at(hour))
                request(players_ingest, brand=brand, items=[item])
            elif op[0] == "activity":
                start, end = WINDOWS[op[1]]
                items, errors = activity_items([_activity_payload(item) for item in op[2]])
                assert not errors
                request(activity_ingest, brand=brand, period_start=at(start), period_end=at(end), items=items)
            elif op[0] == "visit":
                promo = promos[op[1]]
                request(visit_record, promo_id=promo.pk, affiliate_id=promo.affiliate_id, ip=None, user_agent="",
                        referrer="", params={}, created_at=at(op[2]))
            else:
                request(stats_refresh)
        request(stats_refresh)

        expected = raw_aggregate(plan_promo_id=promos[0].pk)
        assert stats_table() == expected
        assert monthly_table() == months_of(expected)

        DailyStat.objects.all().delete()
        MonthlyStat.objects.all().delete()
        stats_rebuild()
        assert stats_table() == expected
        assert monthly_table() == months_of(expected)
        transaction.set_rollback(True)
    cache.delete(WATERMARK_KEY)
