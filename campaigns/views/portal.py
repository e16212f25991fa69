"""Portal pages of campaigns and promos: the campaigns list, the create wizard, adding a promo,
the campaign and promo pages, archive/unarchive, and the sub-affiliates list.

The wizard keeps its choices in the session (server-side) between steps; the services check
every choice again at Finish, so a choice gone stale meanwhile is a form error, not a 500.
"""
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.errors import CampaignsError
from campaigns.forms import (
    BannerChoiceForm,
    CampaignFilterForm,
    CampaignStepForm,
    LinkBuilderForm,
    MediaFilterForm,
    PromoEditForm,
    PromoTargetForm,
)
from campaigns.links import tracking_link
from campaigns.models import Brand, Campaign, Landing, TrafficSource
from campaigns.selectors import (
    campaign_list,
    campaign_promos,
    campaigns_of,
    media_gallery,
    media_visible,
    partner_connections,
    promos_of,
)
from campaigns.services import campaigns as services
from partners.portal import portal_view

CAMPAIGNS_PER_PAGE = 25
MEDIA_PER_PAGE = 24
CONNECTIONS_PER_PAGE = 50
WIZARD_SESSION_KEY = "campaigns_create_wizard"
PROMO_WIZARD_SESSION_KEY = "campaigns_promo_wizard"
POSTBACKS_SECTION = "campaigns/postbacks/_section.html"
# The variables every postback can carry (the postbacks work renders them); shown on the
# promo page next to the custom parameters of the link builder.
POSTBACK_VARIABLES = (
    ("promo_id", "The promo's ID"),
    ("promo_code", "The promo code, if any"),
    ("campaign_id", "The campaign's ID"),
    ("campaign_name", "The campaign's name"),
    ("brand", "The brand's name"),
    ("tag", "The visit's tracking tag"),
    ("visit_id", "The visit's ID"),
    ("player_id", "The player's ID with us (never the operator's personal data)"),
    ("action", "registration, first_deposit, deposit or qualification"),
    ("amount", "The deposit amount"),
    ("currency", "The deposit currency"),
    ("country", "The player's country"),
    ("event_id", "The event's ID, the same in every retry"),
    ("timestamp", "When the event happened"),
)


# Campaigns list -----------------------------------------------------------------------------

@portal_view
@require_http_methods(["GET"])
def campaign_list_view(request):
    affiliate = request.affiliate
    form = CampaignFilterForm(request.GET or None, affiliate=affiliate)
    if form.is_bound and form.is_valid():
        filters = form.selector_filters()
    else:
        # Bad filters are shown as form errors; the tab still applies (when it is valid).
        tab = form.cleaned_data.get("state") if form.is_bound else None
        filters = {"state": None if tab == "all" else tab or Campaign.State.ACTIVE}
    state = "all" if filters["state"] is None else filters["state"]
    page = Paginator(campaign_list(affiliate=affiliate, **filters), CAMPAIGNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "campaigns/portal/campaign_list.html", {
        "form": form,
        "page_obj": page,
        "state": state,
        "tabs": CampaignFilterForm.STATES,
        "filtered": form.is_bound and any(form.data.get(f) for f in form.fields if f != "state"),
    })


# Create wizard and "Add promo" ----------------------------------------------------------------

@dataclass
class _Wizard:
    """What steps 2 (landing) and 3 (banner) need, for a new campaign or a new promo."""

    session_key: str
    url: str
    brand: Brand
    commission_plan: object
    campaign: Campaign | None = None

    @property
    def is_new_campaign(self) -> bool:
        return self.campaign is None

    def step_url(self, step: int, **params) -> str:
        return f"{self.url}?{urlencode({'step': step, **params})}"


def _step(request) -> int:
    value = request.GET.get("step", "")
    return int(value) if value in ("1", "2", "3") else 0


def _commission_plan(plan_id):
    plan_model = Campaign._meta.get_field("commission_plan").related_model
    return plan_model.objects.select_related("brand").filter(pk=plan_id).first() if plan_id else None


