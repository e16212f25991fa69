"""`async=true` on the Report API: a requested report is queued (202 with its id and a
status_url), polled at /requested_reports/<id> and downloaded as zip or xlsx, with the token,
only by its own affiliate."""
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from partners.services.tokens import statistic_token_issue
from reports.models import RequestedReport
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory

pytestmark = pytest.mark.django_db

REPORT = "/api/customer/v1/partner/report"
PARAMS = {"from": "2026-03-01", "to": "2026-03-31", "columns[]": ["visits_count", "deposits_sum"],
          "group_by[]": ["day"], "async": "true", "name": "March by day"}


@pytest.fixture
def api_user():
    user = UserFactory()
    user.token = statistic_token_issue(user=user, actor=None)
    promo = PromoFactory(campaign=CampaignFactory(affiliate=user.affiliate))
    DailyStatFactory(promo=promo, date=dt.date(2026, 3, 2), visits_count=7, deposits_sum=Decimal("12.5"))
    DailyStatFactory(promo=promo, date=dt.date(2026, 3, 3), visits_count=1)
    return user


def test_async_true_queues_a_requested_report_and_answers_202(client, api_user):
    response = client.get(REPORT, PARAMS, HTTP_AUTHORIZATION=api_user.token)
    assert response.status_code == 202
    body = response.json()
    report = RequestedReport.objects.get()
    assert body == {"requested_report_id": report.pk, "status": "processing",
                    "status_url": f"http://testserver/api/customer/v1/partner/requested_reports/{report.pk}"}
    assert response["Location"] == body["status_url"]
    assert (report.affiliate_id, report.requested_by_id, report.source, report.name) == (
        api_user.affiliate_id, api_user.pk, "api", "March by day")
    assert report.params["columns[]"] == ["visits_count", "deposits_sum"]
    assert report.params["group_by[]"] == ["day"]


def test_polling_then_downloading_the_built_files(client, api_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the build task runs (eager Celery) on commit
        status_url = client.get(REPORT, PARAMS, HTTP_AUTHORIZATION=api_user.token).json()["status_url"]
    status = client.get(status_url, HTTP_AUTHORIZATION=api_user.token).json()
    assert status["status"] == "successful", status
    assert (status["name"], status["error"], status["rows_count"]) == ("March by day", "", 2)
    assert status["finished_at"] and status["requested_at"]
    assert set(status["download_urls"]) == {"zip", "xlsx"}

    zipped = client.get(status["download_urls"]["zip"], HTTP_AUTHORIZATION=api_user.token)
    assert zipped.status_code == 200
    assert zipped["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content))) as archive:
        assert len(archive.namelist()) == 2  # rows and totals
        rows_csv = next(archive.read(n).decode() for n in archive.namelist() if "total" not in n)
    assert "2026-03-02" in rows_csv and "12.50" in rows_csv

    workbook = client.get(status["download_urls"]["xlsx"], HTTP_AUTHORIZATION=api_user.token)
    assert workbook.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(b"".join(workbook.streaming_content)), read_only=True)
    assert len(sheets.sheetnames) == 2


def test_a_report_still_processing_has_no_links_and_its_download_is_409(client, api_user):
    report_id = client.get(REPORT, PARAMS, HTTP_AUTHORIZATION=api_user.token).json()["requested_report_id"]
    status = client.get(f"/api/customer/v1/partner/requested_reports/{report_id}",
                        HTTP_AUTHORIZATION=api_user.token).json()
    assert (status["status"], status["download_urls"], status["finished_at"]) == (
        "processing", {"zip": None, "xlsx": None}, None)
    response = client.get(f"/api/customer/v1/partner/requested_reports/{report_id}/download.xlsx",
                          HTTP_AUTHORIZATION=api_user.token)
    assert response.status_code == 409
    assert response.json()["field"] == "status"
    assert "still being built" in response.json()["error"]


def test_another_affiliates_requested_report_is_404_json_and_no_token_is_401(client, api_user):
    report_id = client.get(REPORT, PARAMS, HTTP_AUTHORIZATION=api_user.token).json()["requested_report_id"]
    other = UserFactory()
    other_token = statistic_token_issue(user=other, actor=None)
    for path in (f"requested_reports/{report_id}", f"requested_reports/{report_id}/download.zip",
                 f"requested_reports/{report_id + 1000}"):
        response = client.get(f"/api/customer/v1/partner/{path}", HTTP_AUTHORIZATION=other_token)
        assert response.status_code == 404, path
        assert response.json()["error"].startswith("there is no requested report")
    assert client.get(f"/api/customer/v1/partner/requested_reports/{report_id}").status_code == 401
    # A team member of the same affiliate sees it (the affiliate's report, not the user's).
    teammate = UserFactory(affiliate=api_user.affiliate)
    teammate_token = statistic_token_issue(user=teammate, actor=None)
    assert client.get(f"/api/customer/v1/partner/requested_reports/{report_id}",
                      HTTP_AUTHORIZATION=teammate_token).status_code == 200


def test_a_wrong_parameter_with_async_is_400_and_queues_nothing(client, api_user):
    response = client.get(REPORT, {**PARAMS, "from": "2026-04-01"}, HTTP_AUTHORIZATION=api_user.token)
    assert response.status_code == 400
    assert response.json()["field"] == "from"
    assert not RequestedReport.objects.exists()


def test_a_conversion_without_rates_is_refused_before_anything_is_queued(client, api_user):
    # given: EUR rows and no exchange rate at all
    response = client.get(REPORT, {**PARAMS, "conversion_currency": "USD"}, HTTP_AUTHORIZATION=api_user.token)

    assert response.status_code == 400
    assert response.json()["field"] == "exchange_rates_date"
    assert not RequestedReport.objects.exists()


def test_an_unreadable_async_flag_is_a_400_not_a_silent_false(client, api_user):
    response = client.get(REPORT, {**PARAMS, "async": "maybe"}, HTTP_AUTHORIZATION=api_user.token)

    assert response.status_code == 400
    assert response.json()["field"] == "async"


def test_a_report_requested_without_a_name_is_named_after_its_dates(client, api_user):
    params = {key: value for key, value in PARAMS.items() if key != "name"}

    client.get(REPORT, params, HTTP_AUTHORIZATION=api_user.token)

    assert RequestedReport.objects.get().name == "API report 2026-03-01–2026-03-31"
