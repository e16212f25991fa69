import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from partners.models import Affiliate, Event
from partners.services.tokens import (
    statistic_token_issue,
    statistic_token_reveal,
    user_by_statistic_token,
)
from tests.conftest import sign_in
from tests.partners.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def _token_on_page(html: str) -> str:
    marker = 'id="statistic-token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_a_token_is_stored_encrypted_and_as_a_digest_never_in_clear():
    user = UserFactory()

    token = statistic_token_issue(user=user, actor=user)

    user.refresh_from_db()
    assert len(token) >= 40  # 160 bits in hex
    assert token not in user.statistic_token_encrypted
    assert user.statistic_token_digest != token
    assert len(user.statistic_token_digest) == 64
    assert user.statistic_token_created_at is not None
    assert statistic_token_reveal(user) == token


def test_the_token_finds_its_user():
    user = UserFactory()
    token = statistic_token_issue(user=user, actor=user)

    assert user_by_statistic_token(token) == user


def test_after_regeneration_the_old_token_stops_working_at_once():
    user = UserFactory()
    old = statistic_token_issue(user=user, actor=user)

    new = statistic_token_issue(user=user, actor=user)

    assert new != old
    assert user_by_statistic_token(old) is None
    assert user_by_statistic_token(new) == user


def test_regeneration_is_logged_without_the_token():
    user = UserFactory()
    old = statistic_token_issue(user=user, actor=user)

    new = statistic_token_issue(user=user, actor=user, ip="203.0.113.9")

    event = Event.objects.get(type=Event.Type.STATISTIC_TOKEN_REGENERATED)
    assert event.user == user and event.actor == user and event.ip == "203.0.113.9"
    assert old not in str(event.data) and new not in str(event.data)


def test_the_first_token_is_not_logged_as_a_regeneration():
    user = UserFactory()

    statistic_token_issue(user=user, actor=user)

    assert not Event.objects.filter(type=Event.Type.STATISTIC_TOKEN_REGENERATED).exists()


@pytest.mark.parametrize("change", ["blocked", "locked", "inactive_user", "affiliate_blocked", "affiliate_pending"])
def test_the_token_of_a_user_who_may_not_sign_in_finds_nobody(change):
    user = UserFactory()
    token = statistic_token_issue(user=user, actor=user)
    if change == "blocked":
        user.is_blocked = True
    elif change == "locked":
        user.locked_at = timezone.now()
    elif change == "inactive_user":
        user.is_active = False
    elif change == "affiliate_blocked":
        user.affiliate.status = Affiliate.Status.BLOCKED
        user.affiliate.save()
    else:
        user.affiliate.status = Affiliate.Status.PENDING
        user.affiliate.save()
    user.save()

    assert user_by_statistic_token(token) is None


@pytest.mark.parametrize("presented", [
    None, "", " ", "x" * 5000, "Zoë Ångström 测试 🚀", "<script>alert(1)</script>", "' OR 1=1 --",
])
def test_garbage_tokens_find_nobody(presented):
    user = UserFactory()
    statistic_token_issue(user=user, actor=user)

    assert user_by_statistic_token(presented) is None


def test_the_profile_issues_a_token_on_first_view_and_shows_the_same_one_later(client):
    user = UserFactory()
    assert user.statistic_token_digest is None
    sign_in(client, user)

    first = _token_on_page(client.get(reverse("partners:profile")).content.decode())
    second = _token_on_page(client.get(reverse("partners:profile")).content.decode())

    assert first == second
    assert user_by_statistic_token(first) == user


def test_regenerate_button_replaces_the_token_shown_on_the_profile(client):
    user = UserFactory()
    sign_in(client, user)
    old = _token_on_page(client.get(reverse("partners:profile")).content.decode())

    response = client.post(reverse("partners:statistic_token_regenerate"), follow=True)

    html = response.content.decode()
    new = _token_on_page(html)
    assert new != old
    assert "The old one no longer works" in html
    assert user_by_statistic_token(old) is None
    assert user_by_statistic_token(new) == user


def test_regenerate_needs_a_post(client):
    sign_in(client, UserFactory())

    assert client.get(reverse("partners:statistic_token_regenerate")).status_code == 405


def test_the_profile_warns_that_regeneration_ends_the_old_token(client):
    sign_in(client, UserFactory())

    html = client.get(reverse("partners:profile")).content.decode()

    assert "The old token stops working immediately" in html


def test_each_team_member_has_their_own_token(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    owner_token = statistic_token_issue(user=owner, actor=owner)
    member_token = statistic_token_issue(user=member, actor=member)

    assert owner_token != member_token
    assert user_by_statistic_token(member_token) == member


def test_the_owner_regenerates_a_members_token_from_the_member_page(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    old = statistic_token_issue(user=member, actor=member)
    sign_in(client, owner)

    response = client.post(reverse("partners:user_token_regenerate", args=[member.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:user_detail", args=[member.pk])
    assert user_by_statistic_token(old) is None
    member.refresh_from_db()
    new = statistic_token_reveal(member)
    assert user_by_statistic_token(new) == member
    event = Event.objects.get(type=Event.Type.STATISTIC_TOKEN_REGENERATED)
    assert event.user == member and event.actor == owner
    detail = client.get(reverse("partners:user_detail", args=[member.pk])).content.decode()
    assert new in detail


def test_the_owner_cannot_regenerate_the_token_of_another_accounts_user(client):
    owner = UserFactory()
    stranger = UserFactory()
    token = statistic_token_issue(user=stranger, actor=stranger)
    sign_in(client, owner)

    response = client.post(reverse("partners:user_token_regenerate", args=[stranger.pk]))

    assert response.status_code == 404
    assert user_by_statistic_token(token) == stranger


def test_a_member_cannot_regenerate_a_teammates_token(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    token = statistic_token_issue(user=owner, actor=owner)
    sign_in(client, member)

    response = client.post(reverse("partners:user_token_regenerate", args=[owner.pk]))

    assert response.status_code == 404
    assert user_by_statistic_token(token) == owner


def test_a_members_token_stays_when_they_regenerate_their_own_elsewhere():
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    owner_token = statistic_token_issue(user=owner, actor=owner)
    statistic_token_issue(user=member, actor=member)

    member_client = sign_in(Client(), member)
    member_client.post(reverse("partners:statistic_token_regenerate"))

    assert user_by_statistic_token(owner_token) == owner
