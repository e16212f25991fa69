"""The column catalogue of the report engine: every column a report (portal, exports, feeds,
Partner Report API) can show, its wire type and how it is computed from DailyStat sums.

A column names the DailyStat counters it sums (`sources`) and a formula over those sums.
Formulas run on sums that are already merged (and converted, when a report is converted to one
currency), so ratios and averages are ratios of totals, never averages of averages.

Types on the wire (api-facts §1): "integer" (a JSON number), "money" (an object
{"amount", "amount_cents", "currency"}), "percent" (a decimal string with 2 places).

Counts of players (depositing_players_count, qualified_players_count,
casino_active_players_count) are sums of daily counts: a player active on three days of the
range counts three times in a multi-day row. The raw-data groupers of reports.engine.players
count distinct (player, day) pairs, which is the same number, so a total does not depend on
the grouping.

Revenue chain (api-facts §1): ggr = real_ggr = bets − wins; real_ngr = ggr − bonuses − taxes −
chargebacks − fees − additional deductions (every deduction, whatever the plan); admin_fee =
the plan's admin fee percent of the plan's NGR (the deductions the plan switches on); ngr =
real_ngr − admin_fee, so the two differ exactly when the plan has an admin fee.

Commission (the affiliate's income) as it accrues, carried into the rollups per day by
reports.income: fixed = CPA amounts of the players qualified that day (exact: what the bills
pay); ngr_percent = RevShare on that day's NGR after the admin fee at the plan's own percent;
partner_income = fixed + ngr_percent. Bills settle a whole billing period and stay
authoritative: tiers, negative carryover, a losing period paying 0 and sub-affiliate income
are period rules the daily accrual approximates (reports.income says how), and activity in
another currency than the plan's accrues nothing, as in billing.
"""
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

INTEGER = "integer"
MONEY = "money"
PERCENT = "percent"

# DailyStat counters that hold money (converted between currencies) and counts (never).
MONEY_SOURCES = frozenset({
    "first_deposits_sum", "deposits_sum", "cashouts_sum", "bets_sum", "wins_sum", "wager_sum",
    "bonus_issues_sum", "additional_deductions_sum", "chargebacks_sum", "payment_system_fees_sum",
    "game_provider_fees_sum", "jackpot_fees_sum", "taxes_sum",
    "admin_fee_sum", "revshare_income_sum", "cpa_income_sum",
})
COUNT_SOURCES = frozenset({
    "visits_count", "registrations_count", "first_deposits_count", "deposits_count",
    "cashouts_count", "bets_count", "chargebacks_count", "depositing_players_count",
    "active_players_count", "qualified_players_count",
})


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    sources: tuple[str, ...]
    compute: Callable[[dict], Decimal | int]
    description: str = ""
    # The column as a signed sum of its sources (one sign per source), when it is one: the
    # database can then sum it as one expression. None for ratios (computed from merged sums).
    signs: tuple[int, ...] | None = None


def _ratio(numerator: Decimal | int, denominator: Decimal | int, *, scale: int = 1) -> Decimal:
    if not denominator:
        return Decimal(0)
    return Decimal(numerator) * scale / Decimal(denominator)


def _sum(field: str) -> Callable[[dict], Decimal | int]:
    return lambda s: s[field]


def _ggr(s: dict) -> Decimal:
    return s["bets_sum"] - s["wins_sum"]


_NGR_SOURCES = (
    "bets_sum", "wins_sum", "bonus_issues_sum", "taxes_sum", "chargebacks_sum",
    "payment_system_fees_sum", "game_provider_fees_sum", "jackpot_fees_sum", "additional_deductions_sum",
)


def _real_ngr(s: dict) -> Decimal:
    return (
        _ggr(s) - s["bonus_issues_sum"] - s["taxes_sum"] - s["chargebacks_sum"]
        - s["payment_system_fees_sum"] - s["game_provider_fees_sum"] - s["jackpot_fees_sum"]
        - s["additional_deductions_sum"]
    )


def _ngr(s: dict) -> Decimal:
    return _real_ngr(s) - s["admin_fee_sum"]


def _plain(name: str, type_: str, field: str | None = None, description: str = "") -> Column:
    field = field or name
    return Column(name, type_, (field,), _sum(field), description, (1,))


_GGR_SIGNS = (1, -1)
_REAL_NGR_SIGNS = (1, -1, -1, -1, -1, -1, -1, -1, -1)


