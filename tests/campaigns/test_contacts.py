import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Brand, BrandContact
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("campaigns:contacts")


def brand(name, *, active=True, contacts=()):
    b = Brand.objects.create(name=name, site_url=f"https://{name.lower()}.example", is_active=active)
    for position, (kind, value, *label) in enumerate(contacts):
        BrandContact.objects.create(brand=b, kind=kind, value=value, label=label[0] if label else "",
                                    position=position)
    return b


def test_each_active_brand_lists_its_contacts_as_links(client):
    brand("Lucky Star", contacts=[
        ("email", "affiliates@luckystar.example", "Affiliate support"),
        ("website", "https://partners.luckystar.example"),
        ("telegram", "@luckystar_aff"),
        ("skype", "live:luckystar"),
    ])
    brand("Closed Casino", active=False, contacts=[("email", "gone@closed.example")])
    sign_in(client, UserFactory())

    html = client.get(URL).content.decode()

    assert "Lucky Star" in html
    assert '<a href="mailto:affiliates@luckystar.example">affiliates@luckystar.example</a>' in html
    assert "Affiliate support" in html
    assert ('<a href="https://partners.luckystar.example" rel="noopener noreferrer" target="_blank">'
            in html)
    assert '<a href="https://t.me/luckystar_aff" rel="noopener noreferrer"' in html
    assert "live:luckystar" in html
    assert "Closed Casino" not in html
    assert "gone@closed.example" not in html


def test_contact_values_that_are_not_safe_links_are_shown_as_text(client):
    brand("Odd Brand", contacts=[
        ("website", "javascript:alert(1)"),
        ("telegram", "<script>alert(2)</script>"),
    ])
    sign_in(client, UserFactory())

    html = client.get(URL).content.decode()

    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<script>alert(2)</script>" not in html


def test_the_assigned_manager_is_shown_with_their_contacts(client):
    manager = StaffFactory(first_name="Mia", last_name="Rossi", email="mia@program.example",
                           phone="+356 2000 0000", messenger="Telegram @mia_aff")
    owner = UserFactory(affiliate__manager=manager)
    sign_in(client, owner)

    html = client.get(URL).content.decode()

    assert "Your affiliate manager" in html
    assert "Mia Rossi" in html
    assert 'href="mailto:mia@program.example"' in html
    assert "+356 2000 0000" in html
    assert "Telegram @mia_aff" in html


def test_without_a_manager_the_page_points_to_the_brand_contacts(client):
    sign_in(client, UserFactory(affiliate__manager=None))

    html = client.get(URL).content.decode()

    assert "No personal manager is assigned" in html
    assert "brand contacts below" in html


def test_the_number_of_queries_does_not_grow_with_the_brands(client):
    sign_in(client, UserFactory())
    brand("Brand 1", contacts=[("email", "a@b1.example"), ("phone", "+1 555 0100")])
    with CaptureQueriesContext(connection) as one_brand:
        client.get(URL)
    for n in range(2, 7):
        brand(f"Brand {n}", contacts=[("email", f"a@b{n}.example"), ("phone", "+1 555 0100")])

    with CaptureQueriesContext(connection) as six_brands:
        html = client.get(URL).content.decode()

    assert "Brand 6" in html
    assert len(six_brands) == len(one_brand)


def test_contacts_need_a_signed_in_user(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:login"))
