"""The admin of the Affilae tables: read-only lists, filters and search, and CSV export of the
selected rows (action) or of the whole list as filtered (button)."""
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from integrations.affilae.models import AffiliateProfile, CommissionDay, PartnershipSnapshot
from integrations.models import Connection
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory

pytestmark = pytest.mark.django_db

COMMISSIONS = "admin:affilae_commissionday_changelist"
HISTORY = "admin:affilae_partnershipsnapshot_changelist"
DAY = dt.date(2026, 3, 9)


@pytest.fixture
def admin_client(client):
    return sign_in(client, StaffFactory(is_superuser=True), verified=True)


@pytest.fixture
def rows():
    connection = Connection.objects.create(network="affilae", name="Affilae FR")
    blog = AffiliateProfile.objects.create(connection=connection, profile_id="5f3a" + "0" * 19 + "1", name="Casino Guide")

    def day(partnership, program, currency, commissions, **extra):
        return CommissionDay.objects.create(
            connection=connection, date=extra.pop("date", DAY), profile=blog, partnership_id=partnership,
            program_name=program, clicks=40, impressions=900, conversions=2, commissions=Decimal(commissions),
            revenue=Decimal("150.50"), currency=currency, **extra)

    lucky_eur = day("a" * 24, "Lucky Spins", "EUR", "12.34")
    lucky_usd = day("a" * 24, "Lucky Spins", "USD", "13.57")
    formula = day("b" * 24, "=HYPERLINK(\"http://evil.example\")", "EUR", "-1.50")
    for date, status in ((DAY - dt.timedelta(days=1), "pending"), (DAY, "active")):
        PartnershipSnapshot.objects.create(connection=connection, snapshot_date=date, partnership_id="a" * 24,
                                           profile=blog, program_name="Lucky Spins", tracking_id="trk0001",
                                           status=status, advertiser="Spins Ltd")
    return {"eur": lucky_eur, "usd": lucky_usd, "formula": formula}


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="affilae-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_commissions_list_shows_the_figures_and_links_the_export(admin_client, rows):
    page = admin_client.get(reverse(COMMISSIONS), {"currency__exact": "USD"}).content.decode()

    assert "Lucky Spins" in page and "13.57" in page
    assert "12.34" not in page  # filtered out
    export = reverse("admin:affilae_commissionday_export_csv")
    assert f'href="{export}?currency__exact=USD"' in page
    assert reverse("admin:affilae_commissionday_add") not in page  # read-only


def test_the_export_button_streams_the_list_as_filtered(admin_client, rows):
    response = admin_client.get(reverse("admin:affilae_commissionday_export_csv"), {"currency__exact": "EUR"})

    exported = read_csv(response)
    assert sorted(r["program_name"] for r in exported) == ["'=HYPERLINK(\"http://evil.example\")", "Lucky Spins"]
    lucky = next(r for r in exported if r["program_name"] == "Lucky Spins")
    assert lucky == {
        "date": "2026-03-09", "connection": "Affilae FR", "affiliate_profile_id": rows["eur"].profile.profile_id,
        "affiliate_profile": "Casino Guide", "partnership_id": "a" * 24, "program_id": "",
        "program_name": "Lucky Spins", "clicks": "40", "impressions": "900", "conversions": "2",
        "commissions": "12.34", "revenue": "150.50", "currency": "EUR",
    }
    assert next(r for r in exported if r["program_name"].startswith("'"))["commissions"] == "-1.50"


def test_the_export_button_follows_the_search_too(admin_client, rows):
    response = admin_client.get(reverse("admin:affilae_commissionday_export_csv"), {"q": "HYPERLINK"})

    assert [r["commissions"] for r in read_csv(response)] == ["-1.50"]


def test_the_export_action_exports_the_selected_rows(admin_client, rows):
    response = admin_client.post(reverse(COMMISSIONS), {
        "action": "export_csv_action", "_selected_action": [rows["usd"].pk], "index": "0"})

    assert [(r["currency"], r["commissions"]) for r in read_csv(response)] == [("USD", "13.57")]


def test_the_partnerships_history_lists_each_snapshot_and_exports(admin_client, rows):
    page = admin_client.get(reverse(HISTORY), {"q": "trk0001"}).content.decode()
    assert page.count("Spins Ltd") == 2

    response = admin_client.get(reverse("admin:affilae_partnershipsnapshot_export_csv"), {"status__exact": "pending"})

    exported = read_csv(response)
    assert [(r["snapshot_date"], r["status"], r["tracking_id"]) for r in exported] == [
        ("2026-03-08", "pending", "trk0001")]


def test_the_export_needs_a_staff_user_who_passed_2fa(client, rows):
    url = reverse("admin:affilae_commissionday_export_csv")
    sign_in(client, StaffFactory(is_superuser=True), verified=False)

    response = client.get(url)

    assert response.status_code == 302 and "/login/" in response["Location"]
