"""Commission in the rollups (admin fee, RevShare, CPA accrued per day under the promo's plan)
agrees with the bills where a day can know it, and MonthlyStat stays the sum of the days
through every way the daily rows change."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models import Sum

from billing.models import CommissionPlan, Qualification
from billing.services.billing_amounts import bill_drafts
from billing.services.periods import Period
from reports import rollups
from reports.models import DailyStat, MonthlyStat
from reports.rollups import COUNTERS, WATERMARK_KEY, stats_months_rebuild, stats_rebuild
from tests.billing.factories import PlayerActivityFactory
from tests.campaigns.factories import (
    BrandFactory,
    CampaignFactory,
    CommissionPlanFactory,
    PlayerFactory,
    PromoFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

MAY_1, MAY_2, JUNE_1 = dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 6, 1)


def at(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_watermark():
    cache.delete(WATERMARK_KEY)
    yield
    cache.delete(WATERMARK_KEY)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    def block():
        rollups._pending().clear()
        return django_capture_on_commit_callbacks(execute=True)
    return block


@pytest.fixture
def hybrid():
    brand = BrandFactory(base_currency="EUR")
    plan = CommissionPlanFactory(
        brand=brand, currency="EUR", kind=CommissionPlan.Kind.HYBRID, revshare_percent=Decimal("30"),
        admin_fee_percent=Decimal("10"), deduct_bonuses=False, cpa_amount=Decimal("50"),
        created_at=at(dt.date(2024, 1, 1)),
    )
    promo = PromoFactory(campaign=CampaignFactory(brand=brand, commission_plan=plan))
    return plan, promo


def player_of(promo, day=MAY_1):
    return PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(day, 9)), sign_up_at=at(day, 10))


def test_admin_fee_and_revshare_accrue_on_the_days_ngr_in_the_plan_currency(hybrid, commit):
    plan, promo = hybrid
    alice, bob = player_of(promo), player_of(promo)
    with commit():
        # NGR under the plan: 100 − 20 − 5 (fees; bonuses are not deducted by this plan) = 75
        PlayerActivityFactory(player=alice, period_start=at(MAY_1), period_end=at(MAY_2), bets_sum=Decimal("100"),
                              wins_sum=Decimal("20"), bonus_issues_sum=Decimal("8"),
                              payment_system_fees_sum=Decimal("5"))
        PlayerActivityFactory(player=bob, period_start=at(MAY_2), period_end=at(dt.date(2024, 5, 3)),
                              bets_sum=Decimal("10"), wins_sum=Decimal("30"))  # a losing day: −20
        PlayerActivityFactory(player=bob, currency="USD", period_start=at(MAY_1), period_end=at(MAY_2),
                              bets_sum=Decimal("500"))  # not the plan's currency: billing ignores it

    day1 = DailyStat.objects.get(promo=promo, date=MAY_1, currency="EUR")
    assert day1.admin_fee_sum == Decimal("7.5")  # 10 % of 75
    assert day1.revshare_income_sum == Decimal("20.25")  # 30 % of (75 − 7.5)
    assert day1.cpa_income_sum == 0
    day2 = DailyStat.objects.get(promo=promo, date=MAY_2, currency="EUR")
    assert (day2.admin_fee_sum, day2.revshare_income_sum) == (Decimal("-2"), Decimal("-5.4"))
    usd = DailyStat.objects.get(promo=promo, date=MAY_1, currency="USD")
    assert (usd.admin_fee_sum, usd.revshare_income_sum) == (0, 0)


def test_over_a_positive_billing_period_the_accruals_add_up_to_the_bill(hybrid, commit):
    plan, promo = hybrid
    players = [player_of(promo) for _ in range(3)]
    with commit():
        for i, (bets, wins) in enumerate([("100", "20"), ("10", "30.55"), ("47.13", "0")]):
            PlayerActivityFactory(player=players[i], period_start=at(MAY_1 + dt.timedelta(days=i * 9)),
                                  period_end=at(MAY_1 + dt.timedelta(days=i * 9 + 1)),
                                  bets_sum=Decimal(bets), wins_sum=Decimal(wins), bonus_issues_sum=Decimal("3"))
    period = Period(dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    draft = bill_drafts(plan=plan, period=period)[promo.affiliate_id]
    sums = DailyStat.objects.filter(promo=promo).aggregate(fee=Sum("admin_fee_sum"), rs=Sum("revshare_income_sum"))
    ngr_before_fee = Decimal("100") - 20 + 10 - Decimal("30.55") + Decimal("47.13")
    assert draft.ngr == ngr_before_fee - sums["fee"]  # the bill's NGR is after the same fee
    assert draft.amount("revshare") == sums["rs"].quantize(Decimal("0.01"))


def test_cpa_accrues_on_the_qualification_day_in_the_plan_currency(commit):
    brand = BrandFactory(base_currency="EUR")
    plan = CommissionPlanFactory(brand=brand, currency="USD", kind=CommissionPlan.Kind.CPA, cpa_amount=Decimal("40"))
    promo = PromoFactory(campaign=CampaignFactory(brand=brand, commission_plan=plan))
    player = player_of(promo)
    with commit():
        Qualification.objects.create(plan=plan, player=player, affiliate=promo.affiliate, qualified_at=at(MAY_2, 23),
                                     payable_from=MAY_2, amount=Decimal("40"))
    usd = DailyStat.objects.get(promo=promo, date=MAY_2, currency="USD")
    assert (usd.cpa_income_sum, usd.qualified_players_count) == (Decimal("40"), 0)
    eur = DailyStat.objects.get(promo=promo, date=MAY_2, currency="EUR")
    assert (eur.cpa_income_sum, eur.qualified_players_count) == (0, 1)  # counted in the brand's currency row


def _monthly() -> dict:
    return {(r["date"], r["promo_id"], r["currency"]): {c: Decimal(r[c]) for c in COUNTERS}
            for r in MonthlyStat.objects.values("date", "promo_id", "currency", *COUNTERS)}


def _daily_by_month() -> dict:
    out: dict = {}
    for row in DailyStat.objects.values("date", "promo_id", "currency", *COUNTERS):
        key = (row["date"].replace(day=1), row["promo_id"], row["currency"])
        into = out.setdefault(key, dict.fromkeys(COUNTERS, Decimal(0)))
        for c in COUNTERS:
            into[c] += Decimal(row[c])
    return out


def test_monthly_rows_follow_every_change_of_the_days(hybrid, commit):
    plan, promo = hybrid
    alice = player_of(promo, dt.date(2024, 4, 30))
    with commit():
        window = PlayerActivityFactory(player=alice, period_start=at(MAY_1), period_end=at(MAY_2),
                                       bets_sum=Decimal("10"))
        PlayerActivityFactory(player=alice, period_start=at(JUNE_1), period_end=at(JUNE_1, 5), bets_sum=Decimal("4"))
    assert _monthly() == _daily_by_month()
    assert _monthly()[(MAY_1, promo.pk, "EUR")]["bets_sum"] == Decimal("10")

    with commit():  # moved to June: May's month row goes, June's gains it
        window.period_start, window.period_end = at(JUNE_1, 6), at(JUNE_1, 7)
        window.save()
    assert _monthly() == _daily_by_month()
    assert (MAY_1, promo.pk, "EUR") not in _monthly()
    assert _monthly()[(JUNE_1, promo.pk, "EUR")]["bets_sum"] == Decimal("14")
    assert _monthly()[(JUNE_1, promo.pk, "EUR")]["revshare_income_sum"] == Decimal("3.78")  # 14 × 0.9 × 0.3


def test_rebuild_fills_months_of_daily_rows_loaded_another_way(hybrid):
    plan, promo = hybrid
    DailyStat.objects.create(date=MAY_2, promo=promo, currency="EUR", affiliate=promo.affiliate, brand=promo.brand,
                             campaign=promo.campaign, plan=plan, visits_count=3)
    assert not MonthlyStat.objects.exists()
    stats_months_rebuild()
    assert _monthly() == _daily_by_month()
    stats_rebuild(date_from=MAY_1, date_to=dt.date(2024, 5, 31))  # no raw data: the days and months go
    assert not DailyStat.objects.exists() and not MonthlyStat.objects.exists()


def test_changing_the_plans_terms_re_accrues_the_income(hybrid, commit):
    plan, promo = hybrid
    with commit():
        PlayerActivityFactory(player=player_of(promo), period_start=at(MAY_1), period_end=at(MAY_2),
                              bets_sum=Decimal("100"))
    assert DailyStat.objects.get(promo=promo, date=MAY_1).revshare_income_sum == Decimal("27")  # 100 × 0.9 × 0.3
    with commit():  # the beat of the task: after commit, eager Celery here
        plan.revshare_percent, plan.admin_fee_percent = Decimal("40"), Decimal("0")
        plan.save(update_fields=["revshare_percent", "admin_fee_percent"])
    row = DailyStat.objects.get(promo=promo, date=MAY_1)
    assert (row.admin_fee_sum, row.revshare_income_sum) == (0, Decimal("40"))
    assert MonthlyStat.objects.get(promo=promo, date=MAY_1).revshare_income_sum == Decimal("40")
