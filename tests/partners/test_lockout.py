"""Lockout after too many failed sign-ins, the "Unlock instructions" e-mail, its single-use
link, and asking for the instructions again."""
import datetime as dt
import html
import re

import pytest
import time_machine
from django.urls import reverse

from partners.models import Event
from partners.services.auth import INVALID_CREDENTIALS
from tests.conftest import PASSWORD
from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("partners:login")
UNLOCK_REQUEST = reverse("partners:unlock_request")
SAME_ANSWER = "If an account with this e-mail is locked, we have sent unlock instructions to it."


@pytest.fixture(autouse=True)
def _three_attempts(settings):
    settings.LOCKOUT_MAX_ATTEMPTS = 3


def text(response) -> str:
    return html.unescape(response.content.decode())


def fail_login(client, email, times):
    response = None
    for _ in range(times):
        response = client.post(LOGIN, {"email": email, "password": "wrong-password"})
    return response


def unlock_path(message) -> str:
    url = re.search(r"http://testserver(/partner/unlock/\S+)", message.body).group(1)
    return url


def test_below_the_limit_nothing_is_locked_and_nobody_is_mailed(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        fail_login(client, user.email, 2)

    user.refresh_from_db()
    assert not user.is_locked
    assert mailoutbox == []
    assert client.post(LOGIN, {"email": user.email, "password": PASSWORD}).status_code == 302


def test_the_attempt_reaching_the_limit_locks_and_mails_unlock_instructions_once(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = fail_login(client, user.email, 3)
        fail_login(client, user.email, 2)  # further failures do not mail again

    user.refresh_from_db()
    assert user.is_locked
    assert INVALID_CREDENTIALS in text(response)  # the lock is not revealed without the password
    assert len(mailoutbox) == 1
    assert "Unlock instructions" in mailoutbox[0].subject
    assert mailoutbox[0].to == [user.email]
    assert "/partner/unlock/" in mailoutbox[0].body
    event = Event.objects.get(type=Event.Type.LOCKED)
    assert event.user == user and event.data == {"failed_attempts": 3}


def test_a_locked_user_with_the_right_password_is_told_how_to_unlock(client):
    user = UserFactory()
    fail_login(client, user.email, 3)

    response = client.post(LOGIN, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "Your account is locked" in text(response)
    assert "\u201cUnlock instructions\u201d e-mail" in text(response)
    assert f'href="{UNLOCK_REQUEST}"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_unknown_e_mail_never_locks_or_mails(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = fail_login(client, "nobody@example.net", 5)

    assert INVALID_CREDENTIALS in text(response)
    assert mailoutbox == []


def test_the_unlock_link_asks_for_a_click_then_unlocks_once(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        fail_login(client, user.email, 3)
    path = unlock_path(mailoutbox[0])

    # opening the link (or a mail scanner prefetching it) changes nothing
    page = client.get(path)
    assert page.status_code == 200
    assert "Unlock my account" in text(page)
    user.refresh_from_db()
    assert user.is_locked

    response = client.post(path, follow=True)

    assert response.redirect_chain[-1][0] == LOGIN
    assert "Your account is unlocked. You can sign in now." in text(response)
    user.refresh_from_db()
    assert not user.is_locked and user.failed_login_attempts == 0
    assert Event.objects.filter(type=Event.Type.UNLOCKED, user=user).count() == 1
    assert client.post(LOGIN, {"email": user.email, "password": PASSWORD}).status_code == 302


def test_a_used_unlock_link_says_so(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        fail_login(client, user.email, 3)
    path = unlock_path(mailoutbox[0])
    client.post(path)

    response = client.post(path)

    assert response.status_code == 400
    assert "This unlock link was already used" in text(response)
    assert f'href="{UNLOCK_REQUEST}"' in response.content.decode()


def test_an_expired_unlock_link_says_so_and_leaves_the_lock(client, settings, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    start = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        fail_login(client, user.email, 3)
    path = unlock_path(mailoutbox[0])

    with time_machine.travel(start + dt.timedelta(seconds=settings.UNLOCK_LINK_MAX_AGE + 60), tick=False):
        response = client.post(path)

    assert response.status_code == 400
    assert "This unlock link has expired" in text(response)
    user.refresh_from_db()
    assert user.is_locked


@pytest.mark.parametrize("token", ["garbage", "x" * 5000, "%3Cscript%3Ealert(1)%3Cscript%3E", "' OR 1=1 --"])
def test_a_forged_unlock_link_is_refused(client, token):
    response = client.post(f"/partner/unlock/{token}")

    assert response.status_code == 400
    assert "This unlock link is not valid" in text(response)
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_asking_for_unlock_instructions_mails_a_locked_user(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    fail_login(client, user.email, 3)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UNLOCK_REQUEST, {"email": user.email.upper()}, follow=True)

    assert SAME_ANSWER in text(response)
    assert len(mailoutbox) == 1
    assert "Unlock instructions" in mailoutbox[0].subject
    client.post(unlock_path(mailoutbox[0]))
    user.refresh_from_db()
    assert not user.is_locked


@pytest.mark.parametrize("locked", [False, None], ids=["not locked", "no such user"])
def test_asking_for_unlock_instructions_answers_the_same_and_mails_nobody_otherwise(
    client, mailoutbox, django_capture_on_commit_callbacks, locked
):
    email = UserFactory().email if locked is False else "nobody@example.net"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UNLOCK_REQUEST, {"email": email}, follow=True)

    assert SAME_ANSWER in text(response)
    assert mailoutbox == []


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
def test_bad_input_on_the_unlock_request_form_is_refused_safely(client, value, message):
    response = client.post(UNLOCK_REQUEST, {"email": value})

    assert response.status_code == 200
    assert message in text(response)
    assert "<script>alert(1)</script>" not in response.content.decode()
