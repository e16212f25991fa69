"""Reads of the report page, its sub-affiliates tab and report favorites, each scoped to the
acting affiliate: the filter choices the page offers, a cheap count of a report's groups (to
tell a report too large for the page), favorites, and sub-affiliates with their activity.

The report itself is reports.engine.report_run; nothing here computes report values.
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum

from backoffice.money import CURRENCIES, quantize
from campaigns.models import Brand, PartnerConnection
from campaigns.selectors import campaigns_of, commission_plans_used, partner_connections, promos_of
from reports.columns import COLUMNS, MONEY, sources_of
from reports.engine import players
from reports.engine.players import needs_raw
from reports.engine.query import DATE_GROUPERS
from reports.engine.report import _base_queryset, _grouped
from reports.models import DailyStat, ReportFavorite


@dataclass
class ReportChoices:
    """What the report filters offer an affiliate: (id, label) pairs of its own objects."""

    brands: list[tuple[int, str]]
    plans: list[tuple[int, str]]
    campaigns: list[tuple[int, str]]
    promos: list[tuple[int, str]]
    promo_codes: list[str]


def report_filter_choices(*, affiliate) -> ReportChoices:
    campaigns = list(campaigns_of(affiliate=affiliate).order_by("name", "pk"))
    brand_ids = {c.brand_id for c in campaigns}
    promos = list(promos_of(affiliate=affiliate).order_by("campaign__name", "title", "pk"))
    return ReportChoices(
        brands=[(b.pk, b.name) for b in Brand.objects.filter(pk__in=brand_ids).order_by("name", "pk")],
        plans=[(p.pk, p.name) for p in commission_plans_used(affiliate=affiliate)],
        campaigns=[(c.pk, f"{c.name} (#{c.pk})") for c in campaigns],
        promos=[(p.pk, f"{p.title} (#{p.pk}, {p.campaign.name})") for p in promos],
        promo_codes=sorted({p.promo_code for p in promos if p.promo_code}, key=str.lower),
    )


# --- how many rows a report has -----------------------------------------------------------

def report_groups_count(*, affiliate, query, limit: int) -> int:
    """The number of grouped rows `query` gives, counted without fetching them and capped at
    limit + 1 (the database stops there): enough to tell whether a report fits the page. A
    report grouped only by period gets an upper bound instead of a count when that fits.

    For the groupers only the raw tables know (player, player_country, cohorts, dynamic tags)
    and for tag filters it is the largest count of one raw table's groups, a lower bound of the
    merged rows (reports.engine.players refuses a report past REPORT_MAX_RAW_GROUPS merged ones).
    """
    if not query.group_by:
        return 1
    if set(query.group_by) <= set(DATE_GROUPERS):
        # At most one row per day and currency: no count needed to know it fits.
        days = (query.date_to - query.date_from).days + 1
        if days * len(CURRENCIES) <= limit:
            return days * len(CURRENCIES)
    if needs_raw(query):
        return _raw_groups_count(affiliate=affiliate, query=query, limit=limit)
    converted = bool(query.conversion_currency or query.convert_all_currencies)
    by_currency = not converted and any(COLUMNS[c].type == MONEY for c in query.columns)
    grouped, _ = _grouped(_base_queryset(affiliate=affiliate, query=query), groupers=query.group_by,
                          by_currency=by_currency, sources=[])
    return grouped.order_by().distinct()[:limit + 1].count()


def _raw_groups_count(*, affiliate, query, limit: int) -> int:
    # Reads the engine's internals (reports.engine.players), as reports.engine.iteration does:
    # the same tables, filters and group annotations as raw_report_run, without the sums.
    players._check(query)  # the error the report would raise, before counting anything
    wanted = {source for name in query.columns for source in COLUMNS[name].sources}
    largest = 0
    for kind, gives in players._GIVES.items():
        if not wanted & gives:
            continue
        qs, tz = players._queryset(kind, affiliate=affiliate, query=query)
        annotations = players._group_annotations(kind, query, tz)
        count = qs.annotate(**annotations).values(*annotations).order_by().distinct()[:limit + 1].count()
        largest = max(largest, count)
    return largest


# --- favorites --------------------------------------------------------------------------------

def favorite_list(*, affiliate) -> QuerySet[ReportFavorite]:
    return ReportFavorite.objects.filter(affiliate=affiliate).select_related("created_by").order_by("name", "pk")


def favorite_get(*, affiliate, favorite_id: int) -> ReportFavorite | None:
    return ReportFavorite.objects.filter(affiliate=affiliate, pk=favorite_id).first()


# --- sub-affiliates ---------------------------------------------------------------------------

SUBAFFILIATE_COLUMNS = ("registrations_count", "first_deposits_count", "deposits_sum", "ngr")


@dataclass
class SubAffiliateActivity:
    """One currency of a sub-affiliate's activity over a range (column name -> value)."""

    currency: str
    values: dict = field(default_factory=dict)


def subaffiliates_exist(*, affiliate) -> bool:
    return PartnerConnection.objects.filter(parent=affiliate).exists()


def subaffiliate_connections(*, affiliate) -> QuerySet[PartnerConnection]:
    """The affiliate's sub-affiliates, every level (campaigns.selectors.partner_connections)."""
    return partner_connections(affiliate=affiliate)


def subaffiliate_activity(*, connections, date_from: dt.date, date_to: dt.date) -> dict[int, list[SubAffiliateActivity]]:
    """child affiliate id -> its activity per currency over the days (both ends included), from
    the rollups of the sub-affiliate's own account. Only the given connections' children are
    read, so the caller's scope (its own connections) is the scope here."""
    child_ids = {c.child_id for c in connections}
    if not child_ids:
        return {}
    sources = sources_of(list(SUBAFFILIATE_COLUMNS))
    rows = (
        DailyStat.objects.filter(affiliate_id__in=child_ids, date__gte=date_from, date__lte=date_to)
        .values("affiliate_id", "currency")
        .annotate(**{f"s_{s}": Sum(s) for s in sources})
        .order_by("affiliate_id", "currency")
    )
    out: dict[int, list[SubAffiliateActivity]] = {}
    for row in rows:
        sums = {s: row[f"s_{s}"] or 0 for s in sources}
        values = {}
        for name in SUBAFFILIATE_COLUMNS:
            value = COLUMNS[name].compute(sums)
            if COLUMNS[name].type == MONEY:
                # SQLite may hand a sum back as a float: through str, never Decimal(float).
                values[name] = quantize(Decimal(str(value)), row["currency"])
            else:
                values[name] = int(value)
        out.setdefault(row["affiliate_id"], []).append(SubAffiliateActivity(row["currency"], values))
    return out


def subaffiliate_commission(*, connections) -> dict[int, str]:
    """connection id -> what the parent earns on that sub-affiliate: the sub-affiliate level
    percent of the commission plan of the campaign the connection came through."""
    from billing.models import SubAffiliateLevel

    plan_ids = {c.campaign.commission_plan_id for c in connections if c.campaign_id}
    percents = {
        (level.plan_id, level.level): level.percent
        for level in SubAffiliateLevel.objects.filter(plan_id__in=plan_ids)
    }
    out = {}
    for connection in connections:
        if not connection.campaign_id:
            out[connection.pk] = "—"
            continue
        plan = connection.campaign.commission_plan
        percent = percents.get((plan.pk, connection.level))
        if percent is None:
            out[connection.pk] = f"{plan.name}: no commission on level {connection.level}"
        else:
            out[connection.pk] = f"{plan.name}: {percent.normalize():f}% of level {connection.level} income"
    return out
