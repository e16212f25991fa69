"""Forms of the wallet area: balance filters, payment methods, withdraw."""
import uuid
from decimal import Decimal

from django import forms

from backoffice.forms import DateRangeFormMixin, FilterDateField
from backoffice.money import CURRENCIES, places
from billing.payment_details import PaymentDetailsInvalid, details_clean, fields_for
from billing.selectors_wallet import TRANSACTION_TYPES

# Far above any real amount, far below what a DecimalField(28, 8) or a float would choke on.
MAX_FILTER_AMOUNT = Decimal("1e15")

TYPE_CHOICES = [
    ("", "All types"),
    ("payment", "Payment: all"),
    ("cashout", "Payment: cashout"),
    ("refund", "Payment: refund"),
    ("bill", "Bill"),
    ("balance_correction", "Balance correction"),
]
assert {c for c, _ in TYPE_CHOICES if c} == set(TRANSACTION_TYPES)

ACTION_CHOICES = [("", "Added and subtracted"), ("added", "Added"), ("subtracted", "Subtracted")]


def _amount_field(label):
    return forms.DecimalField(label=label, required=False, min_value=Decimal(0), max_value=MAX_FILTER_AMOUNT,
                              max_digits=24, decimal_places=8,
                              widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))


class BalanceFilterForm(DateRangeFormMixin, forms.Form):
    type = forms.ChoiceField(label="Type", choices=TYPE_CHOICES, required=False)
    action = forms.ChoiceField(label="Action", choices=ACTION_CHOICES, required=False)
    currency = forms.ChoiceField(label="Currency", required=False)
    amount_min = _amount_field("Amount from")
    amount_max = _amount_field("Amount to")
    date_from = FilterDateField("From")
    date_to = FilterDateField("To")

    def __init__(self, *args, currencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Every supported currency is accepted (a bookmark may name one the affiliate no longer
        # has); the list offers the affiliate's first.
        others = [c for c in CURRENCIES if c not in currencies]
        self.fields["currency"].choices = [("", "All currencies"), *[(c, c) for c in currencies],
                                           *[(c, c) for c in others]]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "The maximum is below the minimum.")
        return cleaned

    def filters(self) -> dict:
        if not (self.is_bound and self.is_valid()):
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class PaymentMethodForm(forms.Form):
    """The fields of one payment method type (billing.payment_details.FIELDS)."""

    type = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, method_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.method_type = method_type
        self.fields["type"].initial = method_type
        for spec in fields_for(method_type):
            common = {"label": spec.label, "required": spec.required, "help_text": spec.help_text}
            if spec.kind == "choice":
                field = forms.ChoiceField(choices=[("", "—"), *spec.choices], **common)
            elif spec.kind == "email":
                # validated (and lower-cased) by payment_details, one message for form and service
                field = forms.CharField(max_length=spec.max_length, widget=forms.EmailInput, **common)
            elif spec.kind == "textarea":
                field = forms.CharField(max_length=spec.max_length, widget=forms.Textarea(attrs={"rows": 3}),
                                        **common)
            else:
                field = forms.CharField(max_length=spec.max_length, **common)
            field.widget.attrs.setdefault("autocomplete", "off")
            self.fields[spec.name] = field

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.details = details_clean(self.method_type, cleaned)
        except PaymentDetailsInvalid as exc:
            for name, message in exc.errors.items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned


class WithdrawForm(forms.Form):
    currency = forms.ChoiceField(label="Currency")
    payment_method = forms.ModelChoiceField(label="Payment method", queryset=None, empty_label=None)
    amount = forms.DecimalField(label="Amount", max_digits=24, decimal_places=8, min_value=Decimal(0),
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    code = forms.CharField(label="2FA code", max_length=12,
                           help_text="The current code from your authenticator app.",
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, currencies, payment_methods, balances=None, **kwargs):
        super().__init__(*args, **kwargs)
        balances = balances or {}
        self.fields["currency"].choices = [
            (c, f"{c} (available {balances[c]})" if c in balances else c) for c in currencies
        ]
        self.fields["payment_method"].queryset = payment_methods
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())

    def clean(self):
        cleaned = super().clean()
        if "token" in self.errors:
            self.add_error(None, "This form is out of date. Reload the page and submit it again.")
        amount, currency = cleaned.get("amount"), cleaned.get("currency")
        if amount is not None:
            if amount <= 0:
                self.add_error("amount", "Enter an amount greater than zero.")
            elif currency and amount != amount.quantize(Decimal(1).scaleb(-places(currency))):
                self.add_error("amount", f"{currency} amounts have at most {places(currency)} decimal places.")
        return cleaned


class CorrectionForm(forms.Form):
    """The admin's balance correction page."""

    affiliate = forms.ModelChoiceField(label="Affiliate ID", queryset=None,
                                       widget=forms.NumberInput,
                                       help_text="The number of the affiliate account (#id).")
    currency = forms.ChoiceField(label="Currency", choices=[(c, c) for c in CURRENCIES])
    amount = forms.DecimalField(label="Amount", max_digits=24, decimal_places=8,
                                help_text="Positive adds to the balance, negative (e.g. -25.00) subtracts.")
    comment = forms.CharField(label="Comment", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Why: the affiliate sees it in the events log.")
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        from partners.models import Affiliate

        super().__init__(*args, **kwargs)
        self.fields["affiliate"].queryset = Affiliate.objects.all()
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())

    def clean(self):
        cleaned = super().clean()
        if "token" in self.errors:
            self.add_error(None, "This form is out of date. Reload the page and submit it again.")
        return cleaned
