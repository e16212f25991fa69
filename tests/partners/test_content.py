import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in
from tests.partners.factories import NewsArticleFactory, TermsVersionFactory, UserFactory

pytestmark = pytest.mark.django_db

NEWS = reverse("partners:news")
TERMS = reverse("partners:terms")


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


# News -----------------------------------------------------------------------------------------

def test_news_lists_published_articles_newest_first_with_show_more(client):
    older = NewsArticleFactory(title="Spring promo", summary="Double CPA in April", published_at=days_ago(10))
    newer = NewsArticleFactory(title="New brand launched", published_at=days_ago(1))
    NewsArticleFactory(title="Draft article", is_published=False)
    NewsArticleFactory(title="Scheduled article", published_at=timezone.now() + dt.timedelta(days=3))
    sign_in(client, UserFactory())

    html = client.get(NEWS).content.decode()

    assert html.index("New brand launched") < html.index("Spring promo")
    assert "Double CPA in April" in html
    assert "Draft article" not in html
    assert "Scheduled article" not in html
    assert "Show more" in html
    assert reverse("partners:news_detail", args=[older.pk]) in html
    assert reverse("partners:news_detail", args=[newer.pk]) in html


def test_news_is_paginated(client):
    for n in range(12):
        NewsArticleFactory(title=f"Article number {n:02d}", published_at=days_ago(n))
    sign_in(client, UserFactory())

    first = client.get(NEWS).content.decode()
    second = client.get(NEWS, {"page": 2}).content.decode()

    assert "Article number 00" in first and "Article number 11" not in first
    assert "Article number 11" in second
    assert "Page 2 of 2" in second


def test_an_article_shows_its_body_with_line_breaks_and_escaped(client):
    article = NewsArticleFactory(title="Payments update", body="First line\nSecond <b>bold</b> line")
    sign_in(client, UserFactory())

    response = client.get(reverse("partners:news_detail", args=[article.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<p>First line<br>Second &lt;b&gt;bold&lt;/b&gt; line</p>" in html


@pytest.mark.parametrize("published", [False, None])
def test_an_unpublished_or_missing_article_is_404(client, published):
    article_id = NewsArticleFactory(is_published=False).pk if published is False else 999999
    sign_in(client, UserFactory())

    assert client.get(reverse("partners:news_detail", args=[article_id])).status_code == 404


def test_news_needs_a_signed_in_user(client):
    response = client.get(NEWS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("partners:login"))


# Terms ----------------------------------------------------------------------------------------

def test_terms_show_the_newest_published_version(client):
    TermsVersionFactory(title="Terms 2023", body="Old rules", published_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    TermsVersionFactory(title="Terms 2025", body="1. Definitions\nThe <Program> means us.",
                        published_at=dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC))
    TermsVersionFactory(title="Terms draft", body="Future rules", is_published=False)
    sign_in(client, UserFactory())

    response = client.get(TERMS)
    html = response.content.decode()

    assert response.status_code == 200
    assert "Terms 2025" in html
    assert "<p>1. Definitions<br>The &lt;Program&gt; means us.</p>" in html
    assert "Published on" in html and "2025-01-15" in html
    assert "Old rules" not in html and "Future rules" not in html


def test_terms_can_be_read_without_signing_in_in_the_sign_in_layout(client):
    TermsVersionFactory(title="Program terms", body="Be nice.")

    response = client.get(TERMS)
    html = response.content.decode()

    assert response.status_code == 200
    assert "Be nice." in html
    assert 'class="auth"' in html
    assert "Sign out" not in html
    assert reverse("partners:sign_up") in html


def test_signed_in_partners_see_the_terms_in_the_portal(client):
    TermsVersionFactory(body="Be nice.")
    sign_in(client, UserFactory())

    html = client.get(TERMS).content.decode()

    assert 'class="portal"' in html
    assert "Sign out" in html
    assert "Be nice." in html


def test_terms_say_so_when_none_are_published(client):
    TermsVersionFactory(is_published=False)

    html = client.get(TERMS).content.decode()

    assert "has not published its terms and conditions yet" in html
