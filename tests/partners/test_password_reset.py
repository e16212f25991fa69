"""Forgot password: the e-mailed link, the "Set your password" page (shared with team
invitations), and what setting a password does to sessions and locks."""
import datetime as dt
import html
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from partners.models import Event, User
from partners.services.auth import password_set_url
from tests.conftest import PASSWORD, sign_in
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

RESET = reverse("partners:password_reset")
LOGIN = reverse("partners:login")
NEW_PASSWORD = "Tall-giraffe-42-sunrise"
SAME_ANSWER = "If an account with this e-mail exists, we have sent it a link to set a new password."


def text(response) -> str:
    return html.unescape(response.content.decode())


def link_path(message) -> str:
    return re.search(r"http://testserver(/partner/password/reset/\S+)", message.body).group(1)


def request_link(client, email, mailoutbox, capture) -> str:
    with capture(execute=True):
        client.post(RESET, {"email": email})
    assert len(mailoutbox) == 1
    return link_path(mailoutbox[0])


def set_password(client, path, password=NEW_PASSWORD, confirmation=None):
    form_url = client.get(path)["Location"]
    return client.post(
        form_url, {"new_password1": password, "new_password2": confirmation or password}, follow=True
    )


def can_sign_in(email, password) -> bool:
    return Client().post(LOGIN, {"email": email, "password": password}).status_code == 302


def test_forgot_password_end_to_end(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(RESET, {"email": user.email.upper()}, follow=True)
    assert SAME_ANSWER in text(answer)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert "Reset your password" in mailoutbox[0].subject
    path = link_path(mailoutbox[0])

    # the token leaves the address bar at once (no leak through the Referer header)
    opened = client.get(path)
    assert opened.status_code == 302
    assert opened["Location"].endswith("/set-password")
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert "Set your password" in text(page)
    assert 'autocomplete="new-password"' in page.content.decode()

    response = client.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
                           follow=True)

    assert response.redirect_chain[-1][0] == LOGIN
    assert "Your password is set." in text(response)
    assert can_sign_in(user.email, NEW_PASSWORD)
    assert not can_sign_in(user.email, PASSWORD)
    assert Event.objects.filter(type=Event.Type.PASSWORD_CHANGED, user=user).count() == 1


def test_a_used_link_is_refused(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)
    set_password(client, path)

    response = Client().get(path)

    assert response.status_code == 400
    assert "This link to set a password is not valid" in text(response)
    assert f'href="{RESET}"' in response.content.decode()


def test_an_expired_link_is_refused(client, settings, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    start = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)

    with time_machine.travel(start + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60), tick=False):
        response = client.get(path)

    assert response.status_code == 400
    assert "This link to set a password is not valid" in text(response)


def test_setting_a_password_ends_every_session_of_the_user(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    elsewhere = sign_in(Client(), user)
    assert elsewhere.get(reverse("reports:dashboard")).status_code == 200
    path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)

    set_password(client, path)

    assert elsewhere.get(reverse("reports:dashboard")).status_code == 302
    assert user.portal_sessions.count() == 0


def test_setting_a_password_clears_a_lock(client, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.LOCKOUT_MAX_ATTEMPTS = 2
    user = UserFactory()
    for _ in range(2):
        client.post(LOGIN, {"email": user.email, "password": "wrong-password"})
    user.refresh_from_db()
    assert user.is_locked
    path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)

    set_password(client, path)

    user.refresh_from_db()
    assert not user.is_locked and user.failed_login_attempts == 0
    assert can_sign_in(user.email, NEW_PASSWORD)


def test_a_browser_signed_in_while_setting_the_password_is_signed_out(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    sign_in(client, user)
    path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)

    response = set_password(client, path)

    assert response.status_code == 200
    assert "Your password is set." in text(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["unknown", "blocked"])
def test_no_link_for_unknown_or_blocked_users_and_the_same_answer(client, mailoutbox, django_capture_on_commit_callbacks, who):
    email = "nobody@example.net" if who == "unknown" else UserFactory(is_blocked=True).email

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET, {"email": email}, follow=True)

    assert SAME_ANSWER in text(response)
    assert mailoutbox == []


def test_an_invited_team_member_sets_a_first_password_on_the_same_page(client):
    # The team owner's "New user" form creates a user without a usable password and mails
    # this same link.
    member = MemberFactory(affiliate=UserFactory().affiliate)
    member.set_unusable_password()
    member.save(update_fields=["password"])
    path = password_set_url(user=member).removeprefix("http://testserver")

    response = set_password(client, path)

    assert "Your password is set." in text(response)
    assert can_sign_in(member.email, NEW_PASSWORD)


@pytest.mark.parametrize(
    "path",
    [
        "/partner/password/reset/MQ/garbage-token",
        "/partner/password/reset/!!!/abc-def",
        "/partner/password/reset/OTk5OTk5/abc-def",
        "/partner/password/reset/MQ/set-password",  # no token in the session
        "/partner/password/reset/%3Cscript%3E/x",
    ],
)
def test_a_forged_link_is_refused(client, path):
    UserFactory()

    response = client.get(path)

    assert response.status_code == 400
    assert "This link to set a password is not valid" in text(response)
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize(
    ("password", "confirmation", "message"),
    [
        ("", "", "This field is required."),
        ("short1!", None, "This password is too short."),
        ("password123", None, "This password is too common."),
        ("4815162342108", None, "This password is entirely numeric."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords do not match."),
        ("x" * 5000, None, "Ensure this value has at most 1024 characters"),
        ("Zoë Ång", None, "This password is too short."),
        ("<script>alert(1)</script>", "other", "The two passwords do not match."),
        ("' OR 1=1", None, "This password is too short."),
    ],
)
def test_bad_passwords_on_the_set_password_page_get_field_errors(
    client, mailoutbox, django_capture_on_commit_callbacks, password, confirmation, message
):
    user = UserFactory()
    path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)

    response = set_password(client, path, password, confirmation if confirmation is not None else password)

    assert response.status_code == 200
    assert message in text(response)
    assert "<script>alert(1)</script>" not in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("password", ["Zoë Ångström 测试 🚀", "<script>alert(1)</script>", "' OR 1=1 --"])
def test_odd_but_strong_passwords_are_accepted_as_typed(client, mailoutbox, django_capture_on_commit_callbacks, password):
    user = UserFactory()
    path = request_link(client, user.email, mailoutbox, django_capture_on_commit_callbacks)

    response = set_password(client, path, password)

    assert "Your password is set." in text(response)
    assert can_sign_in(user.email, password)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("x" * 5000, "Ensure this value has at most 254 characters"),
        ("Zoë Ångström 测试 🚀", "Enter a valid email address."),
        ("<script>alert(1)</script>", "Enter a valid email address."),
        ("' OR 1=1 --", "Enter a valid email address."),
    ],
)
def test_bad_input_on_the_forgot_password_form_is_refused_safely(client, value, message):
    response = client.post(RESET, {"email": value})

    assert response.status_code == 200
    assert message in text(response)
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    if value.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_user_password_set_rejects_a_weak_password_in_the_service_too():
    from partners.errors import PartnersError
    from partners.services.auth import user_password_set

    user = UserFactory()

    with pytest.raises(PartnersError, match="too common"):
        user_password_set(user=user, password="password123")
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
