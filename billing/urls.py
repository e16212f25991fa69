"""Portal URLs of the billing app (under /partner/)."""
from django.urls import path

from billing.views import bills, plans, schedules, wallet

app_name = "billing"

urlpatterns = [
    path("commission_plans", plans.commission_plan_list_view, name="commission_plans"),
    # Bills (views/bills.py)
    path("bills", bills.bill_list_view, name="bills"),
    path("bills/<int:bill_id>", bills.bill_detail_view, name="bill_detail"),
    # Balance, wallet, payment methods, cashouts (views/wallet.py)
    path("balance", wallet.balance_view, name="balance"),
    path("wallet", wallet.wallet_view, name="wallet"),
    path("wallet/payment_methods/new", wallet.payment_method_create_view, name="payment_method_create"),
    path("wallet/payment_methods/<int:method_id>/delete", wallet.payment_method_delete_view, name="payment_method_delete"),
    path("wallet/withdraw", wallet.withdraw_view, name="withdraw"),
    path("cashouts", wallet.cashout_list_view, name="cashouts"),
    path("cashouts/<int:cashout_id>/cancel", wallet.cashout_cancel_view, name="cashout_cancel"),
    # Automatic cash-out schedules (views/schedules.py)
    path("wallet/schedules/new", schedules.schedule_create_view, name="schedule_create"),
    path("wallet/schedules/<int:schedule_id>", schedules.schedule_edit_view, name="schedule_edit"),
    path("wallet/schedules/<int:schedule_id>/delete", schedules.schedule_delete_view, name="schedule_delete"),
]
