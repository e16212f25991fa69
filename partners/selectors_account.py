"""Reads for the account pages: documents and the events log (scoped by the affiliate),
program news and terms (the same for everybody, published only)."""
import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from backoffice.timeutil import program_tz
from partners.models import Affiliate, Document, Event, NewsArticle, TermsVersion


def documents_for(*, affiliate: Affiliate) -> QuerySet[Document]:
    return Document.objects.filter(affiliate=affiliate).select_related("uploaded_by", "reviewed_by")


def events_for(
    *,
    affiliate: Affiliate,
    type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Event]:
    """The affiliate's events log, newest first. Dates are whole days in the program's
    time zone, both ends included."""
    events = Event.objects.filter(affiliate=affiliate).select_related("user")
    if type:
        events = events.filter(type=type)
    tz = program_tz()
    if date_from:
        events = events.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        next_day = date_to + dt.timedelta(days=1)
        events = events.filter(created_at__lt=dt.datetime.combine(next_day, dt.time.min, tzinfo=tz))
    return events


def news_published() -> QuerySet[NewsArticle]:
    """Published articles whose publication time has come, newest first."""
    return NewsArticle.objects.filter(is_published=True, published_at__lte=timezone.now()).order_by(
        "-published_at", "-pk"
    )


def terms_current() -> TermsVersion | None:
    """The terms in force: the newest published version."""
    return (
        TermsVersion.objects.filter(is_published=True, published_at__lte=timezone.now())
        .order_by("-published_at", "-pk")
        .first()
    )
