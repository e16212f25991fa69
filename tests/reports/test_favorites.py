"""Report favorites: saving the report page's settings (fixed dates or a relative period),
the name clash (form error, or replace), loading (the saved settings and resolved dates, the
saved currency over the default one), the list, deleting, and another affiliate's favorite."""
import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from reports.errors import ReportsError
from reports.models import ReportFavorite
from reports.services.favorites import favorite_params, favorite_save, period_dates
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.conftest import sign_in
from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db

P = ReportFavorite.Period
WEDNESDAY = dt.date(2026, 3, 18)


@pytest.fixture
def owner(client):
    user = UserFactory(affiliate__default_report_currency="EUR")
    PromoFactory(campaign=CampaignFactory(affiliate=user.affiliate, name="Spring slots"))
    sign_in(client, user)
    return user


def report_form(**extra) -> dict:
    """What the report page's "Save as favorite" form posts: the report's settings + name/period."""
    data = {"from": "2026-03-01", "to": "2026-03-22", "group_by[]": ["month", "campaign"],
            "columns[]": ["ngr", "visits_count"], "convert_all_currencies": "1", "conversion_currency": "USD",
            "name": "Monthly NGR", "period": P.FIXED}
    data.update(extra)
    return data


def query_of(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


# --- periods ------------------------------------------------------------------------------------

@pytest.mark.parametrize("period,expected", [
    (P.TODAY, ("2026-03-18", "2026-03-18")),
    (P.YESTERDAY, ("2026-03-17", "2026-03-17")),
    (P.LAST_7_DAYS, ("2026-03-12", "2026-03-18")),
    (P.LAST_30_DAYS, ("2026-02-17", "2026-03-18")),
    (P.THIS_WEEK, ("2026-03-16", "2026-03-18")),
    (P.LAST_WEEK, ("2026-03-09", "2026-03-15")),
    (P.THIS_MONTH, ("2026-03-01", "2026-03-18")),
    (P.LAST_MONTH, ("2026-02-01", "2026-02-28")),
    (P.THIS_YEAR, ("2026-01-01", "2026-03-18")),
    (P.LAST_YEAR, ("2025-01-01", "2025-12-31")),
])
def test_relative_periods_resolve_against_today(period, expected):
    start, end = period_dates(period, today=WEDNESDAY)
    assert (start.isoformat(), end.isoformat()) == expected


def test_last_month_in_january_is_last_years_december():
    assert period_dates(P.LAST_MONTH, today=dt.date(2026, 1, 5)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


# --- saving and loading ---------------------------------------------------------------------------

def test_save_with_fixed_dates_then_load_the_same_report(client, owner):
    response = client.post(reverse("reports:report_favorite_save"), report_form())

    favorite = ReportFavorite.objects.get(affiliate=owner.affiliate)
    assert favorite.name == "Monthly NGR" and favorite.created_by == owner
    assert favorite.period == P.FIXED
    assert (favorite.date_from, favorite.date_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 22))
    assert "from" not in favorite.params and "to" not in favorite.params
    assert favorite.params["columns[]"] == ["ngr", "visits_count"]
    # the affiliate lands on the loaded favorite
    assert response.status_code == 302 and response["Location"] == reverse("reports:report_favorite_load", args=[favorite.pk])
    loaded = client.get(response["Location"])
    assert loaded.status_code == 302
    query = query_of(loaded["Location"])
    assert urlsplit(loaded["Location"]).path == reverse("reports:report")
    assert query["from"] == ["2026-03-01"] and query["to"] == ["2026-03-22"]
    assert query["group_by[]"] == ["month", "campaign"] and query["columns[]"] == ["ngr", "visits_count"]
    assert query["conversion_currency"] == ["USD"]
    page = client.get(loaded["Location"]).content.decode()
    headers = re.findall(r'<th scope="col" data-column="([a-z_]+)"', page)
    assert headers == ["month", "campaign", "ngr", "visits_count"]
    assert "Saved as your favorite “Monthly NGR”" in page


def test_a_relative_period_moves_with_today(client, owner):
    with time_machine.travel(dt.datetime(2026, 3, 18, 12, tzinfo=dt.UTC)):
        client.post(reverse("reports:report_favorite_save"), report_form(period=P.LAST_MONTH,
                                                                  exchange_rates_date="2026-03-01"))
    favorite = ReportFavorite.objects.get(affiliate=owner.affiliate)
    assert favorite.period == P.LAST_MONTH and favorite.date_from is None
    # a relative favorite converts at the rates of the day it is loaded
    assert "exchange_rates_date" not in favorite.params

    with time_machine.travel(dt.datetime(2026, 5, 10, 12, tzinfo=dt.UTC)):
        loaded = client.get(reverse("reports:report_favorite_load", args=[favorite.pk]))
    query = query_of(loaded["Location"])
    assert (query["from"], query["to"]) == (["2026-04-01"], ["2026-04-30"])


def test_the_saved_currency_overrides_the_default_report_currency(client, owner):
    client.post(reverse("reports:report_favorite_save"), report_form(conversion_currency="GBP"))
    favorite = ReportFavorite.objects.get(affiliate=owner.affiliate)
    owner.affiliate.default_report_currency = "USD"
    owner.affiliate.save(update_fields=["default_report_currency"])

    loaded = client.get(reverse("reports:report_favorite_load", args=[favorite.pk]))

    assert query_of(loaded["Location"])["conversion_currency"] == ["GBP"]
    page = client.get(loaded["Location"]).content.decode()
    assert '<option value="GBP" selected>' in page


def test_convert_all_with_the_default_currency_is_saved_as_that_currency(client, owner):
    data = report_form()
    del data["conversion_currency"]
    client.post(reverse("reports:report_favorite_save"), data)
    assert ReportFavorite.objects.get(affiliate=owner.affiliate).params["conversion_currency"] == "EUR"


def test_an_unconverted_favorite_stays_unconverted(client, owner):
    client.post(reverse("reports:report_favorite_save"), report_form(convert_all_currencies=["0"]))
    favorite = ReportFavorite.objects.get(affiliate=owner.affiliate)
    assert "conversion_currency" not in favorite.params


def test_saving_under_an_existing_name_is_a_form_error_unless_replacing(client, owner):
    client.post(reverse("reports:report_favorite_save"), report_form())

    response = client.post(reverse("reports:report_favorite_save"), report_form(**{"columns[]": ["visits_count"]}))

    assert response.status_code == 200
    text = response.content.decode()
    error = re.search(r'<p class="error" id="favorite_name_error">([^<]+)</p>', text)
    assert error and "already have a favorite named “Monthly NGR”" in error.group(1)
    assert ReportFavorite.objects.get(affiliate=owner.affiliate).params["columns[]"] == ["ngr", "visits_count"]
    # the settings are kept on the page, and the form is open to try again
    assert 'id="report-favorite" open' in text
    assert re.search(r'name="columns\[\]" value="visits_count" checked', text)

    replaced = client.post(reverse("reports:report_favorite_save"),
                           report_form(**{"columns[]": ["visits_count"], "replace": "on"}))
    assert replaced.status_code == 302
    assert ReportFavorite.objects.filter(affiliate=owner.affiliate).count() == 1
    assert ReportFavorite.objects.get(affiliate=owner.affiliate).params["columns[]"] == ["visits_count"]


def test_the_same_name_is_fine_for_another_affiliate(client, owner):
    other = UserFactory()
    favorite_save(affiliate=other.affiliate, user=other, name="Monthly NGR", params={}, period=P.THIS_MONTH)
    assert client.post(reverse("reports:report_favorite_save"), report_form()).status_code == 302
    assert ReportFavorite.objects.filter(name="Monthly NGR").count() == 2


def test_a_favorite_needs_a_name_and_valid_settings(owner):
    affiliate = owner.affiliate
    with pytest.raises(ReportsError) as blank:
        favorite_save(affiliate=affiliate, user=owner, name="  ", params={}, period=P.TODAY)
    assert blank.value.field == "name"
    with pytest.raises(ReportsError) as column:
        favorite_save(affiliate=affiliate, user=owner, name="x", params={"columns[]": ["bogus"]}, period=P.TODAY)
    assert column.value.field == "columns[]"
    with pytest.raises(ReportsError) as dates:
        favorite_save(affiliate=affiliate, user=owner, name="x", params={}, period=P.FIXED)
    assert dates.value.field == "period"
    assert not ReportFavorite.objects.exists()


def test_an_invalid_report_is_not_saved(client, owner):
    response = client.post(reverse("reports:report_favorite_save"), report_form(**{"columns[]": ["bogus"]}), follow=True)
    assert "The favorite was not saved: unknown column" in response.content.decode()
    assert not ReportFavorite.objects.exists()


def test_favorite_params_of_a_fixed_favorite_ignore_today(owner):
    favorite = favorite_save(affiliate=owner.affiliate, user=owner, name="March", params={"columns[]": ["ngr"]},
                             period=P.FIXED, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert favorite_params(favorite, today=dt.date(2030, 1, 1)) == {
        "from": "2026-03-01", "to": "2026-03-31", "columns[]": ["ngr"]}


# --- the list, deleting, scope --------------------------------------------------------------------------

def test_the_report_page_and_the_list_show_the_favorites(client, owner):
    favorite_save(affiliate=owner.affiliate, user=owner, name="Last month by campaign",
                  params={"group_by[]": ["campaign"], "columns[]": ["ngr"], "conversion_currency": "EUR",
                          "convert_all_currencies": "1"}, period=P.LAST_MONTH)
    favorite_save(affiliate=owner.affiliate, user=owner, name="Early March", params={}, period=P.FIXED,
                  date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 22))
    favorite_save(affiliate=UserFactory().affiliate, user=None, name="Not mine", params={}, period=P.TODAY)

    page = client.get(reverse("reports:report")).content.decode()
    quick = re.search(r'id="report-favorites">(.*?)</section>', page, re.S).group(1)
    assert "Last month by campaign" in quick and "Early March" in quick and "Show all" in quick
    assert "Not mine" not in page

    listing = re.sub(r"\s+", " ", client.get(reverse("reports:report_favorites")).content.decode())
    assert "Not mine" not in listing
    assert "2026-03-01 – 2026-03-22" in listing
    assert "Last month" in listing and "Campaign" in listing and ">EUR<" in listing
    # each favorite can be downloaded, or requested as a file under its name
    early = ReportFavorite.objects.get(name="Early March")
    download = re.search(rf'href="({re.escape(reverse("reports:export", kwargs={"fmt": "xlsx"}))}[^"]+)"[^>]*>Download',
                         listing.split(f'data-favorite="{early.pk}"')[1])
    assert query_of(download.group(1).replace("&amp;", "&"))["to"] == ["2026-03-22"]
    assert f"favorite={early.pk}" in listing


def test_delete_a_favorite(client, owner):
    favorite = favorite_save(affiliate=owner.affiliate, user=owner, name="Old", params={}, period=P.TODAY)
    assert client.get(reverse("reports:report_favorite_delete", args=[favorite.pk])).status_code == 405

    response = client.post(reverse("reports:report_favorite_delete", args=[favorite.pk]), follow=True)

    assert not ReportFavorite.objects.filter(pk=favorite.pk).exists()
    assert "Favorite “Old” deleted." in response.content.decode()


def test_another_affiliates_favorite_is_404(client, owner):
    other = UserFactory()
    theirs = favorite_save(affiliate=other.affiliate, user=other, name="Theirs", params={}, period=P.TODAY)

    assert client.get(reverse("reports:report_favorite_load", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("reports:report_favorite_delete", args=[theirs.pk])).status_code == 404
    assert ReportFavorite.objects.filter(pk=theirs.pk).exists()


def test_a_team_member_shares_the_accounts_favorites(client, owner):
    from tests.partners.factories import MemberFactory

    favorite = favorite_save(affiliate=owner.affiliate, user=owner, name="Shared", params={}, period=P.TODAY)
    member = MemberFactory(affiliate=owner.affiliate)
    sign_in(client, member)
    assert client.get(reverse("reports:report_favorite_load", args=[favorite.pk])).status_code == 302
