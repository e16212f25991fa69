"""The tracking link: GET /<code> records one visit and answers 302 to the landing with the tag."""
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import tracking
from campaigns.models import Campaign, Landing, Promo, Visit
from campaigns.services.visits import visit_record
from tests.campaigns.factories import LandingFactory, PromoFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _empty_tracking_cache():
    tracking.tracking_cache_clear()
    yield
    tracking.tracking_cache_clear()


def make_promo(url="https://aurora.example/welcome?lang=de&ref=a%20b#sign-up", **kwargs) -> Promo:
    promo = PromoFactory(**kwargs)
    Landing.objects.filter(pk=promo.landing_id).update(url=url)
    return promo


def track_url(promo_or_code, query: str = "") -> str:
    code = promo_or_code if isinstance(promo_or_code, str) else promo_or_code.code
    url = reverse("track", kwargs={"code": code})
    return f"{url}?{query}" if query else url


def click(client, promo, query="", **headers):
    headers.setdefault("HTTP_USER_AGENT", BROWSER)
    headers.setdefault("REMOTE_ADDR", "198.51.100.10")
    return client.get(track_url(promo, query), **headers)


def location_query(response) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(response["Location"]).query, keep_blank_values=True)


def test_a_click_is_recorded_and_redirected_to_the_landing_with_the_tag(client):
    promo = make_promo()

    response = click(client, promo, "sub_id=abc-123&utm_source=newsletter",
                     HTTP_REFERER="https://lighthouse-media.example/reviews/aurora")

    visit = Visit.objects.get()
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "aurora.example", "/welcome")
    assert location.fragment == "sign-up"
    # The landing's own query first and byte for byte, then the visitor's, then our tag.
    assert location.query == f"lang=de&ref=a%20b&sub_id=abc-123&utm_source=newsletter&stag={promo.affiliate_id}_{visit.pk}"
    assert visit.promo == promo
    assert visit.affiliate_id == promo.affiliate_id
    assert visit.tag == f"{promo.affiliate_id}_{visit.pk}"
    assert visit.ip == "198.51.100.10"
    assert visit.user_agent == BROWSER
    assert visit.referrer == "https://lighthouse-media.example/reviews/aurora"
    assert visit.params == {"sub_id": "abc-123", "utm_source": "newsletter"}
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_landing_without_a_query_or_path_gets_a_well_formed_url(client):
    promo = make_promo("https://polar.example")

    response = click(client, promo)

    assert response["Location"] == f"https://polar.example/?stag={Visit.objects.get().tag}"


def test_the_tag_goes_in_the_configured_parameter(client, settings):
    settings.TRACKING_TAG_PARAM = "btag"
    promo = make_promo("https://aurora.example/")

    response = click(client, promo, "stag=kept-as-custom")

    visit = Visit.objects.get()
    assert location_query(response) == [("stag", "kept-as-custom"), ("btag", visit.tag)]
    assert visit.params == {"stag": "kept-as-custom"}


def test_a_visitor_cannot_supply_the_tag_and_a_landing_tag_is_replaced(client):
    promo = make_promo("https://aurora.example/?stag=landing&lang=en")

    response = click(client, promo, "stag=forged&sub_id=1")

    visit = Visit.objects.get()
    assert location_query(response) == [("lang", "en"), ("sub_id", "1"), ("stag", visit.tag)]
    assert visit.params == {"sub_id": "1"}


def test_a_parameter_the_landing_sets_keeps_the_landings_value_but_is_stored(client):
    promo = make_promo("https://aurora.example/?lang=de")

    response = click(client, promo, "lang=en&clickID=77")

    assert location_query(response)[:2] == [("lang", "de"), ("clickID", "77")]
    assert Visit.objects.get().params == {"lang": "en", "clickID": "77"}


def test_a_repeated_parameter_keeps_its_last_value(client):
    promo = make_promo("https://aurora.example/")

    click(client, promo, "sub_id=first&sub_id=last")

    assert Visit.objects.get().params == {"sub_id": "last"}


def test_parameters_are_limited_in_number_and_length_and_the_rest_dropped(client):
    promo = make_promo("https://aurora.example/")
    long_name = "n" * 65
    query = urlencode(
        [(long_name, "dropped"), ("long_value", "v" * 300), ("", "no name")]
        + [(f"p{i:02d}", str(i)) for i in range(40)]
    )

    response = click(client, promo, query)

    assert response.status_code == 302
    params = Visit.objects.get().params
    assert len(params) == 30
    assert long_name not in params
    assert params["long_value"] == "v" * 256
    # The first 30 names in the order sent (jsonb on PostgreSQL does not keep key order).
    assert set(params) == {"long_value"} | {f"p{i:02d}" for i in range(29)}
    # What is forwarded is what is stored (plus the tag).
    forwarded = dict(location_query(response))
    assert forwarded.pop("stag")
    assert forwarded == params


