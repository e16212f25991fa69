"""Demo data for `manage.py seed_demo`: a small, believable affiliate program to click through.

Idempotent: every row is looked up by a natural key (e-mail, name, title, credential key)
and created only when missing; nothing that exists is changed, so a second run writes nothing
and reports the same credentials. The history of an account (its events, documents) is
written only together with the account itself.

The passwords, 2FA keys and the operator secret are FIXED and published here so that a demo
can be signed into from the printed lines. They are demo-only: the command refuses to run
with DEBUG=False unless forced.

Brands and operator credentials belong to `campaigns`, a layer above `partners`: they are
reached through lazy model references (apps.get_model), never an import.
"""
import base64
import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners.models import Affiliate, Document, Event, NewsArticle, TermsVersion, User
from partners.services.events import event_record
from partners.services.tokens import statistic_token_issue, statistic_token_reveal

STAFF_DOMAIN = "northwind-partners.example"
MANAGER_EMAIL = f"marta.keller@{STAFF_DOMAIN}"
ACCOUNT_MANAGER_EMAIL = f"lena.fischer@{STAFF_DOMAIN}"
FINANCE_EMAIL = f"tomas.novak@{STAFF_DOMAIN}"
STAFF_PASSWORD = "Northwind-demo-2024"
# 20-byte TOTP keys (hex, as TOTPDevice stores them); the base32 form goes into an app.
MANAGER_TOTP_KEY = "96f68e7e9d8d47d3a9b4ff3582df2a0278b8b847"
ACCOUNT_MANAGER_TOTP_KEY = "388cf0589016dd991efa68a6a1affb9d72c0d48c"
FINANCE_TOTP_KEY = "221807480ce2c847c427ca87d00da9899928f0b0"

AFFILIATE_EMAIL = "anna.schmidt@lighthouse-media.example"
AFFILIATE_PASSWORD = "Lighthouse-demo-2024"
MEMBER_EMAIL = "ben.okafor@lighthouse-media.example"
MEMBER_PASSWORD = "Teammate-demo-2024"
PARTNER_PASSWORD = "Partner-demo-2024"  # the other demo accounts

OPERATOR_KEY = "be7ba83e7b52324a92a3b1750b287d3c"
OPERATOR_SECRET = "933224a6b7c4a0907a0203bc75bee2b27f43f0997da461ad7e8961f43effe0c7"

TOTP_DEVICE_NAME = "Authenticator"
AFFILIATE_MANAGER_GROUP = "Affiliate manager"
FINANCE_GROUP = "Finance"


@dataclass(frozen=True)
class DemoUser:
    email: str
    first_name: str
    last_name: str
    password: str
    role: str = User.Role.OWNER


@dataclass(frozen=True)
class DemoAffiliate:
    name: str
    company_name: str
    status: str
    manager_email: str | None
    country: str
    city: str
    website: str
    traffic: str
    currency: str
    days_ago: int
    users: tuple[DemoUser, ...]


AFFILIATES = (
    DemoAffiliate(
        name="Lighthouse Media", company_name="Lighthouse Media GmbH", status=Affiliate.Status.ACTIVE,
        manager_email=MANAGER_EMAIL, country="DE", city="Hamburg",
        website="https://lighthouse-media.example",
        traffic="Casino review site and a newsletter with 40k German-speaking subscribers.",
        currency="EUR", days_ago=62,
        users=(
            DemoUser(AFFILIATE_EMAIL, "Anna", "Schmidt", AFFILIATE_PASSWORD),
            DemoUser(MEMBER_EMAIL, "Ben", "Okafor", MEMBER_PASSWORD, User.Role.MEMBER),
        ),
    ),
    DemoAffiliate(
        name="Bluefin Reviews", company_name="Bluefin Reviews Ltd", status=Affiliate.Status.ACTIVE,
        manager_email=ACCOUNT_MANAGER_EMAIL, country="GB", city="Manchester",
        website="https://bluefin-reviews.example",
        traffic="Comparison site for UK players, SEO and paid search.",
        currency="USD", days_ago=41,
        users=(DemoUser("oliver.hughes@bluefin-reviews.example", "Oliver", "Hughes", PARTNER_PASSWORD),),
    ),
    DemoAffiliate(
        name="Starlight Traffic", company_name="", status=Affiliate.Status.PENDING,
        manager_email=None, country="BR", city="São Paulo",
        website="https://starlight-traffic.example",
        traffic="Streaming on Twitch and YouTube; Portuguese-speaking audience.",
        currency="USD", days_ago=2,
        users=(DemoUser("camila.rocha@starlight-traffic.example", "Camila", "Rocha", PARTNER_PASSWORD),),
    ),
    DemoAffiliate(
        name="Redline Deals", company_name="Redline Deals OÜ", status=Affiliate.Status.BLOCKED,
        manager_email=MANAGER_EMAIL, country="EE", city="Tallinn",
        website="https://redline-deals.example",
        traffic="Bonus-hunting forum and coupon site.",
        currency="EUR", days_ago=95,
        users=(DemoUser("ivan.petrov@redline-deals.example", "Ivan", "Petrov", PARTNER_PASSWORD),),
    ),
)

