"""The report page (/partner/reports), its sub-affiliates tab and report favorites.

The page is a GET form whose query string uses the Report API's parameter names
(reports.forms), so the URL can be shared and gives the same figures as the API. It runs one
report through reports.engine for the acting affiliate; a parameter the engine refuses is shown
next to its control, never a 500. A report with more grouped rows than REPORT_PAGE_MAX_ROWS is
not rendered: the page offers to have it built as a file (a requested report) instead.

Export, feed and request-as-file links point at routes of reports.views.files; each control
is shown only once its route exists (`_url_or_none`).
"""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backoffice.money import CURRENCIES
from backoffice.timeutil import business_today
from partners.portal import portal_view
from partners.services.tokens import statistic_token_ensure, statistic_token_reveal
from reports import selectors
from reports.columns import DEFAULT_COLUMNS
from reports.engine import attributes, report_run
from reports.engine.query import (
    DATE_GROUPERS,
    DEFAULT_PER_PAGE,
    DYNAMIC_TAG_PREFIX,
    check_range,
    parse_date,
)
from reports.errors import ReportsError
from reports.forms import (
    PER_PAGE_CHOICES,
    TAG_MODES,
    FavoriteForm,
    columns_in_order,
    conversion_switched_off,
    error_place,
    grouper_choice_label,
    grouper_label,
    last_value,
    page_query,
    param_pairs,
    raw_list,
    raw_value,
    report_currency,
    report_params,
    tag_filter_controls,
)
from reports.models import ReportFavorite
from reports.services.favorites import favorite_delete, favorite_params, favorite_save
from reports.views.report_table import ReportPager, report_table

REPORT_PAGE_MAX_ROWS = 50_000
FAVORITES_ON_PAGE = 5
FAVORITES_PER_PAGE = 25
SUBAFFILIATES_PER_PAGE = 50
EXPORT_FORMATS = (("csv", "CSV"), ("xlsx", "XLSX"), ("json", "JSON"), ("xml", "XML"))
FEED_FORMATS = (("json", "JSON"), ("xml", "XML"))


def _url_or_none(name: str, *args, **kwargs) -> str | None:
    """The route's URL, or None while it does not exist (routes built in parallel)."""
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def _with_query(url: str, params: dict) -> str:
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def _max_rows() -> int:
    return getattr(settings, "REPORT_PAGE_MAX_ROWS", REPORT_PAGE_MAX_ROWS)


# --- the report page --------------------------------------------------------------------------

@never_cache  # the feed links carry the reader's statistic token
@portal_view
@require_GET
def report_view(request):
    return _report_page(request, request.GET)


def _report_page(request, params, *, favorite_form=None):
    """Render the report page for `params` (the query string, or a POST re-shown with errors)."""
    affiliate = request.affiliate
    choices = selectors.report_filter_choices(affiliate=affiliate)
    errors: dict[str, str] = {}
    query = result = None
    try:
        query = page_query(params, choices=choices)
        # Counted first: a report past the limit is never computed for the page.
        if selectors.report_groups_count(affiliate=affiliate, query=query, limit=_max_rows()) <= _max_rows():
            result = report_run(affiliate=affiliate, query=query)
    except ReportsError as error:
        errors[error_place(error.field)] = error.message
        query = result = None
    context = {
        "controls": _controls(params, affiliate=affiliate, choices=choices, query=query),
        "errors": errors,
        "too_large": query is not None and result is None,
        "max_rows": _max_rows(),
        "has_subaffiliates": selectors.subaffiliates_exist(affiliate=affiliate),
        "favorites": list(selectors.favorite_list(affiliate=affiliate)[:FAVORITES_ON_PAGE + 1]),
        "favorites_on_page": FAVORITES_ON_PAGE,
        "show_pagination": request.method == "GET",
    }
    if result is not None:
        context["table"] = report_table(query=query, result=result)
        context["page_obj"] = ReportPager(result.current_page, result.total_pages)
    if query is not None:
        context.update(_file_controls(request, query=query))
        context["favorite_form"] = favorite_form or FavoriteForm()
    return render(request, "reports/report.html", context)


