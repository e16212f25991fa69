import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from partners.models import Affiliate, Event, UserSession
from tests.conftest import PASSWORD, sign_in
from tests.partners.factories import AffiliateFactory, MemberFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = "partners:profile"
PASSWORD_CHANGE = "partners:password_change"
NEW_PASSWORD = "Plum-orchard-47-lanterns"


def is_signed_in(client) -> bool:
    return client.get(reverse(PROFILE)).status_code == 200


# Account info ---------------------------------------------------------------------------------

def test_account_info_shows_the_affiliate_and_the_user(client):
    manager = StaffFactory(first_name="Maria", last_name="Manager", email="maria@program.example")
    affiliate = AffiliateFactory(
        name="Acme Media", company_name="Acme Ltd", manager=manager, phone="+356 2123 4567",
        messenger=Affiliate.Messenger.TELEGRAM, messenger_id="@acme", website="https://acme.example",
        city="Valletta", default_report_currency="USD", subscribe_news=True, subscribe_reports=False,
    )
    user = UserFactory(affiliate=affiliate, email="owner@acme.example", first_name="Olga", last_name="Owner")
    sign_in(client, user)

    response = client.get(reverse(PROFILE))

    html = response.content.decode()
    assert response.status_code == 200
    for text in ["Acme Media", "Acme Ltd", "Active", "Maria Manager", "maria@program.example",
                 "+356 2123 4567", "Telegram: @acme", "https://acme.example", "Valletta", "USD",
                 "owner@acme.example", "Olga Owner", "Not subscribed"]:
        assert text in html, text
    assert reverse("partners:profile_edit") in html
    assert reverse(PASSWORD_CHANGE) in html
    assert "Sign out all other sessions" in html


def test_account_info_escapes_what_the_affiliate_typed(client):
    affiliate = AffiliateFactory(name="<script>alert(1)</script>", company_name="' OR 1=1 --",
                                 city="Zoë Ångström 测试 🚀")
    sign_in(client, UserFactory(affiliate=affiliate))

    html = client.get(reverse(PROFILE)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Zoë Ångström 测试 🚀" in html


def test_a_member_sees_the_account_and_their_own_email(client):
    owner = UserFactory(email="owner@acme.example")
    member = MemberFactory(affiliate=owner.affiliate, email="member@acme.example")
    sign_in(client, member)

    html = client.get(reverse(PROFILE)).content.decode()

    assert "member@acme.example" in html
    assert "Team member" in html
    assert owner.affiliate.name in html


def test_account_info_needs_a_signed_in_user(client):
    response = client.get(reverse(PROFILE))

    assert response.status_code == 302
    assert reverse("partners:login") in response["Location"]


# Password change ------------------------------------------------------------------------------

def change_password(client, *, current=PASSWORD, new=NEW_PASSWORD, again=None, end_others=True):
    data = {"current_password": current, "new_password1": new, "new_password2": again or new}
    if end_others:
        data["end_other_sessions"] = "on"
    return client.post(reverse(PASSWORD_CHANGE), data)


def test_the_password_page_offers_to_sign_out_other_sessions_by_default(client):
    sign_in(client, UserFactory())

    html = client.get(reverse(PASSWORD_CHANGE)).content.decode()

    assert "Sign out my other sessions" in html
    assert re.search(r'<input type="checkbox" name="end_other_sessions"[^>]*\bchecked\b', html)


def test_changing_the_password_keeps_this_session_and_ends_the_others(django_capture_on_commit_callbacks):
    user = UserFactory()
    here = sign_in(Client(), user)
    there = sign_in(Client(), user)

    with django_capture_on_commit_callbacks(execute=True):
        response = change_password(here)

    assert response.status_code == 302
    assert response["Location"] == reverse(PROFILE)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert is_signed_in(here)
    assert not is_signed_in(there)
    # this browser's listed session followed its new key
    assert UserSession.objects.filter(user=user).count() == 1
    assert UserSession.objects.filter(session_key=here.session.session_key).exists()
    event = Event.objects.get(type=Event.Type.PASSWORD_CHANGED)
    assert event.user == user and event.data == {"other_sessions_ended": 1}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("Your password was changed")
    assert NEW_PASSWORD not in mail.outbox[0].body


def test_other_sessions_keep_working_when_not_asked_to_end_them():
    user = UserFactory()
    here = sign_in(Client(), user)
    there = sign_in(Client(), user)

    response = change_password(here, end_others=False)

    assert response.status_code == 302
    assert is_signed_in(here)
    assert is_signed_in(there)
    assert UserSession.objects.filter(user=user).count() == 2


def test_the_session_key_changes_with_the_password(client):
    user = UserFactory()
    sign_in(client, user)
    before = client.session.session_key

    change_password(client)

    assert client.session.session_key != before
    assert client.session[SESSION_KEY] == str(user.pk)


def test_a_wrong_current_password_is_a_field_error(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    sign_in(client, user)

    with django_capture_on_commit_callbacks(execute=True):
        response = change_password(client, current="not-my-password")

    assert response.status_code == 200
    assert "Your current password is not correct." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert mail.outbox == []
    assert not Event.objects.filter(type=Event.Type.PASSWORD_CHANGED).exists()


def test_the_new_passwords_must_match(client):
    user = UserFactory()
    sign_in(client, user)

    response = change_password(client, again=NEW_PASSWORD + "x")

    assert "The two new passwords do not match." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(("new", "message"), [
    ("short1A!", "too short"),
    ("password123", "too common"),
    ("4815162342108", "entirely numeric"),
])
def test_weak_new_passwords_are_refused(client, new, message):
    user = UserFactory()
    sign_in(client, user)

    response = change_password(client, new=new)

    assert message in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


BAD_INPUTS = ["", "x" * 5000, "Zoë Ångström 测试 🚀", "<script>alert(1)</script>", "' OR 1=1 --"]


@pytest.mark.parametrize("value", BAD_INPUTS)
def test_odd_current_passwords_are_a_field_error(client, value):
    user = UserFactory()
    sign_in(client, user)

    response = change_password(client, current=value)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error"' in html
    assert "<script>alert(1)</script>" not in html
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(("value", "accepted"), [
    ("", False),
    ("x" * 5000, False),  # over 128 characters
    ("Zoë Ångström 测试 🚀", True),  # long enough and not common: odd but valid
    ("<script>alert(1)</script>", True),
    ("' OR 1=1 --", True),
])
def test_odd_new_passwords_are_refused_or_stored_exactly(client, value, accepted):
    user = UserFactory()
    sign_in(client, user)

    response = change_password(client, new=value)

    user.refresh_from_db()
    if accepted:
        assert response.status_code == 302
        assert user.check_password(value)
    else:
        assert response.status_code == 200
        assert 'class="error"' in response.content.decode()
        assert user.check_password(PASSWORD)
