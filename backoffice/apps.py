from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back-office"


class BackofficeAdminConfig(AdminConfig):
    """The admin, with the OTP-guarded site as the default `admin.site`."""

    default_site = "backoffice.admin_site.BackofficeAdminSite"
