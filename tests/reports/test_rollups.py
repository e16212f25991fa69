"""Daily stats rollups: each raw source lands in its (day, promo, currency) cell, replays
replace rather than add, and the three paths (on-commit signals, the watermark pass, the
rebuild command) agree."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction

from billing.models import Qualification
from campaigns.api.validation import activity_items
from campaigns.models import Visit
from campaigns.services.ingestion import PlayerIn, activity_ingest, players_ingest
from campaigns.services.visits import visit_record
from reports import rollups
from reports.models import DailyStat
from reports.rollups import WATERMARK_KEY, stats_rebuild, stats_refresh
from tests.billing.factories import DepositFactory, PlayerActivityFactory
from tests.campaigns.factories import BrandFactory, PlayerFactory, PromoFactory, VisitFactory

pytestmark = pytest.mark.django_db

MAY_1 = dt.date(2024, 5, 1)
MAY_2 = dt.date(2024, 5, 2)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_watermark():
    cache.delete(WATERMARK_KEY)
    yield
    cache.delete(WATERMARK_KEY)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what is queued on commit (the cells marked by the model signals) at the end of the
    block, as if the block were a transaction of its own (the test's own transaction never
    commits: the cells marked by the set-up before the block are left to the block's cells)."""
    def block():
        rollups._pending().clear()
        return django_capture_on_commit_callbacks(execute=True)
    return block


def stat(promo, day=MAY_1, currency="EUR") -> DailyStat:
    return DailyStat.objects.get(promo=promo, date=day, currency=currency)


def snapshot() -> dict:
    return {
        (row["date"], row["promo_id"], row["currency"]): row
        for row in DailyStat.objects.values(
            "date", "promo_id", "currency", "affiliate_id", "brand_id", "campaign_id", "plan_id",
            *[f.name for f in DailyStat._meta.concrete_fields
              if f.name.endswith(("_count", "_sum"))],
        )
    }


def test_visits_count_on_the_day_in_the_brand_currency_with_the_promo_dimensions(commit):
    promo = PromoFactory(brand=BrandFactory(base_currency="USD"))
    with commit():
        VisitFactory.create_batch(3, promo=promo, created_at=at(MAY_1))
        VisitFactory(promo=promo, created_at=at(MAY_2))

    row = stat(promo, currency="USD")
    assert row.visits_count == 3
    assert stat(promo, MAY_2, "USD").visits_count == 1
    assert (row.affiliate_id, row.brand_id, row.campaign_id, row.plan_id) == (
        promo.affiliate_id, promo.brand_id, promo.campaign_id, promo.campaign.commission_plan_id)
    assert not DailyStat.objects.filter(currency="EUR").exists()


