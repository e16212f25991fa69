"""Demo data of the reports app: exchange rates for the last 30 days and the stats rollups of
the demo traffic. Idempotent: a second run replaces the same rates and recomputes the same days.

settings.DEMO_SEEDERS lists `reports.demo.seed` after the campaigns and billing demos (their
visits, players and activity are what the rollups count).
"""
import datetime as dt
from decimal import Decimal

from backoffice.timeutil import business_today
from reports.models import DailyStat, ExchangeRate
from reports.rates import exchange_rates_import
from reports.rollups import stats_rebuild

DEMO_DAYS = 30
# 1 EUR = rate quote, the same every day (a demo needs rates, not a market).
DEMO_RATES = {"USD": Decimal("1.0825"), "GBP": Decimal("0.8355"), "CAD": Decimal("1.4712"),
              "BTC": Decimal("0.0000152")}


def seed() -> list[tuple[str, str]]:
    """Import the demo rates (through the CSV import, as an operator would) and rebuild the
    stats of the demo range; return the (name, value) lines to print."""
    today = business_today()
    first = today - dt.timedelta(days=DEMO_DAYS - 1)
    lines = ["date,base,quote,rate"] + [
        f"{first + dt.timedelta(days=n)},EUR,{quote},{rate}"
        for n in range(DEMO_DAYS) for quote, rate in DEMO_RATES.items()
    ]
    known = set(ExchangeRate.objects.filter(date__gte=first, base="EUR").values_list("date", "quote"))
    missing = [line for line in lines[1:]
               if (dt.date.fromisoformat(line.split(",")[0]), line.split(",")[2]) not in known]
    if missing:
        exchange_rates_import(lines=[lines[0], *missing])
    # The demo traffic may reach further back than the rates: rebuild every day with data
    # (unchanged rows are not rewritten, so a second run changes nothing).
    stats_rebuild(date_to=today)
    return [
        ("exchange_rates", f"EUR to {', '.join(DEMO_RATES)} for each day from {first} to {today}"),
        ("daily_stats", f"{DailyStat.objects.count()} rows"),
    ]
