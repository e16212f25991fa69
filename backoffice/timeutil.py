"""Time helpers: storage is UTC; business dates are taken in settings.PROGRAM_TIME_ZONE."""
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def program_tz() -> ZoneInfo:
    return ZoneInfo(settings.PROGRAM_TIME_ZONE)


def business_today() -> dt.date:
    """Today's date in the program's time zone (what "today" means in reports and billing)."""
    return timezone.localtime(timezone.now(), program_tz()).date()


def business_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, program_tz()).date()
