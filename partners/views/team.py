"""Portal pages of the team (owner only): the users of the account, adding a member, and a
member's page (sessions, statistic token, blocked/locked)."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from backoffice.net import client_ip
from partners.errors import PartnersError
from partners.forms.team import MemberAccessForm, TeamMemberForm
from partners.portal import portal_view
from partners.selectors import team_user_get, team_user_list, user_session_list
from partners.services.team import team_member_access_update, team_member_create
from partners.services.tokens import statistic_token_ensure, statistic_token_issue


def _member_or_404(request, user_id: int):
    member = team_user_get(affiliate=request.affiliate, user_id=user_id)
    if member is None:
        raise Http404("No such user in your team.")
    return member


def _form_error(form, exc: PartnersError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@portal_view(owner_only=True)
def user_list_view(request):
    return render(request, "partners/team/user_list.html", {
        "users": team_user_list(affiliate=request.affiliate).select_related("affiliate"),
    })


@portal_view(owner_only=True)
def user_create_view(request):
    form = TeamMemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            member = team_member_create(
                affiliate=request.affiliate, actor=request.user, ip=client_ip(request),
                **form.cleaned_data,
            )
        except PartnersError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                f"{member.email} is added. We e-mailed them a link to set their password.",
            )
            return redirect("partners:user_detail", user_id=member.pk)
    return render(request, "partners/team/user_create.html", {"form": form})


@portal_view(owner_only=True)
def user_detail_view(request, user_id: int):
    member = _member_or_404(request, user_id)
    form = MemberAccessForm(request.POST if request.method == "POST" else None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            team_member_access_update(
                member=member,
                actor=request.user,
                blocked=form.cleaned_data["blocked"],
                locked=form.cleaned_data["locked"],
                ip=client_ip(request),
            )
        except PartnersError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Access of {member.email} is saved.")
            return redirect("partners:user_detail", user_id=member.pk)
    return render(request, "partners/team/user_detail.html", {
        "member": member,
        "form": form,
        "statistic_token": statistic_token_ensure(user=member),
        "sessions": user_session_list(user=member, current_session_key=request.session.session_key),
    })


@portal_view(owner_only=True)
@require_POST
def user_token_regenerate_view(request, user_id: int):
    member = _member_or_404(request, user_id)
    statistic_token_issue(user=member, actor=request.user, ip=client_ip(request))
    messages.success(
        request, f"A new statistic token is issued for {member.email}. The old one no longer works."
    )
    return redirect("partners:user_detail", user_id=member.pk)
