"""Reads of commission plans and bills for the portal (scoped by the acting affiliate) and the
admin (the amount-to-be-paid annotation)."""
from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from billing.models import Bill, BillCorrection, BillLine, BillPlayerLine, CommissionPlan
from campaigns.models import Brand
from partners.models import Affiliate

_MONEY = DecimalField(max_digits=20, decimal_places=2)


# Commission plans ---------------------------------------------------------------------------

def commission_plans_for(*, affiliate: Affiliate) -> QuerySet[CommissionPlan]:
    """The plans this affiliate may work under: active, and either default (available to all)
    or naming this affiliate. (campaigns.selectors.commission_plans_available reads the same
    rule through the foreign key, since campaigns may not import billing.)"""
    named = CommissionPlan.affiliates.through.objects.filter(affiliate=affiliate).values("commissionplan_id")
    return (
        CommissionPlan.objects.filter(is_active=True)
        .filter(Q(is_default=True) | Q(pk__in=named))
        .select_related("brand")
        .prefetch_related("tiers", "sub_affiliate_levels")
        .order_by("brand__name", "name", "pk")
    )


# Bills --------------------------------------------------------------------------------------

def with_amount_to_pay(queryset: QuerySet[Bill]) -> QuerySet[Bill]:
    """Annotate `corrections_total` and `amount_to_pay` (issued amount + corrections). A
    subquery, not a join, so other annotations and filters cannot multiply the sum."""
    total = (
        BillCorrection.objects.filter(bill=OuterRef("pk"))
        .order_by().values("bill").annotate(total=Sum("amount")).values("total")
    )
    return queryset.annotate(
        corrections_total=Coalesce(Subquery(total, output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY),
    ).annotate(amount_to_pay=ExpressionWrapper(F("issued_amount") + F("corrections_total"), output_field=_MONEY))


def bill_list(*, affiliate: Affiliate, status: str | None = None, brand_id: int | None = None) -> QuerySet[Bill]:
    """The affiliate's bills, newest period first, with their amount to be paid."""
    bills = Bill.objects.filter(affiliate=affiliate)
    if status:
        bills = bills.filter(status=status)
    if brand_id:
        bills = bills.filter(brand_id=brand_id)
    return with_amount_to_pay(bills.select_related("brand", "plan")).order_by("-period_start", "-pk")


def bill_brands(*, affiliate: Affiliate) -> QuerySet[Brand]:
    """The brands the affiliate has bills for (the bills filter offers these)."""
    return Brand.objects.filter(pk__in=Bill.objects.filter(affiliate=affiliate).values("brand_id")).order_by("name")


def bill_get(*, affiliate: Affiliate, bill_id: int) -> Bill | None:
    """One of the affiliate's bills, or None (another affiliate's bill is as good as missing)."""
    return bill_list(affiliate=affiliate).filter(pk=bill_id).first()


def bill_lines(*, bill: Bill) -> QuerySet[BillLine]:
    return bill.lines.select_related("campaign", "sub_affiliate").order_by("kind", "campaign__name", "pk")


def bill_corrections(*, bill: Bill) -> QuerySet[BillCorrection]:
    return bill.corrections.order_by("created_at", "pk")


def bill_player_lines(*, bill: Bill) -> QuerySet[BillPlayerLine]:
    # Only our player id and the campaign are shown: never the operator's user id.
    return bill.player_lines.select_related("campaign").order_by("player_id")
