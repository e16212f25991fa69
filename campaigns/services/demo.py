"""Demo data of the campaigns app for `manage.py seed_demo`, on top of the partners demo
(partners/services/demo.py: the brands "Aurora Casino" and "Polar Spins" and the affiliate
"Lighthouse Media" are looked up there by name).

Adds traffic sources, landings, banners, commission plans, and three campaigns of Lighthouse
Media with promos whose tracking codes are fixed (so the printed link is stable), plus a
month of traffic behind them: visits with custom parameters, players registered through some
of them, deposits and daily activity windows, with the player events (registration,
first_deposit, deposit) raised through player_event_raise so that postbacks and reports have
something to show.

Idempotent like the partners demo: every row is looked up by a natural key and created only
when missing, nothing existing is changed, and the traffic of a promo is written only
together with the promo itself. The traffic is drawn from random.Random seeded per promo
from SEED, at fixed offsets before ANCHOR (midnight UTC of the day of the first run), so a
second run writes nothing and prints the same lines.
"""
import datetime as dt
import random
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from campaigns.errors import CampaignsError
from campaigns.links import tracking_link
from campaigns.models import (
    Brand,
    Campaign,
    Deposit,
    Landing,
    Media,
    Player,
    PlayerActivity,
    PlayerEvent,
    Promo,
    TrafficSource,
)
from campaigns.services.events import player_event_raise
from campaigns.services.visits import visit_record
from partners.models import Affiliate

# billing sits above campaigns: reach its model through the relation, never an import.
CommissionPlan = Campaign._meta.get_field("commission_plan").related_model

SEED = 2024
AFFILIATE_NAME = "Lighthouse Media"
AURORA, POLAR = "Aurora Casino", "Polar Spins"
TRACKING_CODE = "lhaurora01"  # the promo whose link seed_demo prints

TRAFFIC_SOURCES = (
    "SEO", "Social media", "E-mail", "Paid search", "Streaming", "Display / banners",
    "Push notifications", "Other",
)

# (brand, name, path on the brand's site or None for our sign-up page, audience, language)
LANDINGS = (
    (AURORA, "Main page", "/", Landing.Audience.PLAYERS, "en"),
    (AURORA, "Welcome bonus", "/promo/welcome-bonus?lang=en", Landing.Audience.PLAYERS, "en"),
    (AURORA, "Willkommensbonus", "/de/promo/willkommensbonus", Landing.Audience.PLAYERS, "de"),
    (AURORA, "Become a partner", None, Landing.Audience.SUB_AFFILIATES, "en"),
    (POLAR, "Main page", "/", Landing.Audience.PLAYERS, "en"),
    (POLAR, "Welcome bonus", "/welcome?offer=100fs", Landing.Audience.PLAYERS, "en"),
)


@dataclass(frozen=True)
class DemoMedia:
    brand: str
    title: str
    width: int
    height: int
    colour: tuple[int, int, int]
    tags: str
    language: str = "en"
    private: bool = False  # private banners are granted to Lighthouse Media


MEDIA = (
    DemoMedia(AURORA, "Aurora welcome bonus 300x250", 300, 250, (38, 70, 140), "welcome bonus, slots"),
    DemoMedia(AURORA, "Aurora leaderboard 728x90", 728, 90, (38, 70, 140), "welcome bonus"),
    DemoMedia(AURORA, "Aurora Willkommensbonus 160x600", 160, 600, (38, 70, 140), "welcome bonus", "de"),
    DemoMedia(AURORA, "Aurora VIP tournament 250x250", 250, 250, (120, 40, 120), "tournament, vip",
              private=True),
    DemoMedia(POLAR, "Polar Spins 100 free spins 300x250", 300, 250, (20, 130, 160), "free spins"),
    DemoMedia(POLAR, "Polar Spins mobile 320x50", 320, 50, (20, 130, 160), "free spins, mobile"),
)


@dataclass(frozen=True)
class DemoPlan:
    brand: str
    name: str
    description: str
    individual: bool = False  # only for Lighthouse Media
    sub_affiliates: bool = False


PLANS = (
    DemoPlan(AURORA, "Aurora RevShare 35%", "35% of NGR, negative carryover off. Sub-affiliates earn you 5%.",
             sub_affiliates=True),
    DemoPlan(AURORA, "Aurora CPA €120", "€120 per qualified player: first deposit of at least €20."),
    DemoPlan(AURORA, "Lighthouse VIP RevShare 45%", "Individual plan agreed with Lighthouse Media.",
             individual=True),
    DemoPlan(POLAR, "Polar Spins RevShare 30%", "30% of NGR."),
    DemoPlan(POLAR, "Polar Spins Hybrid $50 + 20%", "$50 per qualified player plus 20% of NGR."),
)