def _controls(params, *, affiliate, choices, query) -> dict:
    """What the form shows: the submitted values (also when refused), or the defaults."""
    today = business_today()
    available = attributes(affiliate=affiliate)["available_groupers"]
    chosen_groupers = set(raw_list(params, "group_by"))
    chosen_columns = list(query.columns) if query else (raw_list(params, "columns") or list(DEFAULT_COLUMNS))
    if query is not None:
        currency = report_currency(query, affiliate=affiliate)
        convert = currency is not None
    else:
        wanted = raw_value(params, "conversion_currency").upper()
        currency = wanted if wanted in CURRENCIES else None
        convert = not conversion_switched_off(params) and bool(
            currency or raw_value(params, "convert_all_currencies").lower() in ("1", "true", "yes"))
    selected = {
        "brands": set(raw_list(params, "brand_ids")),
        "plans": set(raw_list(params, "plan_ids") + raw_list(params, "strategy_ids")),
        "campaigns": set(raw_list(params, "campaign_ids")),
        "promos": set(raw_list(params, "promo_ids")),
        "promo_codes": {code.lower() for code in raw_list(params, "promo_codes")},
    }

    # A valid per_page of a shared URL (the API takes 1..1000) stays among the choices.
    per_page = query.per_page if query is not None else DEFAULT_PER_PAGE

    def options(pairs, key):
        return [{"value": str(value), "label": label, "selected": str(value) in selected[key]}
                for value, label in pairs]

    return {
        "date_from": raw_value(params, "from") or today.replace(day=1).isoformat(),
        "date_to": raw_value(params, "to") or today.isoformat(),
        "brands": options(choices.brands, "brands"),
        "plans": options(choices.plans, "plans"),
        "campaigns": options(choices.campaigns, "campaigns"),
        "promos": options(choices.promos, "promos"),
        "promo_codes": [{"value": code, "label": code, "selected": code.lower() in selected["promo_codes"]}
                        for code in choices.promo_codes],
        "periods": [{"value": g, "label": grouper_choice_label(g), "checked": g in chosen_groupers}
                    for g in available if g in DATE_GROUPERS],
        "no_period": not (chosen_groupers & set(DATE_GROUPERS)),
        "groupers": [{"value": g, "label": grouper_choice_label(g), "checked": g in chosen_groupers}
                     for g in available if g not in DATE_GROUPERS],
        "columns": columns_in_order(chosen_columns),
        "convert": convert,
        "currencies": list(CURRENCIES),
        "currency": currency or affiliate.default_report_currency,
        "rates_date": raw_value(params, "exchange_rates_date"),
        "per_page_choices": sorted({*PER_PAGE_CHOICES, per_page}),
        "per_page": per_page,
        # Tag filters: the names of the custom parameters seen on the affiliate's clicks, the
        # filters applied, and the "add" row (blank once applied, shown back when refused).
        "tag_names": [g.removeprefix(DYNAMIC_TAG_PREFIX) for g in available if g.startswith(DYNAMIC_TAG_PREFIX)],
        "tag_filters": tag_filter_controls(params, query),
        "tag_new": {name: ("" if query is not None else last_value(params, f"tag_filter_{name}"))
                    for name in ("param", "values", "mode")},
        "tag_modes": list(TAG_MODES),
    }


def _file_controls(request, *, query) -> dict:
    """Export links, token feed links, request-as-file and favorite forms of a valid report."""
    affiliate = request.affiliate
    params = report_params(query, affiliate=affiliate)
    exports = []
    for fmt, label in EXPORT_FORMATS:
        url = _url_or_none("reports:export", fmt=fmt)
        if url:
            exports.append({"fmt": fmt, "label": label, "url": _with_query(url, params)})
    feeds = []
    feed_urls = {fmt: _url_or_none("reports:feed", fmt=fmt) for fmt, _ in FEED_FORMATS}
    if any(feed_urls.values()):
        # Reading first spares a row lock on every page view; the first visit issues one.
        token = statistic_token_reveal(request.user) or statistic_token_ensure(user=request.user)
        for fmt, label in FEED_FORMATS:
            if feed_urls[fmt] and token:
                url = _with_query(feed_urls[fmt], {**params, "token": token})
                feeds.append({"fmt": fmt, "label": label, "url": request.build_absolute_uri(url)})
    return {
        "params": params,
        "hidden_params": param_pairs(params),
        "exports": exports,
        "feeds": feeds,
        "request_url": _url_or_none("reports:request_report"),
    }


# --- favorites ---------------------------------------------------------------------------------