def _state(request, key: str) -> dict:
    state = request.session.get(key)
    return state if isinstance(state, dict) else {}


def _save_state(request, key: str, state: dict) -> None:
    request.session[key] = state


@portal_view
@require_http_methods(["GET", "POST"])
def campaign_create_view(request):
    affiliate = request.affiliate
    url = reverse("campaigns:campaign_create")
    step = _step(request)
    if step == 0:
        # A fresh start: "Create New Campaign" forgets a wizard left half-way.
        request.session.pop(WIZARD_SESSION_KEY, None)
        step = 1
    state = _state(request, WIZARD_SESSION_KEY)

    if step == 1:
        form = CampaignStepForm(
            request.POST if request.method == "POST" else None,
            affiliate=affiliate,
            initial={k: state.get(k) for k in ("name", "brand", "commission_plan")},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if state.get("brand") != data["brand"].pk or state.get("commission_plan") != data["commission_plan"].pk:
                state = {}  # landings and banners of another brand or plan do not carry over
            state.update(name=data["name"], brand=data["brand"].pk, commission_plan=data["commission_plan"].pk)
            _save_state(request, WIZARD_SESSION_KEY, state)
            return redirect(f"{url}?step=2")
        return render(request, "campaigns/portal/wizard_campaign.html", {
            "form": form, "steps": _steps(new_campaign=True, current=1),
            "no_plans": not form.fields["commission_plan"].queryset.exists(),
        })

    brand = Brand.objects.filter(pk=state.get("brand")).first()
    plan = _commission_plan(state.get("commission_plan"))
    if brand is None or plan is None or not state.get("name"):
        messages.info(request, "Start with the campaign's name, brand and commission plan.")
        return redirect(f"{url}?step=1")
    wizard = _Wizard(session_key=WIZARD_SESSION_KEY, url=url, brand=brand, commission_plan=plan)
    if step == 2:
        return _target_step(request, wizard, state)
    return _banner_step(request, wizard, state)


@portal_view
@require_http_methods(["GET", "POST"])
def promo_create_view(request, campaign_id: int):
    campaign = get_object_or_404(campaigns_of(affiliate=request.affiliate), pk=campaign_id)
    try:
        services.campaign_ensure_editable(campaign)
    except CampaignsError as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:campaign_detail", campaign_id=campaign.pk)
    url = reverse("campaigns:promo_create", args=[campaign.pk])
    step = _step(request)
    state = _state(request, PROMO_WIZARD_SESSION_KEY)
    if step == 0 or state.get("campaign") != campaign.pk:
        # "Add promo" starts afresh; so does a wizard left half-way for another campaign.
        state = {"campaign": campaign.pk}
        _save_state(request, PROMO_WIZARD_SESSION_KEY, state)
    if step != 3:
        step = 2
    wizard = _Wizard(session_key=PROMO_WIZARD_SESSION_KEY, url=url, brand=campaign.brand,
                     commission_plan=campaign.commission_plan, campaign=campaign)
    if step == 2:
        return _target_step(request, wizard, state)
    return _banner_step(request, wizard, state)


def _steps(*, new_campaign: bool, current: int) -> list[dict]:
    names = [(1, "Campaign"), (2, "Traffic source and landing"), (3, "Banner")]
    if not new_campaign:
        names = names[1:]
    return [{"number": i + 1, "name": name, "current": step == current, "done": step < current}
            for i, (step, name) in enumerate(names)]


def _target_step(request, wizard: _Wizard, state: dict):
    """Step 2: traffic source, target audience (tabs) and a landing of the brand."""
    audiences = dict(Landing.Audience.choices)
    audience = request.GET.get("audience") or state.get("audience") or Landing.Audience.PLAYERS
    if audience not in audiences:
        audience = Landing.Audience.PLAYERS
    form = PromoTargetForm(
        request.POST if request.method == "POST" else None,
        brand=wizard.brand, commission_plan=wizard.commission_plan, with_title=not wizard.is_new_campaign,
        initial={"audience": audience, "traffic_source": state.get("traffic_source"),
                 "landing": state.get("landing"), "title": state.get("title", "")},
    )
    if request.method == "POST":
        audience = form.data.get("audience") if form.data.get("audience") in audiences else audience
        if form.is_valid():
            data = form.cleaned_data
            state.update(
                audience=data["audience"], landing=data["landing"].pk,
                traffic_source=data["traffic_source"].pk if data["traffic_source"] else None,
                title=data.get("title", ""),
            )
            _save_state(request, wizard.session_key, state)
            return redirect(wizard.step_url(3))
    return render(request, "campaigns/portal/wizard_target.html", {
        "form": form,
        "wizard": wizard,
        "steps": _steps(new_campaign=wizard.is_new_campaign, current=2),
        "audience": audience,
        "audience_tabs": [(value, label, wizard.step_url(2, audience=value)) for value, label in audiences.items()],
        "landings": form.landings_for(audience),
        "selected_landing": str(form.data.get("landing") if form.is_bound else state.get("landing") or ""),
        "action_url": wizard.step_url(2, audience=audience),
        "back_url": wizard.step_url(1) if wizard.is_new_campaign else None,
        "cancel_url": reverse("campaigns:campaign_detail", args=[wizard.campaign.pk]) if wizard.campaign
        else reverse("campaigns:campaigns"),
    })


def _banner_step(request, wizard: _Wizard, state: dict):
    """Step 3: the banner gallery (filtered) or Direct Link; the submit creates."""
    landing = Landing.objects.filter(pk=state.get("landing")).first()
    if landing is None:
        messages.info(request, "Choose a landing first.")
        return redirect(wizard.step_url(2))
    affiliate = request.affiliate
    visible = media_visible(affiliate=affiliate, brand=wizard.brand)
    filter_data = {k: v for k, v in request.GET.items() if k in MediaFilterForm.base_fields}
    filters = MediaFilterForm(filter_data or None, media=visible)
    gallery = media_gallery(affiliate=affiliate, brand=wizard.brand,
                            **(filters.selector_filters() if filters.is_bound and filters.is_valid() else {}))
    page = Paginator(gallery, MEDIA_PER_PAGE).get_page(request.GET.get("page"))
    form = BannerChoiceForm(request.POST if request.method == "POST" else None,
                            affiliate=affiliate, brand=wizard.brand)
    if request.method == "POST" and form.is_valid():
        traffic_source = TrafficSource.objects.filter(pk=state.get("traffic_source")).first()
        if state.get("traffic_source") and traffic_source is None:
            form.add_error(None, "The traffic source you chose is no longer offered. Go back and choose another.")
        else:
            try:
                if wizard.is_new_campaign:
                    campaign = services.campaign_create(
                        affiliate=affiliate, name=state.get("name", ""), brand=wizard.brand,
                        commission_plan=wizard.commission_plan, landing=landing,
                        media=form.cleaned_data["banner"], traffic_source=traffic_source,
                    )
                else:
                    promo = services.promo_create(
                        campaign=wizard.campaign, landing=landing, media=form.cleaned_data["banner"],
                        traffic_source=traffic_source, title=state.get("title", ""),
                    )
            except CampaignsError as exc:
                form.add_error(None, exc.message)
            else:
                request.session.pop(wizard.session_key, None)
                if wizard.is_new_campaign:
                    messages.success(request, f"Campaign \u201c{campaign.name}\u201d and its tracking link are created.")
                    return redirect("campaigns:campaign_detail", campaign_id=campaign.pk)
                messages.success(request, f"Promo \u201c{promo.title}\u201d and its tracking link are created.")
                return redirect("campaigns:promo_detail", promo_id=promo.pk)
    selected = str(form.data.get("banner", "")) if form.is_bound else ""
    return render(request, "campaigns/portal/wizard_banner.html", {
        "form": form,
        "filters": filters,
        "page_obj": page,
        "wizard": wizard,
        "landing": landing,
        "steps": _steps(new_campaign=wizard.is_new_campaign, current=3),
        "selected": selected,
        "direct": BannerChoiceForm.DIRECT,
        "back_url": wizard.step_url(2),
        "action_url": request.get_full_path(),
        "clear_url": wizard.step_url(3),
    })


# Campaign page, archive --------------------------------------------------------------------

def _postbacks(*, affiliate, campaign=None, promo=None):
    """The postbacks section, once the postbacks work provides it; None hides the section."""
    try:
        from campaigns.selectors_postbacks import postback_list

        select_template([POSTBACKS_SECTION])
    except (ImportError, TemplateDoesNotExist):
        return None
    if promo is not None:
        return postback_list(affiliate=affiliate, promo=promo)
    return postback_list(affiliate=affiliate, campaign=campaign)


@portal_view
@require_http_methods(["GET"])
def campaign_detail_view(request, campaign_id: int):
    affiliate = request.affiliate
    campaign = get_object_or_404(campaigns_of(affiliate=affiliate), pk=campaign_id)
    promos = list(campaign_promos(campaign=campaign))
    for promo in promos:
        promo.tracking_link = tracking_link(promo)
    postbacks = _postbacks(affiliate=affiliate, campaign=campaign)
    return render(request, "campaigns/portal/campaign_detail.html", {
        "campaign": campaign,
        "promos": promos,
        "postbacks": postbacks,
        "postbacks_section": postbacks is not None,
    })


@portal_view
@require_POST
def campaign_archive_view(request, campaign_id: int):
    campaign = get_object_or_404(campaigns_of(affiliate=request.affiliate), pk=campaign_id)
    try:
        services.campaign_archive(campaign=campaign)
    except CampaignsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Campaign {campaign.pk} is archived. Its tracking links keep working; "
                                  "unarchive it to add or change promos and postbacks.")
    return redirect("campaigns:campaign_detail", campaign_id=campaign.pk)


