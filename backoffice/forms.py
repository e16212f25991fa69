"""Form pieces shared by every app's filter forms."""
import datetime as dt

from django import forms

# Beyond these the time-zone arithmetic of a day's bounds can overflow; nothing is that old.
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


class FilterDateField(forms.DateField):
    """An optional date filter (a date picker) refusing dates outside EARLIEST..LATEST."""

    def __init__(self, label: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(label=label, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not (EARLIEST_DATE <= value <= LATEST_DATE):
            raise forms.ValidationError(f"Enter a date between {EARLIEST_DATE} and {LATEST_DATE}.")


class DateRangeFormMixin:
    """Refuses an end date before the start date (a field error on the end date).
    `date_range` names the two fields."""

    date_range = ("date_from", "date_to")

    def clean(self):
        cleaned = super().clean()
        start_name, end_name = self.date_range
        start, end = cleaned.get(start_name), cleaned.get(end_name)
        if start and end and start > end:
            self.add_error(end_name, "The end date is before the start date.")
        return cleaned
