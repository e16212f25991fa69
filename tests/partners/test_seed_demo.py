"""`manage.py seed_demo`: a demo program one can sign in to with the printed lines, seeded
again without changing anything."""
import re
from io import StringIO

import pyotp
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Brand, OperatorCredential
from partners.models import Affiliate, Document, Event, NewsArticle, TermsVersion, User
from partners.services.tokens import user_by_statistic_token

pytestmark = pytest.mark.django_db

REQUIRED = (
    "manager_email", "manager_password", "manager_totp_secret", "affiliate_email",
    "affiliate_password", "member_email", "member_password", "statistic_token", "operator_key",
    "operator_secret", "admin_url", "portal_url",
)


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True  # pytest-django runs tests with DEBUG=False


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def parse(output: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z_]+): (.+)$", output, flags=re.MULTILINE))


def snapshot() -> dict[str, list[dict]]:
    """Every row of every model: a second run must leave all of them as they were."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
    }


def test_the_output_names_every_credential_and_warns_they_are_demo_only():
    output = seed()

    lines = parse(output)
    for name in REQUIRED:
        assert lines.get(name), name
    assert output.splitlines()[0].startswith("WARNING: demo credentials")
    assert lines["admin_url"] == "http://testserver/admin/"
    assert lines["portal_url"] == "http://testserver/partner/login"
    assert lines["manager_email"] == "marta.keller@northwind-partners.example"


def test_a_second_run_changes_nothing_and_prints_the_same_lines():
    first = seed()
    before = snapshot()

    second = seed()

    assert second == first
    after = snapshot()
    assert {label: len(rows) for label, rows in after.items()} == {
        label: len(rows) for label, rows in before.items()
    }
    assert after == before


def test_the_printed_manager_credentials_open_the_admin(client):
    lines = parse(seed())
    code = pyotp.TOTP(lines["manager_totp_secret"]).now()

    response = client.post(reverse("admin:login"), {
        "username": lines["manager_email"], "password": lines["manager_password"],
        "otp_token": code, "next": "/admin/",
    })

    assert response.status_code == 302
    assert client.get(reverse("admin:partners_affiliate_changelist")).status_code == 200


def test_the_finance_manager_sees_affiliates_but_cannot_change_them(client):
    lines = parse(seed())
    code = pyotp.TOTP(lines["finance_totp_secret"]).now()
    client.post(reverse("admin:login"), {
        "username": lines["finance_email"], "password": lines["finance_password"],
        "otp_token": code, "next": "/admin/",
    })
    lighthouse = Affiliate.objects.get(name="Lighthouse Media")

    page = client.get(reverse("admin:partners_affiliate_change", args=[lighthouse.pk]))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert User.objects.get(email=lines["finance_email"]).groups.get().name == "Finance"


def test_the_printed_affiliate_credentials_open_the_portal(client):
    lines = parse(seed())

    response = client.post(reverse("partners:login"), {
        "email": lines["affiliate_email"], "password": lines["affiliate_password"],
    })

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:dashboard")
    member = User.objects.get(email=lines["member_email"])
    assert member.check_password(lines["member_password"])
    assert member.affiliate.name == "Lighthouse Media" and member.role == User.Role.MEMBER


def test_the_printed_statistic_token_and_operator_secret_work():
    lines = parse(seed())

    owner = user_by_statistic_token(lines["statistic_token"])
    credential = OperatorCredential.objects.get(key=lines["operator_key"])

    assert owner is not None and owner.email == lines["affiliate_email"]
    assert credential.secret == lines["operator_secret"]
    assert credential.brand.name == "Aurora Casino"
    assert not User.objects.filter(affiliate__isnull=False, statistic_token_digest=None).exists()


def test_the_demo_program_has_brands_accounts_in_every_state_and_a_history():
    seed()

    aurora = Brand.objects.get(name="Aurora Casino")
    assert (aurora.base_currency, aurora.site_url) == ("EUR", "https://aurora-casino.example")
    assert Brand.objects.get(name="Polar Spins").base_currency == "USD"
    assert aurora.contacts.exists() and Brand.objects.get(name="Polar Spins").contacts.exists()
    statuses = sorted(Affiliate.objects.values_list("status", flat=True))
    assert set(statuses) == {"active", "pending", "blocked"}
    assert statuses.count("active") == 2
    managers = set(Affiliate.objects.filter(status="active").values_list("manager__email", flat=True))
    assert len(managers) == 2
    assert Event.objects.filter(created_at__lt=timezone.now() - timezone.timedelta(days=14)).exists()
    assert Event.objects.filter(type=Event.Type.ACCOUNT_BLOCKED, affiliate__name="Redline Deals").exists()
    assert NewsArticle.objects.filter(is_published=True).count() == 2
    assert TermsVersion.objects.filter(is_published=True).exists()
    assert sorted(Document.objects.values_list("status", flat=True)) == ["approved", "pending"]


def test_the_demo_documents_are_valid_pdf_files():
    seed()

    for document in Document.objects.all():
        with document.file.open("rb") as handle:
            data = handle.read()
        assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        assert document.size == len(data)
        # Each xref entry points at the object it numbers.
        xref_at = int(data.rsplit(b"startxref", 1)[1].split()[0])
        entries = data[xref_at:].split(b"\n")[3:8]
        for number, entry in enumerate(entries, start=1):
            offset = int(entry.split()[0])
            assert data[offset:].startswith(f"{number} 0 obj".encode())


def test_it_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=False"):
        seed()
    assert not User.objects.exists()

    assert "manager_email:" in seed("--force")