@dataclass(frozen=True)
class DemoPromo:
    code: str
    title: str
    landing: str
    media: str | None
    traffic_source: str
    utm_source: str
    visits_per_day: int  # at most; the day's count is drawn from 0..this
    promo_code: str = ""


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    brand: str
    plan: str
    days_ago: int
    promos: tuple[DemoPromo, ...]
    archived_days_ago: int | None = None


CAMPAIGNS = (
    DemoCampaign(
        "Aurora – review site", AURORA, "Aurora RevShare 35%", 45, (
            DemoPromo(TRACKING_CODE, "Review page banner", "Welcome bonus", "Aurora welcome bonus 300x250",
                      "SEO", "review", 7, promo_code="LIGHTHOUSE100"),
            DemoPromo("lhaurora02", "Newsletter – Willkommensbonus", "Willkommensbonus", None,
                      "E-mail", "newsletter", 4),
            DemoPromo("lhpartner1", "Recruit partners", "Become a partner", None, "SEO", "partners", 1),
        ),
    ),
    DemoCampaign(
        "Polar Spins – newsletter", POLAR, "Polar Spins RevShare 30%", 28, (
            DemoPromo("lhpolar01", "Weekly newsletter", "Welcome bonus", "Polar Spins mobile 320x50",
                      "E-mail", "newsletter", 5),
        ),
    ),
    DemoCampaign(
        "Aurora – spring tournament", AURORA, "Lighthouse VIP RevShare 45%", 60, (
            DemoPromo("lhspring01", "Tournament stream overlay", "Main page", "Aurora VIP tournament 250x250",
                      "Streaming", "twitch", 3),
        ),
        archived_days_ago=12,
    ),
)

TRAFFIC_DAYS = 30
REGISTRATION_RATE = 0.22
DEPOSIT_RATE = 0.6
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
REFERRERS = {
    "review": "https://lighthouse-media.example/reviews/aurora-casino",
    "newsletter": "",  # mail clients send none
    "twitch": "https://www.twitch.tv/",
    "partners": "https://lighthouse-media.example/about/partner-with-us",
}
COUNTRIES = {AURORA: (("DE", "de"), ("AT", "de"), ("CH", "de"), ("DE", "en")),
             POLAR: (("CA", "en"), ("NZ", "en"), ("FI", "fi"), ("IE", "en"))}
DEPOSIT_AMOUNTS = (10, 20, 20, 25, 50, 50, 100, 200)


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one colour (8-bit RGB, no filter), without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def _money(cents: int) -> Decimal:
    return Decimal(cents) / 100


def _day(anchor: dt.datetime, days_ago: int) -> dt.datetime:
    return anchor - dt.timedelta(days=days_ago)


def _traffic_sources() -> dict[str, TrafficSource]:
    sources = {}
    for position, name in enumerate(TRAFFIC_SOURCES):
        sources[name], _ = TrafficSource.objects.get_or_create(name=name, defaults={"position": position})
    return sources


def _landings(brands: dict[str, Brand], anchor: dt.datetime) -> dict[tuple[str, str], Landing]:
    sign_up = f"{settings.SITE_URL}{reverse('partners:sign_up')}"
    landings = {}
    for brand_name, name, path, audience, language in LANDINGS:
        brand = brands[brand_name]
        url = sign_up if path is None else f"{brand.site_url.rstrip('/')}{path}"
        landings[brand_name, name], _ = Landing.objects.get_or_create(
            brand=brand, name=name,
            defaults={"url": url, "audience": audience, "language": language,
                      "created_at": _day(anchor, 90)},
        )
    return landings


def _media(brands: dict[str, Brand], affiliate: Affiliate, anchor: dt.datetime) -> dict[str, Media]:
    media = {}
    for spec in MEDIA:
        brand = brands[spec.brand]
        banner = Media.objects.filter(brand=brand, title=spec.title).first()
        if banner is None:
            ratio = spec.width / spec.height
            banner = Media(
                brand=brand, title=spec.title, language=spec.language, file_format=Media.Format.PNG,
                width=spec.width, height=spec.height, tags=spec.tags,
                orientation=(Media.Orientation.SQUARE if 0.9 <= ratio <= 1.1
                             else Media.Orientation.HORIZONTAL if ratio > 1 else Media.Orientation.VERTICAL),
                privacy=Media.Privacy.PRIVATE if spec.private else Media.Privacy.PUBLIC,
                created_at=_day(anchor, 80),
            )
            banner.file.save("banner.png", ContentFile(solid_png(spec.width, spec.height, spec.colour)),
                             save=False)
            banner.save()
            if spec.private:
                banner.affiliates.add(affiliate)
        media[spec.title] = banner
    return media


