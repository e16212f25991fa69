"""Guards for portal views: who may see a page, and the 2FA gate for financial actions.

Every portal view is wrapped in `portal_view`, which sets `request.affiliate`; selectors take
that affiliate, so no portal query can forget the scope.
"""
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from partners.models import Affiliate


def portal_view(view=None, *, owner_only: bool = False):
    """Require a signed-in user of an active affiliate account; set request.affiliate.

    owner_only: the page manages the team (users, their sessions and tokens). A member gets
    404, as for anything that is not theirs.
    """

    def decorate(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            affiliate = user.affiliate
            if affiliate is None or affiliate.status != Affiliate.Status.ACTIVE or user.is_blocked:
                # Staff without an account, or an account blocked/unapproved since sign-in.
                logout(request)
                messages.error(request, "Your partner account is not active. Contact your affiliate manager.")
                return redirect("partners:login")
            if owner_only and not user.is_owner:
                raise Http404("Only the account owner can manage the team.")
            request.affiliate = affiliate
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def has_2fa(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def require_2fa(func):
    """Financial actions (payment methods, cashouts, schedules) need 2FA enabled and this
    session verified with a code. Otherwise the user is sent to enable 2FA, with a message
    saying why, and brought back afterwards."""

    @wraps(func)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (has_2fa(user) and user.is_verified()):
            messages.warning(
                request,
                "Financial actions require two-factor authentication. "
                "Enable it below, then continue.",
            )
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('partners:two_factor_enable')}?{query}")
        return func(request, *args, **kwargs)

    return wrapper
