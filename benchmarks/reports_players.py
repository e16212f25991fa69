"""Players for the Reports benchmark (benchmarks.bench_reports, cases (c) and (d)): the raw
tables behind the player, player_country and cohort groupers (reports.engine.players),
generated in PostgreSQL, and the hand-written SQL those reports are timed against."""
import datetime as dt
import sys
import time

from django.db import connection, transaction

from backoffice.timeutil import program_tz
from campaigns.models import Player, Promo

COUNTRIES = ["DE", "GB", "CA", "BR", "IN", "FI", "NO", "AU", "NZ", "JP", "AT", "CH", "IE", "PL", "MX", "CL",
             "PE", "ZA", "SE", "NL"]
PLAYER_COLUMNS = ["registrations_count", "first_deposits_count", "deposits_sum", "ngr"]
_ACTIVITY_NGR = ("a.bets_sum - a.wins_sum - a.bonus_issues_sum - a.chargebacks_sum - a.payment_system_fees_sum "
                 "- a.game_provider_fees_sum - a.jackpot_fees_sum - a.additional_deductions_sum")


def players_ready(affiliate, players: int, first_day: dt.date, last_day: dt.date) -> None:
    """The benchmark affiliate's brand has exactly `players` generated players (made if not)."""
    promo_ids = list(Promo.objects.filter(affiliate=affiliate).order_by("pk").values_list("pk", flat=True))
    brand_id = Promo.objects.filter(pk=promo_ids[0]).values_list("brand_id", flat=True).get()
    if Player.objects.filter(brand_id=brand_id).count() == players:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:  # a partial earlier run: start over (activity and deposits cascade in SQL)
        for table in ("campaigns_playeractivity", "campaigns_deposit"):
            cursor.execute(f"DELETE FROM {table} t USING campaigns_player p WHERE p.id = t.player_id "
                           "AND p.brand_id = %s", [brand_id])
        cursor.execute("DELETE FROM campaigns_player WHERE brand_id = %s", [brand_id])
    with transaction.atomic():
        _insert_players(brand_id, promo_ids, players, first_day, last_day)
    with connection.cursor() as cursor:
        for table in ("campaigns_promo", "campaigns_campaign", "campaigns_player", "campaigns_deposit",
                      "campaigns_playeractivity"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # also clears what a partial earlier run left
    print(f"  {players:,} players with deposits and activity generated in {time.perf_counter() - started:.0f}s",
          file=sys.stderr)


def _insert_players(brand_id: int, promo_ids: list[int], players: int, first_day: dt.date,
                    last_day: dt.date) -> None:
    """Players signed up evenly over the range, spread over the promos and (unevenly, the first
    countries most) over 20 countries; 30% made a first deposit within a week of signing up,
    then 1-5 deposits (avg 3) in one of 3 currencies and 1-9 daily activity windows (avg 5)."""
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    currency = "(ARRAY['EUR', 'USD', 'GBP'])[1 + (x.n / 10) %% 3]"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_player (brand_id, user_id, tag, promo_id, campaign_id, affiliate_id, country, "
            "language, sign_up_at, first_deposit_at, is_disabled, is_duplicate, is_self_excluded, created_at, "
            "updated_at) "
            "SELECT p.brand_id, g.n::text, '', p.id, p.campaign_id, p.affiliate_id, "
            "(%(countries)s::text[])[1 + floor(power(((g.n * 104729) %% 1000) / 1000.0, 2) * 20)::int], 'en', s.at, "
            "CASE WHEN g.n %% 10 < 3 THEN s.at + ((g.n * 97) %% 604800) * interval '1 second' END, "
            "false, false, false, %(now)s, %(now)s "
            "FROM generate_series(1, %(players)s::bigint) g(n) "
            "CROSS JOIN LATERAL (SELECT %(start)s::timestamptz "
            "+ ((g.n * 7919) %% %(span)s) * interval '1 second' AS at) s "
            "JOIN campaigns_promo p ON p.id = (%(promos)s::bigint[])[1 + g.n %% %(promo_count)s]",
            {"countries": COUNTRIES, "now": now, "players": players, "start": start,
             "span": int((end - start).total_seconds()), "promos": promo_ids, "promo_count": len(promo_ids)},
        )

        def depositors(last: str) -> str:  # rows j = 0 .. last per depositing player (x.n: its number)
            return ("FROM campaigns_player pl CROSS JOIN LATERAL (SELECT pl.user_id::bigint AS n) x "
                    f"CROSS JOIN LATERAL generate_series(0, {last}) j "
                    "WHERE pl.brand_id = %(brand)s AND pl.first_deposit_at IS NOT NULL")

        cursor.execute(
            "INSERT INTO campaigns_deposit (brand_id, player_id, deposit_id, amount, currency, processed_at, "
            "is_first, created_at) "
            f"SELECT brand_id, id, user_id || '-' || j, 10 + ((n * 31 + j * 17) %% 50) * 5, cur, at, j = 0, "
            "%(now)s FROM (SELECT pl.brand_id, pl.id, pl.user_id, x.n, j, "
            f"{currency} AS cur, pl.first_deposit_at + j * (1 + x.n %% 20) * interval '1 day' AS at "
            f"{depositors('(x.n / 10) %% 5')}) d "
            "WHERE at < %(end)s",
            {"brand": brand_id, "now": now, "end": end},
        )
        cursor.execute(
            "INSERT INTO campaigns_playeractivity (player_id, currency, period_start, period_end, bets_sum, "
            "wins_sum, wager_sum, rounds_count, bonus_issues_sum, additional_deductions_sum, chargebacks_sum, "
            "chargebacks_count, deposits_sum, deposits_count, cashouts_sum, cashouts_count, "
            "game_provider_fees_sum, payment_system_fees_sum, jackpot_fees_sum, extra, received_at, updated_at) "
            "SELECT id, cur, day, day + interval '1 day', bets, wins, bets, 10 + (n + j) %% 100, "
            "((n + j) %% 4) * 5, 0, 0, 0, 0, 0, ((n + j) %% 3) * 20, (n + j) %% 3 / 2, bets * 0.04, 0.5, "
            "bets * 0.002, '{}', %(now)s, %(now)s "
            "FROM (SELECT pl.id, x.n, j, "
            f"{currency} AS cur, date_trunc('day', pl.first_deposit_at, 'UTC') "
            "+ j * (1 + x.n %% 11) * interval '1 day' AS day, "
            "20 + ((x.n * 13 + j * 7) %% 200) * 2.5 AS bets, ((x.n * 11 + j * 3) %% 190) * 2.5 AS wins "
            f"{depositors('x.n %% 9')}) a "
            "WHERE day < %(end)s",
            {"brand": brand_id, "now": now, "end": end},
        )


def _sql_by_player_key(key: str, affiliate_id: int, first: dt.date, last: dt.date) -> list:
    """Registrations (by sign-up), first deposits and deposits (by processing time) and NGR
    (by activity window) in the range, grouped by `key` over the player and by currency; one
    statement, the three parts joined on (key, currency)."""
    tz = program_tz()
    params = {"aff": affiliate_id, "tz": str(tz), "base": "EUR",
              "start": dt.datetime.combine(first, dt.time.min, tzinfo=tz),
              "end": dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)}
    players = "p.affiliate_id = %(aff)s AND p.promo_id IS NOT NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH reg AS (SELECT {key} AS k, %(base)s AS cur, COUNT(*) AS r FROM campaigns_player p "
            f"WHERE {players} AND p.sign_up_at >= %(start)s AND p.sign_up_at < %(end)s GROUP BY 1), "
            f"dep AS (SELECT {key} AS k, d.currency AS cur, COUNT(*) FILTER (WHERE d.is_first) AS f, "
            "SUM(d.amount) AS d FROM campaigns_deposit d JOIN campaigns_player p ON p.id = d.player_id "
            f"WHERE {players} AND d.processed_at >= %(start)s AND d.processed_at < %(end)s GROUP BY 1, 2), "
            f"act AS (SELECT {key} AS k, a.currency AS cur, SUM({_ACTIVITY_NGR}) AS n "
            "FROM campaigns_playeractivity a JOIN campaigns_player p ON p.id = a.player_id "
            f"WHERE {players} AND a.period_start >= %(start)s AND a.period_start < %(end)s GROUP BY 1, 2) "
            "SELECT k, cur, COALESCE(r, 0), COALESCE(f, 0), COALESCE(d, 0), COALESCE(n, 0) "
            "FROM reg FULL JOIN dep USING (k, cur) FULL JOIN act USING (k, cur) ORDER BY k, cur",
            params,
        )
        return cursor.fetchall()


def sql_by_country(affiliate_id: int, first: dt.date, last: dt.date) -> list:
    return _sql_by_player_key("p.country", affiliate_id, first, last)


def sql_by_sign_up_month(affiliate_id: int, first: dt.date, last: dt.date) -> list:
    return _sql_by_player_key("date_trunc('month', p.sign_up_at AT TIME ZONE %(tz)s)::date", affiliate_id, first, last)
