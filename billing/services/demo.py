"""Billing part of the demo program (manage.py seed_demo, after partners and campaigns).

Gives the campaigns demo's plans their commission terms, closes the billing periods that the
demo month of activity covers (bills are issued; whether they pay depends on the demo's
random player results), approves Lighthouse Media's first paying bill if there is one, credits
a manager's balance correction, and fills its wallet: a bank transfer method, an accepted
cashout, limits and a schedule on the 15th and 31st. Idempotent: everything is looked up before it is made, and money moves
only through services with fixed idempotency keys.
"""
from decimal import Decimal

from billing.models import (
    Bill,
    CashoutLimit,
    CashoutSchedule,
    CommissionPlan,
    PaymentMethod,
    RevShareTier,
    SubAffiliateLevel,
)
from billing.services.billing_run import run_billing
from billing.services.bills import bill_approve
from billing.services.cashouts import cashout_accept, cashout_request
from billing.services.corrections import balance_correction_make
from billing.services.schedules import cashout_schedule_create
from billing.services.wallet import payment_method_add
from partners.models import Affiliate, User

# name -> kind and terms; applied once, while a plan still has the skeleton's zero terms.
PLAN_TERMS = {
    "Aurora RevShare 35%": {"kind": "revshare", "revshare_percent": Decimal("35"), "admin_fee_percent": Decimal("10")},
    "Aurora CPA €120": {"kind": "cpa", "cpa_amount": Decimal("120"), "min_first_deposit": Decimal("20"),
                        "qualification_window_days": 30},
    "Lighthouse VIP RevShare 45%": {"kind": "revshare", "revshare_percent": Decimal("45"),
                                    "negative_carryover": True, "tier_basis": "ngr"},
    "Polar Spins RevShare 30%": {"kind": "revshare", "revshare_percent": Decimal("30")},
    "Polar Spins Hybrid $50 + 20%": {"kind": "hybrid", "cpa_amount": Decimal("50"),
                                     "revshare_percent": Decimal("20"), "min_first_deposit": Decimal("10")},
}
BANK = {"beneficiary_name": "Lighthouse Media OÜ", "iban": "DE89370400440532013000", "swift": "COBADEFFXXX",
        "bank_name": "Commerzbank", "bank_address": "Kaiserplatz, 60311 Frankfurt am Main"}


def _plans() -> None:
    for name, terms in PLAN_TERMS.items():
        plan = CommissionPlan.objects.filter(name=name).first()
        if plan is None or plan.revshare_percent or plan.cpa_amount:
            continue
        for field, value in terms.items():
            setattr(plan, field, value)
        plan.save(update_fields=list(terms))
        if name == "Lighthouse VIP RevShare 45%":
            RevShareTier.objects.get_or_create(plan=plan, threshold=Decimal("5000"), defaults={"percent": Decimal("50")})
        if name == "Aurora RevShare 35%":
            SubAffiliateLevel.objects.get_or_create(plan=plan, level=1, defaults={"percent": Decimal("5")})


def _wallet(affiliate: Affiliate, owner: User, manager: User | None) -> list[tuple[str, str]]:
    CashoutLimit.objects.get_or_create(method_type="bank_transfer", currency="EUR",
                                       defaults={"min_amount": Decimal("50"), "max_amount": Decimal("5000")})
    CashoutLimit.objects.get_or_create(method_type="skrill", currency="EUR",
                                       defaults={"min_amount": Decimal("20"), "max_amount": Decimal("1000")})
    method = PaymentMethod.objects.filter(affiliate=affiliate, type="bank_transfer").first()
    if method is None:
        method = payment_method_add(affiliate=affiliate, actor=owner, type="bank_transfer", details=BANK)
    bill = (Bill.objects.filter(affiliate=affiliate, currency="EUR", issued_amount__gt=0)
            .order_by("period_start", "pk").first())
    lines = []
    if bill is not None:
        if bill.status in (Bill.Status.PENDING, Bill.Status.ON_HOLD):
            bill_approve(bill=bill, actor=manager)
        lines.append(("approved_bill", f"#{bill.pk} {bill.issued_amount} {bill.currency}"))
    if manager is not None:
        balance_correction_make(affiliate=affiliate, currency="EUR", amount=Decimal("750.00"),
                                comment="Q3 performance bonus", actor=manager,
                                idempotency_key="demo:correction:1")
        cashout = cashout_request(affiliate=affiliate, actor=owner, currency="EUR", amount=Decimal("250.00"),
                                  payment_method=method, idempotency_key="demo:cashout:1")
        if cashout.status == cashout.Status.PENDING:
            cashout_accept(cashout=cashout, actor=manager)
    if not CashoutSchedule.objects.filter(affiliate=affiliate).exists():
        cashout_schedule_create(affiliate=affiliate, payment_method=method, currency="EUR",
                                min_amount=Decimal("100"), max_amount=Decimal("2000"), plan="dates",
                                month_days=[15, 31], is_active=False)
    return lines


def seed() -> list[tuple[str, str]]:
    _plans()
    run_billing()
    affiliate = Affiliate.objects.filter(name="Lighthouse Media").first()
    if affiliate is None:
        return []
    owner = affiliate.owner
    manager = User.objects.filter(is_superuser=True, is_staff=True).order_by("pk").first()
    lines = _wallet(affiliate, owner, manager)
    return lines