def test_registrations_count_attributed_players_only(commit):
    promo = PromoFactory()
    with commit():
        PlayerFactory.create_batch(2, visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
        PlayerFactory(visit=None, promo=None, brand=promo.brand, sign_up_at=at(MAY_1))  # organic

    row = stat(promo)
    assert (row.visits_count, row.registrations_count) == (1, 2)
    assert DailyStat.objects.count() == 1


def test_deposits_and_first_deposits_in_the_deposit_currency(commit):
    promo = PromoFactory()
    alice = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
    bob = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
    organic = PlayerFactory(visit=None, promo=None, brand=promo.brand)
    with commit():
        DepositFactory(player=alice, amount=Decimal("100.00"), is_first=True, processed_at=at(MAY_1, 9))
        DepositFactory(player=alice, amount=Decimal("50.50"), processed_at=at(MAY_1, 10))
        DepositFactory(player=bob, amount=Decimal("20.00"), processed_at=at(MAY_1, 11))
        DepositFactory(player=bob, amount=Decimal("0.01"), currency="BTC", processed_at=at(MAY_1, 11))
        DepositFactory(player=organic, amount=Decimal("999.00"), is_first=True, processed_at=at(MAY_1))

    eur = stat(promo)
    assert (eur.deposits_count, eur.deposits_sum) == (3, Decimal("170.50"))
    assert (eur.first_deposits_count, eur.first_deposits_sum) == (1, Decimal("100.00"))
    assert eur.depositing_players_count == 2
    btc = stat(promo, currency="BTC")
    assert (btc.deposits_count, btc.deposits_sum, btc.depositing_players_count) == (1, Decimal("0.01"), 1)
    assert (btc.visits_count, btc.registrations_count) == (0, 0)  # counted on the brand's currency row


def test_activity_sums_taxes_and_active_players(commit):
    promo = PromoFactory()
    alice = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
    bob = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
    with commit():
        PlayerActivityFactory(
            player=alice, period_start=at(MAY_1, 0), period_end=at(MAY_1, 12), bets_sum=Decimal("10.00"),
            wins_sum=Decimal("4.00"), wager_sum=Decimal("12.00"), rounds_count=7, bonus_issues_sum=Decimal("1.00"),
            additional_deductions_sum=Decimal("0.50"), chargebacks_count=1, chargebacks_sum=Decimal("2.00"),
            payment_system_fees_sum=Decimal("0.10"), game_provider_fees_sum=Decimal("0.20"),
            jackpot_fees_sum=Decimal("0.30"), cashouts_count=2, cashouts_sum=Decimal("3.00"),
            extra={"sb_taxes_sum_cents": "0.40", "ggr_tax_cents": "0.05", "sb_bets_sum_cents": "9.00",
                   "tax_count": 3},
        )
        PlayerActivityFactory(player=alice, period_start=at(MAY_1, 12), period_end=at(MAY_2, 0),
                              bets_sum=Decimal("5.00"), rounds_count=3)
        PlayerActivityFactory(player=bob, period_start=at(MAY_1, 0), period_end=at(MAY_2, 0),
                              wins_sum=Decimal("1.00"))  # no bets: not an active player

    row = stat(promo)
    assert (row.bets_sum, row.wins_sum, row.wager_sum, row.bets_count) == (
        Decimal("15.00"), Decimal("5.00"), Decimal("12.00"), 10)
    assert (row.bonus_issues_sum, row.additional_deductions_sum) == (Decimal("1.00"), Decimal("0.50"))
    assert (row.chargebacks_count, row.chargebacks_sum) == (1, Decimal("2.00"))
    assert (row.payment_system_fees_sum, row.game_provider_fees_sum, row.jackpot_fees_sum) == (
        Decimal("0.10"), Decimal("0.20"), Decimal("0.30"))
    assert (row.cashouts_count, row.cashouts_sum) == (2, Decimal("3.00"))
    assert row.taxes_sum == Decimal("0.45")
    assert row.active_players_count == 1


def test_qualified_players_count_on_the_qualification_day(commit):
    promo = PromoFactory()
    player = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
    with commit():
        Qualification.objects.create(plan=promo.campaign.commission_plan, player=player, affiliate=promo.affiliate,
                                     qualified_at=at(MAY_2), payable_from=MAY_2, amount=Decimal("25.00"))

    assert stat(promo, MAY_2).qualified_players_count == 1
    assert not DailyStat.objects.filter(date=MAY_1, qualified_players_count__gt=0).exists()


def _post_activity(brand, day, items, *, hours=(0, 24)):
    parsed, errors = activity_items(items)
    assert not errors
    outcome = activity_ingest(brand=brand, period_start=at(day, 0) + dt.timedelta(hours=hours[0]),
                              period_end=at(day, 0) + dt.timedelta(hours=hours[1]), items=parsed)
    assert not outcome.errors
    return outcome


def test_a_replayed_window_and_a_repeated_deposit_are_counted_once():
    promo = PromoFactory()
    player = PlayerFactory(visit=VisitFactory(promo=promo, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
    stats_refresh()  # the first pass only sets the watermark
    deposit = {"deposit_id": "d-1", "amount_cents": 5000, "processed_at": "2024-05-01T10:00:00Z"}
    _post_activity(promo.brand, MAY_1, [{"user_id": player.user_id, "currency": "EUR", "bets_sum_cents": 1000,
                                         "deposits": [deposit]}])
    stats_refresh()
    assert (stat(promo).bets_sum, stat(promo).deposits_count) == (Decimal("10.00"), 1)

    # the platform re-posts the same window with corrected amounts and the same deposit
    _post_activity(promo.brand, MAY_1, [{"user_id": player.user_id, "currency": "EUR", "bets_sum_cents": 2500,
                                         "deposits": [deposit]}])
    stats_refresh()

    row = stat(promo)
    assert (row.bets_sum, row.deposits_count, row.deposits_sum) == (Decimal("25.00"), 1, Decimal("50.00"))
    assert (row.first_deposits_count, row.active_players_count) == (1, 1)


def test_a_deleted_window_empties_its_cell_and_a_moved_one_changes_day(commit):
    promo = PromoFactory()
    player = PlayerFactory(visit=None, promo=promo, campaign=promo.campaign, affiliate=promo.affiliate,
                           brand=promo.brand, sign_up_at=at(dt.date(2024, 4, 1)))
    with commit():
        window = PlayerActivityFactory(player=player, period_start=at(MAY_1, 0), bets_sum=Decimal("7.00"))
    assert stat(promo).bets_sum == Decimal("7.00")

    with commit():
        window.period_start, window.period_end = at(MAY_2, 0), at(MAY_2, 23)
        window.save()
    assert not DailyStat.objects.filter(promo=promo, date=MAY_1).exists()
    assert stat(promo, MAY_2).bets_sum == Decimal("7.00")

    with commit():
        window.delete()
    assert not DailyStat.objects.filter(promo=promo, date=MAY_2).exists()


def test_program_time_zone_decides_the_day(settings, commit):
    settings.PROGRAM_TIME_ZONE = "America/New_York"  # UTC-4 in May
    promo = PromoFactory()
    with commit():
        VisitFactory(promo=promo, created_at=at(MAY_2, 3, 59))  # 1 May, 23:59 in New York
        VisitFactory(promo=promo, created_at=at(MAY_2, 4, 0))   # 2 May, 00:00 in New York
        player = PlayerFactory(visit=None, promo=promo, campaign=promo.campaign, affiliate=promo.affiliate,
                               brand=promo.brand, sign_up_at=at(MAY_2, 2))
        PlayerActivityFactory(player=player, period_start=at(MAY_2, 3), bets_sum=Decimal("1.00"))

    assert (stat(promo).visits_count, stat(promo).registrations_count, stat(promo).bets_sum) == (
        1, 1, Decimal("1.00"))
    assert stat(promo, MAY_2).visits_count == 1
    assert stats_rebuild() == 0  # nothing changed, so nothing is rewritten
    assert (stat(promo).visits_count, stat(promo, MAY_2).visits_count) == (1, 1)


def test_the_watermark_pass_picks_up_bulk_written_visits_and_activity():
    promo = PromoFactory()
    stats_refresh()
    # bulk paths: visit_record's bulk_create and the ingestion's INSERT ... ON CONFLICT send no signals
    visit = visit_record(promo_id=promo.pk, affiliate_id=promo.affiliate_id, ip=None, user_agent="", referrer="",
                         params={}, created_at=at(MAY_1))
    players_ingest(brand=promo.brand, items=[PlayerIn(index=0, user_id="u-1", tag=visit.tag,
                                                      sign_up_at=at(MAY_1, 13))])
    _post_activity(promo.brand, MAY_1, [{"user_id": "u-1", "currency": "EUR", "bets_sum_cents": 300}])
    assert not DailyStat.objects.exists()  # nothing committed in this test: no on-commit recompute ran

    assert stats_refresh() >= 1

    row = stat(promo)
    assert (row.visits_count, row.registrations_count, row.bets_sum) == (1, 1, Decimal("3.00"))


def test_without_a_watermark_the_pass_recomputes_the_last_two_days(time_machine):
    time_machine.move_to(at(MAY_2, 15))
    promo = PromoFactory()
    Visit.objects.bulk_create([Visit(promo=promo, affiliate=promo.affiliate, created_at=at(MAY_1)),
                               Visit(promo=promo, affiliate=promo.affiliate, created_at=at(MAY_2)),
                               Visit(promo=promo, affiliate=promo.affiliate, created_at=at(dt.date(2024, 4, 29)))])

    stats_refresh()

    assert (stat(promo).visits_count, stat(promo, MAY_2).visits_count) == (1, 1)
    assert not DailyStat.objects.filter(date=dt.date(2024, 4, 29)).exists()
    assert cache.get(WATERMARK_KEY) is not None


def test_an_organic_player_attributed_later_brings_its_activity(commit):
    promo = PromoFactory()
    visit = VisitFactory(promo=promo, created_at=at(MAY_1))
    players_ingest(brand=promo.brand, items=[PlayerIn(index=0, user_id="u-1", sign_up_at=at(MAY_1))])
    _post_activity(promo.brand, MAY_1, [{"user_id": "u-1", "currency": "EUR", "bets_sum_cents": 800}])
    stats_rebuild()
    assert stat(promo).bets_sum == 0  # organic: only the visit counts

    with commit():
        players_ingest(brand=promo.brand, items=[PlayerIn(index=0, user_id="u-1", tag=visit.tag)])

    row = stat(promo)
    assert (row.registrations_count, row.bets_sum, row.active_players_count) == (1, Decimal("8.00"), 1)


def test_rebuild_equals_incremental_and_the_command_reports(commit):
    promo, other = PromoFactory(), PromoFactory(brand=BrandFactory(base_currency="GBP"))
    with commit():
        for p in (promo, other):
            player = PlayerFactory(visit=VisitFactory(promo=p, created_at=at(MAY_1)), sign_up_at=at(MAY_1))
            DepositFactory(player=player, is_first=True, currency="GBP", processed_at=at(MAY_2))
            PlayerActivityFactory(player=player, currency="GBP", period_start=at(MAY_2, 0),
                                  bets_sum=Decimal("3.00"), extra={"tax_cents": "0.30"})
    incremental = snapshot()
    assert len(incremental) == 4
    DailyStat.objects.update(bets_sum=0, visits_count=99)  # damage it
    DailyStat.objects.create(**{**{k: v for k, v in next(iter(incremental.values())).items()
                                   if not k.endswith("_id") and k != "date"},
                                "date": dt.date(2024, 1, 1), "promo": promo, "affiliate": promo.affiliate,
                                "brand": promo.brand, "campaign": promo.campaign,
                                "plan": promo.campaign.commission_plan})

    call_command("rebuild_stats", "--from", "2024-01-01", "--to", "2024-05-31")

    assert snapshot() == incremental


def test_rebuild_command_refuses_bad_dates():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--from must be a date as YYYY-MM-DD"):
        call_command("rebuild_stats", "--from", "May 1")
    with pytest.raises(CommandError, match="is after --to"):
        call_command("rebuild_stats", "--from", "2024-05-02", "--to", "2024-05-01")


def test_cells_marked_after_a_rolled_back_savepoint_are_still_recomputed(commit):
    promo = PromoFactory()
    with commit():
        with pytest.raises(RuntimeError), transaction.atomic():
            VisitFactory(promo=promo, created_at=at(MAY_1))
            raise RuntimeError("the request failed half-way")
        VisitFactory(promo=promo, created_at=at(MAY_2))

    assert stat(promo, MAY_2).visits_count == 1
    assert not DailyStat.objects.filter(date=MAY_1).exists()


def test_a_corrected_sign_up_date_moves_the_registration(commit):
    promo = PromoFactory()
    visit = VisitFactory(promo=promo, created_at=at(MAY_1))
    with commit():
        players_ingest(brand=promo.brand, items=[PlayerIn(index=0, user_id="u-1", tag=visit.tag,
                                                          sign_up_at=at(MAY_1))])
    assert stat(promo).registrations_count == 1

    with commit():
        players_ingest(brand=promo.brand, items=[PlayerIn(index=0, user_id="u-1", sign_up_at=at(MAY_2))])

    assert (stat(promo).registrations_count, stat(promo, MAY_2).registrations_count) == (0, 1)