BRANDS = (
    {
        "name": "Aurora Casino", "base_currency": "EUR", "site_url": "https://aurora-casino.example",
        "tracking_host": "go.aurora-casino.example",
        "contacts": (
            ("email", "affiliates@aurora-casino.example", "Affiliate support"),
            ("telegram", "@aurora_affiliates", "Affiliate support"),
            ("email", "payments@aurora-casino.example", "Payments"),
        ),
    },
    {
        "name": "Polar Spins", "base_currency": "USD", "site_url": "https://polar-spins.example",
        "tracking_host": "go.polar-spins.example",
        "contacts": (
            ("email", "partners@polar-spins.example", "Affiliate support"),
            ("whatsapp", "+356 2000 1234", "Affiliate support"),
        ),
    },
)

NEWS = (
    (30, "Polar Spins joins the program",
     "Our second brand is live: USD bills, new landings and a welcome offer for your players.",
     "Polar Spins is now part of the program. Create a campaign for it on the Campaigns page; "
     "its commissions are billed in USD.\n\nYour affiliate manager can set up a dedicated plan."),
    (9, "Statistics now refresh every hour",
     "Reports and the Report API show activity with at most an hour's delay.",
     "We now import player activity from both brands every hour instead of once a day. "
     "Nothing changes in your links or postbacks."),
)

TERMS_TITLE = "Affiliate program terms and conditions"
TERMS_BODY = """1. Definitions
"Program" means the Northwind Partners affiliate program; "Brand" each casino promoted in it.

2. Promotion
You promote the Brands only with the creatives and landing pages provided, never to persons
under 18 or in jurisdictions where online gambling is prohibited. Incentivised traffic,
spam and bidding on Brand names are not allowed.

3. Commission and payment
Commission is calculated per billing period under your commission plan. Bills are validated
by your affiliate manager and credited to your balance once approved.

4. Termination
Either party may end the agreement with 14 days' notice. Breaching section 2 ends it at once
and forfeits commission from the breaching traffic.
"""


def _tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (ASCII), xref offsets computed."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _ago(now: dt.datetime, days: float, hour: int = 10) -> dt.datetime:
    return (now - dt.timedelta(days=days)).replace(hour=hour, minute=15, second=0, microsecond=0)


def _event(affiliate: Affiliate, type: Event.Type, when: dt.datetime, **kwargs) -> Event:
    """Record through event_record, then date it back: the demo needs a history of weeks."""
    event = event_record(affiliate=affiliate, type=type, **kwargs)
    Event.objects.filter(pk=event.pk).update(created_at=when)
    return event


def _staff(email: str, first: str, last: str, *, superuser: bool, group: str | None, totp_key: str,
           when: dt.datetime) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, first_name=first, last_name=last, is_staff=True,
                    is_superuser=superuser, date_joined=when)
        user.set_password(STAFF_PASSWORD)
        user.save()
        if group:
            user.groups.add(Group.objects.get(name=group))
    if not TOTPDevice.objects.filter(user=user).exists():
        TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=totp_key, confirmed=True)
    return user


