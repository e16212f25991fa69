"""Portal pages of bills: /partner/bills (filterable list) and /partner/bills/<id> (issued
amount, amount to be paid, lines per campaign, corrections and the per-player breakdown).
Read only: bills change in the admin, through billing.services.bills."""
from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from backoffice.money import quantize
from billing.models import Bill
from billing.selectors_bills import (
    bill_brands,
    bill_corrections,
    bill_get,
    bill_lines,
    bill_list,
    bill_player_lines,
)
from billing.services.bills import bill_amount_to_pay, bill_period_label
from partners.portal import portal_view

BILLS_PER_PAGE = 25
PLAYERS_PER_PAGE = 50


class BillFilterForm(forms.Form):
    state = forms.ChoiceField(label="State", required=False, choices=[("", "All states"), *Bill.Status.choices])
    brand = forms.ModelChoiceField(label="Brand", required=False, queryset=None, empty_label="All brands")

    def __init__(self, *args, affiliate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = bill_brands(affiliate=affiliate)


@portal_view
@require_GET
def bill_list_view(request):
    affiliate = request.affiliate
    form = BillFilterForm(request.GET or None, affiliate=affiliate)
    filters = {}
    if form.is_bound and form.is_valid():
        brand = form.cleaned_data["brand"]
        filters = {"status": form.cleaned_data["state"] or None, "brand_id": brand.pk if brand else None}
    page = Paginator(bill_list(affiliate=affiliate, **filters), BILLS_PER_PAGE).get_page(request.GET.get("page"))
    for bill in page:
        bill.period_label = bill_period_label(bill)
        # The database sum is a float on SQLite; shown with the currency's places.
        bill.amount_to_pay = quantize(bill.amount_to_pay, bill.currency)
    return render(request, "billing/bills/bill_list.html", {
        "form": form,
        "page_obj": page,
        "filtered": form.is_bound and any(form.data.get(name) for name in form.fields),
    })


@portal_view
@require_GET
def bill_detail_view(request, bill_id: int):
    bill = bill_get(affiliate=request.affiliate, bill_id=bill_id)
    if bill is None:
        raise Http404("No such bill.")
    bill.amount_to_pay = quantize(bill_amount_to_pay(bill=bill), bill.currency)
    players = Paginator(bill_player_lines(bill=bill), PLAYERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "billing/bills/bill_detail.html", {
        "bill": bill,
        "period": bill_period_label(bill),
        "lines": bill_lines(bill=bill),
        "corrections": bill_corrections(bill=bill),
        "page_obj": players,
    })
