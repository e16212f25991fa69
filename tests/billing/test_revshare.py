"""RevShare: NGR and its deductions, admin fee, tiers, negative carryover, lines, rounding."""
import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Bill, BillLine, BillPlayerLine, CommissionPlan
from billing.services.billing_run import run_billing
from tests.billing.factories import (
    DepositFactory,
    PlayerActivityFactory,
    RevShareTierFactory,
    billing_plan,
    player_of,
)
from tests.campaigns.factories import CampaignFactory, PlayerFactory

pytestmark = pytest.mark.django_db

MAY = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
JUNE_1 = dt.date(2024, 6, 1)
ALL_DEDUCTIONS_OFF = {
    "deduct_bonuses": False, "deduct_chargebacks": False, "deduct_payment_system_fees": False,
    "deduct_game_provider_fees": False, "deduct_jackpot_fees": False, "deduct_additional_deductions": False,
    "deduct_taxes": False,
}


def _day(n: int) -> dt.datetime:
    return MAY + dt.timedelta(days=n - 1)


def _setup(**plan_kwargs):
    plan_kwargs.setdefault("revshare_percent", Decimal("30"))
    plan = billing_plan(**plan_kwargs)
    campaign = CampaignFactory(commission_plan=plan, brand=plan.brand)
    return plan, campaign


def _bill(plan, affiliate=None, start=dt.date(2024, 5, 1)) -> Bill:
    return Bill.objects.get(plan=plan, period_start=start, **({"affiliate": affiliate} if affiliate else {}))


def test_flat_revshare_on_ggr_minus_every_deduction():
    # given a 30% plan deducting everything, and one player's May: bets 1000, wins 400,
    # bonuses 50, chargebacks 20, payment fees 10, provider fees 30, jackpot 5, other 15, taxes 20
    plan, campaign = _setup()
    player = player_of(campaign)
    PlayerActivityFactory(player=player, period_start=_day(3), bets_sum=Decimal("600"), wins_sum=Decimal("250"),
                          bonus_issues_sum=Decimal("50"), chargebacks_sum=Decimal("20"),
                          payment_system_fees_sum=Decimal("10"), extra={"taxes_cents": "20.00", "taxes_count": 4})
    PlayerActivityFactory(player=player, period_start=_day(20), bets_sum=Decimal("400"), wins_sum=Decimal("150"),
                          game_provider_fees_sum=Decimal("30"), jackpot_fees_sum=Decimal("5"),
                          additional_deductions_sum=Decimal("15"))

    run_billing(as_of=JUNE_1)

    # then NGR = 600 − 50 − 20 − 10 − 30 − 5 − 15 − 20 = 450 and RevShare 30% = 135.00
    bill = _bill(plan)
    assert (bill.affiliate, bill.status, bill.currency) == (campaign.affiliate, Bill.Status.PENDING, "EUR")
    assert (bill.period_start, bill.period_end) == (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    assert bill.ngr == Decimal("450.00")
    assert bill.revshare_amount == bill.issued_amount == Decimal("135.00")
    line = bill.lines.get()
    assert (line.kind, line.campaign, line.base, line.rate, line.players_count, line.amount) == (
        BillLine.Kind.REVSHARE, campaign, Decimal("450.00"), Decimal("30"), 1, Decimal("135.00"))
    player_line = bill.player_lines.get()
    assert (player_line.player, player_line.ngr, player_line.revshare_amount) == (
        player, Decimal("450.00"), Decimal("135.00"))


@pytest.mark.parametrize(("switch", "column", "amount"), [
    ("deduct_bonuses", "bonus_issues_sum", "100"),
    ("deduct_chargebacks", "chargebacks_sum", "110"),
    ("deduct_payment_system_fees", "payment_system_fees_sum", "120"),
    ("deduct_game_provider_fees", "game_provider_fees_sum", "130"),
    ("deduct_jackpot_fees", "jackpot_fees_sum", "140"),
    ("deduct_additional_deductions", "additional_deductions_sum", "150"),
])
@pytest.mark.parametrize("on", [True, False])
def test_each_deduction_applies_only_when_its_switch_is_on(switch, column, amount, on):
    # given GGR 1000 and one deduction of `amount`, with only that switch possibly on
    plan, campaign = _setup(**{**ALL_DEDUCTIONS_OFF, switch: on}, revshare_percent=Decimal("10"))
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("1000"), **{column: Decimal(amount)})

    run_billing(as_of=JUNE_1)

    expected_ngr = Decimal("1000") - (Decimal(amount) if on else 0)
    bill = _bill(plan)
    assert bill.ngr == expected_ngr
    assert bill.issued_amount == (expected_ngr / 10).quantize(Decimal("0.01"))


