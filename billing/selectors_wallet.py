"""Reads of the wallet area (balance transactions, payment methods, cashouts), scoped by the
acting affiliate."""
import datetime as dt
from decimal import Decimal

from django.db.models import QuerySet
from django.db.models.functions import Abs

from backoffice.money import quantize
from backoffice.timeutil import program_tz
from billing.models import Balance, BalanceTransaction, Cashout, PaymentMethod
from billing.payment_details import masked_rows, masked_summary

Kind = BalanceTransaction.Kind

# The type filter of the balance page: "payment" covers every cashout movement.
TRANSACTION_TYPES = {
    "payment": (Kind.CASHOUT, Kind.CASHOUT_CANCEL, Kind.REFUND),
    "cashout": (Kind.CASHOUT, Kind.CASHOUT_CANCEL),
    "refund": (Kind.REFUND,),
    "bill": (Kind.BILL,),
    "balance_correction": (Kind.BALANCE_CORRECTION,),
}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=program_tz())


def balance_transaction_list(
    *,
    affiliate,
    type: str | None = None,
    action: str | None = None,
    currency: str | None = None,
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[BalanceTransaction]:
    """The affiliate's ledger, newest first. Amount bounds apply to the absolute value; dates
    are whole days in the program's time zone, both ends included."""
    qs = BalanceTransaction.objects.filter(affiliate=affiliate).select_related("bill", "cashout")
    if type:
        qs = qs.filter(kind__in=TRANSACTION_TYPES[type])
    if action == "added":
        qs = qs.filter(amount__gt=0)
    elif action == "subtracted":
        qs = qs.filter(amount__lt=0)
    if currency:
        qs = qs.filter(currency=currency)
    if amount_min is not None or amount_max is not None:
        qs = qs.annotate(abs_amount=Abs("amount"))
        if amount_min is not None:
            qs = qs.filter(abs_amount__gte=amount_min)
        if amount_max is not None:
            qs = qs.filter(abs_amount__lte=amount_max)
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return qs.order_by("-created_at", "-pk")


def balance_currencies(*, affiliate) -> list[str]:
    """Currencies the affiliate has (had) a balance in."""
    return list(Balance.objects.filter(affiliate=affiliate).order_by("currency").values_list("currency", flat=True))


def withdrawable_currencies(*, affiliate) -> list[str]:
    """Currencies with a balance that can be withdrawn (at least one minor unit)."""
    return [b.currency for b in Balance.objects.filter(affiliate=affiliate, amount__gt=0).order_by("currency")
            if quantize(b.amount, b.currency) > 0]


def payment_method_list(*, affiliate) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(affiliate=affiliate).order_by("type")


def payment_methods_for_display(*, affiliate) -> list[dict]:
    """Each method with its masked summary and masked rows (for "Show more")."""
    return [
        {"method": m, "summary": masked_summary(m.type, m.masked), "rows": masked_rows(m.type, m.masked)}
        for m in payment_method_list(affiliate=affiliate)
    ]


def cashout_list(*, affiliate) -> QuerySet[Cashout]:
    return Cashout.objects.filter(affiliate=affiliate).order_by("-created_at", "-pk")
