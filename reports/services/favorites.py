"""Report favorites: saving and deleting an affiliate's report configurations, and the dates a
favorite's period stands for on a given day.

A favorite keeps the report's parameters (API names, lists as lists) without the report
dates; its period is either the fixed dates chosen when it was saved, or a relative period
resolved against today each time it is loaded ("last month" is always the previous calendar
month). The exchange rates date is kept only with fixed dates: a relative favorite converts
at the rates of the day it is loaded. No events-log entry: the events log has no report
events, and favorites are not account changes a manager needs to see.
"""
import datetime as dt

from django.db import IntegrityError, transaction

from backoffice.timeutil import business_today
from reports.engine import ReportQuery
from reports.errors import ReportsError
from reports.models import ReportFavorite

Period = ReportFavorite.Period

# The parameters a favorite keeps (the report dates and the page are not among them).
FAVORITE_PARAMS = (
    "group_by[]", "columns[]", "brand_ids[]", "plan_ids[]", "strategy_ids[]", "campaign_ids[]", "promo_ids[]",
    "promo_codes[]", "conversion_currency", "convert_all_currencies", "exchange_rates_date", "per_page",
)


def period_dates(period: str, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (both included) of a relative period on `today`. Rolling periods
    ("last 7 days") end today; calendar ones ("last week", Monday to Sunday) are whole."""
    day = dt.timedelta(days=1)
    monday = today - dt.timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    match period:
        case Period.TODAY:
            return today, today
        case Period.YESTERDAY:
            return today - day, today - day
        case Period.LAST_7_DAYS:
            return today - 6 * day, today
        case Period.LAST_30_DAYS:
            return today - 29 * day, today
        case Period.THIS_WEEK:
            return monday, today
        case Period.LAST_WEEK:
            return monday - 7 * day, monday - day
        case Period.THIS_MONTH:
            return first_of_month, today
        case Period.LAST_MONTH:
            last = first_of_month - day
            return last.replace(day=1), last
        case Period.THIS_YEAR:
            return today.replace(month=1, day=1), today
        case Period.LAST_YEAR:
            return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    raise ReportsError(f"unknown period {period!r}", field="period")


def favorite_params(favorite: ReportFavorite, *, today: dt.date | None = None) -> dict:
    """The favorite's report parameters with its dates resolved (fixed, or relative to today
    in the program time zone)."""
    if favorite.period == Period.FIXED:
        date_from, date_to = favorite.date_from, favorite.date_to
    else:
        date_from, date_to = period_dates(favorite.period, today=today or business_today())
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), **favorite.params}


def _kept(params: dict, *, period: str) -> dict:
    kept = {name: value for name, value in params.items()
            if name in FAVORITE_PARAMS or name.startswith(("dynamic_tags[", "exclude_dynamic_tags["))}
    if period != Period.FIXED:
        kept.pop("exchange_rates_date", None)
    return kept


@transaction.atomic
def favorite_save(
    *, affiliate, user, name: str, params: dict, period: str = Period.FIXED,
    date_from: dt.date | None = None, date_to: dt.date | None = None, replace: bool = False,
) -> ReportFavorite:
    """Save a report configuration under `name` (unique per affiliate).

    An existing favorite of that name is a ReportsError on `name`, unless `replace` is set, in
    which case it takes the new configuration. The parameters are checked as a report would
    check them (ReportsError naming the parameter), so a favorite always loads.
    """
    name = (name or "").strip()
    if not name:
        raise ReportsError("Give the favorite a name.", field="name")
    if len(name) > ReportFavorite._meta.get_field("name").max_length:
        raise ReportsError("The name is too long (at most 120 characters).", field="name")
    if period not in Period.values:
        raise ReportsError(f"Choose a period; {str(period)[:30]!r} is not one.", field="period")
    if period == Period.FIXED:
        if date_from is None or date_to is None:
            raise ReportsError("Fixed dates need both a start and an end date.", field="period")
    else:
        date_from = date_to = None
    kept = _kept(params, period=period)
    check_from, check_to = (
        (date_from, date_to) if period == Period.FIXED else period_dates(period, today=business_today())
    )
    ReportQuery.from_params({**kept, "from": check_from.isoformat(), "to": check_to.isoformat()})

    existing = ReportFavorite.objects.select_for_update().filter(affiliate=affiliate, name=name).first()
    if existing is not None:
        if not replace:
            raise ReportsError(
                f"You already have a favorite named “{name}”. Choose another name, or tick "
                "“Replace my favorite with this name”.", field="name", code="duplicate",
            )
        existing.params, existing.period = kept, period
        existing.date_from, existing.date_to, existing.created_by = date_from, date_to, user
        existing.save(update_fields=["params", "period", "date_from", "date_to", "created_by"])
        return existing
    try:
        with transaction.atomic():
            return ReportFavorite.objects.create(
                affiliate=affiliate, created_by=user, name=name, params=kept, period=period,
                date_from=date_from, date_to=date_to,
            )
    except IntegrityError:
        # Saved under the same name at the same moment (another tab): the same answer as above.
        raise ReportsError(f"You already have a favorite named “{name}”.", field="name",
                           code="duplicate") from None


def favorite_delete(*, favorite: ReportFavorite) -> None:
    favorite.delete()
