import pytest
from django.urls import reverse

from tests.conftest import sign_in
from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_portal_pages_send_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(reverse("reports:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:login"))


def test_navigation_links_every_section_of_the_manual(client):
    sign_in(client, UserFactory())

    html = client.get(reverse("reports:dashboard")).content.decode()

    for label in ["Dashboard", "Campaigns", "Postbacks", "Reports", "Bills", "Balance", "Cashouts",
                  "Wallet", "Commission plans", "Contacts", "Terms", "News", "Profile", "Users",
                  "Documents", "Events"]:
        assert f">{label}</a>" in html, label


def test_a_terminated_session_is_signed_out_on_its_next_request(client):
    user = UserFactory()
    sign_in(client, user)
    user.portal_sessions.all().delete()

    response = client.get(reverse("reports:dashboard"))

    assert response.status_code == 302
    assert reverse("partners:login") in response["Location"]