COLUMNS: dict[str, Column] = {c.name: c for c in [
    _plain("visits_count", INTEGER, description="Clicks on tracking links"),
    _plain("registrations_count", INTEGER, description="Players who signed up"),
    _plain("first_deposits_count", INTEGER, description="First deposits (FTD)"),
    _plain("first_deposits_sum", MONEY, description="Sum of first deposits"),
    Column("average_first_deposit_amount", MONEY, ("first_deposits_sum", "first_deposits_count"),
           lambda s: _ratio(s["first_deposits_sum"], s["first_deposits_count"]),
           "first_deposits_sum / first_deposits_count"),
    _plain("deposits_count", INTEGER),
    _plain("deposits_sum", MONEY),
    Column("average_deposit_amount", MONEY, ("deposits_sum", "deposits_count"),
           lambda s: _ratio(s["deposits_sum"], s["deposits_count"]), "deposits_sum / deposits_count"),
    _plain("depositing_players_count", INTEGER, description="Players with a deposit, summed per day"),
    _plain("cashouts_count", INTEGER),
    _plain("cashouts_sum", MONEY),
    Column("net_deposits", MONEY, ("deposits_sum", "cashouts_sum"),
           lambda s: s["deposits_sum"] - s["cashouts_sum"], "deposits_sum − cashouts_sum", (1, -1)),
    Column("first_deposits_conversion_rate", PERCENT, ("first_deposits_count", "registrations_count"),
           lambda s: _ratio(s["first_deposits_count"], s["registrations_count"], scale=100),
           "first_deposits_count / registrations_count × 100"),
    _plain("wager", MONEY, "wager_sum"),
    _plain("casino_bets_count", INTEGER, "bets_count"),
    _plain("casino_total_bets_sum", MONEY, "bets_sum"),
    _plain("casino_total_wins_sum", MONEY, "wins_sum"),
    _plain("bonus_issues_sum", MONEY),
    _plain("additional_deductions_sum", MONEY),
    _plain("casino_taxes_sum", MONEY, "taxes_sum"),
    _plain("chargebacks_count", INTEGER),
    _plain("chargebacks_sum", MONEY),
    _plain("payment_system_fees_sum", MONEY),
    _plain("game_provider_fees_sum", MONEY),
    _plain("jackpot_fees_sum", MONEY),
    Column("ggr", MONEY, ("bets_sum", "wins_sum"), _ggr, "bets − wins", _GGR_SIGNS),
    Column("real_ggr", MONEY, ("bets_sum", "wins_sum"), _ggr, "= ggr", _GGR_SIGNS),
    Column("real_ngr", MONEY, _NGR_SOURCES, _real_ngr,
           "ggr − bonuses − taxes − chargebacks − fees − additional deductions", _REAL_NGR_SIGNS),
    _plain("admin_fee", MONEY, "admin_fee_sum", "The plan's admin fee percent of the plan's NGR (accrued)"),
    Column("ngr", MONEY, (*_NGR_SOURCES, "admin_fee_sum"), _ngr, "real_ngr − admin_fee", (*_REAL_NGR_SIGNS, -1)),
    _plain("qualified_players_count", INTEGER),
    _plain("casino_active_players_count", INTEGER, "active_players_count",
           "Players with activity, summed per day"),
    _plain("fixed", MONEY, "cpa_income_sum", "CPA income: the amounts of the players qualified (by qualification day)"),
    _plain("ngr_percent", MONEY, "revshare_income_sum", "RevShare income accrued on NGR at the plan's percent"),
    Column("partner_income", MONEY, ("cpa_income_sum", "revshare_income_sum"),
           lambda s: s["cpa_income_sum"] + s["revshare_income_sum"],
           "Your commission as it accrues: fixed + ngr_percent (your bills are authoritative)", (1, 1)),
]}

DEFAULT_COLUMNS = ("visits_count", "registrations_count", "first_deposits_count", "deposits_sum", "ngr")


def sources_of(columns: list[str]) -> list[str]:
    """The DailyStat counters the columns need, each once, in a stable order."""
    seen: dict[str, None] = {}
    for name in columns:
        for field in COLUMNS[name].sources:
            seen.setdefault(field, None)
    return list(seen)


# --- terms: what a report sums per row -------------------------------------------------------

@dataclass(frozen=True)
class Terms:
    """What a report of some columns sums per grouped row, each term once: a linear column
    (ngr, net_deposits ...) as one signed sum of its counters, a ratio as its numerator's and
    denominator's counters. Column values are computed from the terms after the rows of a group
    are merged (and converted: a term is money when its counters are), so ratios stay ratios of
    totals."""

    names: tuple[str, ...]  # a plain counter is named as itself, a signed sum of several "t_<column>"
    parts: tuple[tuple[tuple[str, int], ...], ...]  # per term: its (counter, sign) pairs
    money: tuple[bool, ...]  # per term
    columns: tuple[tuple[str, str, Column], ...]  # per column: (name, its term or "" for a ratio, column)

    def zero(self) -> list:
        return [Decimal(0) if money else 0 for money in self.money]


@lru_cache(maxsize=256)
def terms_of(columns: tuple[str, ...]) -> Terms:
    """The Terms of a list of columns (compiled once per list)."""
    terms: dict[tuple, str] = {}
    per_column = []
    for name in columns:
        column = COLUMNS[name]
        if column.signs is None:
            for source in column.sources:
                terms.setdefault(((source, 1),), source)
            per_column.append((name, "", column))
        else:
            parts = tuple(zip(column.sources, column.signs, strict=True))
            plain = len(parts) == 1 and parts[0][1] == 1
            per_column.append((name, terms.setdefault(parts, parts[0][0] if plain else f"t_{name}"), column))
    return Terms(names=tuple(terms.values()), parts=tuple(terms), columns=tuple(per_column),
                 money=tuple(parts[0][0] in MONEY_SOURCES for parts in terms))