@portal_view
@require_POST
def favorite_save_view(request):
    affiliate = request.affiliate
    form = FavoriteForm(request.POST)
    try:
        query = page_query(request.POST, choices=selectors.report_filter_choices(affiliate=affiliate))
    except ReportsError as error:
        messages.error(request, f"The favorite was not saved: {error.message}")
        return redirect("reports:report")
    if form.is_valid():
        try:
            favorite = favorite_save(
                affiliate=affiliate, user=request.user, name=form.cleaned_data["name"],
                params=report_params(query, affiliate=affiliate, dates=False),
                period=form.cleaned_data["period"], date_from=query.date_from, date_to=query.date_to,
                replace=form.cleaned_data["replace"],
            )
        except ReportsError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Saved as your favorite “{favorite.name}”.")
            return redirect("reports:report_favorite_load", favorite_id=favorite.pk)
    return _report_page(request, request.POST, favorite_form=form)


@portal_view
@require_GET
def favorite_list_view(request):
    affiliate = request.affiliate
    page = Paginator(selectors.favorite_list(affiliate=affiliate), FAVORITES_PER_PAGE).get_page(request.GET.get("page"))
    today = business_today()
    export_url = _url_or_none("reports:export", fmt="xlsx")
    request_url = _url_or_none("reports:request_report")
    for favorite in page:
        params = favorite_params(favorite, today=today)
        favorite.resolved = (params["from"], params["to"])
        favorite.group_by_labels = [grouper_label(g) for g in params.get("group_by[]", [])]
        favorite.columns_count = len(params.get("columns[]", []))
        favorite.currency = params.get("conversion_currency")
        favorite.download_url = _with_query(export_url, params) if export_url else None
        favorite.request_url = _with_query(request_url, {**params, "favorite": favorite.pk}) if request_url else None
    return render(request, "reports/favorite_list.html", {
        "page_obj": page, "fixed": ReportFavorite.Period.FIXED,
        "has_subaffiliates": selectors.subaffiliates_exist(affiliate=affiliate),
    })


def _favorite_or_404(request, favorite_id: int) -> ReportFavorite:
    favorite = selectors.favorite_get(affiliate=request.affiliate, favorite_id=favorite_id)
    if favorite is None:
        raise Http404("No such favorite.")
    return favorite


@portal_view
@require_GET
def favorite_load_view(request, favorite_id: int):
    favorite = _favorite_or_404(request, favorite_id)
    return redirect(_with_query(reverse("reports:report"), favorite_params(favorite)))


@portal_view
@require_POST
def favorite_delete_view(request, favorite_id: int):
    favorite = _favorite_or_404(request, favorite_id)
    favorite_delete(favorite=favorite)
    messages.success(request, f"Favorite “{favorite.name}” deleted.")
    return redirect("reports:report_favorites")


# --- sub-affiliates -----------------------------------------------------------------------------

@portal_view
@require_GET
def report_subaffiliates_view(request):
    affiliate = request.affiliate
    if not selectors.subaffiliates_exist(affiliate=affiliate):
        raise Http404("You have no sub-affiliates.")
    today = business_today()
    date_from, date_to, errors = today.replace(day=1), today, {}
    try:
        date_from = parse_date(request.GET, "from", default=date_from)
        date_to = parse_date(request.GET, "to", default=date_to)
        check_range(date_from, date_to)
    except ReportsError as error:
        errors["dates"] = error.message
        date_from, date_to = today.replace(day=1), today
    page = Paginator(selectors.subaffiliate_connections(affiliate=affiliate), SUBAFFILIATES_PER_PAGE).get_page(
        request.GET.get("page"))
    connections = list(page.object_list)
    activity = selectors.subaffiliate_activity(connections=connections, date_from=date_from, date_to=date_to)
    commission = selectors.subaffiliate_commission(connections=connections)
    rows = [{"connection": c, "activity": activity.get(c.child_id, []), "commission": commission[c.pk]}
            for c in connections]
    return render(request, "reports/report_subaffiliates.html", {
        "rows": rows, "page_obj": page, "errors": errors, "has_subaffiliates": True,
        "date_from": raw_value(request.GET, "from") or date_from.isoformat(),
        "date_to": raw_value(request.GET, "to") or date_to.isoformat(),
        "range": (date_from, date_to),
    })


urlpatterns = [
    path("reports", report_view, name="report"),
    path("reports/subaffiliates", report_subaffiliates_view, name="report_subaffiliates"),
    path("reports/favorites", favorite_list_view, name="report_favorites"),
    path("reports/favorites/new", favorite_save_view, name="report_favorite_save"),
    path("reports/favorites/<int:favorite_id>", favorite_load_view, name="report_favorite_load"),
    path("reports/favorites/<int:favorite_id>/delete", favorite_delete_view, name="report_favorite_delete"),
]
