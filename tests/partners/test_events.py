import datetime as dt

import pytest
from django.urls import reverse

from partners.models import Event
from partners.services.events import event_record
from tests.conftest import sign_in
from tests.partners.factories import EventFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("partners:events")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def event_ids(response) -> set[int]:
    return {event.pk for event in response.context["page_obj"]}


def test_the_log_lists_the_accounts_events_with_type_user_actor_and_ip(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate, email="ann@acme.example")
    event = event_record(affiliate=owner.affiliate, type=Event.Type.TWO_FACTOR_ENABLED, user=member,
                         actor=member, ip="192.0.2.44")
    foreign = EventFactory(type=Event.Type.LOCKED)
    sign_in(client, owner)

    response = client.get(URL)
    html = response.content.decode()

    assert response.status_code == 200
    assert event_ids(response) == {event.pk}
    assert foreign.pk not in event_ids(response)
    assert "two factor authentication enabled" in html
    assert "ann@acme.example" in html
    assert "192.0.2.44" in html
    assert reverse("partners:event_detail", args=[event.pk]) in html


def test_filter_by_type(client):
    owner = UserFactory()
    wanted = EventFactory(affiliate=owner.affiliate, type=Event.Type.PASSWORD_CHANGED)
    EventFactory(affiliate=owner.affiliate, type=Event.Type.SIGNED_IN)
    sign_in(client, owner)

    response = client.get(URL, {"type": "password_changed"})

    assert event_ids(response) == {wanted.pk}


def test_filter_by_dates_counts_whole_days_in_the_program_time_zone(client, settings):
    settings.PROGRAM_TIME_ZONE = "Europe/Kyiv"  # UTC+2 in March
    owner = UserFactory()
    aff = owner.affiliate
    before = EventFactory(affiliate=aff, created_at=at("2025-03-09T21:59:00"))  # 23:59 on the 9th in Kyiv
    first = EventFactory(affiliate=aff, created_at=at("2025-03-09T22:00:00"))  # 00:00 on the 10th in Kyiv
    last = EventFactory(affiliate=aff, created_at=at("2025-03-11T21:59:59"))  # 23:59:59 on the 11th
    after = EventFactory(affiliate=aff, created_at=at("2025-03-11T22:00:00"))  # 00:00 on the 12th
    sign_in(client, owner)

    response = client.get(URL, {"date_from": "2025-03-10", "date_to": "2025-03-11"})

    assert event_ids(response) == {first.pk, last.pk}
    assert before.pk not in event_ids(client.get(URL, {"date_from": "2025-03-10"}))
    assert after.pk not in event_ids(client.get(URL, {"date_to": "2025-03-11"}))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2025-13-45"}, "Enter a valid date."),
        ({"date_to": "yesterday"}, "Enter a valid date."),
        ({"date_from": "x" * 5000}, "Enter a valid date."),
        ({"date_from": "0001-01-01"}, "Enter a date between"),
        ({"date_to": "9999-12-31"}, "Enter a date between"),
        ({"date_from": "2025-03-10", "date_to": "2025-03-01"}, "The end date is before the start date."),
        ({"type": "<script>alert(1)</script>"}, "Select a valid choice."),
        ({"type": "' OR 1=1 --"}, "Select a valid choice."),
    ],
)
def test_invalid_filters_give_a_field_error_not_a_500(client, params, message):
    owner = UserFactory()
    EventFactory(affiliate=owner.affiliate)
    sign_in(client, owner)

    response = client.get(URL, params)
    html = response.content.decode()

    assert response.status_code == 200
    assert message in html
    assert "<script>alert(1)</script>" not in html


def test_the_log_is_paginated_by_25_and_page_links_keep_the_filter(client):
    owner = UserFactory()
    for _ in range(30):
        EventFactory(affiliate=owner.affiliate, type=Event.Type.SIGNED_IN)
    EventFactory(affiliate=owner.affiliate, type=Event.Type.LOCKED)
    sign_in(client, owner)

    first = client.get(URL, {"type": "signed_in"})
    second = client.get(URL, {"type": "signed_in", "page": "2"})
    beyond = client.get(URL, {"type": "signed_in", "page": "abc"})

    assert len(first.context["page_obj"]) == 25
    assert "?type=signed_in&amp;page=2" in first.content.decode()
    assert len(second.context["page_obj"]) == 5
    assert "Page 2 of 2" in second.content.decode()
    assert beyond.status_code == 200


def test_the_detail_shows_every_field_and_the_data_with_human_labels(client):
    owner = UserFactory(email="boss@acme.example")
    event = event_record(
        affiliate=owner.affiliate, type=Event.Type.PROFILE_UPDATED, actor=owner, user=owner, ip="192.0.2.1",
        data={"changed": ["company_name", "user_phone"], "failed_attempts": 5, "reset_by_manager": True,
              "note": "<script>alert(1)</script>"},
    )
    sign_in(client, owner)

    html = client.get(reverse("partners:event_detail", args=[event.pk])).content.decode()

    assert "profile updated" in html
    assert "192.0.2.1" in html
    assert "boss@acme.example" in html
    assert "<dt>Changed</dt><dd>Company name, User phone</dd>" in html
    assert "<dt>Failed attempts</dt><dd>5</dd>" in html
    assert "<dt>Reset by manager</dt><dd>Yes</dd>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_another_affiliates_event_is_404(client):
    other = EventFactory()
    sign_in(client, UserFactory())

    assert client.get(reverse("partners:event_detail", args=[other.pk])).status_code == 404


def test_a_team_member_sees_the_accounts_log(client):
    owner = UserFactory()
    member = MemberFactory(affiliate=owner.affiliate)
    event = EventFactory(affiliate=owner.affiliate)
    sign_in(client, member)

    assert event_ids(client.get(URL)) == {event.pk}


def test_the_log_needs_a_signed_in_user(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:login"))
