"""Forms of the postbacks pages: a postback, and the filters of the postbacks log."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from campaigns import postback_templates
from campaigns.models import Campaign, PlayerEvent, Postback, Promo
from campaigns.selectors_postbacks import (
    AttemptFilters,
    postback_campaign_choices,
    postback_promo_choices,
)


class _CampaignChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Campaign) -> str:
        return f"{obj.name} (#{obj.pk}){' — archived' if obj.is_archived else ''}"


class _PromoChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Promo) -> str:
        code = f", code {obj.promo_code}" if obj.promo_code else ""
        return f"{obj.campaign.name} / {obj.title} (#{obj.pk}{code})"


class PostbackForm(forms.Form):
    scope = forms.ChoiceField(choices=Postback.Scope.choices, initial=Postback.Scope.ACCOUNT,
                              widget=forms.RadioSelect)
    campaign = _CampaignChoice(queryset=Campaign.objects.none(), required=False,
                               help_text="For a campaign postback.")
    promo = _PromoChoice(queryset=Promo.objects.none(), required=False, help_text="For a promo postback.")
    action = forms.ChoiceField(choices=PlayerEvent.Type.choices, initial=PlayerEvent.Type.REGISTRATION)
    url_template = forms.CharField(
        label="Postback URL", max_length=Postback._meta.get_field("url_template").max_length,
        widget=forms.TextInput(attrs={"placeholder": "https://tracker.example.com/postback?click=${clickID}&amount=${amount}",
                                      "spellcheck": "false", "autocomplete": "off", "class": "wide"}),
        help_text="Variables are written ${name}; click one below to add it. Any other name is taken "
                  "from the tracking link's custom parameter of that name.",
    )
    method = forms.ChoiceField(choices=Postback.Method.choices, initial=Postback.Method.GET,
                               help_text="POST also sends every variable as a JSON body.")
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    generate_secret = forms.BooleanField(
        label="Generate a new signing secret", required=False,
        help_text="Requests are then signed (Standard Webhooks headers webhook-id, webhook-timestamp, "
                  "webhook-signature). The secret is shown once, after saving.",
    )
    remove_secret = forms.BooleanField(label="Remove the signing secret", required=False)

    def __init__(self, *args, affiliate, postback: Postback | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = postback_campaign_choices(affiliate=affiliate)
        self.fields["promo"].queryset = postback_promo_choices(affiliate=affiliate)
        if postback is None or not postback.signing_secret_encrypted:
            del self.fields["remove_secret"]

    def clean_url_template(self) -> str:
        url = self.cleaned_data["url_template"].strip()
        result = postback_templates.lint(url)
        if result.errors:
            raise forms.ValidationError(result.errors)
        return url

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == Postback.Scope.CAMPAIGN and not data.get("campaign") and "campaign" not in self.errors:
            self.add_error("campaign", "Choose the campaign this postback is for.")
        if scope == Postback.Scope.PROMO and not data.get("promo") and "promo" not in self.errors:
            self.add_error("promo", "Choose the promo this postback is for.")
        if data.get("generate_secret") and data.get("remove_secret"):
            self.add_error("remove_secret", "Either generate a new secret or remove it, not both.")
        return data

    @classmethod
    def initial_for(cls, postback: Postback) -> dict:
        return {
            "scope": postback.scope, "promo": postback.promo_id,
            "campaign": postback.campaign_id if postback.scope == Postback.Scope.CAMPAIGN else None,
            "action": postback.action, "url_template": postback.url_template, "method": postback.method,
            "is_active": postback.is_active,
        }


_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class PostbackLogFilterForm(forms.Form):
    since = forms.DateTimeField(label="From", required=False, input_formats=_DATETIME_FORMATS,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    until = forms.DateTimeField(label="To", required=False, input_formats=_DATETIME_FORMATS,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    url = forms.CharField(label="URL contains", required=False, max_length=200)
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *PlayerEvent.Type.choices])
    response_code = forms.IntegerField(label="Response code", required=False, min_value=100, max_value=599)
    campaign_name = forms.CharField(label="Campaign name", required=False, max_length=150)
    campaign_id = forms.IntegerField(label="Campaign ID", required=False, min_value=1, max_value=2**62)
    promo_code = forms.CharField(label="Promo code", required=False, max_length=50)
    promo_id = forms.IntegerField(label="Promo ID", required=False, min_value=1, max_value=2**62)

    def clean_until(self):
        until = self.cleaned_data.get("until")
        raw = (self.data.get("until") or "").strip()
        if until and len(raw) == len("2024-01-31"):
            until = until + dt.timedelta(days=1) - dt.timedelta(microseconds=1)  # a date: the whole day
        return until

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the time range is before its start.")
        return data

    def filters(self) -> AttemptFilters:
        d = self.cleaned_data
        return AttemptFilters(
            since=_aware(d.get("since")), until=_aware(d.get("until")), url=(d.get("url") or "").strip(),
            action=d.get("action") or "", response_code=d.get("response_code"),
            campaign_name=(d.get("campaign_name") or "").strip(), campaign_id=d.get("campaign_id"),
            promo_code=(d.get("promo_code") or "").strip(), promo_id=d.get("promo_id"),
        )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)