def _totp_secret(user: User) -> str:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return base64.b32encode(device.bin_key).decode() if device else "(no authenticator)"


def _brands(now: dt.datetime):
    Brand = apps.get_model("campaigns", "Brand")
    BrandContact = apps.get_model("campaigns", "BrandContact")
    OperatorCredential = apps.get_model("campaigns", "OperatorCredential")
    for spec in BRANDS:
        brand, created = Brand.objects.get_or_create(
            name=spec["name"],
            defaults={k: spec[k] for k in ("base_currency", "site_url", "tracking_host")}
            | {"created_at": _ago(now, 120)},
        )
        if created:
            for position, (kind, value, label) in enumerate(spec["contacts"]):
                BrandContact.objects.create(brand=brand, kind=kind, value=value, label=label,
                                            position=position)
    credential = OperatorCredential.objects.filter(key=OPERATOR_KEY).first()
    if credential is None:
        credential = OperatorCredential(
            brand=Brand.objects.get(name="Aurora Casino"), name="Aurora platform",
            key=OPERATOR_KEY, created_at=_ago(now, 119),
        )
        credential.set_secret(OPERATOR_SECRET)
        credential.save()
    return credential


def _history(affiliate: Affiliate, spec: DemoAffiliate, users: list[User], manager: User | None,
             now: dt.datetime) -> None:
    """Events and documents of a newly created demo account."""
    owner = users[0]
    start = spec.days_ago
    if spec.status != Affiliate.Status.PENDING:
        _event(affiliate, Event.Type.ACCOUNT_APPROVED, _ago(now, start - 2), actor=manager)
        _event(affiliate, Event.Type.SIGNED_IN, _ago(now, start - 2, 14), user=owner, actor=owner,
               ip="198.51.100.23")
    if spec.status == Affiliate.Status.BLOCKED:
        _event(affiliate, Event.Type.ACCOUNT_BLOCKED, affiliate.blocked_at, actor=manager,
               data={"reason": "Incentivised traffic, against section 2 of the terms"})
        return
    if spec.status != Affiliate.Status.ACTIVE:
        return
    for days in (30, 12, 3):
        _event(affiliate, Event.Type.SIGNED_IN, _ago(now, days, 9), user=owner, actor=owner,
               ip="198.51.100.23")
    for member in users[1:]:
        _event(affiliate, Event.Type.USER_CREATED, _ago(now, start - 15), user=member, actor=owner,
               data={"email": member.email, "role": member.get_role_display()})
        _event(affiliate, Event.Type.SIGNED_IN, _ago(now, 5, 16), user=member, actor=member,
               ip="203.0.113.77")
    if spec.name != "Lighthouse Media":
        return
    _event(affiliate, Event.Type.PROFILE_UPDATED, _ago(now, 20), actor=owner,
           data={"fields": ["phone", "traffic description"]})
    documents = (
        ("company_registration", "Company registration certificate", "company-registration.pdf",
         Document.Status.APPROVED, 25),
        ("proof_of_address", "Proof of address", "utility-bill-march.pdf", Document.Status.PENDING, 4),
    )
    for kind, title, filename, status, days in documents:
        content = _tiny_pdf(f"{title} - {spec.company_name} (demo)")
        document = Document(
            affiliate=affiliate, uploaded_by=owner, kind=kind, title=title,
            original_name=filename, content_type="application/pdf", size=len(content),
            created_at=_ago(now, days),
        )
        document.file.save("document.pdf", ContentFile(content), save=False)
        if status == Document.Status.APPROVED:
            document.status = status
            document.reviewed_by = manager
            document.reviewed_at = _ago(now, days - 2)
        document.save()
        _event(affiliate, Event.Type.DOCUMENT_UPLOADED, document.created_at, actor=owner,
               data={"document_id": document.pk, "title": title, "type": document.get_kind_display()})
        if status == Document.Status.APPROVED:
            _event(affiliate, Event.Type.DOCUMENT_REVIEWED, document.reviewed_at, actor=manager,
                   data={"document_id": document.pk, "title": title, "status": status})


