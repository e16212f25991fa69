"""The Partner Report API over the daily rollups (issue 5's benchmark).

Data: BENCH_REPORTS_DAYS days (default 731: two years) of DailyStat rows for BENCH_REPORTS_PROMOS
promos (default 1,000 on PostgreSQL, 100 elsewhere) in 3 currencies (EUR, USD, GBP): about
2.2 million rows on PostgreSQL. The promos belong to BENCH_REPORTS_AFFILIATES affiliates (default
1: the worst case, one affiliate owning every row; 10 promos per campaign). Rows are generated
by the database itself (INSERT ... SELECT over days × promos × currencies), the monthly rollups
summed from them by reports.rollups.stats_months_rebuild (what the rollups keep current in
production), then ANALYZEd.

Ours: GET /api/customer/v1/partner/report through Django's test client (token auth, parameter
parsing, the report engine, JSON rendering) for
  (a) 90 days grouped by day (visits, registrations, FTDs, deposits, NGR; one row per currency);
  (b) one year grouped by month and campaign, converted to EUR at one date's rates.
Baseline, same run, same data: the equivalent hand-written SQL through a cursor (the same
sums, grouped the same way; (b) sums per currency, then converts in SQL with the two rates as
parameters) over the daily rows, the table the target was set against. (b) is also shown
beside hand-written SQL over the monthly rows (reports_monthlystat), the table the API reads
for whole months, in its fastest form found (NGR summed as one expression per row). The API also renders JSON and checks the token; the SQL only
fetches tuples.
p50 and p95 over BENCH_REPORTS_CALLS calls (default 20) after two warm-up calls;
BENCH_REPORTS_CASES=a (or b, c, d, any mix) runs only those. BENCH_REPORTS_REUSE=1 reuses the
data of an earlier run in the same database when its size matches (generating it takes
minutes), with a new statistic token for its user; its players are made again when their
number differs. BENCH_REPORTS_JIT=off turns PostgreSQL's JIT off for the run (on by default;
it compiles the larger raw-table queries, costing hundreds of ms per call here).

Players (PostgreSQL only; issue 5's "1 million players"): BENCH_REPORTS_PLAYERS (default
1,000,000) players of the benchmark affiliate's promos, signed up evenly over the days, in 20
countries (unevenly); 30% made a first deposit within a week, then 1-5 deposits (avg 3, about
0.9 million rows) in one of 3 currencies and 1-9 daily activity windows (avg 5, about 1.5
million rows) over up to 90 days. Generated (benchmarks.reports_players) by INSERT ... SELECT
over generate_series (about a minute), independent of the synthetic rollups (so they do not add
up to them). Through the API,
with registrations, FTDs, deposits and NGR (visits have no player):
  (c) 30 days grouped by player_country;
  (d) 90 days grouped by sign_up_at_month (cohorts);
each beside one hand-written SQL statement over the same raw tables (registrations, deposits
and activity each grouped by the player's key and currency, full-joined), the report engine's
(reports.engine.players) three queries and merge in Python.
Targets: p95 under 300 ms and within 1.5× of the SQL.
"""
import datetime as dt
import os
import secrets
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from benchmarks.reports_players import (
    PLAYER_COLUMNS,
    players_ready,
    sql_by_country,
    sql_by_sign_up_month,
)
from billing.models import CommissionPlan
from campaigns.models import Brand, Campaign, Landing, Promo
from partners.models import Affiliate, User
from partners.services.tokens import statistic_token_issue
from reports.models import ExchangeRate
from reports.rollups import stats_months_rebuild

LAST_DAY = dt.date(2026, 6, 30)
RATES_DATE = dt.date(2026, 6, 30)
RATES = {"USD": Decimal("0.9"), "GBP": Decimal("1.15")}  # to EUR
COLUMNS = ["visits_count", "registrations_count", "first_deposits_count", "deposits_sum", "ngr"]
PROMOS_PER_CAMPAIGN = 10
URL = "/api/customer/v1/partner/report"


