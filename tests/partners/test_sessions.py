import pytest
from django.test import Client
from django.urls import reverse

from partners.models import Event, UserSession
from tests.conftest import sign_in
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def browser(user, *, user_agent: str = "", ip: str = "198.51.100.7") -> tuple[Client, UserSession]:
    """A separate signed-in browser of `user` and its listed session."""
    client = sign_in(Client(), user)
    row = UserSession.objects.get(session_key=client.session.session_key)
    UserSession.objects.filter(pk=row.pk).update(user_agent=user_agent, ip=ip)
    row.refresh_from_db()
    return client, row


def is_signed_in(client) -> bool:
    return client.get(reverse("partners:profile")).status_code == 200


def terminate(client, session):
    return client.post(reverse("partners:session_terminate", args=[session.pk]))


def test_the_profile_lists_sessions_with_a_readable_device_and_marks_this_one(client):
    user = UserFactory()
    here, _ = browser(user, user_agent=CHROME_WINDOWS, ip="203.0.113.5")
    browser(user, user_agent=SAFARI_IPHONE, ip="198.51.100.7")

    html = here.get(reverse("partners:profile")).content.decode()

    assert "Chrome 120 on Windows 10" in html
    assert "Mobile Safari 17 on iOS 17.1" in html
    assert "203.0.113.5" in html and "198.51.100.7" in html
    assert html.count("this session") == 1
    # one Terminate button: for the other browser, not for this one
    assert html.count(">Terminate</button>") == 1


def test_terminating_another_session_signs_that_browser_out(django_capture_on_commit_callbacks):
    user = UserFactory()
    here, _ = browser(user)
    there, there_row = browser(user, user_agent=SAFARI_IPHONE, ip="198.51.100.99")

    response = terminate(here, there_row)

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:profile")
    assert not UserSession.objects.filter(pk=there_row.pk).exists()
    assert not is_signed_in(there)
    assert is_signed_in(here)


def test_termination_is_logged_with_ip_and_user_agent_but_not_the_session_key():
    user = UserFactory()
    here, _ = browser(user)
    _, there_row = browser(user, user_agent=SAFARI_IPHONE, ip="198.51.100.99")

    terminate(here, there_row)

    event = Event.objects.get(type=Event.Type.SESSION_TERMINATED)
    assert event.user == user and event.actor == user
    assert event.data["ip"] == "198.51.100.99"
    assert event.data["user_agent"] == SAFARI_IPHONE
    assert there_row.session_key not in str(event.data)


def test_the_current_session_cannot_be_terminated_from_the_list():
    user = UserFactory()
    here, here_row = browser(user)

    response = here.post(reverse("partners:session_terminate", args=[here_row.pk]), follow=True)

    assert "To end it, sign out" in response.content.decode()
    assert UserSession.objects.filter(pk=here_row.pk).exists()
    assert is_signed_in(here)


def test_terminate_needs_a_post():
    user = UserFactory()
    here, _ = browser(user)
    _, there_row = browser(user)

    response = here.get(reverse("partners:session_terminate", args=[there_row.pk]))

    assert response.status_code == 405
    assert UserSession.objects.filter(pk=there_row.pk).exists()


def test_the_owner_terminates_a_team_members_session():
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    owner_browser, _ = browser(owner)
    member_browser, member_row = browser(member, user_agent=CHROME_WINDOWS)

    response = terminate(owner_browser, member_row)

    assert response["Location"] == reverse("partners:user_detail", args=[member.pk])
    assert not is_signed_in(member_browser)
    event = Event.objects.get(type=Event.Type.SESSION_TERMINATED)
    assert event.user == member and event.actor == owner


def test_a_member_cannot_terminate_the_owners_session():
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    owner_browser, owner_row = browser(owner)
    member_browser, _ = browser(member)

    response = terminate(member_browser, owner_row)

    assert response.status_code == 404
    assert is_signed_in(owner_browser)


def test_a_member_cannot_terminate_another_members_session():
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    other = MemberFactory(affiliate=owner.affiliate)
    member_browser, _ = browser(member)
    other_browser, other_row = browser(other)

    assert terminate(member_browser, other_row).status_code == 404
    assert is_signed_in(other_browser)


def test_nobody_terminates_a_session_of_another_account():
    owner_a = UserFactory()
    owner_b = UserFactory()
    a_browser, _ = browser(owner_a)
    b_browser, b_row = browser(owner_b)

    response = terminate(a_browser, b_row)

    assert response.status_code == 404
    assert is_signed_in(b_browser)
    assert not Event.objects.filter(type=Event.Type.SESSION_TERMINATED).exists()


def test_a_session_that_does_not_exist_is_404():
    here, _ = browser(UserFactory())

    assert here.post(reverse("partners:session_terminate", args=[999999])).status_code == 404


def test_sign_out_all_other_sessions_keeps_only_this_one():
    user = UserFactory()
    here, here_row = browser(user)
    there, _ = browser(user)
    third, _ = browser(user)

    response = here.post(reverse("partners:profile"), {"action": "end_other_sessions"}, follow=True)

    assert "Signed out 2 other sessions." in response.content.decode()
    assert is_signed_in(here)
    assert not is_signed_in(there)
    assert not is_signed_in(third)
    assert list(UserSession.objects.filter(user=user)) == [
        UserSession.objects.get(session_key=here.session.session_key)
    ]
    assert Event.objects.get(type=Event.Type.SESSION_TERMINATED).data == {"other_sessions_ended": 2}


def test_sign_out_all_other_sessions_leaves_teammates_signed_in():
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    here, _ = browser(owner)
    member_browser, _ = browser(member)

    here.post(reverse("partners:profile"), {"action": "end_other_sessions"})

    assert is_signed_in(member_browser)


def test_sign_out_all_other_sessions_with_none_open_says_so_and_logs_nothing():
    here, _ = browser(UserFactory())

    response = here.post(reverse("partners:profile"), {"action": "end_other_sessions"}, follow=True)

    assert "There were no other sessions" in response.content.decode()
    assert is_signed_in(here)
    assert not Event.objects.filter(type=Event.Type.SESSION_TERMINATED).exists()
