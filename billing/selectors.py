"""Reads of the billing app, scoped by the acting affiliate."""
from django.db.models import QuerySet

from billing.models import Balance


def balance_list(*, affiliate) -> QuerySet[Balance]:
    """The affiliate's balances per currency (zero balances included once they existed)."""
    return Balance.objects.filter(affiliate=affiliate).order_by("currency")
