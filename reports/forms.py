"""The report page's parameters and forms.

The page's query string uses the Report API's parameter names (`from`, `to`, `group_by[]`,
`columns[]`, `brand_ids[]` ...), so a report URL can be shared, and the same string gives the
same report through the API. reports.engine.ReportQuery.from_params reads it; this module adds
what only the page needs:

- one rule for the currency controls: the page submits `convert_all_currencies=0` (a hidden
  input) before the checkbox's `1`, and the last value wins; an explicit "off" means the
  currency select (always submitted) is not a conversion request. Without that parameter the
  API's meaning holds: `conversion_currency` alone converts.
- a check that every id or promo code filtered on is the acting affiliate's own;
- the "Tag filter" row (`tag_filter_param`, `tag_filter_values` comma-separated,
  `tag_filter_mode` include/exclude), turned into the API's `dynamic_tags[<param>][]` /
  `exclude_dynamic_tags[<param>][]` (a plain GET form cannot name an input after a chosen
  parameter); filters already applied come back as checkboxes under their API names;
- the canonical parameters of a query (`report_params`), used for export and feed links,
  favorites and requested reports;
- labels of columns and groupers (those of the exported files, reports.exports.layout), and
  the favorite form.
"""
from django import forms

from reports.columns import COLUMNS
from reports.engine import ReportQuery
from reports.engine.query import (
    DEFAULT_PER_PAGE,
    DYNAMIC_TAG_PARAM_RE,
    DYNAMIC_TAG_PREFIX,
    MAX_TAG_VALUES,
    tag_filter_params,
)
from reports.errors import ReportsError
from reports.exports.layout import column_title, grouper_title
from reports.models import ReportFavorite

PER_PAGE_CHOICES = (25, 50, 100, 250, 500)
_OFF = ("0", "false", "no", "off", "")

# Where each engine error field is shown on the page (the rest go above the form).
ERROR_PLACES = {
    "from": "dates", "to": "dates", "group_by[]": "group_by", "columns[]": "columns",
    "brand_ids[]": "brands", "plan_ids[]": "plans", "strategy_ids[]": "plans", "campaign_ids[]": "campaigns",
    "promo_ids[]": "promos", "promo_codes[]": "promo_codes", "conversion_currency": "currency",
    "exchange_rates_date": "currency", "per_page": "per_page", "page": "per_page",
}
TAG_FILTER_FIELDS = ("tag_filter_param", "tag_filter_values", "tag_filter_mode")
TAG_MODES = {"include": "dynamic_tags", "exclude": "exclude_dynamic_tags"}


def error_place(field: str | None) -> str:
    """Where the page shows an engine error about `field`."""
    field = field or ""
    if field in TAG_FILTER_FIELDS or field.startswith(("dynamic_tags", "exclude_dynamic_tags")):
        return "tags"
    return ERROR_PLACES.get(field, "general")


def column_label(name: str) -> str:
    """The title of a column, the same on the page and in the exported files."""
    return column_title(name)


def grouper_label(name: str) -> str:
    """The title of a grouper (a dynamic tag is its parameter's name, as in the files)."""
    return grouper_title(name)


def grouper_choice_label(name: str) -> str:
    """A grouper in the "Group by" choices, where tags stand beside the fixed groupers."""
    if name.startswith(DYNAMIC_TAG_PREFIX):
        return f"Tag: {grouper_title(name)}"
    return grouper_title(name)


# --- reading the page's parameters -----------------------------------------------------------

def raw_list(params, name: str) -> list[str]:
    """The values of a list parameter as sent (name[] or name, comma-separated), unchecked:
    what the controls show back, also when the engine refused them."""
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        values = getlist(f"{name}[]") + getlist(name)
    else:
        value = params.get(f"{name}[]", params.get(name, []))
        values = list(value) if isinstance(value, list | tuple) else [value]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def raw_value(params, name: str) -> str:
    values = raw_list(params, name)
    return values[-1] if values else ""


def last_value(params, name: str) -> str:
    """The last value of a plain parameter, whole (no comma split), stripped."""
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist is not None else params.get(name, [])
    values = list(values) if isinstance(values, list | tuple) else [values]
    return str(values[-1]).strip() if values else ""


def conversion_switched_off(params) -> bool:
    getlist = getattr(params, "getlist", None)
    values = getlist("convert_all_currencies") if getlist else raw_list(params, "convert_all_currencies")
    if not values:
        return False
    return str(values[-1]).strip().lower() in _OFF


def page_query(params, *, choices) -> ReportQuery:
    """The ReportQuery of the page's parameters; ReportsError(field=...) for the first wrong
    one, including ids and promo codes that are not the affiliate's own (`choices`,
    reports.selectors.report_filter_choices)."""
    if conversion_switched_off(params):
        params = params.copy()
        for name in ("conversion_currency", "conversion_currency[]"):
            params.pop(name, None)
    params = _with_new_tag_filter(params)
    query = ReportQuery.from_params(params)
    _check_own(query.brand_ids, {pk for pk, _ in choices.brands}, "brand_ids[]", "brand")
    _check_own(query.plan_ids, {pk for pk, _ in choices.plans}, "plan_ids[]", "commission plan")
    _check_own(query.campaign_ids, {pk for pk, _ in choices.campaigns}, "campaign_ids[]", "campaign")
    _check_own(query.promo_ids, {pk for pk, _ in choices.promos}, "promo_ids[]", "promo")
    own_codes = {code.lower() for code in choices.promo_codes}
    for code in query.promo_codes:
        if code.lower() not in own_codes:
            raise ReportsError(f"{code[:30]!r} is not a promo code of your promos", field="promo_codes[]")
    return query


