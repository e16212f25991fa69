"""CPA qualification: criteria combined, window, exclusions, countries, hold days, once ever,
the qualification event and its postbacks, and the CPA lines on bills."""
import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Bill, BillLine, CommissionPlan, Qualification
from billing.services.billing_run import run_billing
from campaigns.models import PlayerEvent, Postback, PostbackDelivery
from tests.billing.factories import DepositFactory, PlayerActivityFactory, billing_plan, player_of
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
JUNE_1 = dt.date(2024, 6, 1)
END_OF_MAY = dt.datetime(2024, 5, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _cpa_plan(**kwargs):
    kwargs.setdefault("kind", CommissionPlan.Kind.CPA)
    kwargs.setdefault("cpa_amount", Decimal("25.00"))
    plan = billing_plan(**kwargs)
    return plan, CampaignFactory(commission_plan=plan, brand=plan.brand)


def _play(player, *, day=5, month=5, first_deposit=None, **activity):
    """One day of activity; first_deposit=amount also records the FTD that day."""
    start = dt.datetime(2024, month, day, tzinfo=UTC)
    PlayerActivityFactory(player=player, period_start=start, **{k: Decimal(str(v)) if k.endswith("sum") else v
                                                                 for k, v in activity.items()})
    if first_deposit is not None:
        DepositFactory(player=player, is_first=True, amount=Decimal(str(first_deposit)),
                       processed_at=start + dt.timedelta(hours=1))


def _qualified(plan):
    return set(Qualification.objects.filter(plan=plan).values_list("player__user_id", flat=True))


CRITERIA = {
    "min_first_deposit": Decimal("50"), "min_deposits_sum": Decimal("100"), "min_deposits_count": 2,
    "min_wager": Decimal("200"), "min_bets_count": 10,
}
MEETS_ALL = {"first_deposit": 50, "deposits_sum": 100, "deposits_count": 2, "wager_sum": 200, "rounds_count": 10}


@pytest.mark.parametrize(("change", "qualifies"), [
    ({}, True),
    ({"first_deposit": "49.99"}, False),
    ({"first_deposit": None}, False),
    ({"deposits_sum": "99.99"}, False),
    ({"deposits_count": 1}, False),
    ({"wager_sum": "199.99"}, False),
    ({"rounds_count": 9}, False),
    ({"first_deposit": 500, "deposits_sum": 1000, "deposits_count": 9, "wager_sum": 5000, "rounds_count": 99}, True),
])
def test_every_criterion_must_be_met(change, qualifies):
    plan, campaign = _cpa_plan(**CRITERIA)
    player = player_of(campaign, user_id="p")
    _play(player, **{**MEETS_ALL, **change})

    run_billing(as_of=JUNE_1)

    assert _qualified(plan) == ({"p"} if qualifies else set())


def test_criteria_add_up_across_windows_and_periods():
    # given min 2 deposits totalling 100: one deposit of 60 in May, one of 40 in June
    plan, campaign = _cpa_plan(min_deposits_sum=Decimal("100"), min_deposits_count=2)
    player = player_of(campaign)
    _play(player, day=20, deposits_sum=60, deposits_count=1)
    _play(player, month=6, day=2, deposits_sum=40, deposits_count=1)

    run_billing(as_of=JUNE_1)
    assert not Qualification.objects.exists()

    run_billing(as_of=dt.date(2024, 7, 1))
    qualification = Qualification.objects.get()
    assert qualification.qualified_at == dt.datetime(2024, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert Bill.objects.get(period_start=dt.date(2024, 6, 1)).cpa_amount == Decimal("25.00")


def test_only_what_happens_within_the_window_from_registration_counts():
    # given a 7-day window: A signs up 1 May and wagers on the 7th, B wagers on the 8th
    plan, campaign = _cpa_plan(min_wager=Decimal("100"), min_first_deposit=Decimal("10"), qualification_window_days=7)
    a, b, c = (player_of(campaign, user_id=u) for u in "abc")
    _play(a, day=7, wager_sum=100, first_deposit=10)
    _play(b, day=8, wager_sum=100)
    _play(b, day=2, first_deposit=10)
    # C: wager in the window, but the first deposit after it
    _play(c, day=2, wager_sum=100)
    _play(c, day=9, first_deposit=10)

    run_billing(as_of=JUNE_1)

    assert _qualified(plan) == {"a"}


@pytest.mark.parametrize("flag", ["is_duplicate", "is_self_excluded", "is_disabled"])
def test_flagged_players_are_excluded_when_the_plan_says_so(flag):
    switch = {"is_duplicate": "exclude_duplicates", "is_self_excluded": "exclude_self_excluded",
              "is_disabled": "exclude_disabled"}[flag]
    excluding, _ = _cpa_plan(min_first_deposit=Decimal("10"))
    allowing, _ = _cpa_plan(min_first_deposit=Decimal("10"), **{switch: False})
    for plan in (excluding, allowing):
        campaign = plan.campaigns.get()
        _play(player_of(campaign, user_id=f"flagged-{plan.pk}", **{flag: True}), first_deposit=10)
        _play(player_of(campaign, user_id=f"clean-{plan.pk}"), first_deposit=10)

    run_billing(as_of=JUNE_1)

    assert _qualified(excluding) == {f"clean-{excluding.pk}"}
    assert _qualified(allowing) == {f"clean-{allowing.pk}", f"flagged-{allowing.pk}"}


def test_country_include_and_exclude_lists_ignore_case_and_spaces():
    plan, campaign = _cpa_plan(countries_include="de, AT ,fr", countries_exclude="fr")
    for country in ("DE", "at", "FR", "GB", ""):
        _play(player_of(campaign, user_id=f"from-{country or 'nowhere'}", country=country))

    run_billing(as_of=JUNE_1)

    assert _qualified(plan) == {"from-DE", "from-at"}


def test_hold_days_delay_the_payment_not_the_qualification():
    # given 10 hold days on a monthly plan: qualified 31 May, payable from 10 June
    plan, campaign = _cpa_plan(min_first_deposit=Decimal("10"), hold_days=10)
    player = player_of(campaign)
    _play(player, first_deposit=20, bets_sum=100)

    run_billing(as_of=JUNE_1)

    qualification = Qualification.objects.get()
    assert (qualification.qualified_at, qualification.payable_from) == (END_OF_MAY, dt.date(2024, 6, 10))
    may = Bill.objects.get(period_start=dt.date(2024, 5, 1))  # activity: a bill, but no CPA yet
    assert (may.cpa_amount, may.issued_amount) == (0, 0)
    assert qualification.bill is None

    # then June's bill pays it, though the player did nothing in June
    run_billing(as_of=dt.date(2024, 7, 1))
    june = Bill.objects.get(period_start=dt.date(2024, 6, 1))
    assert june.cpa_amount == june.issued_amount == Decimal("25.00")
    line = june.lines.get()
    assert (line.kind, line.campaign, line.players_count, line.base) == (BillLine.Kind.CPA, campaign, 1, Decimal("25.00"))
    assert june.player_lines.get().cpa_amount == Decimal("25.00")
    qualification.refresh_from_db()
    assert qualification.bill == june


def test_hold_days_with_daily_periods_pay_on_the_first_day_on_or_after():
    plan, campaign = _cpa_plan(period=CommissionPlan.Period.DAILY, hold_days=2, min_first_deposit=Decimal("1"))
    _play(player_of(campaign), day=3, first_deposit=5)

    run_billing(as_of=dt.date(2024, 5, 10))

    assert Qualification.objects.get().payable_from == dt.date(2024, 5, 5)
    assert list(Bill.objects.filter(cpa_amount__gt=0).values_list("period_start", flat=True)) == [dt.date(2024, 5, 5)]


def test_a_player_qualifies_once_ever_and_is_paid_once():
    plan, campaign = _cpa_plan(min_wager=Decimal("100"))
    player = player_of(campaign)
    _play(player, day=5, wager_sum=100)
    _play(player, month=6, day=5, wager_sum=900)

    run_billing(as_of=dt.date(2024, 7, 1))
    run_billing(as_of=dt.date(2024, 7, 1))

    assert Qualification.objects.count() == 1
    assert [b.cpa_amount for b in Bill.objects.filter(plan=plan).order_by("period_start")] == [Decimal("25.00"), 0]


def test_the_qualification_event_is_raised_once_and_fires_qualification_postbacks():
    plan, campaign = _cpa_plan(min_first_deposit=Decimal("10"))
    Postback.objects.create(affiliate=campaign.affiliate, scope=Postback.Scope.ACCOUNT,
                            action=PlayerEvent.Type.QUALIFICATION,
                            url_template="https://tracker.example/pb?click=${event_id}")
    player = player_of(campaign)
    _play(player, first_deposit=10)

    run_billing(as_of=JUNE_1)
    run_billing(as_of=dt.date(2024, 7, 1))

    event = PlayerEvent.objects.get(type=PlayerEvent.Type.QUALIFICATION)
    assert (event.key, event.player, event.affiliate, event.campaign) == (
        f"qualification:{player.pk}:{plan.pk}", player, campaign.affiliate, campaign)
    assert (event.amount, event.currency, event.occurred_at) == (Decimal("25.00"), "EUR", END_OF_MAY)
    assert PostbackDelivery.objects.filter(event=event).count() == 1


def test_a_player_may_qualify_for_two_plans():
    first, campaign = _cpa_plan(min_first_deposit=Decimal("10"))
    player = player_of(campaign)
    _play(player, first_deposit=10)
    run_billing(as_of=JUNE_1)
    # the campaign moves to another plan; the player qualifies for it too (once per plan)
    second, _ = _cpa_plan(min_first_deposit=Decimal("10"), created_at=dt.datetime(2024, 6, 1, tzinfo=UTC))
    campaign.commission_plan = second
    campaign.save(update_fields=["commission_plan"])

    run_billing(as_of=dt.date(2024, 7, 1))

    assert set(Qualification.objects.values_list("plan", flat=True)) == {first.pk, second.pk}
    assert PlayerEvent.objects.filter(type=PlayerEvent.Type.QUALIFICATION).count() == 2


def test_a_revshare_plan_qualifies_nobody():
    plan = billing_plan(kind=CommissionPlan.Kind.REVSHARE, revshare_percent=Decimal("30"))
    campaign = CampaignFactory(commission_plan=plan, brand=plan.brand)
    _play(player_of(campaign), first_deposit=1000, bets_sum=100)

    run_billing(as_of=JUNE_1)

    assert not Qualification.objects.exists()
    assert Bill.objects.get().cpa_amount == 0


def test_hybrid_pays_cpa_and_revshare_on_one_bill():
    plan, campaign = _cpa_plan(kind=CommissionPlan.Kind.HYBRID, revshare_percent=Decimal("20"),
                               min_first_deposit=Decimal("10"))
    qualifying, other = player_of(campaign), player_of(campaign)
    _play(qualifying, first_deposit=10, bets_sum=300)
    _play(other, bets_sum=200)

    run_billing(as_of=JUNE_1)

    bill = Bill.objects.get()
    assert (bill.cpa_amount, bill.revshare_amount, bill.issued_amount) == (
        Decimal("25.00"), Decimal("100.00"), Decimal("125.00"))
    lines = {p.player: (p.cpa_amount, p.revshare_amount) for p in bill.player_lines.all()}
    assert lines == {qualifying: (Decimal("25.00"), Decimal("60.00")), other: (0, Decimal("40.00"))}
