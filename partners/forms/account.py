"""Forms of the account pages: profile edit, document upload, events filter."""

from django import forms
from django.core.validators import RegexValidator, URLValidator

from backoffice.forms import DateRangeFormMixin, FilterDateField
from backoffice.money import CURRENCY_CHOICES
from partners.errors import PartnersError
from partners.models import Affiliate, Document, Event
from partners.services.account import country_normalize

PHONE_INPUT = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ().\-]{2,30}$",
    "Enter a phone number of digits, optionally starting with + (spaces, dashes and brackets are fine).",
)


class AffiliateProfileForm(forms.Form):
    """The affiliate's details: only the account owner edits them."""

    name = forms.CharField(label="Name", max_length=150)
    company_name = forms.CharField(label="Company name", max_length=150, required=False)
    phone = forms.CharField(label="Phone", max_length=32, required=False, validators=[phone_validator],
                            widget=PHONE_INPUT)
    messenger = forms.ChoiceField(label="Messenger", choices=Affiliate.Messenger.choices, required=False)
    messenger_id = forms.CharField(label="Messenger handle", max_length=100, required=False)
    website = forms.URLField(
        label="Website", max_length=300, required=False,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="e.g. https://your-site.example",
    )
    country = forms.CharField(
        label="Country", max_length=2, required=False,
        help_text="Two-letter ISO 3166-1 code, e.g. DE, GB or MT.",
    )
    city = forms.CharField(label="City", max_length=100, required=False)
    address = forms.CharField(label="Address", max_length=300, required=False)
    default_report_currency = forms.ChoiceField(
        label="Default currency for reports",
        choices=CURRENCY_CHOICES,
        help_text=(
            "Used for reports and the dashboard's quick stats. Commissions, bills and "
            "payments are always in the brands' base currencies."
        ),
    )
    subscribe_news = forms.BooleanField(label="E-mail me program news", required=False)
    subscribe_payments = forms.BooleanField(label="E-mail me about bills and payments", required=False)
    subscribe_reports = forms.BooleanField(label="E-mail me requested reports", required=False)

    def clean_country(self):
        try:
            return country_normalize(self.cleaned_data["country"])
        except PartnersError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("messenger_id") and not cleaned.get("messenger") and "messenger" not in self.errors:
            self.add_error("messenger", "Choose the messenger this handle belongs to.")
        return cleaned

    @classmethod
    def initial_for(cls, affiliate: Affiliate) -> dict:
        return {name: getattr(affiliate, name) for name in cls.base_fields}


class PersonalDetailsForm(forms.Form):
    """The signed-in user's own details. Names start with user_ because Affiliate and User both
    have a phone and a messenger (the service takes the same names)."""

    user_first_name = forms.CharField(label="First name", max_length=100, required=False)
    user_last_name = forms.CharField(label="Last name", max_length=100, required=False)
    user_phone = forms.CharField(label="Phone", max_length=32, required=False, validators=[phone_validator],
                                 widget=PHONE_INPUT)
    user_messenger = forms.CharField(
        label="Messenger", max_length=100, required=False, help_text="e.g. Telegram @handle"
    )

    @classmethod
    def initial_for(cls, user) -> dict:
        return {name: getattr(user, name.removeprefix("user_")) for name in cls.base_fields}


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Type", choices=[("", "Choose…"), *Document.Kind.choices])
    title = forms.CharField(label="Title", max_length=150, help_text="e.g. Passport of the director")
    description = forms.CharField(
        label="Description", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    file = forms.FileField(
        label="File",
        widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"}),
    )

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        megabytes = max_bytes / (1024 * 1024)
        shown = f"{megabytes:g}" if megabytes < 10 else f"{round(megabytes)}"
        self.fields["file"].help_text = f"PDF, JPG, PNG or WebP, at most {shown} MB."


class EventFilterForm(DateRangeFormMixin, forms.Form):
    type = forms.ChoiceField(label="Event", choices=[("", "All events"), *Event.Type.choices], required=False)
    date_from = FilterDateField("From")
    date_to = FilterDateField("To")
