import pytest
from django.urls import reverse

from partners.errors import PartnersError
from partners.models import Event
from partners.services.account import profile_update
from tests.conftest import sign_in
from tests.partners.factories import AffiliateFactory, MemberFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("partners:profile_edit")


def form_data(affiliate, user, **overrides):
    """What the browser posts when the page is submitted unchanged, plus overrides."""
    data = {
        "name": affiliate.name,
        "company_name": affiliate.company_name,
        "phone": affiliate.phone,
        "messenger": affiliate.messenger,
        "messenger_id": affiliate.messenger_id,
        "website": affiliate.website,
        "country": affiliate.country,
        "city": affiliate.city,
        "address": affiliate.address,
        "default_report_currency": affiliate.default_report_currency,
        "user_first_name": user.first_name,
        "user_last_name": user.last_name,
        "user_phone": user.phone,
        "user_messenger": user.messenger,
    }
    for flag in ("subscribe_news", "subscribe_payments", "subscribe_reports"):
        if getattr(affiliate, flag):
            data[flag] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_owner_saves_affiliate_and_personal_details_and_the_change_is_logged(client):
    owner = UserFactory(affiliate__name="Old name", phone="")
    affiliate = owner.affiliate
    sign_in(client, owner)

    data = form_data(affiliate, owner, name="Acme Media", country="de", website="https://acme.example",
                     default_report_currency="USD", user_phone="+49 30 1234567", subscribe_news=None)
    response = client.post(URL, data, follow=False, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:profile")
    affiliate.refresh_from_db()
    owner.refresh_from_db()
    assert affiliate.name == "Acme Media"
    assert affiliate.country == "DE"
    assert affiliate.website == "https://acme.example"
    assert affiliate.default_report_currency == "USD"
    assert affiliate.subscribe_news is False
    assert owner.phone == "+49 30 1234567"
    event = Event.objects.get(affiliate=affiliate, type=Event.Type.PROFILE_UPDATED)
    assert sorted(event.data["changed"]) == sorted(
        ["name", "country", "website", "default_report_currency", "subscribe_news", "user_phone"]
    )
    assert event.actor == owner
    assert event.ip == "203.0.113.9"


def test_the_success_message_is_shown_on_the_next_page(client):
    owner = UserFactory()
    sign_in(client, owner)

    client.post(URL, form_data(owner.affiliate, owner, city="Valletta"))
    # The message waits in the session for the next portal page that renders messages.
    html = client.get(URL).content.decode()

    assert "Your profile has been saved." in html


def test_submitting_the_form_unchanged_saves_and_logs_nothing(client):
    owner = UserFactory()
    sign_in(client, owner)

    response = client.post(URL, form_data(owner.affiliate, owner))

    assert response.status_code == 302
    assert not Event.objects.filter(type=Event.Type.PROFILE_UPDATED).exists()


def test_the_edit_page_shows_the_current_values_and_the_currency_help(client):
    owner = UserFactory(affiliate__city="Sliema")
    sign_in(client, owner)

    html = client.get(URL).content.decode()

    assert 'value="Sliema"' in html
    assert "brands&#x27; base currencies" in html
    assert reverse("partners:profile") in html


def test_a_team_member_sees_affiliate_details_read_only_and_cannot_change_them_by_posting(client):
    affiliate = AffiliateFactory(name="Real name", country="MT")
    member = MemberFactory(affiliate=affiliate, first_name="Ann")
    sign_in(client, member)

    page = client.get(URL).content.decode()
    assert "Only the account owner can change these details" in page
    assert 'name="name"' not in page

    response = client.post(URL, form_data(affiliate, member, name="Hijacked", country="US",
                                           user_first_name="Annie"))

    assert response.status_code == 302
    affiliate.refresh_from_db()
    member.refresh_from_db()
    assert affiliate.name == "Real name"
    assert affiliate.country == "MT"
    assert member.first_name == "Annie"
    event = Event.objects.get(type=Event.Type.PROFILE_UPDATED)
    assert event.data == {"changed": ["user_first_name"]}
    assert event.user == member


def test_the_service_refuses_affiliate_changes_by_a_team_member():
    affiliate = AffiliateFactory(name="Real name")
    member = MemberFactory(affiliate=affiliate)

    with pytest.raises(PartnersError, match="Only the account owner"):
        profile_update(affiliate=affiliate, user=member, actor=member, name="Hijacked")

    affiliate.refresh_from_db()
    assert affiliate.name == "Real name"
    assert not Event.objects.exists()


def test_the_service_refuses_changing_somebody_elses_personal_details():
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate, phone="")

    with pytest.raises(PartnersError, match="your own personal details"):
        profile_update(affiliate=owner.affiliate, user=member, actor=owner, user_phone="+356 1234")


