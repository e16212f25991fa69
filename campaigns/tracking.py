"""The tracking link: GET /<prefix><code> records a visit and sends the visitor on to the
landing with the tag `<affiliate id>_<visit id>` in settings.TRACKING_TAG_PARAM.

It is the hottest path of the program, so a click costs one INSERT and, at most once per
CACHE_TTL_SECONDS per promo and process, one SELECT (promo joined to its landing). Nothing
else is read or written. With settings.TRACKING_BUFFERED_WRITES (PostgreSQL) not even the
INSERT is waited for: the visit gets an id reserved in advance and is written in bulk a
moment later by a background thread (campaigns.services.visit_buffer, where the trade-off is
described).

Decisions (see also the docstrings below):
- The visitor's custom parameters are forwarded to the landing as well as stored, as Affilka
  does: affiliates' trackers and the operator's site rely on them (`clickID`, `utm_*`).
  Only the cleaned parameters are forwarded (the same limits as stored), and a parameter the
  landing URL already has keeps the landing's value: the program configured it.
- HEAD requests and link-preview bots / crawlers get the same redirect without a tag and
  record no visit: they are not people, and a chat preview would otherwise count a click.
- Archived campaigns, inactive landings and brands still track: no traffic is lost.
- If the visit cannot be stored (the database is unavailable or locked), the visitor is
  still sent to the landing, untagged, and the error is logged: a lost attribution beats
  a lost player.
"""
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import DatabaseError, IntegrityError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.views.decorators.http import require_http_methods

from backoffice.net import client_ip
from campaigns.models import Landing, Promo
from campaigns.services.visits import MAX_PARAMS, visit_params_clean, visit_record

logger = logging.getLogger(__name__)

# Link-preview fetchers (chat apps, social networks) and search/ads crawlers: they follow
# links without a person behind them. Matched anywhere in the User-Agent, case-insensitively.
# Only the fetchers' own names: the in-app browsers of the same apps (FBAN/FBIOS, Instagram,
# LinkedInApp, Snapchat, Telegram's web view) carry people and must count.
LINK_PREVIEW_BOTS = re.compile(
    r"facebookexternalhit|facebookcatalog|Facebot|meta-externalagent|Twitterbot|Slackbot|"
    r"Slack-ImgProxy|LinkedInBot|Discordbot|TelegramBot|WhatsApp|Googlebot|AdsBot-Google|"
    r"Mediapartners-Google|Google-InspectionTool|Google-PageRenderer|Google-Read-Aloud|bingbot|"
    r"BingPreview|SkypeUriPreview|Applebot|Pinterestbot|redditbot|Embedly|Iframely|vkShare|"
    r"YandexBot|DuckDuckBot|Baiduspider|Mastodon|Bytespider|GPTBot|ChatGPT-User|ClaudeBot|"
    r"PerplexityBot|ia_archiver",
    re.IGNORECASE,
)

# Not Django's default "same-origin", which would hide from the landing where the visitor
# came from; the browser default instead: the landing sees the affiliate's origin (never the
# full page URL), and nothing over a downgrade to http.
REFERRER_POLICY = "strict-origin-when-cross-origin"

# The in-process cache of code -> where a click goes. A change made in this process (admin,
# portal) clears it at once through the signals below; other worker processes see it within
# CACHE_TTL_SECONDS. That staleness is accepted: a promo's landing rarely changes, and a
# visit recorded for a promo deleted meanwhile fails its foreign key and is retried fresh
# (with buffered writes the failure comes later, in the writer, which logs the visit lost).
CACHE_TTL_SECONDS = 30.0
CACHE_MAX_ENTRIES = 10_000
# Parse at most this many `&`-separated pieces when a query string has more fields than
# Django accepts (DATA_UPLOAD_MAX_NUMBER_FIELDS): the click counts, the excess is dropped.
_MAX_QUERY_PIECES = MAX_PARAMS * 4