@portal_view
@require_POST
def campaign_unarchive_view(request, campaign_id: int):
    campaign = get_object_or_404(campaigns_of(affiliate=request.affiliate), pk=campaign_id)
    try:
        services.campaign_unarchive(campaign=campaign)
    except CampaignsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Campaign {campaign.pk} is active again.")
    return redirect("campaigns:campaign_detail", campaign_id=campaign.pk)


# Promo page ----------------------------------------------------------------------------------

@portal_view
@require_http_methods(["GET", "POST"])
def promo_detail_view(request, promo_id: int):
    affiliate = request.affiliate
    promo = get_object_or_404(promos_of(affiliate=affiliate), pk=promo_id)
    form = PromoEditForm(request.POST if request.method == "POST" else None, promo=promo)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.promo_update(
                promo=promo, title=data["title"], promo_code=data["promo_code"],
                traffic_source=data.get("traffic_source"),
            )
        except CampaignsError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "The promo is saved.")
            return redirect("campaigns:promo_detail", promo_id=promo.pk)

    builder_data = {k: v for k, v in request.GET.items() if k.startswith(("name_", "value_"))}
    builder = LinkBuilderForm(builder_data or None, reserved=(settings.TRACKING_TAG_PARAM,))
    params = builder.params() if builder.is_bound and builder.is_valid() else {}
    postbacks = _postbacks(affiliate=affiliate, promo=promo)
    return render(request, "campaigns/portal/promo_detail.html", {
        "promo": promo,
        "campaign": promo.campaign,
        "form": form,
        "tracking_link": tracking_link(promo),
        "builder": builder,
        "built_link": tracking_link(promo, params) if params else "",
        "custom_params": list(params),
        "postback_variables": POSTBACK_VARIABLES,
        "postbacks": postbacks,
        "postbacks_section": postbacks is not None,
    })


# Sub-affiliates --------------------------------------------------------------------------------

@portal_view
@require_http_methods(["GET"])
def partner_connection_list_view(request):
    page = Paginator(partner_connections(affiliate=request.affiliate), CONNECTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "campaigns/portal/partner_connections.html", {"page_obj": page})