@pytest.mark.parametrize(("on", "ngr"), [(True, "967.50"), (False, "1000.00")])
def test_taxes_are_the_extra_money_values_named_tax(on, ngr):
    plan, campaign = _setup(**{**ALL_DEDUCTIONS_OFF, "deduct_taxes": on})
    player = player_of(campaign)
    # a count is not money; a non-tax key is not deducted
    PlayerActivityFactory(player=player, period_start=_day(1), bets_sum=Decimal("500"),
                          extra={"sb_tax_cents": "12.50", "taxes_count": 7, "sb_bets_sum_cents": "99.00"})
    PlayerActivityFactory(player=player, period_start=_day(2), bets_sum=Decimal("500"),
                          extra={"gaming_tax_cents": "20.00"})

    run_billing(as_of=JUNE_1)

    assert _bill(plan).ngr == Decimal(ngr)


def test_admin_fee_comes_off_a_positive_ngr_before_revshare():
    # given NGR 1000 (two campaigns 600 + 400), admin fee 10%, 30%
    plan, campaign = _setup(admin_fee_percent=Decimal("10"))
    other = CampaignFactory(commission_plan=plan, brand=plan.brand, affiliate=campaign.affiliate)
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("600"))
    PlayerActivityFactory(player=player_of(other), bets_sum=Decimal("400"))

    run_billing(as_of=JUNE_1)

    # then NGR after fee 900, RevShare 270.00 = 162.00 + 108.00 (the fee shared by the lines)
    bill = _bill(plan)
    assert bill.ngr == Decimal("900.00")
    assert bill.issued_amount == Decimal("270.00")
    assert sorted(bill.lines.values_list("base", "amount")) == [
        (Decimal("360.00"), Decimal("108.00")), (Decimal("540.00"), Decimal("162.00"))]


def test_admin_fee_is_not_taken_from_a_negative_ngr():
    plan, campaign = _setup(admin_fee_percent=Decimal("10"))
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("100"), wins_sum=Decimal("300"))

    run_billing(as_of=JUNE_1)

    bill = _bill(plan)
    assert (bill.ngr, bill.issued_amount, bill.carryover_out) == (Decimal("-200.00"), 0, 0)


def test_tiers_by_period_ngr_pick_the_highest_threshold_reached():
    # given tiers from 0: 20%, from 1000: 30%, from 5000: 40%
    plan, campaign = _setup(tier_basis=CommissionPlan.TierBasis.NGR, revshare_percent=Decimal("10"))
    for threshold, percent in (("0", "20"), ("1000", "30"), ("5000", "40")):
        RevShareTierFactory(plan=plan, threshold=Decimal(threshold), percent=Decimal(percent))
    small = campaign
    big = CampaignFactory(commission_plan=plan, brand=plan.brand)
    exact = CampaignFactory(commission_plan=plan, brand=plan.brand)
    PlayerActivityFactory(player=player_of(small), bets_sum=Decimal("500"))
    # the tier is chosen on the affiliate's total NGR, not per player: 800 + 700 = 1500
    PlayerActivityFactory(player=player_of(big), bets_sum=Decimal("800"))
    PlayerActivityFactory(player=player_of(big), bets_sum=Decimal("700"))
    PlayerActivityFactory(player=player_of(exact), bets_sum=Decimal("5000"))

    run_billing(as_of=JUNE_1)

    assert _bill(plan, small.affiliate).issued_amount == Decimal("100.00")  # 500 × 20%
    assert _bill(plan, big.affiliate).issued_amount == Decimal("450.00")  # 1500 × 30%
    assert _bill(plan, exact.affiliate).issued_amount == Decimal("2000.00")  # 5000 × 40%


def test_below_the_lowest_tier_the_plans_own_percent_applies():
    plan, campaign = _setup(tier_basis=CommissionPlan.TierBasis.NGR, revshare_percent=Decimal("10"))
    RevShareTierFactory(plan=plan, threshold=Decimal("1000"), percent=Decimal("30"))
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("500"))

    run_billing(as_of=JUNE_1)

    assert _bill(plan).issued_amount == Decimal("50.00")


