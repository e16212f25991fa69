"""The admin requires a verified second factor (django-otp) for every staff user."""
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice


class AdminLoginForm(OTPAdminAuthenticationForm):
    """E-mail, password and the authenticator code in one step.

    django-otp asks the user to pick a device first (its device list only fills in after the
    password was accepted, so the stock page takes two submits). A manager has one
    authenticator: when none is picked, the code is checked against their confirmed TOTP
    device, and still only that one device (no matching across devices, which would count
    failures against the others).
    """

    def _chosen_device(self, user):
        # Called by django-otp inside transaction.atomic(), so the row lock holds until the
        # code is checked: two simultaneous logins cannot both accept one code.
        device = super()._chosen_device(user)
        if device is None:
            device = (
                TOTPDevice.objects.select_for_update()
                .filter(user=user, confirmed=True)
                .order_by("pk")
                .first()
            )
        return device


class BackofficeAdminSite(OTPAdminSite):
    site_header = "Affiliate program back-office"
    site_title = "Back-office admin"
    index_title = "Program administration"
    login_form = AdminLoginForm