def test_a_program_manager_may_change_the_affiliate_through_the_service():
    owner = UserFactory(affiliate__city="Old")
    manager = StaffFactory(first_name="Mia", last_name="Manager")

    changed = profile_update(affiliate=owner.affiliate, user=owner, actor=manager, city="New")

    owner.affiliate.refresh_from_db()
    assert changed == ["city"]
    assert owner.affiliate.city == "New"
    assert Event.objects.get().actor_label == "Mia Manager (program manager)"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 5000, "Ensure this value has at most 150 characters"),
        ("Zoë Ångström 测试 🚀", None),
        ("<script>alert(1)</script>", None),
        ("' OR 1=1 --", None),
    ],
)
def test_bad_input_in_the_affiliate_name(client, value, error):
    owner = UserFactory(affiliate__name="Before")
    sign_in(client, owner)

    response = client.post(URL, form_data(owner.affiliate, owner, name=value))

    owner.affiliate.refresh_from_db()
    if error:
        assert response.status_code == 200
        assert error in response.content.decode()
        assert owner.affiliate.name == "Before"
    else:
        assert response.status_code == 302
        assert owner.affiliate.name == value  # kept exactly, unicode included


def test_a_script_in_the_name_comes_back_escaped_on_the_edit_page(client):
    owner = UserFactory()
    sign_in(client, owner)
    client.post(URL, form_data(owner.affiliate, owner, name="<script>alert(1)</script>",
                               user_messenger="<img src=x onerror=alert(2)>"))

    html = client.get(URL).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("user_first_name", "x" * 5000, "at most 100 characters"),
        ("address", "x" * 5000, "at most 300 characters"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("user_phone", "+1 555 <script>", "Enter a phone number"),
        ("website", "javascript:alert(1)", "Enter a valid URL."),
        ("default_report_currency", "XXX", "Select a valid choice."),
        ("messenger", "icq", "Select a valid choice."),
        ("messenger_id", "@acme", "Choose the messenger this handle belongs to."),
    ],
)
def test_invalid_values_give_field_errors_and_save_nothing(client, field, value, error):
    owner = UserFactory()
    sign_in(client, owner)

    response = client.post(URL, form_data(owner.affiliate, owner, **{field: value}))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Event.objects.filter(type=Event.Type.PROFILE_UPDATED).exists()


@pytest.mark.parametrize(
    ("value", "stored", "error"),
    [
        ("mt", "MT", None),
        (" gb ", "GB", None),
        ("", "", None),
        ("XX", None, "ISO 3166-1"),
        ("Malta", None, "at most 2 characters"),
        ("1A", None, "ISO 3166-1"),
    ],
)
def test_the_country_is_an_uppercased_iso_code(client, value, stored, error):
    owner = UserFactory(affiliate__country="DE")
    sign_in(client, owner)

    response = client.post(URL, form_data(owner.affiliate, owner, country=value))

    owner.affiliate.refresh_from_db()
    if error:
        assert response.status_code == 200
        assert error in response.content.decode()
        assert owner.affiliate.country == "DE"
    else:
        assert response.status_code == 302
        assert owner.affiliate.country == stored


def test_the_service_validates_the_country_too():
    owner = UserFactory()

    with pytest.raises(PartnersError, match="ISO 3166-1") as excinfo:
        profile_update(affiliate=owner.affiliate, user=owner, actor=owner, country="ZZ")

    assert excinfo.value.field == "country"


def test_the_edit_page_needs_a_signed_in_user(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:login"))
