"""The admin requires a verified second factor (django-otp) for every staff user."""
from django_otp.admin import OTPAdminSite


class BackofficeAdminSite(OTPAdminSite):
    site_header = "Affiliate program back-office"
    site_title = "Back-office admin"
    index_title = "Program administration"