def _sizes() -> tuple[int, int, int, int]:
    postgres = connection.vendor == "postgresql"
    days = int(os.environ.get("BENCH_REPORTS_DAYS", 731))
    promos = int(os.environ.get("BENCH_REPORTS_PROMOS", 1000 if postgres else 100))
    affiliates = max(1, min(int(os.environ.get("BENCH_REPORTS_AFFILIATES", 1)), promos))
    calls = int(os.environ.get("BENCH_REPORTS_CALLS", 20))
    return days, promos, affiliates, calls


def _players() -> int:
    """BENCH_REPORTS_PLAYERS (default 1,000,000); generated in SQL on PostgreSQL only (0 elsewhere)."""
    return int(os.environ.get("BENCH_REPORTS_PLAYERS", 1_000_000)) if connection.vendor == "postgresql" else 0


def _setup(days: int, promos: int, affiliates: int) -> tuple[Affiliate, str]:
    label = secrets.token_hex(4)
    brand = Brand.objects.create(name=f"Reports Bench {label}", base_currency="EUR", site_url="https://casino.example")
    plan = CommissionPlan.objects.create(name=f"Bench RevShare {label}", brand=brand, currency="EUR")
    landing = Landing.objects.create(brand=brand, name="Home", url="https://casino.example/")
    owners = Affiliate.objects.bulk_create(
        Affiliate(name=f"Bench Affiliate {label} {i}", status=Affiliate.Status.ACTIVE) for i in range(affiliates)
    )
    campaigns = Campaign.objects.bulk_create(
        Campaign(affiliate=owners[i % affiliates], name=f"Campaign {i}", brand=brand, commission_plan=plan)
        for i in range((promos + PROMOS_PER_CAMPAIGN - 1) // PROMOS_PER_CAMPAIGN)
    )
    promo_rows = Promo.objects.bulk_create(
        Promo(campaign=campaigns[i // PROMOS_PER_CAMPAIGN], affiliate=campaigns[i // PROMOS_PER_CAMPAIGN].affiliate,
              brand=brand, title=f"Promo {i}", landing=landing)
        for i in range(promos)
    )
    ids = [p.pk for p in promo_rows]
    first_day = LAST_DAY - dt.timedelta(days=days - 1)
    with transaction.atomic():
        _insert_stats(ids, first_day, LAST_DAY)
    stats_months_rebuild(date_from=first_day, date_to=LAST_DAY)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reports_dailystat")
            cursor.execute("ANALYZE reports_monthlystat")
    for base, rate in RATES.items():
        ExchangeRate.objects.update_or_create(date=RATES_DATE, base=base, quote="EUR", defaults={"rate": rate})
    user = User.objects.create(email=f"reports-bench-{label}@example.net", affiliate=owners[0], role=User.Role.OWNER)
    return owners[0], statistic_token_issue(user=user, actor=None)


def _reuse(days: int, promos: int, affiliates: int) -> tuple[Affiliate, str] | None:
    """The data of an earlier run of the same size in this database, or None."""
    from reports.models import DailyStat

    for brand in Brand.objects.filter(name__startswith="Reports Bench ").order_by("-pk")[:5]:
        label = brand.name.removeprefix("Reports Bench ")
        owner = Affiliate.objects.filter(name=f"Bench Affiliate {label} 0").first()
        user = User.objects.filter(email=f"reports-bench-{label}@example.net").first()
        if owner is None or user is None:
            continue
        if (Promo.objects.filter(brand=brand).count() != promos
                or Affiliate.objects.filter(name__startswith=f"Bench Affiliate {label} ").count() != affiliates
                or DailyStat.objects.filter(brand=brand).count() != days * promos * 3):
            continue
        return owner, statistic_token_issue(user=user, actor=None)
    return None


def _insert_stats(promo_ids: list[int], first_day: dt.date, last_day: dt.date) -> None:
    postgres = connection.vendor == "postgresql"
    day_number = "(d.day - DATE '2000-01-01')" if postgres else "CAST(julianday(d.day) AS INTEGER)"
    days = (
        "(SELECT gs::date AS day FROM generate_series(%s::date, %s::date, interval '1 day') gs) d"
        if postgres else
        "(WITH RECURSIVE s(day) AS (SELECT date(%s) UNION ALL SELECT date(day, '+1 day') FROM s "
        "WHERE day < date(%s)) SELECT day FROM s) d"
    )
    n = f"(p.id * 7 + {day_number})"
    eur = "CASE WHEN c.cur = 'EUR' THEN 1 ELSE 0 END"
    money = {
        "first_deposits_sum": f"({n} %% 5) * 20.5", "deposits_sum": f"({n} %% 23) * 31.25",
        "cashouts_sum": f"({n} %% 7) * 12.5", "bets_sum": f"({n} %% 97) * 41.75", "wins_sum": f"({n} %% 89) * 38.5",
        "wager_sum": f"({n} %% 97) * 45", "bonus_issues_sum": f"({n} %% 11) * 3.5",
        "additional_deductions_sum": f"({n} %% 3) * 0.75", "chargebacks_sum": f"({n} %% 13 = 0)::int * 25"
        if postgres else f"({n} %% 13 = 0) * 25",
        "payment_system_fees_sum": f"({n} %% 23) * 0.6", "game_provider_fees_sum": f"({n} %% 97) * 0.4",
        "jackpot_fees_sum": f"({n} %% 97) * 0.05", "taxes_sum": f"({n} %% 97) * 0.2",
        "admin_fee_sum": f"({n} %% 97) * 0.1", "revshare_income_sum": f"({n} %% 97) * 0.9",
        "cpa_income_sum": f"({n} %% 31 = 0)::int * 25" if postgres else f"({n} %% 31 = 0) * 25",
    }
    counts = {
        "visits_count": f"({n} %% 50) * {eur}", "registrations_count": f"({n} %% 6) * {eur}",
        "first_deposits_count": f"({n} %% 5 > 2)::int" if postgres else f"({n} %% 5 > 2)",
        "deposits_count": f"{n} %% 23", "cashouts_count": f"{n} %% 7", "bets_count": f"({n} %% 97) * 10",
        "chargebacks_count": f"({n} %% 13 = 0)::int" if postgres else f"({n} %% 13 = 0)",
        "depositing_players_count": f"{n} %% 9", "active_players_count": f"{n} %% 15",
        "qualified_players_count": f"({n} %% 31 = 0)::int" if postgres else f"({n} %% 31 = 0)",
    }
    fields = {**counts, **money}
    placeholders = ", ".join(["%s"] * len(promo_ids))
    sql = (
        "INSERT INTO reports_dailystat (date, promo_id, currency, affiliate_id, brand_id, campaign_id, plan_id, "
        f"updated_at, {', '.join(fields)}) "
        f"SELECT d.day, p.id, c.cur, p.affiliate_id, p.brand_id, p.campaign_id, camp.commission_plan_id, %s, "
        f"{', '.join(fields.values())} "
        f"FROM {days} CROSS JOIN campaigns_promo p "
        "JOIN campaigns_campaign camp ON camp.id = p.campaign_id "
        "CROSS JOIN (SELECT 'EUR' AS cur UNION ALL SELECT 'USD' UNION ALL SELECT 'GBP') c "
        f"WHERE p.id IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [dt.datetime.now(dt.UTC), first_day, last_day, *promo_ids])


_SUMS = ("SUM(visits_count) v, SUM(registrations_count) r, SUM(first_deposits_count) f, SUM(deposits_sum) d, "
         "SUM(bets_sum) b, SUM(wins_sum) w, SUM(bonus_issues_sum) bo, SUM(taxes_sum) t, SUM(chargebacks_sum) c, "
         "SUM(payment_system_fees_sum) pf, SUM(game_provider_fees_sum) gf, SUM(jackpot_fees_sum) jf, "
         "SUM(additional_deductions_sum) ad, SUM(admin_fee_sum) af")
_NGR = "(b - w - bo - t - c - pf - gf - jf - ad - af)"


def _sql_by_day(affiliate_id: int, first: dt.date, last: dt.date) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day, currency, v, r, f, d, {_NGR} FROM (SELECT date AS day, currency, {_SUMS} "
            "FROM reports_dailystat WHERE affiliate_id = %s AND date BETWEEN %s AND %s "
            "GROUP BY date, currency) s ORDER BY day, currency",
            [affiliate_id, first, last],
        )
        return cursor.fetchall()


# The same NGR summed as one expression per row: on the monthly rows (few rows per group) the
# fastest form found; 14 running sums make PostgreSQL sort the 36,000 rows instead of hashing.
_SUMS_PER_ROW = ("SUM(visits_count) v, SUM(registrations_count) r, SUM(first_deposits_count) f, "
                 "SUM(deposits_sum) d, SUM(bets_sum - wins_sum - bonus_issues_sum - taxes_sum - chargebacks_sum "
                 "- payment_system_fees_sum - game_provider_fees_sum - jackpot_fees_sum - additional_deductions_sum "
                 "- admin_fee_sum) n")


def _sql_by_month_campaign_eur(affiliate_id: int, first: dt.date, last: dt.date,
                               table: str = "reports_dailystat") -> list:
    # Sums per month × campaign × currency, then converted and added up: the fastest correct
    # form (converting row by row would multiply every rollup row). Over the daily rows one
    # running sum per counter (many rows per group), over the monthly rows NGR per row.
    month = "date_trunc('month', date)::date" if connection.vendor == "postgresql" else "strftime('%%Y-%%m-01', date)"
    rate = "CASE currency WHEN 'USD' THEN %s WHEN 'GBP' THEN %s ELSE 1 END"
    sums, ngr = (_SUMS, _NGR) if table == "reports_dailystat" else (_SUMS_PER_ROW, "n")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, campaign_id, SUM(v), SUM(r), SUM(f), SUM(d * {rate}), SUM({ngr} * {rate}) "
            f"FROM (SELECT {month} AS month, campaign_id, currency, {sums} FROM {table} "
            "WHERE affiliate_id = %s AND date BETWEEN %s AND %s GROUP BY 1, campaign_id, currency) s "
            "GROUP BY month, campaign_id ORDER BY month, campaign_id",
            [RATES["USD"], RATES["GBP"], RATES["USD"], RATES["GBP"], affiliate_id, first, last],
        )
        return cursor.fetchall()



def _cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)  # as the API shows amounts


def _percentiles(fn, calls: int) -> tuple[float, float]:
    for _ in range(2):
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return statistics.median(samples), p95


def run():
    days, promos, affiliates, calls = _sizes()
    settings.REPORT_API_RATE_LIMIT = 0  # the benchmark calls far faster than a client may
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    reused = _reuse(days, promos, affiliates) if os.environ.get("BENCH_REPORTS_REUSE") == "1" else None
    affiliate, token = reused or _setup(days, promos, affiliates)
    client = Client(HTTP_AUTHORIZATION=token)

    def api(params: dict) -> dict:
        response = client.get(URL, {"columns[]": COLUMNS, **params, "per_page": "1000"})
        assert response.status_code == 200, response.content[:300]
        return response.json()

    wanted = os.environ.get("BENCH_REPORTS_CASES", "abcd")  # e.g. "a": only (a)
    players = _players()
    if os.environ.get("BENCH_REPORTS_JIT") == "off" and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the API and the SQL share this connection
            cursor.execute("SET jit = off")
    if players and set(wanted) & set("cd"):
        players_ready(affiliate, players, LAST_DAY - dt.timedelta(days=days - 1), LAST_DAY)
    elif set(wanted) & set("cd"):
        print("  bench_reports: (c) and (d) need PostgreSQL (BENCH_REPORTS_PLAYERS > 0); skipped", file=sys.stderr)
    results = []
    cases = [
        ("(a) 90 days by day", LAST_DAY - dt.timedelta(days=89),
         {"group_by[]": ["day"]}, _sql_by_day),
        ("(b) 1 year by month+campaign in EUR", LAST_DAY - dt.timedelta(days=364),
         {"group_by[]": ["month", "campaign"], "conversion_currency": "EUR", "convert_all_currencies": "1",
          "exchange_rates_date": RATES_DATE.isoformat()}, _sql_by_month_campaign_eur),
        ("(c) 30 days by player_country", LAST_DAY - dt.timedelta(days=29),
         {"group_by[]": ["player_country"], "columns[]": PLAYER_COLUMNS}, sql_by_country),
        ("(d) 90 days by sign_up_at_month (cohorts)", LAST_DAY - dt.timedelta(days=89),
         {"group_by[]": ["sign_up_at_month"], "columns[]": PLAYER_COLUMNS}, sql_by_sign_up_month),
    ]
    for name, first, params, sql in cases:
        if name[1] not in wanted or (name[1] in "cd" and not players):
            continue
        params = {**params, "from": first.isoformat(), "to": LAST_DAY.isoformat()}
        body = api(params)
        expected = sql(affiliate.pk, first, LAST_DAY)
        # Same rows as the SQL (the API's first page of up to 1,000), same numbers.
        assert len(body["rows"]["data"]) == min(len(expected), 1000), (len(body["rows"]["data"]), len(expected))
        assert body["total_pages"] == max(1, -(-len(expected) // 1000))
        first_row = {cell["name"]: cell["value"] for cell in body["rows"]["data"][0]}
        if name[1] in "ab":
            assert first_row["visits_count"] == expected[0][2], (first_row, expected[0])
            assert Decimal(first_row["deposits_sum"]["amount"]) == round(Decimal(expected[0][5]), 2), (first_row, expected[0])
            rows = f"{days * promos * 3:,} rollup rows, {promos // affiliates} promos/affiliate"
        else:
            for row, sql_row in zip(body["rows"]["data"], expected, strict=False):
                cells = {cell["name"]: cell["value"] for cell in row}
                assert cells["registrations_count"] == sql_row[2], (cells, sql_row)
                assert cells["first_deposits_count"] == sql_row[3], (cells, sql_row)
                assert Decimal(cells["deposits_sum"]["amount"]) == _cents(sql_row[4]), (cells, sql_row)
                assert Decimal(cells["ngr"]["amount"]) == _cents(sql_row[5]), (cells, sql_row)
            rows = f"{players:,} players, {len(expected)} rows"
        ours = _percentiles(lambda params=params: api(params), calls)
        base = _percentiles(lambda first=first, sql=sql: sql(affiliate.pk, first, LAST_DAY), calls)
        for label, i in (("p50", 0), ("p95", 1)):
            results.append({"name": f"report API {name} {label} ({rows}, {connection.vendor})",
                            "ours": ours[i], "baseline": base[i], "unit": "ms"})
        if sql is _sql_by_month_campaign_eur:
            assert _sql_by_month_campaign_eur(affiliate.pk, first, LAST_DAY, "reports_monthlystat") == expected
            monthly = _percentiles(lambda first=first: _sql_by_month_campaign_eur(
                affiliate.pk, first, LAST_DAY, "reports_monthlystat"), calls)
            for label, i in (("p50", 0), ("p95", 1)):
                results.append({"name": f"report API {name} {label} vs SQL on the monthly rows ({connection.vendor})",
                                "ours": ours[i], "baseline": monthly[i], "unit": "ms"})
    return results
