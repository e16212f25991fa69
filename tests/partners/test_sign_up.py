"""Applying to the program: the sign-up form creates a pending account and its owner, and
e-mails the applicant and the managers."""
import html

import pytest
from django.urls import reverse

from partners.models import Affiliate, User
from tests.partners.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGN_UP = reverse("partners:sign_up")
NEW_PASSWORD = "Tall-giraffe-42-sunrise"


def text(response) -> str:
    return html.unescape(response.content.decode())


def application(**overrides) -> dict:
    data = {
        "name": "Lucky Streams",
        "company_name": "Lucky Streams Ltd",
        "email": "Lucky@Streams.example",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "phone": "+356 2123 4567",
        "messenger": "telegram",
        "messenger_id": "@luckystreams",
        "website": "https://luckystreams.example",
        "country": "mt",
        "traffic_description": "Twitch streams and a review site.",
        "accept_terms": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_sign_up_page_has_every_field_and_links_the_terms(client):
    response = client.get(SIGN_UP)

    page = response.content.decode()
    assert response.status_code == 200
    for field in ["name", "company_name", "email", "password1", "password2", "phone", "messenger",
                  "messenger_id", "website", "country", "traffic_description", "accept_terms"]:
        assert f'name="{field}"' in page, field
    assert f'href="{reverse("partners:terms")}"' in page
    assert 'autocomplete="new-password"' in page
    assert "How do you promote?" in page


def test_sign_up_creates_a_pending_account_with_its_owner(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_UP, application())

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:sign_up_done")
    affiliate = Affiliate.objects.get()
    assert affiliate.status == Affiliate.Status.PENDING
    assert (affiliate.name, affiliate.company_name) == ("Lucky Streams", "Lucky Streams Ltd")
    assert (affiliate.phone, affiliate.country, affiliate.website) == (
        "+356 2123 4567", "MT", "https://luckystreams.example"
    )
    assert (affiliate.messenger, affiliate.messenger_id) == ("telegram", "@luckystreams")
    assert affiliate.traffic_description == "Twitch streams and a review site."
    owner = User.objects.get()
    assert owner.email == "lucky@streams.example"
    assert owner.affiliate == affiliate and owner.role == User.Role.OWNER
    assert owner.check_password(NEW_PASSWORD)
    assert not owner.is_staff
    assert "_auth_user_id" not in client.session  # not signed in before approval


def test_sign_up_mails_the_applicant_and_every_active_manager(client, mailoutbox, django_capture_on_commit_callbacks):
    active_a, active_b = StaffFactory(), StaffFactory()
    StaffFactory(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(SIGN_UP, application())

    applicant = [m for m in mailoutbox if m.to == ["lucky@streams.example"]]
    assert len(applicant) == 1
    assert "We received your application" in applicant[0].subject
    managers = [m for m in mailoutbox if m.to != ["lucky@streams.example"]]
    assert len(managers) == 1
    assert sorted(managers[0].to) == sorted([active_a.email, active_b.email])
    assert "Lucky Streams" in managers[0].subject
    assert "lucky@streams.example" in managers[0].body
    assert "Twitch streams and a review site." in managers[0].body


def test_the_done_page_says_a_manager_reviews_the_application(client):
    response = client.post(SIGN_UP, application(), follow=True)

    assert "reviews every new account" in text(response)
    assert "we will send you an e-mail" in text(response)


def test_an_applicant_cannot_sign_in_before_approval(client):
    client.post(SIGN_UP, application())

    response = client.post(reverse("partners:login"), {"email": "lucky@streams.example", "password": NEW_PASSWORD})

    assert "Your application is awaiting approval" in text(response)


def test_an_e_mail_already_registered_in_another_case_is_refused(client, mailoutbox, django_capture_on_commit_callbacks):
    UserFactory(email="lucky@streams.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SIGN_UP, application(email="LUCKY@streams.EXAMPLE"))

    assert response.status_code == 200
    assert "An account with this e-mail already exists." in text(response)
    assert Affiliate.objects.count() == 1
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("4815162342108", "This password is entirely numeric."),
        ("luckystreams1", "The password is too similar to the"),
    ],
)
def test_weak_passwords_get_the_validators_messages(client, password, message):
    response = client.post(SIGN_UP, application(password1=password, password2=password, email="luckystreams1@x.example"))

    assert response.status_code == 200
    assert message in text(response)
    assert not Affiliate.objects.exists()


def test_the_password_must_be_typed_twice_the_same(client):
    response = client.post(SIGN_UP, application(password2=NEW_PASSWORD + "x"))

    assert "The two passwords do not match." in text(response)
    assert not Affiliate.objects.exists()


def test_the_terms_must_be_accepted(client):
    response = client.post(SIGN_UP, application(accept_terms=None))

    assert "You need to accept the terms and conditions" in text(response)
    assert not Affiliate.objects.exists()


def test_a_messenger_needs_a_handle(client):
    response = client.post(SIGN_UP, application(messenger_id=""))

    assert "Enter your handle in the chosen messenger." in text(response)
    assert not Affiliate.objects.exists()


def test_optional_fields_may_be_left_empty(client):
    response = client.post(
        SIGN_UP,
        application(company_name="", messenger="", messenger_id="", website="", country=""),
    )

    assert response.status_code == 302
    affiliate = Affiliate.objects.get()
    assert (affiliate.company_name, affiliate.messenger, affiliate.website, affiliate.country) == ("", "", "", "")


SCRIPT = "<script>alert(1)</script>"
SQL = "' OR 1=1 --"
UNICODE = "Zoë Ångström 测试 🚀"

# (field, value, expected error or None when the application is accepted as typed)
SIGN_UP_BAD_INPUTS = [
    ("name", "", "This field is required."),
    ("name", "x" * 5000, "Ensure this value has at most 150 characters"),
    ("name", UNICODE, None),
    ("name", SCRIPT, None),
    ("name", SQL, None),
    ("company_name", "x" * 5000, "Ensure this value has at most 150 characters"),
    ("company_name", SCRIPT, None),
    ("email", "", "This field is required."),
    ("email", "x" * 5000, "Ensure this value has at most 254 characters"),
    ("email", UNICODE, "Enter a valid email address."),
    ("email", SCRIPT, "Enter a valid email address."),
    ("email", SQL, "Enter a valid email address."),
    ("phone", "", "This field is required."),
    ("phone", "x" * 5000, "Ensure this value has at most 32 characters"),
    ("phone", UNICODE, "Enter a phone number of digits"),
    ("phone", SCRIPT, "Enter a phone number of digits"),
    ("phone", SQL, "Enter a phone number of digits"),
    ("messenger", SCRIPT, "Select a valid choice."),
    ("messenger_id", "x" * 5000, "Ensure this value has at most 100 characters"),
    ("messenger_id", UNICODE, None),
    ("website", "x" * 5000, "Ensure this value has at most 300 characters"),
    ("website", UNICODE, "Enter a valid URL."),
    ("website", SCRIPT, "Enter a valid URL."),
    ("website", "javascript:alert(1)", "Enter a valid URL."),
    ("country", "x" * 5000, "Ensure this value has at most 2 characters"),
    ("country", "Zö", "Enter a two-letter country code"),
    ("country", SCRIPT, "Ensure this value has at most 2 characters"),
    ("traffic_description", "", "This field is required."),
    ("traffic_description", "x" * 5000, "Ensure this value has at most 2000 characters"),
    ("traffic_description", UNICODE, None),
    ("traffic_description", SCRIPT, None),
    ("traffic_description", SQL, None),
    ("password1", "x" * 5000, "Ensure this value has at most 1024 characters"),
    ("password1", "", "This field is required."),
]


@pytest.mark.parametrize(("field", "value", "error"), SIGN_UP_BAD_INPUTS)
def test_bad_input_on_the_sign_up_form_gives_field_errors_or_is_stored_as_typed(client, field, value, error):
    response = client.post(SIGN_UP, application(**{field: value}))

    if error is None:
        assert response.status_code == 302
        affiliate = Affiliate.objects.get()
        stored = getattr(affiliate, field) if field != "messenger_id" else affiliate.messenger_id
        assert stored == value
    else:
        assert response.status_code == 200
        assert error in text(response)
        assert not Affiliate.objects.exists()
        page = response.content.decode()
        assert SCRIPT not in page
        if value == SCRIPT and field not in ("password1", "messenger"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_name_with_script_is_shown_escaped_in_the_managers_e_mail_and_not_as_markup(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    StaffFactory()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(SIGN_UP, application(name=SCRIPT))

    manager_mail = next(m for m in mailoutbox if m.to != ["lucky@streams.example"])
    # a plain-text e-mail shows the name as typed; it is never rendered as HTML
    assert SCRIPT in manager_mail.body
    assert manager_mail.content_subtype == "plain"
