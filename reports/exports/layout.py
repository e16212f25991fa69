"""How a report becomes a table for people (CSV and XLSX): column titles, the header row, and
one report row (engine cells) as typed values.

The table follows the report page: grouper columns first, in the order grouped (a brand,
campaign, promo or commission plan grouper gives two columns, its id and its name), then
"Currency" when the money columns are not converted to one currency, then the chosen columns
in the chosen order. Values keep their types: integers, Decimal amounts (plain numbers, the
currency in its own column or, converted, in the column titles), Decimal percents, dates.
"""
import datetime as dt
from decimal import Decimal

from reports.columns import COLUMNS, MONEY, PERCENT
from reports.engine.query import DATE_GROUPERS, DYNAMIC_TAG_PREFIX

# Titles people read; the API names stay the column names of JSON/XML and the Report API.
COLUMN_TITLES = {
    "visits_count": "Visits",
    "registrations_count": "Registrations",
    "first_deposits_count": "First deposits",
    "first_deposits_sum": "First deposits sum",
    "average_first_deposit_amount": "Average first deposit",
    "deposits_count": "Deposits",
    "deposits_sum": "Deposits sum",
    "average_deposit_amount": "Average deposit",
    "depositing_players_count": "Depositing players",
    "cashouts_count": "Cashouts",
    "cashouts_sum": "Cashouts sum",
    "net_deposits": "Net deposits",
    "first_deposits_conversion_rate": "Registration to FTD conversion, %",
    "wager": "Wager",
    "casino_bets_count": "Casino bets",
    "casino_total_bets_sum": "Casino bets sum",
    "casino_total_wins_sum": "Casino wins sum",
    "bonus_issues_sum": "Bonuses issued",
    "additional_deductions_sum": "Additional deductions",
    "casino_taxes_sum": "Casino taxes",
    "chargebacks_count": "Chargebacks",
    "chargebacks_sum": "Chargebacks sum",
    "payment_system_fees_sum": "Payment system fees",
    "game_provider_fees_sum": "Game provider fees",
    "jackpot_fees_sum": "Jackpot fees",
    "ggr": "GGR",
    "real_ggr": "Real GGR",
    "real_ngr": "Real NGR",
    "ngr": "NGR",
    "admin_fee": "Admin fee",
    "fixed": "CPA income",
    "ngr_percent": "RevShare income",
    "partner_income": "Partner income",
    "qualified_players_count": "Qualified players",
    "casino_active_players_count": "Active players",
}
GROUPER_TITLES = {
    "day": "Day", "week": "Week (starting)", "month": "Month", "year": "Year",
    "brand": "Brand", "campaign": "Campaign", "promo": "Promo", "strategy": "Commission plan",
    "player": "Player", "player_country": "Player country",
}
# Cohort groupers (sign_up_at_month ...): a date cell, the period of the player's sign-up or
# first deposit.
COHORT_TITLES = {"sign_up_at_": "Sign-up", "first_deposit_": "First deposit"}
# Groupers whose cell is an id, named in the report's relations.
NAMED_GROUPERS = {"brand": "brands", "campaign": "campaigns", "promo": "promos", "strategy": "strategies"}


def column_title(name: str) -> str:
    return COLUMN_TITLES.get(name) or name.replace("_", " ").capitalize()


def date_period(grouper: str) -> str | None:
    """day/week/month/year for a grouper whose cell is a date, else None."""
    if grouper in DATE_GROUPERS:
        return grouper
    for prefix in COHORT_TITLES:
        if grouper.startswith(prefix) and grouper[len(prefix):] in DATE_GROUPERS:
            return grouper[len(prefix):]
    return None


def grouper_title(name: str) -> str:
    if name.startswith(DYNAMIC_TAG_PREFIX):
        return name[len(DYNAMIC_TAG_PREFIX):]
    for prefix, title in COHORT_TITLES.items():
        if name.startswith(prefix) and name[len(prefix):] in DATE_GROUPERS:
            return f"{title} {name[len(prefix):]}"
    return GROUPER_TITLES.get(name) or name.replace("_", " ").capitalize()


class Names:
    """id -> name of the brands, campaigns, promos and plans a report's relations list,
    refreshed batch by batch from a ReportStream's growing `relations`."""

    def __init__(self, relations: dict[str, list[dict]]):
        self._relations = relations
        self._index: dict[str, dict] = {}
        self._sizes: dict[str, int] = {}

    def refresh(self) -> None:
        for key, items in self._relations.items():
            if self._sizes.get(key) != len(items):
                self._index[key] = {item["id"]: item.get("name", "") for item in items}
                self._sizes[key] = len(items)

    def get(self, relation: str, pk) -> str:
        return self._index.get(relation, {}).get(pk, "")