def test_more_fields_than_django_accepts_still_count_as_a_click(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    promo = make_promo("https://aurora.example/")

    response = click(client, promo, urlencode([(f"p{i}", "x") for i in range(200)]))

    assert response.status_code == 302
    assert len(Visit.objects.get().params) == 30


def test_user_agent_and_referrer_are_cut_to_their_columns(client):
    promo = make_promo()

    click(client, promo, HTTP_USER_AGENT="U" * 600, HTTP_REFERER="https://r.example/" + "r" * 2000)

    visit = Visit.objects.get()
    assert visit.user_agent == "U" * 512
    assert len(visit.referrer) == 1000


def test_unicode_and_markup_in_parameters_are_stored_as_sent_and_encoded_in_the_redirect(client):
    promo = make_promo("https://aurora.example/")
    script = "<script>alert('x')</script>"
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in [
        ("city", "Zürich 🎰"), ("note", script), ("ключ", "значение"), ("nul", "a\x00b"),
    ])

    response = click(client, promo, query)

    visit = Visit.objects.get()
    assert visit.params == {"city": "Zürich 🎰", "note": script, "ключ": "значение", "nul": "ab"}
    location = response["Location"]
    assert location.isascii() and "<" not in location and " " not in location
    assert dict(location_query(response))["note"] == script


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    promo = make_promo()

    click(client, promo, HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="10.0.0.5")

    assert Visit.objects.get().ip == "10.0.0.5"


