"""How a report's groups become wire cells (api-facts §1): grouper cells, column cells (money
as {"amount", "amount_cents", "currency"} rounded half-up to the currency's places only here,
percent with 2 places, integers), and the `relations` naming the ids of the page's groups.
Used by reports.engine.report and the engines built on it (players, traffic, iteration),
which import these through reports.engine.report."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from backoffice.money import places as currency_places
from reports.columns import COLUMNS, INTEGER, MONEY, PERCENT, Terms
from reports.engine.query import COHORT_GROUPERS, DATE_GROUPERS, DIMENSION_GROUPERS

# The cell name of a cohort grouper (the period of the player's sign-up / first deposit).
COHORT_CELLS = {"sign_up_at": "sign_up_at", "first_deposit_at": "first_deposit_at"}

_EXPONENTS: dict[str, tuple[Decimal, int]] = {}


def _money(amount: Decimal, currency: str) -> dict:
    # Same rounding as backoffice.money.quantize (half-up to the currency's places), inlined:
    # a report renders thousands of these.
    exponent = _EXPONENTS.get(currency)
    if exponent is None:
        exponent = _EXPONENTS[currency] = (Decimal(1).scaleb(-currency_places(currency)), currency_places(currency))
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    amount = Decimal(amount).quantize(exponent[0], rounding=ROUND_HALF_UP)
    cents_text = format(amount.scaleb(exponent[1]), "f")
    if "." not in cents_text:
        cents_text += ".0"
    return {"amount": format(amount, "f"), "amount_cents": cents_text, "currency": currency}


_HUNDREDTH = Decimal("0.01")


def _cell(name: str, kind: str, value, currency: str | None) -> dict:
    if kind == MONEY:
        value = _money(value, currency or "EUR")
    elif kind == PERCENT:
        value = format(Decimal(value).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP), "f")
    else:
        value = int(value)
    return {"name": name, "value": value, "type": kind}


def _column_cells(columns: list[str], sums: dict, currency: str | None) -> list[dict]:
    """Cells of `columns` from the sums of their counters (`sources_of`)."""
    return [_cell(name, COLUMNS[name].type, COLUMNS[name].compute(sums), currency) for name in columns]


def _term_cells(terms: Terms, values: list, currency: str | None) -> list[dict]:
    """Cells of the columns of `terms` from the term values of one row."""
    named = dict(zip(terms.names, values, strict=True))
    return [_cell(name, column.type, named[term] if term else column.compute(named), currency)
            for name, term, column in terms.columns]


def _grouper_cells(groupers: list[str], key: tuple) -> list[dict]:
    cells = []
    for grouper, value in zip(groupers, key, strict=False):
        if grouper in DATE_GROUPERS:
            if isinstance(value, dt.datetime):
                value = value.date()
            cells.append({"name": "date", "value": value.isoformat(), "type": "date"})
        elif grouper in COHORT_GROUPERS:
            # The period's first day; null for the players without one (no first deposit yet).
            if isinstance(value, dt.datetime):
                value = value.date()
            cells.append({"name": COHORT_CELLS[COHORT_GROUPERS[grouper][0]],
                          "value": value.isoformat() if value else None, "type": "date"})
        else:
            cells.append({"name": grouper, "value": value, "type": INTEGER if isinstance(value, int) else "string"})
    return cells


def _relations(groupers: list[str], keys: list[tuple]) -> dict[str, list[dict]]:
    from billing.models import CommissionPlan
    from campaigns.models import Brand, Campaign, Promo

    relations: dict[str, list[dict]] = {"campaigns": []}
    ids: dict[str, set] = {g: set() for g in groupers if g in DIMENSION_GROUPERS}
    for key in keys:
        for grouper, value in zip(groupers, key, strict=False):
            if grouper in ids:
                ids[grouper].add(value)
    if ids.get("campaign"):
        relations["campaigns"] = [
            {"id": pk, "name": name, "strategy": strategy}
            for pk, name, strategy in Campaign.objects.filter(pk__in=ids["campaign"]).order_by("pk")
            .values_list("pk", "name", "commission_plan__name")
        ]
    if ids.get("brand"):
        relations["brands"] = [{"id": pk, "name": name} for pk, name in
                               Brand.objects.filter(pk__in=ids["brand"]).order_by("pk").values_list("pk", "name")]
    if ids.get("promo"):
        relations["promos"] = [{"id": p.pk, "name": p.title, "code": p.code, "campaign_id": p.campaign_id}
                               for p in Promo.objects.filter(pk__in=ids["promo"]).order_by("pk")]
    if ids.get("strategy"):
        relations["strategies"] = [{"id": pk, "name": name, "kind": kind} for pk, name, kind in
                                   CommissionPlan.objects.filter(pk__in=ids["strategy"]).order_by("pk")
                                   .values_list("pk", "name", "kind")]
    return relations