def _plans(brands: dict[str, Brand], affiliate: Affiliate, anchor: dt.datetime) -> dict[str, object]:
    plans = {}
    for spec in PLANS:
        brand = brands[spec.brand]
        plan = CommissionPlan.objects.filter(brand=brand, name=spec.name).first()
        if plan is None:
            plan = CommissionPlan.objects.create(
                brand=brand, name=spec.name, currency=brand.base_currency, description=spec.description,
                is_default=not spec.individual, allows_sub_affiliates=spec.sub_affiliates,
                created_at=_day(anchor, 100),
            )
            if spec.individual:
                plan.affiliates.add(affiliate)
        plans[spec.name] = plan
    return plans


def _campaign(spec: DemoCampaign, *, affiliate: Affiliate, brand: Brand, plan, anchor: dt.datetime) -> Campaign:
    campaign = Campaign.objects.filter(affiliate=affiliate, name=spec.name).first()
    if campaign is None:
        archived = spec.archived_days_ago is not None
        campaign = Campaign.objects.create(
            affiliate=affiliate, name=spec.name, brand=brand, commission_plan=plan,
            created_at=_day(anchor, spec.days_ago),
            state=Campaign.State.ARCHIVED if archived else Campaign.State.ACTIVE,
            archived_at=_day(anchor, spec.archived_days_ago) + dt.timedelta(hours=16) if archived else None,
        )
    return campaign


def _traffic(promo: Promo, spec: DemoPromo, *, first_day: int, anchor: dt.datetime) -> None:
    """A month of clicks on a new promo, and what came of some of them."""
    rng = random.Random(f"{SEED}:{promo.code}")
    is_sub_affiliate = promo.landing.audience == Landing.Audience.SUB_AFFILIATES
    for days_ago in range(min(first_day, TRAFFIC_DAYS), 0, -1):
        day = _day(anchor, days_ago)
        for _ in range(rng.randint(0, spec.visits_per_day)):
            at = day + dt.timedelta(seconds=rng.randint(7 * 3600, 23 * 3600 + 3599))
            visit = visit_record(
                promo_id=promo.pk, affiliate_id=promo.affiliate_id,
                ip=f"{rng.choice(('198.51.100', '203.0.113', '192.0.2'))}.{rng.randint(1, 254)}",
                user_agent=rng.choice(USER_AGENTS),
                referrer=REFERRERS.get(spec.utm_source, ""),
                params={"sub_id": f"{spec.utm_source}-{rng.randint(1, 40):03d}", "utm_source": spec.utm_source},
                created_at=at,
            )
            if not is_sub_affiliate and rng.random() < REGISTRATION_RATE:
                _player(promo, visit, rng=rng, anchor=anchor)