def test_forwarded_for_is_honoured_behind_the_trusted_proxy_count(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    promo = make_promo()

    click(client, promo, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.5")

    assert Visit.objects.get().ip == "203.0.113.9"


def test_an_address_that_is_not_an_ip_is_not_stored_and_the_click_counts(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    promo = make_promo()

    response = click(client, promo, HTTP_X_FORWARDED_FOR="unknown", REMOTE_ADDR="10.0.0.5")

    assert response.status_code == 302
    assert Visit.objects.get().ip is None


@pytest.mark.parametrize(("sent", "stored"), [
    ("198.51.100.7", "198.51.100.7"),
    (" 2001:DB8::1 ", "2001:db8::1"),
    ("fe80::1%eth0", "fe80::1"),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("198.51.100.7:443", None),
    ("1.2.3", None),
    ("<script>", None),
])
def test_the_client_address_is_kept_only_when_it_is_an_ip_address(client, settings, sent, stored):
    settings.TRUSTED_PROXY_COUNT = 1
    promo = make_promo()

    click(client, promo, HTTP_X_FORWARDED_FOR=sent)

    assert Visit.objects.get().ip == stored


def test_an_unknown_code_is_a_plain_404_and_records_nothing(client):
    make_promo()

    for code in ("nosuchcode", "x" * 40):
        response = client.get(track_url(code))
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/plain")
        assert b"Unknown tracking link" in response.content
    assert not Visit.objects.exists()


def test_a_head_request_is_redirected_without_a_tag_and_not_counted(client):
    promo = make_promo("https://aurora.example/")

    response = client.head(track_url(promo, "sub_id=1"), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert response["Location"] == "https://aurora.example/?sub_id=1"
    assert not Visit.objects.exists()


@pytest.mark.parametrize("user_agent", [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (compatible; GOOGLEBOT/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
])
def test_link_preview_bots_are_redirected_without_a_tag_and_not_counted(client, user_agent):
    promo = make_promo("https://aurora.example/")

    response = click(client, promo, "sub_id=1", HTTP_USER_AGENT=user_agent)

    assert response.status_code == 302
    assert response["Location"] == "https://aurora.example/?sub_id=1"
    assert not Visit.objects.exists()


@pytest.mark.parametrize("user_agent", [
    BROWSER,
    "",
    # In-app browsers of the same apps carry people: they count.
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.40.106;FBBV/590000000]",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
    "Mobile Safari/537.36 Instagram 330.0.0.40.92 Android",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 Snapchat/12.80.0.40 (like Safari/8617.2.4.10.8, panda)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 LinkedInApp/9.29.7993",
])
def test_people_count_whatever_app_they_click_in(client, user_agent):
    promo = make_promo()

    response = click(client, promo, HTTP_USER_AGENT=user_agent)

    assert "stag=" in response["Location"]
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_and_head_are_allowed(client, method):
    promo = make_promo()

    response = getattr(client, method)(track_url(promo))

    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert not Visit.objects.exists()


def test_an_archived_campaign_keeps_tracking(client):
    promo = make_promo()
    Campaign.objects.filter(pk=promo.campaign_id).update(state=Campaign.State.ARCHIVED)

    response = click(client, promo)

    assert response.status_code == 302
    assert Visit.objects.filter(promo=promo).count() == 1


def test_a_click_costs_one_select_and_one_insert_and_then_only_the_insert(client):
    promo = make_promo()

    with CaptureQueriesContext(connection) as cold:
        click(client, promo, "sub_id=1")
    with CaptureQueriesContext(connection) as warm:
        click(client, promo, "sub_id=2")

    cold_sql = [q["sql"].lstrip().upper() for q in cold.captured_queries]
    assert len(cold_sql) == 2
    assert sum(s.startswith("INSERT") for s in cold_sql) == 1
    assert sum(s.startswith("SELECT") for s in cold_sql) == 1
    assert "JOIN" in next(s for s in cold_sql if s.startswith("SELECT"))  # promo + landing at once
    warm_sql = [q["sql"].lstrip().upper() for q in warm.captured_queries]
    assert len(warm_sql) == 1 and warm_sql[0].startswith("INSERT")
    assert Visit.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_click_outside_any_transaction_stores_the_same_visit_in_one_statement(client):
    # As in production (no test transaction around the request): on PostgreSQL this is the
    # asynchronous-commit INSERT, built from the model's fields.
    promo = make_promo("https://aurora.example/")

    with CaptureQueriesContext(connection) as queries:
        response = click(client, promo, "sub_id=%E2%9C%93&utm_source=x", HTTP_REFERER="https://r.example/",
                         REMOTE_ADDR="2001:db8::1")

    visit = Visit.objects.get()
    assert response["Location"] == f"https://aurora.example/?sub_id=%E2%9C%93&utm_source=x&stag={visit.tag}"
    assert (visit.promo_id, visit.affiliate_id) == (promo.pk, promo.affiliate_id)
    assert (visit.ip, visit.user_agent, visit.referrer) == ("2001:db8::1", BROWSER, "https://r.example/")
    assert visit.params == {"sub_id": "✓", "utm_source": "x"}
    assert abs((timezone.now() - visit.created_at).total_seconds()) < 60
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"].upper()]
    assert len(inserts) == 1
    if connection.vendor == "postgresql":
        assert "set_config('synchronous_commit', 'off', true)" in inserts[0]


def test_inside_a_callers_transaction_a_visit_keeps_its_durability():
    promo = make_promo()

    with CaptureQueriesContext(connection) as queries:
        visit = visit_record(promo_id=promo.pk, affiliate_id=promo.affiliate_id, ip="192.0.2.1",
                             user_agent="ua", referrer="", params=[("a", "1"), ("stag", "x")])

    assert Visit.objects.get(pk=visit.pk).params == {"a": "1"}
    assert not any("synchronous_commit" in q["sql"] for q in queries.captured_queries)


def test_a_landing_changed_elsewhere_is_seen_once_the_cache_entry_expires(client, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(tracking, "_clock", lambda: now[0])
    promo = make_promo("https://aurora.example/old")
    click(client, promo)
    # Another worker process changes the landing: no signal reaches this process.
    Landing.objects.filter(pk=promo.landing_id).update(url="https://aurora.example/new")

    now[0] += tracking.CACHE_TTL_SECONDS - 1
    stale = click(client, promo)
    now[0] += 2
    fresh = click(client, promo)

    assert urlsplit(stale["Location"]).path == "/old"
    assert urlsplit(fresh["Location"]).path == "/new"


def test_a_landing_saved_in_this_process_is_seen_at_once(client):
    promo = make_promo("https://aurora.example/old")
    click(client, promo)

    landing = Landing.objects.get(pk=promo.landing_id)
    landing.url = "https://aurora.example/new"
    landing.save()

    assert urlsplit(click(client, promo)["Location"]).path == "/new"


def test_a_promo_moved_to_another_landing_is_seen_at_once(client):
    promo = make_promo("https://aurora.example/old")
    click(client, promo)

    promo.landing = LandingFactory(brand=promo.brand, url="https://aurora.example/moved")
    promo.save()

    assert urlsplit(click(client, promo)["Location"]).path == "/moved"


@pytest.mark.django_db(transaction=True)
def test_a_cached_promo_deleted_by_another_process_is_a_404_not_a_500(client, monkeypatch):
    promo = make_promo()
    client.head(track_url(promo))  # cached here
    forgotten = []
    monkeypatch.setattr(tracking, "_forget", lambda code: (forgotten.append(code), tracking.tracking_cache_clear()))
    with connection.cursor() as cursor:  # deleted "elsewhere": no signal in this process
        cursor.execute(f"DELETE FROM {Promo._meta.db_table} WHERE id = %s", [promo.pk])

    response = click(client, promo)

    assert response.status_code == 404
    assert forgotten == [promo.code]  # the insert failed on the stale entry, which was dropped
    assert not Visit.objects.exists()


def test_when_the_visit_cannot_be_stored_the_visitor_still_reaches_the_landing(client, monkeypatch):
    promo = make_promo("https://aurora.example/")

    def database_down(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tracking, "visit_record", database_down)

    response = click(client, promo, "sub_id=1")

    assert response.status_code == 302
    assert response["Location"] == "https://aurora.example/?sub_id=1"
