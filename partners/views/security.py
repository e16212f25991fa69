"""Portal pages of the user's own security: the Account Info page (profile, statistic token,
2FA status, active sessions), enabling and disabling 2FA, changing the password."""
import base64

import segno
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from backoffice.net import client_ip
from partners.errors import PartnersError
from partners.forms.security import PasswordChangeForm, TwoFactorCodeForm
from partners.portal import has_2fa, portal_view
from partners.selectors import session_terminable_list, user_session_list
from partners.services.security import (
    current_session_rehash,
    two_factor_disable,
    two_factor_enable_confirm,
    two_factor_session_verify,
    two_factor_setup_device,
    user_other_sessions_end,
    user_password_change,
    user_session_terminate,
)
from partners.services.tokens import statistic_token_ensure, statistic_token_issue


def _safe_next(request) -> str:
    """The `next` page to return to after 2FA set-up, if it is one of ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _form_error(form, exc: PartnersError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@portal_view
def profile_view(request):
    user = request.user
    if request.method == "POST":
        if request.POST.get("action") == "end_other_sessions":
            ended = user_other_sessions_end(
                user=user, keep_session_key=request.session.session_key, ip=client_ip(request)
            )
            current_session_rehash(request=request, user=user)
            messages.success(
                request,
                f"Signed out {ended} other session{'s' if ended != 1 else ''}."
                if ended else "There were no other sessions; you stay signed in here.",
            )
        return redirect("partners:profile")
    return render(request, "partners/security/profile.html", {
        "affiliate": request.affiliate,
        "statistic_token": statistic_token_ensure(user=user),
        "two_factor_enabled": has_2fa(user),
        "sessions": user_session_list(user=user, current_session_key=request.session.session_key),
    })


@portal_view
def two_factor_enable_view(request):
    user = request.user
    next_url = _safe_next(request)
    if has_2fa(user):
        if user.is_verified():
            messages.info(request, "Two-factor authentication is already enabled on your account.")
            return redirect("partners:profile")
        return _session_verify(request, next_url)

    form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor_enable_confirm(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except PartnersError as exc:
            _form_error(form, exc)
        else:
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is enabled.")
            return redirect(next_url or "partners:profile")
    try:
        device = two_factor_setup_device(user=user)
    except PartnersError as exc:
        messages.info(request, exc.message)
        return redirect("partners:profile")
    return render(request, "partners/security/two_factor_enable.html", {
        "form": form,
        "next": next_url,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(
            scale=5, omitsize=True, title="QR code for your authenticator app"
        ),
        "secret": base64.b32encode(device.bin_key).decode(),
    })


def _session_verify(request, next_url: str):
    """2FA is on but this session (opened before it was) has not entered a code yet."""
    form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor_session_verify(user=request.user, code=form.cleaned_data["code"])
        except PartnersError as exc:
            _form_error(form, exc)
        else:
            otp_login(request, device)
            messages.success(request, "This session is verified.")
            return redirect(next_url or "partners:profile")
    return render(request, "partners/security/two_factor_verify.html", {"form": form, "next": next_url})


@portal_view
def two_factor_disable_view(request):
    user = request.user
    if not has_2fa(user):
        messages.info(request, "Two-factor authentication is not enabled on your account.")
        return redirect("partners:profile")
    form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor_disable(user=user, code=form.cleaned_data["code"], ip=client_ip(request))
        except PartnersError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Two-factor authentication is disabled.")
            return redirect("partners:profile")
    return render(request, "partners/security/two_factor_disable.html", {"form": form})


@portal_view
def password_change_view(request):
    user = request.user
    form = PasswordChangeForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ended = user_password_change(
                user=user,
                current_password=data["current_password"],
                new_password=data["new_password1"],
                end_other_sessions=data["end_other_sessions"],
                keep_session_key=request.session.session_key,
                ip=client_ip(request),
            )
        except PartnersError as exc:
            _form_error(form, exc)
        else:
            current_session_rehash(request=request, user=user)
            text = "Your password is changed."
            if data["end_other_sessions"]:
                text += f" Other sessions signed out: {ended}."
            messages.success(request, text)
            return redirect("partners:profile")
    return render(request, "partners/security/password_change.html", {"form": form})


@portal_view
@require_POST
def statistic_token_regenerate_view(request):
    statistic_token_issue(user=request.user, actor=request.user, ip=client_ip(request))
    messages.success(request, "A new statistic token is issued. The old one no longer works.")
    return redirect("partners:profile")


@portal_view
@require_POST
def session_terminate_view(request, session_id: int):
    session = get_object_or_404(
        session_terminable_list(actor=request.user, affiliate=request.affiliate), pk=session_id
    )
    owner = session.user
    try:
        user_session_terminate(
            session=session,
            actor=request.user,
            current_session_key=request.session.session_key,
            ip=client_ip(request),
        )
    except PartnersError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The session is terminated: that browser is signed out.")
    if owner.pk != request.user.pk:
        return redirect("partners:user_detail", user_id=owner.pk)
    return redirect("partners:profile")