def test_tiers_by_first_deposits_count_in_the_period():
    # given tiers from 0 FTDs: 20%, from 2 FTDs: 35%
    plan, campaign = _setup(tier_basis=CommissionPlan.TierBasis.FTD_COUNT)
    RevShareTierFactory(plan=plan, threshold=Decimal("0"), percent=Decimal("20"))
    RevShareTierFactory(plan=plan, threshold=Decimal("2"), percent=Decimal("35"))
    players = [player_of(campaign) for _ in range(3)]
    for player in players:
        PlayerActivityFactory(player=player, bets_sum=Decimal("100"))
    # two FTDs in May (one late on the 31st), one in April (not this period), and a repeat deposit
    DepositFactory(player=players[0], is_first=True, processed_at=dt.datetime(2024, 5, 2, tzinfo=dt.UTC))
    DepositFactory(player=players[0], processed_at=dt.datetime(2024, 5, 3, tzinfo=dt.UTC))
    DepositFactory(player=players[1], is_first=True, processed_at=dt.datetime(2024, 5, 31, 23, 59, tzinfo=dt.UTC))
    DepositFactory(player=players[2], is_first=True, processed_at=dt.datetime(2024, 4, 30, tzinfo=dt.UTC))
    # a second affiliate with only one FTD stays at 20%
    other = CampaignFactory(commission_plan=plan, brand=plan.brand)
    lone = player_of(other)
    PlayerActivityFactory(player=lone, bets_sum=Decimal("100"))
    DepositFactory(player=lone, is_first=True, processed_at=dt.datetime(2024, 5, 9, tzinfo=dt.UTC))

    run_billing(as_of=JUNE_1)

    assert _bill(plan, campaign.affiliate).issued_amount == Decimal("105.00")  # 300 × 35%
    assert _bill(plan, other.affiliate).issued_amount == Decimal("20.00")  # 100 × 20%
    assert _bill(plan, campaign.affiliate).lines.get().rate == Decimal("35")


def _three_months(carryover: bool):
    plan, campaign = _setup(negative_carryover=carryover)
    player = player_of(campaign)
    for month, ngr in ((5, "-100"), (6, "60"), (7, "80")):
        amount = Decimal(ngr)
        PlayerActivityFactory(player=player, period_start=dt.datetime(2024, month, 10, tzinfo=dt.UTC),
                              bets_sum=max(amount, 0), wins_sum=max(-amount, 0))
    run_billing(as_of=dt.date(2024, 8, 1))
    return list(Bill.objects.filter(plan=plan).order_by("period_start"))


def test_negative_carryover_across_three_periods():
    # NGR −100, +60, +80 at 30%: −100 is carried, −100 + 60 = −40 is carried, −40 + 80 = 40 pays 12.00
    may, june, july = _three_months(carryover=True)

    assert [b.ngr for b in (may, june, july)] == [Decimal("-100.00"), Decimal("60.00"), Decimal("80.00")]
    assert [b.carryover_in for b in (may, june, july)] == [0, Decimal("-100.00"), Decimal("-40.00")]
    assert [b.carryover_out for b in (may, june, july)] == [Decimal("-100.00"), Decimal("-40.00"), 0]
    assert [b.issued_amount for b in (may, june, july)] == [0, 0, Decimal("12.00")]
    # July's lines: the campaign's 80 × 30% and the carried −40 × 30%
    assert sorted(july.lines.values_list("base", "amount")) == [
        (Decimal("-40.00"), Decimal("-12.00")), (Decimal("80.00"), Decimal("24.00"))]


def test_without_carryover_each_period_stands_alone():
    may, june, july = _three_months(carryover=False)

    assert [b.issued_amount for b in (may, june, july)] == [0, Decimal("18.00"), Decimal("24.00")]
    assert [b.carryover_out for b in (may, june, july)] == [0, 0, 0]
    assert [b.carryover_in for b in (may, june, july)] == [0, 0, 0]


def test_carryover_waits_through_a_period_without_a_bill():
    # May −100 carried; no activity in June (no bill); July +150 → (150 − 100) × 30% = 15.00
    plan, campaign = _setup(negative_carryover=True)
    player = player_of(campaign)
    PlayerActivityFactory(player=player, period_start=dt.datetime(2024, 5, 5, tzinfo=dt.UTC), wins_sum=Decimal("100"))
    PlayerActivityFactory(player=player, period_start=dt.datetime(2024, 7, 5, tzinfo=dt.UTC), bets_sum=Decimal("150"))

    run_billing(as_of=dt.date(2024, 8, 1))

    assert not Bill.objects.filter(plan=plan, period_start=dt.date(2024, 6, 1)).exists()
    assert _bill(plan, start=dt.date(2024, 7, 1)).issued_amount == Decimal("15.00")


