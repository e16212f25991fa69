"""MONEY: commission plans, bills, ledger and balances, payment methods, cashouts."""
