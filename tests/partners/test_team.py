import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from partners.models import Event, User, UserSession
from tests.conftest import confirmed_totp, sign_in
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = "partners:users"
USER_CREATE = "partners:user_create"


def detail_url(user) -> str:
    return reverse("partners:user_detail", args=[user.pk])


def is_ticked(html: str, name: str) -> bool:
    return re.search(rf'<input type="checkbox" name="{name}"[^>]*\bchecked\b', html) is not None


def is_signed_in(client) -> bool:
    return client.get(reverse("partners:profile")).status_code == 200


# The list -------------------------------------------------------------------------------------

def test_the_owner_sees_every_user_of_the_account_with_their_state(client):
    owner = UserFactory(email="owner@acme.example")
    with_2fa = MemberFactory(affiliate=owner.affiliate, email="secure@acme.example")
    confirmed_totp(with_2fa)
    MemberFactory(affiliate=owner.affiliate, email="blocked@acme.example", is_blocked=True)
    MemberFactory(affiliate=owner.affiliate, email="locked@acme.example", locked_at=timezone.now())
    UserFactory(email="stranger@other.example")
    sign_in(client, owner)

    response = client.get(reverse(USERS))

    html = response.content.decode()
    assert response.status_code == 200
    for email in ["owner@acme.example", "secure@acme.example", "blocked@acme.example", "locked@acme.example"]:
        assert email in html
    assert "stranger@other.example" not in html
    assert "Blocked</span>" in html and "Locked</span>" in html
    assert html.count("badge-on") == 1  # one user has 2FA on
    assert "never" in html  # nobody signed in through the login page yet
    assert reverse(USER_CREATE) in html


@pytest.mark.parametrize("name", [USERS, USER_CREATE])
def test_a_member_gets_404_on_the_team_pages(client, name):
    owner = UserFactory()
    sign_in(client, MemberFactory(affiliate=owner.affiliate))

    assert client.get(reverse(name)).status_code == 404


def test_a_member_gets_404_on_a_teammates_page(client):
    owner = UserFactory()
    sign_in(client, MemberFactory(affiliate=owner.affiliate))

    assert client.get(detail_url(owner)).status_code == 404


# Adding a member ------------------------------------------------------------------------------

def test_adding_a_member_e_mails_a_link_to_set_their_password(client, django_capture_on_commit_callbacks):
    owner = UserFactory()
    sign_in(client, owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(USER_CREATE), {
            "email": "  New.Member@Acme.Example ", "first_name": "Nina", "last_name": "New",
        })

    member = User.objects.get(email="new.member@acme.example")
    assert response.status_code == 302
    assert response["Location"] == detail_url(member)
    assert member.affiliate == owner.affiliate
    assert member.role == User.Role.MEMBER
    assert not member.has_usable_password()
    assert (member.first_name, member.last_name) == ("Nina", "New")
    event = Event.objects.get(type=Event.Type.USER_CREATED)
    assert event.user == member and event.actor == owner
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.member@acme.example"]
    link = re.search(r"http://testserver(/partner/password/reset/(\S+)/(\S+))", message.body)
    assert link is not None
    uid, token = link.group(2), link.group(3)
    assert force_str(urlsafe_base64_decode(uid)) == str(member.pk)
    assert default_token_generator.check_token(member, token)


def test_the_member_page_says_the_invitation_was_sent(client):
    sign_in(client, UserFactory())

    response = client.post(reverse(USER_CREATE), {"email": "nina@acme.example"}, follow=True)

    assert "We e-mailed them a link to set their password" in response.content.decode()


