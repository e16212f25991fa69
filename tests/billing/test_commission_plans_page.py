"""/partner/commission_plans: the plans available to the affiliate, every setting in plain
words (plan_terms is pure: the examples build unsaved plans)."""
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from billing.models import CommissionPlan, RevShareTier, SubAffiliateLevel
from billing.views.plans import ordinal, percent, plan_terms
from tests.billing.factories import RevShareTierFactory, SubAffiliateLevelFactory
from tests.campaigns.factories import BrandFactory, CommissionPlanFactory
from tests.conftest import sign_in
from tests.partners.factories import UserFactory

K = CommissionPlan.Kind


def texts(plan, **kwargs) -> list[str]:
    return [term.text for term in plan_terms(plan, **kwargs)]


def cpa_plan(**kwargs) -> CommissionPlan:
    defaults = {"currency": "EUR", "kind": K.CPA, "cpa_amount": Decimal("50.00")}
    return CommissionPlan(**{**defaults, **kwargs})


# plan_terms: worked examples --------------------------------------------------------------

def test_a_cpa_plan_with_every_criterion():
    plan = cpa_plan(
        min_first_deposit=Decimal("20"), min_deposits_sum=Decimal("50"), min_deposits_count=2,
        min_wager=Decimal("100"), min_bets_count=10, qualification_window_days=30,
        countries_include="de, at", countries_exclude="", hold_days=7,
    )

    cpa = texts(plan)[0]

    assert cpa == (
        "CPA: 50.00 EUR per qualified player. A player qualifies with a first deposit of at least 20.00 EUR, "
        "deposits totalling at least 50.00 EUR in at least 2 deposits, wagers totalling at least 100.00 EUR, "
        "at least 10 bets within 30 days of registration; duplicate, self-excluded and disabled players do not "
        "qualify; only players from DE, AT; paid 7 days after qualifying. Each player is paid once."
    )


def test_a_cpa_plan_without_criteria_or_exclusions():
    plan = cpa_plan(exclude_duplicates=False, exclude_self_excluded=False, exclude_disabled=False,
                    countries_exclude="RU,by", min_deposits_count=1)

    cpa = texts(plan)[0]

    assert cpa == ("CPA: 50.00 EUR per qualified player. A player qualifies with at least 1 deposit; "
                   "players from RU, BY do not qualify. Each player is paid once.")


def test_only_some_exclusions():
    cpa = texts(cpa_plan(exclude_duplicates=True, exclude_self_excluded=False, exclude_disabled=True))[0]

    assert "duplicate and disabled players do not qualify" in cpa
    assert "self-excluded" not in cpa


def test_a_cpa_plan_says_nothing_of_revshare_or_ngr():
    all_text = " ".join(texts(cpa_plan()))

    assert "RevShare" not in all_text and "NGR" not in all_text


def test_a_flat_revshare_plan_with_some_deductions():
    plan = CommissionPlan(
        currency="EUR", kind=K.REVSHARE, revshare_percent=Decimal("35.000"),
        deduct_bonuses=True, deduct_chargebacks=False, deduct_payment_system_fees=True,
        deduct_game_provider_fees=False, deduct_jackpot_fees=False, deduct_additional_deductions=False,
        deduct_taxes=True, admin_fee_percent=Decimal("10.000"), negative_carryover=True,
        period=CommissionPlan.Period.MONTHLY, period_day=1,
    )

    assert texts(plan) == [
        "RevShare: 35% of NGR.",
        "NGR = bets − wins − bonuses − payment system fees − taxes − admin fee 10%.",
        "Negative NGR is carried over to the next periods.",
        "Billing period: monthly, from the 1st.",
        "Sub-affiliates: not offered under this plan.",
    ]


def test_ngr_with_nothing_deducted_and_no_carryover():
    plan = CommissionPlan(
        currency="EUR", kind=K.REVSHARE, revshare_percent=Decimal("12.5"), deduct_bonuses=False,
        deduct_chargebacks=False, deduct_payment_system_fees=False, deduct_game_provider_fees=False,
        deduct_jackpot_fees=False, deduct_additional_deductions=False, deduct_taxes=False,
        admin_fee_percent=Decimal(0), negative_carryover=False,
    )

    result = texts(plan)

    assert result[0] == "RevShare: 12.5% of NGR."
    assert result[1] == "NGR = bets − wins."
    assert result[2] == "Negative NGR is not carried over: each period starts from zero."


def test_revshare_tiers_by_ngr_become_a_table_in_threshold_order():
    plan = CommissionPlan(currency="USD", kind=K.REVSHARE, tier_basis=CommissionPlan.TierBasis.NGR)
    tiers = [RevShareTier(threshold=Decimal("5000"), percent=Decimal("35")),
             RevShareTier(threshold=Decimal("0"), percent=Decimal("25"))]

    revshare = plan_terms(plan, tiers=tiers)[0]

    assert revshare.rows == [("from 0.00 USD", "25%"), ("from 5000.00 USD", "35%")]
    assert revshare.text == "RevShare: a percent of NGR by the period NGR: from 0.00 USD 25%, from 5000.00 USD 35%."