def _player(promo: Promo, visit, *, rng: random.Random, anchor: dt.datetime) -> None:
    brand = promo.brand
    country, language = rng.choice(COUNTRIES.get(brand.name, (("DE", "en"),)))
    sign_up_at = min(visit.created_at + dt.timedelta(minutes=rng.randint(2, 90)), anchor - dt.timedelta(minutes=1))
    player = Player.objects.create(
        brand=brand, user_id=f"{promo.code}-{visit.pk}", tag=visit.tag, visit=visit, promo=promo,
        campaign_id=promo.campaign_id, affiliate_id=promo.affiliate_id, country=country, language=language,
        sign_up_at=sign_up_at, created_at=sign_up_at, updated_at=sign_up_at,
    )
    player_event_raise(type=PlayerEvent.Type.REGISTRATION, player=player, occurred_at=sign_up_at)
    if rng.random() >= DEPOSIT_RATE:
        return
    days_left = (anchor - sign_up_at).days
    deposit_days = sorted({0, *(rng.randint(0, days_left) for _ in range(rng.randint(0, 3)))})
    currency = brand.base_currency
    for number, offset in enumerate(deposit_days):
        day_start = (sign_up_at + dt.timedelta(days=offset)).replace(hour=0, minute=0, second=0, microsecond=0)
        processed_at = (sign_up_at + dt.timedelta(minutes=rng.randint(3, 40)) if offset == 0
                        else day_start + dt.timedelta(seconds=rng.randint(8 * 3600, 23 * 3600)))
        # Within the day's window, and never before the sign-up.
        processed_at = max(sign_up_at, min(processed_at, day_start + dt.timedelta(days=1, seconds=-1)))
        amount_cents = rng.choice(DEPOSIT_AMOUNTS) * 100
        deposit = Deposit.objects.create(
            brand=brand, player=player, deposit_id=f"{player.user_id}-{number + 1}", amount=_money(amount_cents),
            currency=currency, processed_at=processed_at, is_first=number == 0, created_at=processed_at,
        )
        if number == 0:
            player.first_deposit_at = processed_at
            player.save(update_fields=["first_deposit_at"])
            player_event_raise(type=PlayerEvent.Type.FIRST_DEPOSIT, player=player, occurred_at=processed_at,
                               key=f"{PlayerEvent.Type.FIRST_DEPOSIT}:{player.pk}", deposit=deposit,
                               amount=deposit.amount, currency=currency)
        player_event_raise(type=PlayerEvent.Type.DEPOSIT, player=player, occurred_at=processed_at,
                           deposit=deposit, amount=deposit.amount, currency=currency)
        # The day's activity window, as the platform would post it (wager = bets here).
        bets = amount_cents * rng.randint(15, 60) // 10
        wins = bets * rng.randint(80, 103) // 100
        bonus = amount_cents if number == 0 else 0  # a 100% welcome bonus on the first deposit
        PlayerActivity.objects.create(
            player=player, currency=currency, period_start=day_start, period_end=day_start + dt.timedelta(days=1),
            bets_sum=_money(bets), wins_sum=_money(wins), wager_sum=_money(bets),
            rounds_count=bets // 100 + rng.randint(5, 40), bonus_issues_sum=_money(bonus),
            deposits_sum=_money(amount_cents), deposits_count=1,
            payment_system_fees_sum=_money(amount_cents * 2 // 100),
            game_provider_fees_sum=_money(bets * 3 // 1000),
            received_at=day_start + dt.timedelta(days=1),
            updated_at=day_start + dt.timedelta(days=1),
        )


@transaction.atomic
def seed() -> list[tuple[str, str]]:
    """Create whatever of the campaigns demo is missing; return the (name, value) lines to print.

    Needs the partners demo (partners.services.demo.demo_seed) to have run first.
    """
    brands = {b.name: b for b in Brand.objects.filter(name__in=(AURORA, POLAR))}
    affiliate = Affiliate.objects.filter(name=AFFILIATE_NAME).first()
    if len(brands) < 2 or affiliate is None:
        raise CampaignsError(
            f"The campaigns demo builds on the partners demo: brands {AURORA!r} and {POLAR!r} and the "
            f"affiliate {AFFILIATE_NAME!r} must exist. Run partners.services.demo.demo_seed first."
        )
    anchor = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    sources = _traffic_sources()
    landings = _landings(brands, anchor)
    media = _media(brands, affiliate, anchor)
    plans = _plans(brands, affiliate, anchor)

    for spec in CAMPAIGNS:
        brand = brands[spec.brand]
        campaign = _campaign(spec, affiliate=affiliate, brand=brand, plan=plans[spec.plan], anchor=anchor)
        for promo_spec in spec.promos:
            if Promo.objects.filter(code=promo_spec.code).exists():
                continue
            promo = Promo.objects.create(
                campaign=campaign, affiliate=affiliate, brand=brand, title=promo_spec.title,
                code=promo_spec.code, landing=landings[spec.brand, promo_spec.landing],
                media=media[promo_spec.media] if promo_spec.media else None,
                traffic_source=sources[promo_spec.traffic_source], promo_code=promo_spec.promo_code,
                created_at=campaign.created_at + dt.timedelta(minutes=5),
            )
            _traffic(promo, promo_spec, first_day=spec.days_ago, anchor=anchor)

    promo = Promo.objects.select_related("brand").get(code=TRACKING_CODE)
    return [
        ("tracking_link", tracking_link(promo)),
        # The brand's tracking host is not served by a local demo; this link is.
        ("tracking_link_local", f"{settings.SITE_URL}{reverse('track', kwargs={'code': promo.code})}"),
    ]
