"""Portal pages: the affiliate's postbacks (list, new, edit, delete, send test) and the
postbacks log. Every query goes through selectors scoped by request.affiliate."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.errors import CampaignsError
from campaigns.forms_postbacks import PostbackForm, PostbackLogFilterForm
from campaigns.models import PostbackAttempt
from campaigns.postback_templates import BUILTIN_VARIABLES
from campaigns.selectors_postbacks import (
    postback_attempt_list,
    postback_campaign_choices,
    postback_get,
    postback_list,
    postback_promo_choices,
)
from campaigns.services.postbacks import (
    postback_create,
    postback_delete,
    postback_ensure_editable,
    postback_test_send,
    postback_update,
)
from partners.portal import portal_view

LOG_PAGE_SIZE = 50


def _next_url(request, default: str = "campaigns:postbacks"):
    """Where to go back to: a same-site `next` (the campaign or promo page), else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return resolve_url(default) if default else ""


@portal_view
@require_http_methods(["GET"])
def postback_list_view(request):
    return render(request, "campaigns/postbacks/list.html", {
        "postbacks": postback_list(affiliate=request.affiliate),
    })


def _prefill(request) -> dict:
    """Initial values from ?scope=&campaign=&promo= (links on campaign and promo pages);
    anything that is not one of this affiliate's is ignored."""
    initial = {}
    affiliate = request.affiliate
    campaign_id = _int(request.GET.get("campaign"))
    promo_id = _int(request.GET.get("promo"))
    if campaign_id and postback_campaign_choices(affiliate=affiliate).filter(pk=campaign_id).exists():
        initial.update(scope="campaign", campaign=campaign_id)
    if promo_id and postback_promo_choices(affiliate=affiliate).filter(pk=promo_id).exists():
        initial.update(scope="promo", promo=promo_id)
    scope = request.GET.get("scope")
    if scope == "account" or (scope == "campaign" and "campaign" in initial) or (scope == "promo" and "promo" in initial):
        initial["scope"] = scope
    return initial


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _fields(form: PostbackForm) -> dict:
    d = form.cleaned_data
    return {
        "scope": d["scope"], "action": d["action"], "url_template": d["url_template"], "method": d["method"],
        "campaign": d.get("campaign"), "promo": d.get("promo"), "is_active": d.get("is_active", False),
        "generate_secret": d.get("generate_secret", False),
    }


def _form_error(form: PostbackForm, exc: CampaignsError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _saved(request, saved, *, created: bool):
    messages.success(request, f"Postback #{saved.postback.pk} {'created' if created else 'saved'}.")
    for warning in saved.warnings:
        messages.warning(request, warning)
    if saved.secret:
        # Rendered, not redirected: the secret never sits in the session's message store.
        return render(request, "campaigns/postbacks/secret.html", {
            "postback": saved.postback, "secret": saved.secret, "next": _next_url(request),
        })
    return redirect(_next_url(request))


def _form_context(request, form, postback=None) -> dict:
    return {
        "form": form, "postback": postback, "variables": BUILTIN_VARIABLES.items(),
        "next": _next_url(request, default=""),
    }


@portal_view
@require_http_methods(["GET", "POST"])
def postback_create_view(request):
    affiliate = request.affiliate
    if request.method == "POST":
        form = PostbackForm(request.POST, affiliate=affiliate)
        if form.is_valid():
            try:
                saved = postback_create(affiliate=affiliate, **_fields(form))
            except CampaignsError as exc:
                _form_error(form, exc)
            else:
                return _saved(request, saved, created=True)
    else:
        form = PostbackForm(affiliate=affiliate, initial=_prefill(request))
    return render(request, "campaigns/postbacks/form.html", _form_context(request, form))


@portal_view
@require_http_methods(["GET", "POST"])
def postback_edit_view(request, postback_id: int):
    affiliate = request.affiliate
    postback = postback_get(affiliate=affiliate, postback_id=postback_id)
    if request.method == "POST":
        form = PostbackForm(request.POST, affiliate=affiliate, postback=postback)
        if form.is_valid():
            try:
                saved = postback_update(postback=postback, remove_secret=form.cleaned_data.get("remove_secret", False),
                                        **_fields(form))
            except CampaignsError as exc:
                _form_error(form, exc)
            else:
                return _saved(request, saved, created=False)
    else:
        form = PostbackForm(affiliate=affiliate, postback=postback, initial=PostbackForm.initial_for(postback))
    context = _form_context(request, form, postback)
    try:
        postback_ensure_editable(postback)
    except CampaignsError as exc:
        context["locked"] = exc.message  # said up front, before anyone types a change
    return render(request, "campaigns/postbacks/form.html", context)


@portal_view
@require_POST
def postback_delete_view(request, postback_id: int):
    postback = postback_get(affiliate=request.affiliate, postback_id=postback_id)
    number = postback.pk
    try:
        postback_delete(postback=postback)
    except CampaignsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Postback #{number} deleted.")
    return redirect(_next_url(request))


@portal_view
@require_POST
def postback_test_view(request, postback_id: int):
    postback = postback_get(affiliate=request.affiliate, postback_id=postback_id)
    attempt = postback_test_send(postback=postback)
    if attempt.succeeded:
        messages.success(request, f"Test postback #{postback.pk} delivered: HTTP {attempt.response_status} "
                                  f"in {attempt.latency_ms} ms.")
    else:
        code = f"HTTP {attempt.response_status}: " if attempt.response_status else ""
        messages.error(request, f"Test postback #{postback.pk} failed: {code}{attempt.error}")
    return redirect(_next_url(request))


@portal_view
@require_http_methods(["GET"])
def postback_log_view(request):
    params = request.GET.copy()
    params.pop("page", None)
    form = PostbackLogFilterForm(params if any(v for v in params.values()) else None)
    if form.is_bound and not form.is_valid():
        attempts = PostbackAttempt.objects.none()
    else:
        filters = form.filters() if form.is_bound else None
        attempts = postback_attempt_list(affiliate=request.affiliate, filters=filters)
    page_obj = Paginator(attempts, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "campaigns/postbacks/log.html", {
        "form": form, "page_obj": page_obj, "filtered": form.is_bound,
    })