def test_revshare_tiers_by_first_deposits():
    plan = CommissionPlan(currency="EUR", kind=K.REVSHARE, tier_basis=CommissionPlan.TierBasis.FTD_COUNT)
    tiers = [RevShareTier(threshold=Decimal("1"), percent=Decimal("20")),
             RevShareTier(threshold=Decimal("10"), percent=Decimal("30"))]

    revshare = plan_terms(plan, tiers=tiers)[0]

    assert revshare.rows == [("from 1 first deposit", "20%"), ("from 10 first deposits", "30%")]


def test_tiers_not_set_up_yet_are_said_so():
    plan = CommissionPlan(currency="EUR", kind=K.REVSHARE, tier_basis=CommissionPlan.TierBasis.NGR)

    assert "no tiers are set up yet" in texts(plan)[0]


def test_a_hybrid_plan_has_both_parts_in_order():
    plan = CommissionPlan(currency="EUR", kind=K.HYBRID, cpa_amount=Decimal("30"), revshare_percent=Decimal("20"))

    headings = [term.heading for term in plan_terms(plan)]

    assert headings == ["CPA", "RevShare", "NGR", "Negative NGR", "Billing period", "Sub-affiliates"]


@pytest.mark.parametrize(("period", "weekday", "day", "expected"), [
    ("daily", 0, 1, "Billing period: daily."),
    ("weekly", 0, 1, "Billing period: weekly, from Monday."),
    ("weekly", 6, 1, "Billing period: weekly, from Sunday."),
    ("monthly", 0, 2, "Billing period: monthly, from the 2nd."),
    ("monthly", 0, 23, "Billing period: monthly, from the 23rd."),
    ("monthly", 0, 11, "Billing period: monthly, from the 11th."),
])
def test_billing_periods(period, weekday, day, expected):
    plan = cpa_plan(period=period, period_weekday=weekday, period_day=day)

    assert expected in texts(plan)


def test_sub_affiliate_levels_in_level_order():
    plan = cpa_plan(allows_sub_affiliates=True)
    levels = [SubAffiliateLevel(level=2, percent=Decimal("2")), SubAffiliateLevel(level=1, percent=Decimal("5"))]

    assert texts(plan, levels=levels)[-1] == "Sub-affiliates: level 1 5%, level 2 2% of their income."


def test_sub_affiliates_allowed_without_commission():
    assert texts(cpa_plan(allows_sub_affiliates=True))[-1] == (
        "Sub-affiliates: you may refer sub-affiliates; no commission is paid on their income."
    )


def test_plan_terms_reads_only_attributes():
    # Pure: any object with the plan's attributes will do (no database needed).
    plan = SimpleNamespace(**{f.attname: f.get_default() for f in CommissionPlan._meta.concrete_fields})
    plan.kind, plan.currency, plan.cpa_amount = K.CPA, "EUR", Decimal("5")

    assert texts(plan)[0].startswith("CPA: 5.00 EUR per qualified player.")


def test_small_helpers():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 28)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "28th"]
    assert percent(Decimal("35.000")) == "35%"
    assert percent(Decimal("0.250")) == "0.25%"
    assert percent(Decimal("100")) == "100%"


# The page -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_page_shows_default_and_own_individual_plans_only(client):
    owner = UserFactory()
    brand = BrandFactory(name="Lucky Spins")
    default = CommissionPlanFactory(name="Default RevShare", brand=brand, revshare_percent=Decimal("35"))
    RevShareTierFactory(plan=default, threshold=Decimal("0"), percent=Decimal("25"))
    mine = CommissionPlanFactory(name="VIP CPA", brand=brand, is_default=False, affiliates=[owner.affiliate],
                                 kind=K.CPA, cpa_amount=Decimal("80"))
    SubAffiliateLevelFactory(plan=mine, level=1, percent=Decimal("5"))
    CommissionPlanFactory(name="Someone Else's Deal", is_default=False, affiliates=[UserFactory().affiliate])
    CommissionPlanFactory(name="Retired Plan", is_active=False)
    sign_in(client, owner)

    response = client.get(reverse("billing:commission_plans"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Default RevShare" in page and "VIP CPA" in page
    assert "Someone Else&#x27;s Deal" not in page and "Someone Else's Deal" not in page
    assert "Retired Plan" not in page
    assert "Lucky Spins" in page and "Individual plan" in page and "Default plan" in page
    assert "<details>" in page and "<summary>more</summary>" in page
    assert "RevShare: 35% of NGR." in page
    assert "CPA: 80.00 EUR per qualified player." in page
    assert "Sub-affiliates: level 1 5% of their income." in page


@pytest.mark.django_db
def test_the_page_shows_a_tier_table(client):
    owner = UserFactory()
    plan = CommissionPlanFactory(tier_basis=CommissionPlan.TierBasis.NGR)
    RevShareTierFactory(plan=plan, threshold=Decimal("0"), percent=Decimal("25"))
    RevShareTierFactory(plan=plan, threshold=Decimal("10000"), percent=Decimal("40"))
    sign_in(client, owner)

    page = client.get(reverse("billing:commission_plans")).content.decode()

    assert "<td>from 10000.00 EUR</td><td>40%</td>" in page


@pytest.mark.django_db
def test_without_plans_the_page_says_whom_to_ask(client):
    sign_in(client, UserFactory())

    page = client.get(reverse("billing:commission_plans")).content.decode()

    assert "Contact your affiliate manager" in page


@pytest.mark.django_db
def test_the_page_needs_a_signed_in_user(client):
    assert client.get(reverse("billing:commission_plans")).status_code == 302
