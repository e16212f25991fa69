"""Portal pages of the account area: profile edit, documents, events log, news, terms."""
import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from backoffice.net import client_ip
from partners.errors import PartnersError
from partners.forms.account import (
    AffiliateProfileForm,
    DocumentUploadForm,
    EventFilterForm,
    PersonalDetailsForm,
)
from partners.models import Affiliate, Document
from partners.portal import portal_view
from partners.selectors_account import documents_for, events_for, news_published, terms_current
from partners.services.account import profile_update
from partners.services.documents import document_delete, document_upload

EVENTS_PER_PAGE = 25
NEWS_PER_PAGE = 10


def _form_error(form, exc: PartnersError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# Profile edit ------------------------------------------------------------------------------

@portal_view
def profile_edit_view(request):
    affiliate, user = request.affiliate, request.user
    # A team member edits only their personal details: the affiliate form is not even built
    # for them, so posted affiliate fields are ignored (and the service refuses them too).
    can_edit_affiliate = user.is_owner
    affiliate_form = None
    if request.method == "POST":
        personal_form = PersonalDetailsForm(request.POST)
        if can_edit_affiliate:
            affiliate_form = AffiliateProfileForm(request.POST)
        forms_ok = personal_form.is_valid() and (affiliate_form is None or affiliate_form.is_valid())
        if forms_ok:
            fields = dict(personal_form.cleaned_data)
            if affiliate_form is not None:
                fields.update(affiliate_form.cleaned_data)
            try:
                changed = profile_update(affiliate=affiliate, user=user, actor=user,
                                         ip=client_ip(request), **fields)
            except PartnersError as exc:
                personal = affiliate_form is None or (exc.field or "").startswith("user_")
                _form_error(personal_form if personal else affiliate_form, exc)
            else:
                if changed:
                    messages.success(request, "Your profile has been saved.")
                else:
                    messages.info(request, "Nothing changed: your profile is as it was.")
                return redirect("partners:profile")
    else:
        personal_form = PersonalDetailsForm(initial=PersonalDetailsForm.initial_for(user))
        if can_edit_affiliate:
            affiliate_form = AffiliateProfileForm(initial=AffiliateProfileForm.initial_for(affiliate))
    return render(request, "partners/account/profile_edit.html", {
        "affiliate_form": affiliate_form,
        "personal_form": personal_form,
        "affiliate": affiliate,
    })


# Documents ---------------------------------------------------------------------------------

@portal_view
def document_list_view(request):
    return render(request, "partners/account/document_list.html", {
        "documents": documents_for(affiliate=request.affiliate),
        "deletable": (Document.Status.PENDING, Document.Status.DECLINED),
    })


@portal_view
def document_upload_view(request):
    max_bytes = settings.DOCUMENT_MAX_BYTES
    if request.method == "POST":
        form = DocumentUploadForm(request.POST, request.FILES, max_bytes=max_bytes)
        if form.is_valid():
            try:
                document = document_upload(
                    affiliate=request.affiliate,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    uploaded_file=form.cleaned_data["file"],
                    ip=client_ip(request),
                )
            except PartnersError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Your document has been uploaded. It stays pending until a manager reviews it.")
                return redirect("partners:document_detail", document_id=document.pk)
    else:
        form = DocumentUploadForm(max_bytes=max_bytes)
    return render(request, "partners/account/document_upload.html", {"form": form})


@portal_view
def document_detail_view(request, document_id: int):
    document = get_object_or_404(documents_for(affiliate=request.affiliate), pk=document_id)
    return render(request, "partners/account/document_detail.html", {
        "document": document,
        "deletable": document.status != Document.Status.APPROVED,
    })


@portal_view
def document_file_view(request, document_id: int):
    document = get_object_or_404(documents_for(affiliate=request.affiliate), pk=document_id)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file of this document is missing.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@portal_view
def document_delete_view(request, document_id: int):
    document = get_object_or_404(documents_for(affiliate=request.affiliate), pk=document_id)
    try:
        document_delete(document=document, actor=request.user)
    except PartnersError as exc:
        messages.error(request, exc.message)
        return redirect("partners:document_detail", document_id=document.pk)
    messages.success(request, f"The document \u201c{document.title}\u201d has been deleted.")
    return redirect("partners:documents")


# Events log --------------------------------------------------------------------------------

@portal_view
def event_list_view(request):
    form = EventFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    page = Paginator(events_for(affiliate=request.affiliate, **filters), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "partners/account/event_list.html", {"form": form, "page_obj": page})


@portal_view
def event_detail_view(request, event_id: int):
    event = get_object_or_404(events_for(affiliate=request.affiliate), pk=event_id)
    return render(request, "partners/account/event_detail.html", {
        "event": event,
        "data_rows": [(_label(k), _display(k, v)) for k, v in event.data.items()],
    })


def _label(key: str) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _display(key: str, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key == "changed" and isinstance(value, list):
        # names of profile fields: shown as labels, like the keys
        return ", ".join(_label(v) for v in value)
    if isinstance(value, list):
        return ", ".join(_display("", v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


# News and terms ----------------------------------------------------------------------------

@portal_view
def news_list_view(request):
    page = Paginator(news_published(), NEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "partners/account/news_list.html", {"page_obj": page})


@portal_view
def news_detail_view(request, article_id: int):
    article = get_object_or_404(news_published(), pk=article_id)
    return render(request, "partners/account/news_detail.html", {"article": article})


def terms_view(request):
    """Linked from the sign-up form too, so it needs no sign-in: a visitor sees it in the
    sign-in layout, a signed-in partner in the portal."""
    user = request.user
    in_portal = (
        user.is_authenticated
        and user.affiliate_id is not None
        and not user.is_blocked
        and user.affiliate.status == Affiliate.Status.ACTIVE
    )
    return render(request, "partners/account/terms.html", {
        "terms": terms_current(),
        "layout": "portal/base.html" if in_portal else "portal/auth_base.html",
        "in_portal": in_portal,
    })
