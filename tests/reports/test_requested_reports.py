"""Requested reports: requested from the portal (or a favorite, or the API's service call),
built by the Celery task into a zip of two CSV files and a two-sheet XLSX, e-mailed with the
workbook attached and a link; failures recorded and retried; renamed; scoped to the
affiliate; the task safe to run twice; the admin list."""
import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.urls import reverse

from backoffice.timeutil import business_today
from reports.errors import ReportsError
from reports.models import ReportFavorite, RequestedReport
from reports.services import requested as service
from reports.services.requested import (
    BUILD_FAILED_MESSAGE,
    requested_report_rename,
    requested_report_request,
    requested_report_retry,
)
from reports.tasks import build_requested_report
from tests.campaigns.factories import CampaignFactory, PromoFactory
from tests.conftest import sign_in
from tests.partners.factories import MemberFactory, StaffFactory, UserFactory
from tests.reports.factories import DailyStatFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 2)
PARAMS = {"from": "2026-03-01", "to": "2026-03-31", "group_by[]": ["day"],
          "columns[]": ["visits_count", "deposits_sum"]}


@pytest.fixture(autouse=True)
def _files_in_tmp(_private_files_in_tmp):
    """tests/conftest.py moves the private FileFields it recognises (partners.models'
    storage callable) to tmp_path; RequestedReport's files use reports.models' own."""
    fields = [RequestedReport._meta.get_field(name) for name in ("csv_zip", "xlsx")]
    saved = [field.storage for field in fields]
    for field in fields:
        field.storage = _private_files_in_tmp
    yield
    for field, storage in zip(fields, saved, strict=True):
        field.storage = storage


@pytest.fixture
def world():
    user = UserFactory(email="owner@alpha.example", first_name="Ada")
    campaign = CampaignFactory(affiliate=user.affiliate)
    for i in range(3):
        DailyStatFactory(promo=PromoFactory(campaign=campaign), date=D + dt.timedelta(days=i), visits_count=10 + i,
                         deposits_sum=Decimal("20.25"))
    return {"user": user, "affiliate": user.affiliate}


@pytest.fixture
def portal(client, world):
    return sign_in(client, world["user"])


def request_via_page(client, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("reports:request_report"), {**PARAMS, "name": "March by day", **extra})