def test_lines_per_campaign_and_player_add_up_to_the_bill():
    plan, first = _setup(revshare_percent=Decimal("25"))
    second = CampaignFactory(commission_plan=plan, brand=plan.brand, affiliate=first.affiliate)
    a, b, c = player_of(first), player_of(first), player_of(second)
    PlayerActivityFactory(player=a, period_start=_day(1), bets_sum=Decimal("200"))
    PlayerActivityFactory(player=a, period_start=_day(2), bets_sum=Decimal("100"), wins_sum=Decimal("20"))
    PlayerActivityFactory(player=b, period_start=_day(3), wins_sum=Decimal("80"))
    PlayerActivityFactory(player=c, period_start=_day(31), bets_sum=Decimal("400"))

    run_billing(as_of=JUNE_1)

    bill = _bill(plan)
    assert bill.ngr == Decimal("600.00")
    assert bill.issued_amount == Decimal("150.00")
    lines = {line.campaign: line for line in bill.lines.all()}
    assert (lines[first].base, lines[first].players_count, lines[first].amount) == (Decimal("200.00"), 2, Decimal("50.00"))
    assert (lines[second].base, lines[second].players_count, lines[second].amount) == (Decimal("400.00"), 1, Decimal("100.00"))
    players = {p.player: p for p in BillPlayerLine.objects.filter(bill=bill)}
    assert {p: (line.ngr, line.revshare_amount, line.campaign) for p, line in players.items()} == {
        a: (Decimal("280.00"), Decimal("70.00"), first),
        b: (Decimal("-80.00"), Decimal("-20.00"), first),
        c: (Decimal("400.00"), Decimal("100.00"), second),
    }


def test_only_this_plans_players_in_its_currency_and_period_count(settings):
    settings.PROGRAM_TIME_ZONE = "Europe/Malta"  # UTC+2 in May
    plan, campaign = _setup()
    player = player_of(campaign)
    PlayerActivityFactory(player=player, period_start=_day(10), bets_sum=Decimal("100"))
    # another currency: ignored for this EUR plan
    PlayerActivityFactory(player=player, period_start=_day(10), currency="USD", bets_sum=Decimal("999"))
    # 31 May 22:30 UTC is 1 June in Malta: next period; 30 April 22:30 UTC is 1 May in Malta: this one
    PlayerActivityFactory(player=player, period_start=dt.datetime(2024, 5, 31, 22, 30, tzinfo=dt.UTC),
                          bets_sum=Decimal("777"))
    PlayerActivityFactory(player=player, period_start=dt.datetime(2024, 4, 30, 22, 30, tzinfo=dt.UTC),
                          bets_sum=Decimal("10"))
    # an organic player of the brand, and a player under another plan
    PlayerActivityFactory(player=PlayerFactory(visit=None, promo=None, brand=plan.brand), bets_sum=Decimal("555"))
    elsewhere = CampaignFactory(affiliate=campaign.affiliate, brand=plan.brand)
    PlayerActivityFactory(player=player_of(elsewhere), bets_sum=Decimal("444"))

    run_billing(as_of=JUNE_1)

    assert _bill(plan).ngr == Decimal("110.00")
    assert Bill.objects.filter(plan=plan).count() == 1


def test_amounts_round_half_up_per_line():
    # NGR 0.05 at 50% = 0.025 → 0.03 (half-up, not banker's 0.02)
    plan, campaign = _setup(revshare_percent=Decimal("50"))
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("0.05"))

    run_billing(as_of=JUNE_1)

    assert _bill(plan).issued_amount == Decimal("0.03")


def test_a_period_netting_to_zero_still_issues_a_bill_of_zero():
    plan, campaign = _setup()
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal("100"), wins_sum=Decimal("100"))

    run_billing(as_of=JUNE_1)

    bill = _bill(plan)
    assert (bill.ngr, bill.issued_amount, bill.lines.get().amount) == (0, 0, 0)


def test_no_activity_no_bill():
    plan, campaign = _setup()
    player_of(campaign)

    run_billing(as_of=JUNE_1)

    assert not Bill.objects.filter(plan=plan).exists()