@pytest.mark.parametrize("existing", ["taken@acme.example", "TAKEN@Acme.example"])
def test_an_e_mail_already_in_use_is_a_field_error(client, existing, django_capture_on_commit_callbacks):
    owner = UserFactory()
    UserFactory(email="taken@acme.example")  # of another account, even
    sign_in(client, owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(USER_CREATE), {"email": existing.swapcase()})

    assert response.status_code == 200
    assert "A user with this e-mail already exists." in response.content.decode()
    assert User.objects.filter(email__iexact="taken@acme.example").count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize(("field", "value", "accepted"), [
    ("email", "", False),
    ("email", "x" * 5000 + "@example.net", False),
    ("email", "<script>alert(1)</script>", False),
    ("email", "' OR 1=1 --", False),
    ("email", "Zoë Ångström 测试 🚀", False),
    ("first_name", "x" * 5000, False),
    ("last_name", "x" * 5000, False),
    ("first_name", "Zoë Ångström 测试 🚀", True),
    ("first_name", "<script>alert(1)</script>", True),
    ("last_name", "' OR 1=1 --", True),
])
def test_bad_input_in_the_new_user_form(client, field, value, accepted):
    sign_in(client, UserFactory())
    data = {"email": "nina@acme.example", "first_name": "Nina", "last_name": "New", field: value}

    response = client.post(reverse(USER_CREATE), data, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    if accepted:
        member = User.objects.get(email="nina@acme.example")
        assert getattr(member, field) == value
        if "<script>" in value:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    else:
        assert 'class="error"' in html
        assert User.objects.filter(role=User.Role.MEMBER).count() == 0


# The member page ------------------------------------------------------------------------------

def test_the_member_page_shows_created_last_sign_in_2fa_token_and_sessions(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate, email="nina@acme.example")
    member.last_login = timezone.now().replace(year=2030, month=1, day=2, hour=3, minute=4)
    member.date_joined = timezone.now().replace(year=2029, month=5, day=6, hour=7, minute=8)
    member.save()
    confirmed_totp(member)
    member_browser = sign_in(Client(), member)
    UserSession.objects.filter(session_key=member_browser.session.session_key).update(
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ip="192.0.2.44",
    )
    sign_in(client, owner)

    response = client.get(detail_url(member))

    html = response.content.decode()
    assert response.status_code == 200
    assert "nina@acme.example" in html
    assert "2029-05-06 07:08" in html
    member.refresh_from_db()
    assert member.last_login.strftime("%Y-%m-%d") in html
    assert "On</span>" in html
    assert 'id="statistic-token"' in html and member.statistic_token_digest is not None
    assert reverse("partners:user_token_regenerate", args=[member.pk]) in html
    assert "Firefox 121 on Linux" in html and "192.0.2.44" in html
    assert ">Terminate</button>" in html


def test_a_user_of_another_account_is_404(client):
    sign_in(client, UserFactory())
    stranger = UserFactory()

    assert client.get(detail_url(stranger)).status_code == 404
    assert client.post(detail_url(stranger), {"blocked": "on"}).status_code == 404
    stranger.refresh_from_db()
    assert not stranger.is_blocked


def test_ticking_blocked_blocks_the_member_and_signs_them_out(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    member_browser = sign_in(Client(), member)
    sign_in(client, owner)

    response = client.post(detail_url(member), {"blocked": "on"})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_blocked
    assert not is_signed_in(member_browser)
    assert Event.objects.filter(type=Event.Type.USER_BLOCKED, user=member, actor=owner).exists()
    assert is_ticked(client.get(detail_url(member)).content.decode(), "blocked")


def test_unticking_blocked_unblocks_the_member(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate, is_blocked=True, blocked_at=timezone.now())
    sign_in(client, owner)

    client.post(detail_url(member), {})

    member.refresh_from_db()
    assert not member.is_blocked
    assert Event.objects.filter(type=Event.Type.USER_UNBLOCKED, user=member).exists()


def test_unticking_locked_unlocks_the_member(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate, locked_at=timezone.now(), failed_login_attempts=5)
    sign_in(client, owner)
    page = client.get(detail_url(member)).content.decode()

    client.post(detail_url(member), {})

    member.refresh_from_db()
    assert is_ticked(page, "locked")
    assert not member.is_locked and member.failed_login_attempts == 0
    assert Event.objects.filter(type=Event.Type.UNLOCKED, user=member, actor=owner).exists()


def test_locked_cannot_be_ticked_by_hand(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    sign_in(client, owner)

    client.post(detail_url(member), {"locked": "on"})

    member.refresh_from_db()
    assert not member.is_locked


def test_the_owner_cannot_block_themselves(client):
    owner = UserFactory()
    sign_in(client, owner)

    response = client.post(detail_url(owner), {"blocked": "on"})

    assert response.status_code == 200
    assert "You cannot block yourself." in response.content.decode()
    owner.refresh_from_db()
    assert not owner.is_blocked
    assert is_signed_in(client)


def test_a_blocked_member_cannot_use_the_portal(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    sign_in(client, owner)
    client.post(detail_url(member), {"blocked": "on"})

    member_browser = sign_in(Client(), member)

    assert not is_signed_in(member_browser)