@dataclass(frozen=True, slots=True)
class TrackingTarget:
    """Where a tracking code sends a click, with the landing URL split once."""

    promo_id: int
    affiliate_id: int
    landing_url: str
    scheme: str
    netloc: str
    path: str
    query: str
    fragment: str
    query_names: frozenset[str]

    @classmethod
    def of(cls, promo_id: int, affiliate_id: int, landing_url: str) -> "TrackingTarget":
        parts = urlsplit(landing_url)
        names = frozenset(
            unquote_plus(piece.split("=", 1)[0]) for piece in parts.query.split("&") if piece
        )
        return cls(promo_id, affiliate_id, landing_url, parts.scheme, parts.netloc,
                   parts.path or "/", parts.query, parts.fragment, names)

    def redirect_url(self, params: dict[str, str], tag: str | None) -> str:
        """The landing URL with the visitor's parameters (those the landing does not set
        itself) and our tag appended. The landing's own query is kept byte for byte, except
        a tag parameter of its own, which ours replaces."""
        tag_param = settings.TRACKING_TAG_PARAM
        query = self.query
        if tag_param in self.query_names:
            query = "&".join(
                piece for piece in query.split("&")
                if piece and unquote_plus(piece.split("=", 1)[0]) != tag_param
            )
        extra = [(name, value) for name, value in params.items() if name not in self.query_names]
        if tag is not None:
            extra.append((tag_param, tag))
        if extra:
            query = f"{query}&{urlencode(extra)}" if query else urlencode(extra)
        return urlunsplit((self.scheme, self.netloc, self.path, query, self.fragment))


_cache: OrderedDict[str, tuple[float, TrackingTarget]] = OrderedDict()
_cache_lock = threading.Lock()
_clock = time.monotonic  # patched by tests


def tracking_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def _forget(code: str) -> None:
    with _cache_lock:
        _cache.pop(code, None)


@receiver(post_save, sender=Promo, dispatch_uid="tracking_cache_promo_saved")
@receiver(post_delete, sender=Promo, dispatch_uid="tracking_cache_promo_deleted")
@receiver(post_save, sender=Landing, dispatch_uid="tracking_cache_landing_saved")
@receiver(post_delete, sender=Landing, dispatch_uid="tracking_cache_landing_deleted")
def _promo_or_landing_changed(**kwargs) -> None:
    # Rare next to clicks, so clearing everything is simpler than tracking who points where.
    tracking_cache_clear()


def tracking_target(code: str) -> TrackingTarget | None:
    """Where `code` sends a click, or None for an unknown code: one query (promo joined to
    its landing) unless cached in this process within CACHE_TTL_SECONDS."""
    now = _clock()
    with _cache_lock:
        entry = _cache.get(code)
        if entry is not None and entry[0] > now:
            _cache.move_to_end(code)
            return entry[1]
    if len(code) > Promo._meta.get_field("code").max_length:
        return None
    row = (
        Promo.objects.filter(code=code)
        .order_by()
        .values_list("pk", "affiliate_id", "landing__url")
        .first()
    )
    if row is None:
        return None  # misses are not cached: a promo created a second ago must work
    target = TrackingTarget.of(*row)
    with _cache_lock:
        _cache[code] = (now + CACHE_TTL_SECONDS, target)
        _cache.move_to_end(code)
        while len(_cache) > CACHE_MAX_ENTRIES:
            _cache.popitem(last=False)
    return target


def is_link_preview_bot(user_agent: str) -> bool:
    return bool(user_agent) and LINK_PREVIEW_BOTS.search(user_agent) is not None


def _query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    try:
        return [(name, values[-1]) for name, values in request.GET.lists()]
    except TooManyFieldsSent:
        pieces = request.META.get("QUERY_STRING", "").split("&", _MAX_QUERY_PIECES)[:_MAX_QUERY_PIECES]
        return parse_qsl("&".join(pieces), keep_blank_values=True)


def _redirect(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _not_found() -> HttpResponse:
    return HttpResponseNotFound("Unknown tracking link.\n", content_type="text/plain; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def track_view(request: HttpRequest, code: str) -> HttpResponse:
    target = tracking_target(code)
    if target is None:
        return _not_found()
    params = visit_params_clean(_query_pairs(request))
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if request.method == "HEAD" or is_link_preview_bot(user_agent):
        return _redirect(target.redirect_url(params, tag=None))

    visit_fields = {
        "ip": client_ip(request),
        "user_agent": user_agent,
        "referrer": request.META.get("HTTP_REFERER", ""),
        "params": params,
        "buffered": settings.TRACKING_BUFFERED_WRITES,
    }
    try:
        try:
            visit = visit_record(promo_id=target.promo_id, affiliate_id=target.affiliate_id,
                                 **visit_fields)
        except IntegrityError:
            # The cached promo was deleted by another process: look it up afresh, once.
            _forget(code)
            target = tracking_target(code)
            if target is None:
                return _not_found()
            visit = visit_record(promo_id=target.promo_id, affiliate_id=target.affiliate_id,
                                 **visit_fields)
    except DatabaseError:
        logger.exception("tracking: visit not recorded for code %s; redirecting untagged", code)
        return _redirect(target.redirect_url(params, tag=None))
    return _redirect(target.redirect_url(params, tag=f"{target.affiliate_id}_{visit.pk}"))
