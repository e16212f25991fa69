"""The form of an automatic cash-out schedule (new and edit), with its run-date preview."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django import forms

from backoffice.money import CURRENCY_CHOICES, DEFAULT_CURRENCY, quantize
from billing import schedule_dates
from billing.models import CashoutSchedule, PaymentMethod
from billing.payment_details import masked_summary
from billing.selectors_schedules import schedule_payment_method_choices

WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(schedule_dates.WEEKDAY_NAMES)]
MONTH_DAY_CHOICES = [(str(d), str(d)) for d in range(1, 32)]
AMOUNT = {"max_digits": 28, "decimal_places": 8}


class _MethodChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: PaymentMethod) -> str:
        return f"{obj.get_type_display()} {masked_summary(obj.type, obj.masked or {})}".strip()


class CashoutScheduleForm(forms.Form):
    payment_method = _MethodChoice(queryset=PaymentMethod.objects.none(), empty_label=None,
                                   label="Payment method")
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial=DEFAULT_CURRENCY)
    min_amount = forms.DecimalField(label="Minimum amount", min_value=0, **AMOUNT,
                                    help_text="No cashout is made while the balance is below this.")
    max_amount = forms.DecimalField(label="Maximum amount", min_value=0, **AMOUNT,
                                    help_text="Each run cashes out the balance, up to this amount.")
    plan = forms.ChoiceField(choices=CashoutSchedule.Plan.choices, initial=CashoutSchedule.Plan.MONTHLY,
                             widget=forms.RadioSelect)
    weekdays = forms.MultipleChoiceField(choices=WEEKDAY_CHOICES, required=False,
                                         widget=forms.CheckboxSelectMultiple, label="Weekdays",
                                         help_text="For the weekdays plan.")
    month_days = forms.MultipleChoiceField(
        choices=MONTH_DAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, label="Dates of the month",
        help_text="For the dates plan. A date a month lacks (29–31) runs on that month's last day.")
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, affiliate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].queryset = schedule_payment_method_choices(affiliate=affiliate)

    @classmethod
    def initial_for(cls, schedule: CashoutSchedule) -> dict:
        return {
            "payment_method": schedule.payment_method_id, "currency": schedule.currency,
            "min_amount": quantize(schedule.min_amount, schedule.currency),
            "max_amount": quantize(schedule.max_amount, schedule.currency),
            "plan": schedule.plan, "weekdays": [str(d) for d in schedule.weekdays],
            "month_days": [str(d) for d in schedule.month_days], "is_active": schedule.is_active,
        }

    def clean(self):
        data = super().clean()
        low, high = data.get("min_amount"), data.get("max_amount")
        for name in ("min_amount", "max_amount"):
            if data.get(name) is not None and data[name] <= 0:
                self.add_error(name, "The amount must be greater than zero.")
        if low is not None and high is not None and 0 < high < low:
            self.add_error("max_amount", "The maximum must not be below the minimum.")
        plan = data.get("plan")
        if plan == CashoutSchedule.Plan.WEEKLY and not data.get("weekdays"):
            self.add_error("weekdays", "Choose at least one weekday.")
        if plan == CashoutSchedule.Plan.DATES and not data.get("month_days"):
            self.add_error("month_days", "Choose at least one date of the month.")
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "payment_method": d["payment_method"], "currency": d["currency"], "min_amount": d["min_amount"],
            "max_amount": d["max_amount"], "plan": d["plan"],
            "weekdays": [int(v) for v in d.get("weekdays") or ()],
            "month_days": [int(v) for v in d.get("month_days") or ()], "is_active": d.get("is_active", False),
        }

    def preview_dates(self, start: dt.date, count: int = 12) -> list[dt.date]:
        """The next run dates of the plan as entered (the plan fields alone need to be valid)."""
        self.is_valid()
        d = self.cleaned_data
        if not d.get("plan") or any(name in self.errors for name in ("plan", "weekdays", "month_days")):
            return []
        plan_like = SimpleNamespace(plan=d["plan"], weekdays=d.get("weekdays") or [],
                                    month_days=d.get("month_days") or [])
        return schedule_dates.next_run_dates(plan_like, start, count=count)