def _with_new_tag_filter(params):
    """`params` with the "Tag filter" row added as dynamic_tags[<param>][] (or exclude_...)."""
    name = last_value(params, "tag_filter_param")
    values = [value.strip() for value in last_value(params, "tag_filter_values").split(",") if value.strip()]
    if not name and not values:
        return params
    if not name:
        raise ReportsError("choose the tag (the tracking-link parameter) these values are of",
                           field="tag_filter_param")
    if not DYNAMIC_TAG_PARAM_RE.fullmatch(name):
        raise ReportsError(f"{name[:40]!r} is not a tracking-link parameter name (letters, digits, _ and -)",
                           field="tag_filter_param")
    if not values:
        raise ReportsError(f"give one or more values of {name} (comma-separated)", field="tag_filter_values")
    if len(values) > MAX_TAG_VALUES:
        raise ReportsError(f"at most {MAX_TAG_VALUES} values per tag", field="tag_filter_values")
    mode = last_value(params, "tag_filter_mode") or "include"
    if mode not in TAG_MODES:
        raise ReportsError("choose include or exclude", field="tag_filter_mode")
    params = params.copy()
    key = f"{TAG_MODES[mode]}[{name}][]"
    if hasattr(params, "setlist"):
        params.setlist(key, params.getlist(key) + values)
    else:
        existing = params.get(key, [])
        params[key] = [*(existing if isinstance(existing, list | tuple) else [existing]), *values]
    for field in TAG_FILTER_FIELDS:
        params.pop(field, None)
    return params


def tag_filter_controls(params, query: ReportQuery | None) -> list[dict]:
    """The tag filters applied (or, when the query was refused, sent): one entry per tag and
    mode, each value a ticked checkbox under the API name, so unticking drops it."""
    if query is not None:
        applied = tag_filter_params(query)
    else:
        applied = {}
        for key in params:
            if str(key).startswith(("dynamic_tags[", "exclude_dynamic_tags[")) and str(key).endswith("][]"):
                getlist = getattr(params, "getlist", None)
                values = getlist(key) if getlist else params[key]
                applied[str(key)] = [str(v) for v in (values if isinstance(values, list | tuple) else [values])]
    out = []
    for key, values in applied.items():
        kind, _, rest = key.partition("[")
        out.append({"key": key, "name": rest[:-3], "how": "is one of" if kind == "dynamic_tags" else "is none of",
                    "exclude": kind != "dynamic_tags", "values": values})
    return out


def _check_own(ids: list[int], own: set[int], field: str, noun: str) -> None:
    for pk in ids:
        if pk not in own:
            raise ReportsError(f"#{pk} is not one of your {noun}s", field=field)


def report_currency(query: ReportQuery, *, affiliate) -> str | None:
    """The currency the report is converted to, or None (one row per currency)."""
    if query.conversion_currency:
        return query.conversion_currency
    return affiliate.default_report_currency if query.convert_all_currencies else None


def report_params(query: ReportQuery, *, affiliate, dates: bool = True) -> dict:
    """The canonical parameters of `query` (API names, lists as lists), without the page.

    A converted report names its currency explicitly, so a favorite or a feed keeps the
    currency it was made in even if the default report currency changes later (the manual)."""
    params: dict = {}
    if dates:
        params["from"], params["to"] = query.date_from.isoformat(), query.date_to.isoformat()
    if query.group_by:
        params["group_by[]"] = list(query.group_by)
    params["columns[]"] = list(query.columns)
    for key, values in (("brand_ids[]", query.brand_ids), ("plan_ids[]", query.plan_ids),
                        ("campaign_ids[]", query.campaign_ids), ("promo_ids[]", query.promo_ids),
                        ("promo_codes[]", query.promo_codes)):
        if values:
            params[key] = list(values)
    params.update(tag_filter_params(query))
    currency = report_currency(query, affiliate=affiliate)
    if currency:
        params["conversion_currency"] = currency
        params["convert_all_currencies"] = "1"
    if query.rates_date:
        params["exchange_rates_date"] = query.rates_date.isoformat()
    if query.per_page != DEFAULT_PER_PAGE:
        params["per_page"] = str(query.per_page)
    return params


def param_pairs(params: dict) -> list[tuple[str, str]]:
    """(name, value) pairs of a parameters dict, lists expanded: hidden inputs of a form."""
    pairs = []
    for name, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((name, str(item)))
    return pairs


def columns_in_order(chosen: list[str]) -> list[dict]:
    """Every column, the chosen ones first in their chosen order: the column chooser's list."""
    known = [name for name in chosen if name in COLUMNS]
    rest = [name for name in COLUMNS if name not in known]
    return [{"name": name, "label": column_label(name), "description": COLUMNS[name].description,
             "checked": name in known} for name in known + rest]


# --- forms ----------------------------------------------------------------------------------

class FavoriteForm(forms.Form):
    name = forms.CharField(label="Favorite name", max_length=120)
    period = forms.ChoiceField(
        label="Period", choices=ReportFavorite.Period.choices, initial=ReportFavorite.Period.FIXED,
        help_text="Fixed dates keep the dates chosen above; a relative period moves with today.",
    )
    replace = forms.BooleanField(label="Replace my favorite with this name", required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "favorite_%s")  # the page has two forms with a name field
        super().__init__(*args, **kwargs)