def _affiliates(now: dt.datetime) -> dict[str, User]:
    users_by_email: dict[str, User] = {}
    for spec in AFFILIATES:
        affiliate = Affiliate.objects.filter(name=spec.name).first()
        created = affiliate is None
        manager = User.objects.filter(email=spec.manager_email).first() if spec.manager_email else None
        if created:
            affiliate = Affiliate.objects.create(
                name=spec.name, company_name=spec.company_name, status=spec.status, manager=manager,
                country=spec.country, city=spec.city, website=spec.website,
                traffic_description=spec.traffic, default_report_currency=spec.currency,
                created_at=_ago(now, spec.days_ago),
                approved_at=None if spec.status == Affiliate.Status.PENDING else _ago(now, spec.days_ago - 2),
                blocked_at=_ago(now, 10) if spec.status == Affiliate.Status.BLOCKED else None,
            )
        users = []
        for person in spec.users:
            user = User.objects.filter(email=person.email).first()
            if user is None:
                user = User(email=person.email, first_name=person.first_name,
                            last_name=person.last_name, affiliate=affiliate, role=person.role,
                            date_joined=affiliate.created_at)
                user.set_password(person.password)
                user.save()
            if not user.statistic_token_digest:
                statistic_token_issue(user=user, actor=None)
            users.append(user)
            users_by_email[user.email] = user
        if created:
            _history(affiliate, spec, users, manager, now)
    return users_by_email


def _content(now: dt.datetime) -> None:
    for days, title, summary, body in NEWS:
        NewsArticle.objects.get_or_create(
            title=title,
            defaults={"summary": summary, "body": body, "is_published": True,
                      "published_at": _ago(now, days), "created_at": _ago(now, days + 1)},
        )
    TermsVersion.objects.get_or_create(
        title=TERMS_TITLE,
        defaults={"body": TERMS_BODY, "is_published": True, "published_at": _ago(now, 120)},
    )


@transaction.atomic
def demo_seed() -> list[tuple[str, str]]:
    """Create whatever of the demo program is missing; return the (name, value) lines to print.

    Needs the staff groups (`manage.py setup_groups`) to exist.
    """
    now = timezone.now()
    manager = _staff(MANAGER_EMAIL, "Marta", "Keller", superuser=True, group=None,
                     totp_key=MANAGER_TOTP_KEY, when=_ago(now, 200))
    account_manager = _staff(ACCOUNT_MANAGER_EMAIL, "Lena", "Fischer", superuser=False,
                             group=AFFILIATE_MANAGER_GROUP, totp_key=ACCOUNT_MANAGER_TOTP_KEY,
                             when=_ago(now, 150))
    finance = _staff(FINANCE_EMAIL, "Tomas", "Novak", superuser=False, group=FINANCE_GROUP,
                     totp_key=FINANCE_TOTP_KEY, when=_ago(now, 150))
    credential = _brands(now)
    users = _affiliates(now)
    _content(now)

    owner = users[AFFILIATE_EMAIL]
    token = statistic_token_reveal(owner) or "(cannot be decrypted: the encryption key changed; regenerate it on the profile page)"
    site = settings.SITE_URL
    return [
        ("admin_url", f"{site}{reverse('admin:index')}"),
        ("portal_url", f"{site}{reverse('partners:login')}"),
        ("manager_email", manager.email),
        ("manager_password", STAFF_PASSWORD),
        ("manager_totp_secret", _totp_secret(manager)),
        ("account_manager_email", account_manager.email),
        ("account_manager_password", STAFF_PASSWORD),
        ("account_manager_totp_secret", _totp_secret(account_manager)),
        ("finance_email", finance.email),
        ("finance_password", STAFF_PASSWORD),
        ("finance_totp_secret", _totp_secret(finance)),
        ("affiliate_email", owner.email),
        ("affiliate_password", AFFILIATE_PASSWORD),
        ("member_email", users[MEMBER_EMAIL].email),
        ("member_password", MEMBER_PASSWORD),
        ("statistic_token", token),
        ("operator_key", credential.key),
        ("operator_secret", credential.secret),
    ]
