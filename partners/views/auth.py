"""Portal views: sign-in (password, then the 2FA code), sign-out, sign-up, unlock links and
password (re)set links. The rules live in partners.services.auth; these views translate."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from backoffice.net import client_ip
from partners.errors import PartnersError
from partners.forms.auth import (
    EmailForm,
    LoginCodeForm,
    LoginForm,
    SetPasswordForm,
    SignUpForm,
    referral_tag_clean,
)
from partners.models import User
from partners.services import accounts
from partners.services import auth as auth_services

# Between a right password and the 2FA code: whose sign-in it is, since when, and where to go.
PENDING_LOGIN_KEY = "partners_login_pending"
PENDING_LOGIN_MAX_AGE = 5 * 60
# The set-password token moves from the URL into the session at once (as Django's own
# PasswordResetConfirmView does), so it cannot leak through the Referer header of the page.
PASSWORD_SET_SESSION_KEY = "partners_password_set_token"
PASSWORD_SET_URL_TOKEN = "set-password"
# A sub-affiliate promo lands here with ?<TRACKING_TAG_PARAM>=<tag>; the tag waits in the
# session until the form is sent (it may take a few tries).
REFERRAL_TAG_SESSION_KEY = "partners_referral_tag"


def _next_url(request) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


def _safe_redirect(request, next_url: str):
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("reports:dashboard")


def _sign_in(request, user: User, *, next_url: str, with_device: bool):
    auth_login(request, user)
    if with_device:
        otp_login(request, auth_services.login_device(user=user))
    auth_services.user_signed_in(
        user=user, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )
    return _safe_redirect(request, next_url)


# Sign-in ----------------------------------------------------------------------------------------

@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = _next_url(request)
    if request.user.is_authenticated and request.user.affiliate_id:
        return _safe_redirect(request, next_url)
    form = LoginForm(request.POST or None)
    locked = False
    if request.method == "POST" and form.is_valid():
        result = auth_services.user_login_attempt(
            email=form.cleaned_data["email"], password=form.cleaned_data["password"],
            ip=client_ip(request),
        )
        if result.needs_code:
            request.session[PENDING_LOGIN_KEY] = {
                "user_id": result.user.pk,
                "at": timezone.now().timestamp(),
                "next": next_url,
            }
            return redirect("partners:login_code")
        if result.ok:
            return _sign_in(request, result.user, next_url=next_url, with_device=False)
        form.add_error(None, result.error)
        locked = result.reason == "locked"
    return render(request, "partners/auth/login.html", {"form": form, "next": next_url, "locked": locked})


def _pending_login_user(request) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict):
        return None, {}
    if timezone.now().timestamp() - pending.get("at", 0) > PENDING_LOGIN_MAX_AGE:
        request.session.pop(PENDING_LOGIN_KEY, None)
        messages.error(request, "Your sign-in timed out. Enter your e-mail and password again.")
        return None, {}
    return User.objects.filter(pk=pending.get("user_id")).first(), pending


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_view(request):
    user, pending = _pending_login_user(request)
    if user is None:
        return redirect("partners:login")
    form = LoginCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = auth_services.user_login_code_attempt(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except PartnersError as exc:  # throttled: wait, then try again
            form.add_error("code", exc.message)
        else:
            if result.ok:
                request.session.pop(PENDING_LOGIN_KEY, None)
                return _sign_in(request, result.user, next_url=pending.get("next", ""), with_device=True)
            if result.reason == "invalid":
                form.add_error("code", result.error)
            else:  # locked by this failure, or blocked meanwhile: start over at the login page
                request.session.pop(PENDING_LOGIN_KEY, None)
                messages.error(request, result.error)
                return redirect("partners:login")
    return render(request, "partners/auth/login_code.html", {"form": form})


@require_POST
def logout_view(request):
    auth_logout(request)
    messages.info(request, "You have signed out.")
    return redirect("partners:login")


# Sign-up ----------------------------------------------------------------------------------------

@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_up_view(request):
    if request.user.is_authenticated and request.user.affiliate_id:
        return redirect("reports:dashboard")
    referral_tag = referral_tag_clean(request.GET.get(settings.TRACKING_TAG_PARAM))
    if referral_tag:
        request.session[REFERRAL_TAG_SESSION_KEY] = referral_tag
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            auth_services.affiliate_sign_up(
                name=data["name"], company_name=data["company_name"], email=data["email"],
                password=data["password1"], phone=data["phone"], messenger=data["messenger"],
                messenger_id=data["messenger_id"], website=data["website"],
                country=data["country"], traffic_description=data["traffic_description"],
                referral_tag=referral_tag_clean(request.session.get(REFERRAL_TAG_SESSION_KEY)),
            )
        except PartnersError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            request.session.pop(REFERRAL_TAG_SESSION_KEY, None)
            return redirect("partners:sign_up_done")
    return render(request, "partners/auth/sign_up.html", {"form": form})


def sign_up_done_view(request):
    return render(request, "partners/auth/sign_up_done.html")


# Unlock -----------------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def unlock_request_view(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth_services.unlock_instructions_request(email=form.cleaned_data["email"])
        messages.info(
            request,
            "If an account with this e-mail is locked, we have sent unlock instructions to it.",
        )
        return redirect("partners:login")
    return render(request, "partners/auth/unlock_request.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def unlock_view(request, token: str):
    # GET only shows a button: mail scanners that open links must not use up the link.
    if request.method == "POST":
        try:
            accounts.user_unlock_by_token(token=token, ip=client_ip(request))
        except PartnersError as exc:
            return render(request, "partners/auth/unlock.html", {"error": exc.message}, status=400)
        messages.success(request, "Your account is unlocked. You can sign in now.")
        return redirect("partners:login")
    return render(request, "partners/auth/unlock.html", {})


# Password reset and set-password links ------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_view(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth_services.password_reset_send(email=form.cleaned_data["email"])
        messages.info(
            request,
            "If an account with this e-mail exists, we have sent it a link to set a new password.",
        )
        return redirect("partners:login")
    return render(request, "partners/auth/password_reset.html", {"form": form})


def _user_from_uidb64(uidb64: str) -> User | None:
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return User.objects.get(pk=pk)
    except (TypeError, ValueError, OverflowError, ValidationError, User.DoesNotExist):
        return None


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_set_view(request, uidb64: str, token: str):
    """"Set your password" from an e-mailed link: a password reset, or a team invitation."""
    user = _user_from_uidb64(uidb64)
    if token != PASSWORD_SET_URL_TOKEN:
        if user is not None and default_token_generator.check_token(user, token):
            request.session[PASSWORD_SET_SESSION_KEY] = token
            return redirect("partners:password_set", uidb64=uidb64, token=PASSWORD_SET_URL_TOKEN)
        valid = False
    else:
        valid = user is not None and default_token_generator.check_token(
            user, request.session.get(PASSWORD_SET_SESSION_KEY)
        )
    if not valid:
        return render(request, "partners/auth/password_set.html", {"invalid": True}, status=400)

    form = SetPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            auth_services.user_password_set(user=user, password=form.cleaned_data["new_password1"])
        except PartnersError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if request.user.is_authenticated:
                auth_logout(request)  # whoever was signed in here signs in again as this user
            request.session.pop(PASSWORD_SET_SESSION_KEY, None)
            messages.success(request, "Your password is set. Sign in with your e-mail and the new password.")
            return redirect(reverse("partners:login"))
    return render(request, "partners/auth/password_set.html", {"form": form, "user_email": user.email})
