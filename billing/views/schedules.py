"""Portal pages: automatic cash-out schedules (new, edit with a preview of the next run dates,
delete). Financial actions: 2FA enabled and this session verified."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from backoffice.timeutil import business_today
from billing import schedule_dates
from billing.errors import BillingError
from billing.forms_schedules import CashoutScheduleForm
from billing.selectors_schedules import schedule_get
from billing.services.schedules import (
    cashout_schedule_create,
    cashout_schedule_delete,
    cashout_schedule_update,
)
from partners.portal import portal_view, require_2fa

PREVIEW_COUNT = 12


def _form_error(form, exc: BillingError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _render(request, form, *, schedule=None, preview=None):
    today = business_today()
    if preview is None:
        if schedule is not None and not form.is_bound:
            preview = schedule_dates.next_run_dates(schedule, today, count=PREVIEW_COUNT)
        elif form.is_bound:
            preview = form.preview_dates(today, PREVIEW_COUNT)
        else:
            preview = []
    return render(request, "billing/schedules/form.html", {
        "form": form, "schedule": schedule, "preview": preview, "preview_from": today,
        "preview_count": PREVIEW_COUNT, "has_methods": form.fields["payment_method"].queryset.exists(),
    })


def _save(request, form, *, schedule=None):
    """Preview (re-render with the dates, nothing saved) or save; returns a response."""
    if request.POST.get("action") == "preview":
        return _render(request, form, schedule=schedule)
    if form.is_valid():
        try:
            if schedule is None:
                saved = cashout_schedule_create(affiliate=request.affiliate, **form.service_kwargs())
            else:
                saved = cashout_schedule_update(schedule=schedule, **form.service_kwargs())
        except BillingError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Cash-out schedule #{saved.pk} {'created' if schedule is None else 'saved'}: "
                                      f"{schedule_dates.plan_describe(saved)}.")
            return redirect("billing:wallet")
    return _render(request, form, schedule=schedule)


@portal_view
@require_2fa
@require_http_methods(["GET", "POST"])
def schedule_create_view(request):
    if request.method == "POST":
        form = CashoutScheduleForm(request.POST, affiliate=request.affiliate)
        return _save(request, form)
    return _render(request, CashoutScheduleForm(affiliate=request.affiliate))


@portal_view
@require_2fa
@require_http_methods(["GET", "POST"])
def schedule_edit_view(request, schedule_id: int):
    schedule = schedule_get(affiliate=request.affiliate, schedule_id=schedule_id)
    if request.method == "POST":
        form = CashoutScheduleForm(request.POST, affiliate=request.affiliate)
        return _save(request, form, schedule=schedule)
    form = CashoutScheduleForm(affiliate=request.affiliate, initial=CashoutScheduleForm.initial_for(schedule))
    return _render(request, form, schedule=schedule)


@portal_view
@require_2fa
@require_POST
def schedule_delete_view(request, schedule_id: int):
    schedule = schedule_get(affiliate=request.affiliate, schedule_id=schedule_id)
    number = schedule.pk
    cashout_schedule_delete(schedule=schedule)
    messages.success(request, f"Cash-out schedule #{number} deleted.")
    return redirect("billing:wallet")