def test_requesting_builds_both_files_and_mails_the_workbook(portal, world, django_capture_on_commit_callbacks):
    response = request_via_page(portal, django_capture_on_commit_callbacks)

    report = RequestedReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:requested_report",
                                                                            args=[report.pk])
    assert report.status == RequestedReport.Status.SUCCESSFUL
    assert report.rows_count == 3 and report.finished_at is not None and report.error == ""
    assert report.name == "March by day" and report.requested_by == world["user"]
    assert report.params["from"] == "2026-03-01" and report.params["group_by[]"] == ["day"]

    # the zip: rows and totals as two CSV files
    zipped = portal.get(reverse("reports:requested_report_download", args=[report.pk, "zip"]))
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"
    assert 'filename="report_2026-03-01_2026-03-31.zip"' in zipped["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content))) as archive:
        assert sorted(archive.namelist()) == ["rows.csv", "totals.csv"]
        rows = list(csv.reader(io.StringIO(archive.read("rows.csv").decode("utf-8-sig"))))
        totals = list(csv.reader(io.StringIO(archive.read("totals.csv").decode("utf-8-sig"))))
    assert rows == [["Day", "Currency", "Visits", "Deposits sum"], ["2026-03-02", "EUR", "10", "20.25"],
                    ["2026-03-03", "EUR", "11", "20.25"], ["2026-03-04", "EUR", "12", "20.25"]]
    assert totals == [["Currency", "Visits", "Deposits sum"], ["EUR", "33", "60.75"]]

    # the workbook: rows and totals sheets
    workbook = portal.get(reverse("reports:requested_report_download", args=[report.pk, "xlsx"]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(workbook.streaming_content)))
    assert book.sheetnames == ["Rows", "Totals"]
    assert len(list(book["Rows"].iter_rows())) == 4
    assert list(book["Totals"].iter_rows(values_only=True))[1][:2] == ("EUR", 33)

    # the e-mail: the workbook attached, a link to the report's page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@alpha.example"] and "March by day" in message.subject
    link = f"http://testserver{reverse('reports:requested_report', args=[report.pk])}"
    assert link in message.body and "3 rows" in message.body
    (name, content, mimetype), = message.attachments
    assert name == "report_2026-03-01_2026-03-31.xlsx" and mimetype.endswith("spreadsheetml.sheet")
    assert openpyxl.load_workbook(io.BytesIO(content)).sheetnames == ["Rows", "Totals"]

    page = portal.get(response["Location"]).content.decode()
    assert "Successful" in page and "Download XLSX" in page and "March by day" in page


def test_the_list_shows_id_name_parameters_actor_state_and_links(portal, world,
                                                                 django_capture_on_commit_callbacks):
    request_via_page(portal, django_capture_on_commit_callbacks)
    report = RequestedReport.objects.get()
    processing = RequestedReport.objects.create(affiliate=world["affiliate"], requested_by=world["user"],
                                                params={"from": "2026-02-01", "to": "2026-02-28",
                                                        "columns[]": ["ngr"], "conversion_currency": "USD",
                                                        "exchange_rates_date": "2026-02-28"})

    page = portal.get(reverse("reports:requested_reports")).content.decode()

    assert f">{report.pk}<" in page and "March by day" in page and "owner@alpha.example" in page
    assert "2026-03-01 – 2026-03-31" in page and "Grouped by: Day" in page and "Columns: Visits, Deposits sum" in page
    assert "converted to USD at the rates of 2026-02-28" in page
    assert "Successful" in page and "Processing" in page
    assert reverse("reports:requested_report_download", args=[report.pk, "xlsx"]) in page
    assert reverse("reports:requested_report_download", args=[processing.pk, "xlsx"]) not in page


def test_wrong_parameters_are_shown_not_a_500(portal, world, django_capture_on_commit_callbacks):
    response = request_via_page(portal, django_capture_on_commit_callbacks, **{"columns[]": ["colour"]})

    assert response.status_code == 400
    assert "columns[]" in response.content.decode() and "colour" in response.content.decode()
    assert not RequestedReport.objects.exists()


def test_service_names_the_wrong_field_and_resolves_dates(world, django_capture_on_commit_callbacks):
    with pytest.raises(ReportsError) as error:
        requested_report_request(affiliate=world["affiliate"], user=world["user"], params={"to": "2026-13-01"})
    assert error.value.field == "to"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = requested_report_request(affiliate=world["affiliate"], user=world["user"],
                                          params={"convert_all_currencies": "1"}, source="api")
    assert len(callbacks) == 1  # the build is queued after commit
    today = business_today()
    assert report.params["to"] == today.isoformat() and report.params["from"] == today.replace(day=1).isoformat()
    assert report.params["exchange_rates_date"] == today.isoformat() and report.params["conversion_currency"] == "EUR"
    assert report.source == "api" and report.status == "processing"


def test_another_affiliates_user_cannot_request(world):
    with pytest.raises(ReportsError):
        requested_report_request(affiliate=world["affiliate"], user=UserFactory(), params=PARAMS)


def test_the_request_page_names_the_report(portal):
    response = portal.get(reverse("reports:request_report"), PARAMS)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="group_by[]" value="day"' in page and 'name="name"' in page and "Grouped by" in page


def test_the_request_page_says_what_is_wrong_with_the_parameters(portal):
    response = portal.get(reverse("reports:request_report"), {**PARAMS, "from": "March"})

    assert response.status_code == 400
    assert "from must be a date as YYYY-MM-DD" in response.content.decode()


def test_a_favorite_gives_its_name(portal, world, django_capture_on_commit_callbacks):
    favorite = ReportFavorite.objects.create(affiliate=world["affiliate"], name="Daily numbers",
                                             params={}, period="this_month")
    request_via_page(portal, django_capture_on_commit_callbacks, name="", favorite=favorite.pk)

    report = RequestedReport.objects.get()
    assert report.name == "Daily numbers" and report.source == "favorite"
    other = ReportFavorite.objects.create(affiliate=UserFactory().affiliate, name="Theirs", params={},
                                          period="this_month")
    assert request_via_page(portal, django_capture_on_commit_callbacks, favorite=other.pk).status_code == 404


def test_a_failed_build_is_recorded_and_can_be_retried(portal, world, monkeypatch, caplog,
                                                       django_capture_on_commit_callbacks):
    def broken(report, directory):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_write_files", broken)
    request_via_page(portal, django_capture_on_commit_callbacks)

    report = RequestedReport.objects.get()
    assert report.status == RequestedReport.Status.FAILED and report.error == BUILD_FAILED_MESSAGE
    assert not report.csv_zip and not report.xlsx and report.finished_at is not None
    assert "could not be built" in caplog.text and "disk full" in caplog.text
    assert "could not be built" in mail.outbox[-1].body
    page = portal.get(reverse("reports:requested_report", args=[report.pk])).content.decode()
    assert "Failed" in page and "Try again" in page
    assert portal.get(reverse("reports:requested_report_download", args=[report.pk, "xlsx"])).status_code == 404

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.post(reverse("reports:requested_report_retry", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == RequestedReport.Status.SUCCESSFUL and report.rows_count == 3 and report.error == ""

    with pytest.raises(ReportsError, match="only a failed report"):
        requested_report_retry(report=report, user=world["user"])


def test_a_conversion_without_rates_is_refused_in_words_before_anything_is_queued(
        portal, world, django_capture_on_commit_callbacks):
    DailyStatFactory(promo=PromoFactory(campaign__affiliate=world["affiliate"]), date=D, currency="GBP",
                     deposits_sum=Decimal(5))
    response = request_via_page(portal, django_capture_on_commit_callbacks,
                                conversion_currency="EUR", exchange_rates_date="2026-03-31")

    assert not RequestedReport.objects.exists()
    page = response.content.decode()
    assert response.status_code in (200, 400) and "No exchange rate for GBP→EUR" in page


def test_the_task_is_safe_to_run_twice_and_quiet_for_a_missing_report(portal, world,
                                                                      django_capture_on_commit_callbacks):
    request_via_page(portal, django_capture_on_commit_callbacks)
    report = RequestedReport.objects.get()
    files = (report.csv_zip.name, report.xlsx.name)

    build_requested_report.delay(report.pk)
    build_requested_report.delay(report.pk + 1000)

    report.refresh_from_db()
    assert (report.csv_zip.name, report.xlsx.name) == files and len(mail.outbox) == 1


def test_rename(portal, world):
    report = RequestedReport.objects.create(affiliate=world["affiliate"], requested_by=world["user"], params=PARAMS)
    url = reverse("reports:requested_report", args=[report.pk])

    assert portal.post(url, {"name": "  Q1   numbers "}).status_code == 302
    report.refresh_from_db()
    assert report.name == "Q1 numbers"

    response = portal.post(url, {"name": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    member = MemberFactory(affiliate=world["affiliate"])
    requested_report_rename(report=report, name="By a teammate", user=member)
    with pytest.raises(ReportsError):
        requested_report_rename(report=report, name="x", user=UserFactory())


def test_another_affiliates_report_is_404(portal, world):
    theirs = RequestedReport.objects.create(affiliate=UserFactory().affiliate, name="Theirs",
                                            status=RequestedReport.Status.FAILED, params=PARAMS)

    assert portal.get(reverse("reports:requested_report", args=[theirs.pk])).status_code == 404
    assert portal.post(reverse("reports:requested_report", args=[theirs.pk]), {"name": "Mine"}).status_code == 404
    assert portal.post(reverse("reports:requested_report_retry", args=[theirs.pk])).status_code == 404
    for fmt in ("zip", "xlsx"):
        assert portal.get(reverse("reports:requested_report_download", args=[theirs.pk, fmt])).status_code == 404
    assert "Theirs" not in portal.get(reverse("reports:requested_reports")).content.decode()
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.status == RequestedReport.Status.FAILED


def test_pages_need_a_signed_in_user(client):
    assert client.get(reverse("reports:requested_reports")).status_code == 302


def test_admin_lists_requested_reports_read_only(client, world):
    RequestedReport.objects.create(affiliate=world["affiliate"], name="Admin sees me", params=PARAMS,
                                   status=RequestedReport.Status.FAILED, error="No exchange rate")
    admin = sign_in(client, StaffFactory(is_superuser=True), verified=True)

    page = admin.get(reverse("admin:reports_requestedreport_changelist"), {"status__exact": "failed"})
    assert page.status_code == 200 and "Admin sees me" in page.content.decode()
    report = RequestedReport.objects.get()
    assert admin.get(reverse("admin:reports_requestedreport_change", args=[report.pk])).status_code == 200
    assert admin.get(reverse("admin:reports_requestedreport_add")).status_code == 403