class Layout:
    """The table of one report: header, rows and totals as typed values."""

    def __init__(self, *, group_by: list[str], columns: list[str], currency: str | None):
        self.group_by, self.columns, self.currency = list(group_by), list(columns), currency
        self.has_money = any(COLUMNS[c].type == MONEY for c in self.columns)
        self.currency_column = self.has_money and not currency
        self.grouper_width = sum(2 if g in NAMED_GROUPERS else 1 for g in self.group_by)

    # --- titles -------------------------------------------------------------------------

    def column_titles(self) -> list[str]:
        titles = []
        for name in self.columns:
            title = column_title(name)
            if self.currency and COLUMNS[name].type == MONEY:
                title = f"{title}, {self.currency}"
            titles.append(title)
        return (["Currency"] if self.currency_column else []) + titles

    def header(self) -> list[str]:
        titles = []
        for grouper in self.group_by:
            if grouper in NAMED_GROUPERS:
                titles += [f"{grouper_title(grouper)} ID", grouper_title(grouper)]
            else:
                titles.append(grouper_title(grouper))
        return titles + self.column_titles()

    # --- kinds of each position (for formats) ---------------------------------------------

    def kinds(self) -> list[str]:
        """Per header position: date_<grouper>, id, text, currency, integer, money, percent."""
        kinds = []
        for grouper in self.group_by:
            if date_period(grouper):
                kinds.append(f"date_{date_period(grouper)}")
            elif grouper in NAMED_GROUPERS:
                kinds += ["id", "text"]
            else:
                kinds.append("text")
        return kinds + self.column_kinds()

    def column_kinds(self) -> list[str]:
        return (["currency"] if self.currency_column else []) + [COLUMNS[c].type for c in self.columns]

    # --- values -------------------------------------------------------------------------

    def row(self, cells: list[dict], names: Names) -> list:
        values = []
        for grouper, cell in zip(self.group_by, cells, strict=False):
            value = cell["value"]
            if date_period(grouper):
                values.append(dt.date.fromisoformat(value) if value else None)
            elif grouper in NAMED_GROUPERS:
                values += [value, names.get(NAMED_GROUPERS[grouper], value)]
            else:
                values.append("" if value is None else str(value))
        return values + self.column_values(cells[len(self.group_by):])

    def column_values(self, cells: list[dict]) -> list:
        values, currency = [], None
        for cell in cells:
            kind, value = cell["type"], cell["value"]
            if kind == MONEY:
                currency = currency or value["currency"]
                values.append(Decimal(value["amount"]))
            elif kind == PERCENT:
                values.append(Decimal(value))
            else:
                values.append(value)
        if self.currency_column:
            values.insert(0, currency or "")
        return values


def export_filename(query, extension: str) -> str:
    return f"report_{query.date_from.isoformat()}_{query.date_to.isoformat()}.{extension}"


_ID_FILTERS = (("brand_ids[]", "Brand IDs"), ("plan_ids[]", "Commission plan IDs"),
               ("campaign_ids[]", "Campaign IDs"), ("promo_ids[]", "Promo IDs"), ("promo_codes[]", "Promo codes"))


def parameter_summary(params: dict) -> list[tuple[str, str]]:
    """(label, text) pairs saying in words what a stored report's parameters ask for (the
    canonical form reports.services.requested stores)."""

    def listed(name: str) -> list:
        value = params.get(name) or params.get(name.removesuffix("[]")) or []
        return list(value) if isinstance(value, list | tuple) else [value]

    out = [("Period", f"{params.get('from', '?')} – {params.get('to', '?')}")]
    groupers = listed("group_by[]")
    out.append(("Grouped by", ", ".join(grouper_title(g) for g in groupers) if groupers else "nothing (totals only)"))
    out.append(("Columns", ", ".join(column_title(c) for c in listed("columns[]"))))
    for name, label in _ID_FILTERS:
        values = listed(name)
        if values:
            out.append((label, ", ".join(str(v) for v in values)))
    for name, value in params.items():  # dynamic_tags[<param>][] / exclude_dynamic_tags[<param>][]
        kind, _, rest = str(name).partition("[")
        if kind in ("dynamic_tags", "exclude_dynamic_tags") and rest.endswith("][]"):
            values = value if isinstance(value, list | tuple) else [value]
            how = "is one of" if kind == "dynamic_tags" else "is none of"
            out.append((f"Tag {rest[:-3]}", f"{how} {', '.join(str(v) for v in values)}"))
    currency = params.get("conversion_currency")
    if currency:
        rates = params.get("exchange_rates_date")
        out.append(("Currency", f"converted to {currency}" + (f" at the rates of {rates}" if rates else "")))
    else:
        out.append(("Currency", "one row per currency"))
    return out
