"""MONEY models, one module per area; everything is importable from billing.models."""
from billing.models.bills import (
    Bill,
    BillCorrection,
    BillingRun,
    BillLine,
    BillPlayerLine,
    Qualification,
)
from billing.models.ledger import Balance, BalanceTransaction
from billing.models.plans import CommissionPlan, RevShareTier, SubAffiliateLevel
from billing.models.wallet import (
    Cashout,
    CashoutLimit,
    CashoutSchedule,
    CashoutScheduleRun,
    PaymentMethod,
)

__all__ = [
    "Balance", "BalanceTransaction", "Bill", "BillCorrection", "BillLine", "BillPlayerLine",
    "BillingRun", "Cashout", "CashoutLimit", "CashoutSchedule", "CashoutScheduleRun",
    "CommissionPlan", "PaymentMethod", "Qualification", "RevShareTier", "SubAffiliateLevel",
]
