"""Forms of the sign-in type pages: login, 2FA code, sign-up, unlock and password links."""
import re

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from partners.models import Affiliate, User

# Long enough for any password manager; bounded so a huge body is a form error, not work.
PASSWORD_MAX_LENGTH = 1024
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-.]{3,30}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
# The tracking tag a sub-affiliate promo appends to the sign-up link: "<affiliate id>_<visit id>".
REFERRAL_TAG_RE = re.compile(r"[0-9]{1,31}_[0-9]{1,32}")
REFERRAL_TAG_MAX_LENGTH = 64


def referral_tag_clean(value: str | None) -> str:
    """The referral tag from a query parameter, or "" when it is not a well-formed tag."""
    value = (value or "").strip()
    if len(value) > REFERRAL_TAG_MAX_LENGTH or not REFERRAL_TAG_RE.fullmatch(value):
        return ""
    return value


def _email_field(**attrs) -> forms.EmailField:
    return forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True, **attrs}),
    )


def _password_field(label: str, autocomplete: str, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )


class LoginForm(forms.Form):
    email = _email_field()
    password = _password_field("Password", "current-password")


class LoginCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
            "placeholder": "123 456",
        }),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError("Enter the 6-digit code shown in your authenticator app.")
        return code


class EmailForm(forms.Form):
    """Asks only for an e-mail: unlock instructions, password reset."""

    email = _email_field()


class _NewPasswordMixin:
    """Two password fields checked against each other and Django's password validators.

    The validators' messages go on the first field, where the password is typed.
    """

    password_fields = ("password1", "password2")

    def _password_help(self):
        self.fields[self.password_fields[0]].help_text = " ".join(password_validators_help_texts())

    def _password_user(self) -> User:
        raise NotImplementedError

    def _clean_new_password(self):
        first, second = self.password_fields
        password = self.cleaned_data.get(first)
        confirmation = self.cleaned_data.get(second)
        if password and confirmation and password != confirmation:
            self.add_error(second, "The two passwords do not match.")
        if password:
            try:
                validate_password(password, self._password_user())
            except ValidationError as exc:
                for message in exc.messages:
                    self.add_error(first, message)


class SignUpForm(_NewPasswordMixin, forms.Form):
    name = forms.CharField(
        label="Name", max_length=150,
        help_text="Your name, or the brand you promote under.",
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    company_name = forms.CharField(
        label="Company", max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.EmailField(
        label="E-mail", max_length=254,
        help_text="You sign in with it; we write to it about your application.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = _password_field("Password", "new-password")
    password2 = _password_field("Password again", "new-password")
    phone = forms.CharField(
        label="Phone", max_length=32, help_text="With the country code, e.g. +356 2123 4567.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    messenger = forms.ChoiceField(label="Messenger", choices=Affiliate.Messenger.choices, required=False)
    messenger_id = forms.CharField(label="Messenger handle", max_length=100, required=False)
    website = forms.URLField(
        label="Website", max_length=300, required=False, assume_scheme="https",
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    country = forms.CharField(
        label="Country", max_length=2, required=False,
        help_text="Two-letter code, e.g. MT, DE, BR.",
        widget=forms.TextInput(attrs={"autocomplete": "country", "size": 2}),
    )
    traffic_description = forms.CharField(
        label="How do you promote?", max_length=2000,
        help_text="Your traffic sources and methods: sites, social media, SEO, paid ads ...",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    accept_terms = forms.BooleanField(label="I accept the terms and conditions", required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._password_help()
        self.fields["accept_terms"].label = format_html(
            'I accept the <a href="{}" target="_blank" rel="noopener">terms and conditions</a>',
            reverse("partners:terms"),
        )
        self.fields["accept_terms"].error_messages["required"] = (
            "You need to accept the terms and conditions to join the program."
        )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not PHONE_RE.match(phone) or sum(ch.isdigit() for ch in phone) < 5:
            raise ValidationError("Enter a phone number of digits, with an optional leading +.")
        return phone

    def clean_country(self):
        country = self.cleaned_data["country"].strip()
        if country and not COUNTRY_RE.match(country):
            raise ValidationError("Enter a two-letter country code, e.g. MT.")
        return country.upper()

    def clean(self):
        cleaned = super().clean()
        messenger, handle = cleaned.get("messenger"), cleaned.get("messenger_id")
        if messenger and not handle:
            self.add_error("messenger_id", "Enter your handle in the chosen messenger.")
        if handle and not messenger:
            self.add_error("messenger", "Choose the messenger of this handle.")
        self._clean_new_password()
        return cleaned

    def _password_user(self) -> User:
        return User(
            email=self.cleaned_data.get("email", ""),
            first_name=self.cleaned_data.get("name", "")[:100],
        )


class SetPasswordForm(_NewPasswordMixin, forms.Form):
    password_fields = ("new_password1", "new_password2")

    new_password1 = _password_field("New password", "new-password")
    new_password2 = _password_field("New password again", "new-password")

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self._password_help()
        self.fields["new_password1"].widget.attrs["autofocus"] = True

    def clean(self):
        cleaned = super().clean()
        self._clean_new_password()
        return cleaned

    def _password_user(self) -> User:
        return self.user
