"""Sub-affiliate income: a parent earns a percent, per level, of its sub-affiliates' bills."""
import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Bill, BillLine, CommissionPlan
from billing.services.billing_run import run_billing
from tests.billing.factories import (
    PartnerConnectionFactory,
    PlayerActivityFactory,
    SubAffiliateLevelFactory,
    billing_plan,
    player_of,
)
from tests.campaigns.factories import CampaignFactory
from tests.partners.factories import AffiliateFactory

pytestmark = pytest.mark.django_db

JUNE_1 = dt.date(2024, 6, 1)


def _plan(**kwargs):
    kwargs.setdefault("revshare_percent", Decimal("30"))
    plan = billing_plan(**kwargs)
    SubAffiliateLevelFactory(plan=plan, level=1, percent=Decimal("10"))
    SubAffiliateLevelFactory(plan=plan, level=2, percent=Decimal("5"))
    return plan


def _earns(plan, affiliate, ngr: str):
    campaign = CampaignFactory(commission_plan=plan, brand=plan.brand, affiliate=affiliate)
    PlayerActivityFactory(player=player_of(campaign), bets_sum=Decimal(ngr))
    return campaign


def _bill(plan, affiliate):
    return Bill.objects.get(plan=plan, affiliate=affiliate, period_start=dt.date(2024, 5, 1))


def test_levels_one_and_two_earn_their_percent_of_the_childs_bill():
    # given grandparent G → parent P → child C; C's RevShare: 1000 × 30% = 300.00
    plan = _plan()
    grandparent, parent, child = AffiliateFactory(), AffiliateFactory(), AffiliateFactory()
    PartnerConnectionFactory(parent=parent, child=child, level=1)
    PartnerConnectionFactory(parent=grandparent, child=parent, level=1)
    PartnerConnectionFactory(parent=grandparent, child=child, level=2)
    _earns(plan, child, "1000")

    run_billing(as_of=JUNE_1)

    # then P earns 10% of 300 = 30.00 and G 5% of 300 = 15.00, each a bill of sub-affiliate lines only
    assert _bill(plan, child).issued_amount == Decimal("300.00")
    parent_bill, grandparent_bill = _bill(plan, parent), _bill(plan, grandparent)
    line = parent_bill.lines.get()
    assert (line.kind, line.sub_affiliate, line.level, line.base, line.rate, line.amount) == (
        BillLine.Kind.SUB_AFFILIATE, child, 1, Decimal("300.00"), Decimal("10"), Decimal("30.00"))
    assert (parent_bill.sub_affiliate_amount, parent_bill.issued_amount, parent_bill.revshare_amount) == (
        Decimal("30.00"), Decimal("30.00"), 0)
    assert not parent_bill.player_lines.exists()
    line = grandparent_bill.lines.get()
    assert (line.sub_affiliate, line.level, line.amount) == (child, 2, Decimal("15.00"))
    # a parent's own sub-affiliate income is not a base for the level above
    assert grandparent_bill.issued_amount == Decimal("15.00")


def test_the_base_is_the_childs_cpa_plus_revshare_and_adds_to_the_parents_own_bill():
    plan = _plan(kind=CommissionPlan.Kind.HYBRID, cpa_amount=Decimal("40.00"), min_first_deposit=Decimal("0"))
    parent, child = AffiliateFactory(), AffiliateFactory()
    PartnerConnectionFactory(parent=parent, child=child, level=1)
    _earns(plan, child, "200")  # one player: CPA 40 (no criteria) + RevShare 60 = 100
    _earns(plan, parent, "100")  # own: CPA 40 + RevShare 30

    run_billing(as_of=JUNE_1)

    assert _bill(plan, child).issued_amount == Decimal("100.00")
    bill = _bill(plan, parent)
    assert (bill.cpa_amount, bill.revshare_amount, bill.sub_affiliate_amount, bill.issued_amount) == (
        Decimal("40.00"), Decimal("30.00"), Decimal("10.00"), Decimal("80.00"))
    assert Bill.objects.filter(plan=plan, affiliate=parent).count() == 1


def test_sub_affiliate_income_is_per_plan_and_needs_a_level_on_that_plan():
    with_levels = _plan()
    without = billing_plan(revshare_percent=Decimal("30"))
    parent, child = AffiliateFactory(), AffiliateFactory()
    PartnerConnectionFactory(parent=parent, child=child, level=1)
    third = AffiliateFactory()
    PartnerConnectionFactory(parent=third, child=child, level=3)  # no level 3 on the plan
    _earns(with_levels, child, "100")
    _earns(without, child, "1000")

    run_billing(as_of=JUNE_1)

    assert _bill(with_levels, parent).issued_amount == Decimal("3.00")
    assert not Bill.objects.filter(plan=without, affiliate=parent).exists()
    assert not Bill.objects.filter(affiliate=third).exists()


def test_a_child_earning_nothing_makes_no_parent_bill():
    plan = _plan()
    parent, child = AffiliateFactory(), AffiliateFactory()
    PartnerConnectionFactory(parent=parent, child=child, level=1)
    campaign = CampaignFactory(commission_plan=plan, brand=plan.brand, affiliate=child)
    PlayerActivityFactory(player=player_of(campaign), wins_sum=Decimal("500"))

    run_billing(as_of=JUNE_1)

    assert _bill(plan, child).issued_amount == 0
    assert not Bill.objects.filter(affiliate=parent).exists()


def test_two_children_make_two_lines():
    plan = _plan()
    parent, first, second = AffiliateFactory(), AffiliateFactory(), AffiliateFactory()
    PartnerConnectionFactory(parent=parent, child=first, level=1)
    PartnerConnectionFactory(parent=parent, child=second, level=1)
    _earns(plan, first, "100")  # 30.00 → 3.00
    _earns(plan, second, "333.35")  # 100.005 → 100.01 → 10.001 → 10.00

    run_billing(as_of=JUNE_1)

    bill = _bill(plan, parent)
    assert sorted(bill.lines.values_list("sub_affiliate", "amount")) == sorted(
        [(first.pk, Decimal("3.00")), (second.pk, Decimal("10.00"))])
    assert bill.issued_amount == Decimal("13.00")
