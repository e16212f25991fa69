"""Report exports (/partner/reports/export.<fmt>): every row of the report, in CSV, XLSX, JSON
and XML, equal to what the report engine answers page by page (totals and conversion
included); streamed; 400 naming the parameter; only the signed-in affiliate's data. Also the
engine's row iterator (reports.engine.iteration) against report_run."""
import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import urlencode

import openpyxl
import pytest
from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse

from reports.engine import ReportQuery, report_run
from reports.engine.iteration import report_iter_rows, report_stream
from tests.campaigns.factories import CampaignFactory, PlayerFactory, PromoFactory, VisitFactory
from tests.conftest import sign_in
from tests.partners.factories import UserFactory
from tests.reports.factories import DailyStatFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 2)
BASE = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def world():
    user = UserFactory()
    affiliate = user.affiliate
    c1 = CampaignFactory(affiliate=affiliate, name="Spring slots")
    c2 = CampaignFactory(affiliate=affiliate, name="Poker")
    p1, p2, p3 = PromoFactory(campaign=c1), PromoFactory(campaign=c1), PromoFactory(campaign=c2)
    for i in range(4):
        day = D + dt.timedelta(days=i)
        DailyStatFactory(promo=p1, date=day, visits_count=10 + i, registrations_count=2, first_deposits_count=1,
                         deposits_count=3, deposits_sum=Decimal("100.25") + i, bets_sum=Decimal(500), wins_sum=Decimal(320))
        DailyStatFactory(promo=p1, date=day, currency="USD", deposits_count=1, deposits_sum=Decimal("40.10"),
                         bets_sum=Decimal(90), wins_sum=Decimal(100))
        DailyStatFactory(promo=p3, date=day, visits_count=5, registrations_count=1 + i % 2, deposits_count=1,
                         deposits_sum=Decimal("12.5"))
    DailyStatFactory(promo=p2, date=D, visits_count=7)
    DailyStatFactory(promo=PromoFactory(), date=D, visits_count=999, deposits_sum=Decimal(999))  # someone else's
    ExchangeRateFactory(date=dt.date(2026, 3, 31), base="USD", quote="EUR", rate="0.5")
    return {"user": user, "affiliate": affiliate, "c1": c1, "c2": c2, "p1": p1, "p2": p2, "p3": p3}


def query_of(params: dict) -> ReportQuery:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        else:
            data[key] = str(value)
    return ReportQuery.from_params(data)


def paged(affiliate, params: dict, per_page: int = 2):
    """Every page of report_run: (rows, totals, relations merged and sorted)."""
    rows, relations, page = [], {}, 1
    while True:
        result = report_run(affiliate=affiliate, query=query_of({**params, "page": page, "per_page": per_page}))
        rows += result.rows
        for key, items in result.relations.items():
            known = {item["id"]: item for item in relations.get(key, [])}
            known.update({item["id"]: item for item in items})
            relations[key] = sorted(known.values(), key=lambda item: item["id"])
        if page >= result.total_pages:
            return rows, result.totals, relations
        page += 1


CASES = {
    "by day, one row per currency": {"group_by[]": ["day"], "columns[]": ["visits_count", "deposits_sum", "ngr"]},
    "by campaign and day": {"group_by[]": ["campaign", "day"]},
    "by promo, converted": {"group_by[]": ["promo"], "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31",
                            "columns[]": ["deposits_count", "deposits_sum", "average_deposit_amount"]},
    "by week and brand, counts only": {"group_by[]": ["week", "brand"],
                                       "columns[]": ["visits_count", "first_deposits_conversion_rate"]},
    "no grouper": {"columns[]": ["visits_count", "deposits_sum"]},
    "filtered to one campaign": {"group_by[]": ["day"], "campaign_ids[]": ["{c2}"]},
}


def _params(world, case: str) -> dict:
    params = {**BASE, **CASES[case]}
    if "campaign_ids[]" in params:
        params["campaign_ids[]"] = [str(world["c2"].pk)]
    return params


# --- the iterator against report_run ------------------------------------------------------

@pytest.mark.parametrize("case", list(CASES))
def test_stream_gives_the_rows_totals_and_relations_of_all_pages(world, case):
    params = _params(world, case)
    rows, totals, relations = paged(world["affiliate"], params)

    stream = report_stream(affiliate=world["affiliate"], query=query_of(params), chunk=3)
    streamed = list(stream.rows())

    assert streamed == rows
    assert stream.totals == totals
    assert stream.relations == relations
    assert stream.rows_count == len(rows)


def test_stream_of_a_raw_grouper_walks_the_pages(world):
    for sub in ("a", "b", "b", "c"):
        VisitFactory(promo=world["p1"], params={"sub_id": sub},
                     created_at=dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    params = {**BASE, "group_by[]": ["dynamic_tag_sub_id"], "columns[]": ["visits_count"]}
    rows, totals, _ = paged(world["affiliate"], params, per_page=1)

    streamed = list(report_iter_rows(affiliate=world["affiliate"], query=query_of(params), chunk=1))

    assert [r[0]["value"] for r in streamed] == ["a", "b", "c"]
    assert streamed == rows


def test_a_missing_rate_is_raised_before_any_row(world):
    from reports.errors import ReportsError

    DailyStatFactory(promo=world["p2"], date=D, currency="GBP", deposits_sum=Decimal(1))  # no GBP rate
    with pytest.raises(ReportsError) as error:
        report_stream(affiliate=world["affiliate"], query=query_of({**BASE, "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31"}))
    assert error.value.field == "exchange_rates_date"


# --- exports over HTTP -------------------------------------------------------------------------

@pytest.fixture
def portal(client, world):
    return sign_in(client, world["user"])


def export(client, fmt: str, params: dict):
    return client.get(f"{reverse('reports:export', kwargs={'fmt': fmt})}?{urlencode(params, doseq=True)}")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def plain(cell: dict):
    value = cell["value"]
    return value["amount"] if isinstance(value, dict) else value


def test_csv_is_streamed_with_header_rows_and_totals(portal, world):
    params = {**BASE, "group_by[]": ["campaign", "day"], "columns[]": ["visits_count", "deposits_sum", "ngr"]}
    rows, totals, _ = paged(world["affiliate"], params)

    response = export(portal, "csv", params)

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="report_2026-03-01_2026-03-31.csv"'
    lines = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert lines[0] == ["Campaign ID", "Campaign", "Day", "Currency", "Visits", "Deposits sum", "NGR"]
    names = {world["c1"].pk: "Spring slots", world["c2"].pk: "Poker"}
    expected = [[str(r[0]["value"]), names[r[0]["value"]], r[1]["value"], r[3]["value"]["currency"],
                 str(r[2]["value"]), r[3]["value"]["amount"], r[4]["value"]["amount"]] for r in rows]
    assert lines[1:1 + len(rows)] == expected
    assert lines[1 + len(rows)] == []
    assert lines[2 + len(rows):] == [["Total", "", "", t[1]["value"]["currency"], str(t[0]["value"]),
                                      t[1]["value"]["amount"], t[2]["value"]["amount"]] for t in totals]
    # 2 campaigns × 4 days in EUR, campaign 1 also in USD; promo 2's day 1 merges into campaign 1's.
    assert len(rows) == 12 and [t[1]["value"]["currency"] for t in totals] == ["EUR", "USD"]
    assert "999" not in body(export(portal, "csv", params)).decode()


def test_converted_csv_has_no_currency_column_and_says_the_currency_in_the_titles(portal, world):
    params = {**BASE, "group_by[]": ["day"], "columns[]": ["deposits_sum"], "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31"}
    rows, totals, _ = paged(world["affiliate"], params)

    lines = list(csv.reader(io.StringIO(body(export(portal, "csv", params)).decode("utf-8-sig"))))

    assert lines[0] == ["Day", "Deposits sum, EUR"]
    # 100.25 EUR + 40.10 USD × 0.5 + 12.50 EUR on the first day
    assert lines[1] == ["2026-03-02", "132.80"]
    assert [line[1] for line in lines[1:5]] == [r[1]["value"]["amount"] for r in rows]
    assert lines[-1] == ["Total", totals[0][0]["value"]["amount"]]


def test_xlsx_has_a_rows_and_a_totals_sheet_with_numbers_as_numbers(portal, world):
    params = {**BASE, "group_by[]": ["day", "promo"],
              "columns[]": ["visits_count", "deposits_sum", "first_deposits_conversion_rate"]}
    rows, totals, _ = paged(world["affiliate"], params)

    response = export(portal, "xlsx", params)

    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Disposition"] == 'attachment; filename="report_2026-03-01_2026-03-31.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(body(response)))
    assert book.sheetnames == ["Rows", "Totals"]
    sheet = list(book["Rows"].iter_rows(values_only=True))
    assert sheet[0] == ("Day", "Promo ID", "Promo", "Currency", "Visits", "Deposits sum",
                        "Registration to FTD conversion, %")
    assert len(sheet) == 1 + len(rows)
    for line, row in zip(sheet[1:], rows, strict=True):
        day, promo, visits, deposits, rate = (cell["value"] for cell in row)
        assert line[0] == dt.datetime.fromisoformat(day)
        assert line[1] == promo and line[2] == world["p1"].__class__.objects.get(pk=promo).title
        assert line[3] == deposits["currency"]
        assert line[4] == visits and isinstance(line[4], int)
        assert Decimal(str(line[5])) == Decimal(deposits["amount"])
        assert Decimal(str(line[6])).quantize(Decimal("0.0001")) == (Decimal(rate) / 100).quantize(Decimal("0.0001"))
    assert book["Rows"]["F2"].number_format == "#,##0.00######"
    assert book["Rows"]["G2"].number_format == "0.00%"
    total_sheet = list(book["Totals"].iter_rows(values_only=True))
    assert total_sheet[0] == ("Currency", "Visits", "Deposits sum", "Registration to FTD conversion, %")
    assert [(t[0], t[1], Decimal(str(t[2]))) for t in total_sheet[1:]] == [
        (t[1]["value"]["currency"], t[0]["value"], Decimal(t[1]["value"]["amount"])) for t in totals]


def test_converted_xlsx_totals(portal, world):
    params = {**BASE, "group_by[]": ["campaign"], "columns[]": ["deposits_sum", "ggr"], "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31"}
    rows, totals, _ = paged(world["affiliate"], params)

    book = openpyxl.load_workbook(io.BytesIO(body(export(portal, "xlsx", params))))

    assert next(book["Rows"].iter_rows(values_only=True)) == ("Campaign ID", "Campaign", "Deposits sum, EUR", "GGR, EUR")
    total = list(book["Totals"].iter_rows(values_only=True))
    assert total[0] == ("Deposits sum, EUR", "GGR, EUR")
    assert [Decimal(str(v)) for v in total[1]] == [Decimal(c["value"]["amount"]) for c in totals[0]]
    # 4 × (100.25 + i) + 4 × 40.10 × 0.5 + 4 × 12.50
    assert Decimal(str(total[1][0])) == Decimal("537.20")


@pytest.mark.parametrize("params", [
    {"group_by[]": ["campaign", "day"]},
    {"group_by[]": ["promo"], "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31", "columns[]": ["deposits_sum", "visits_count"]},
])
def test_json_is_the_report_api_shape_with_every_row(portal, world, params):
    params = {**BASE, **params}
    rows, totals, relations = paged(world["affiliate"], params)

    response = export(portal, "json", params)

    assert isinstance(response, StreamingHttpResponse) and response["Content-Type"] == "application/json"
    document = json.loads(body(response))
    assert document == {"report_type": "partner_report", "rows": {"data": rows}, "totals": {"data": totals},
                        "total_pages": 1, "current_page": 1, "relations": relations}
    assert any(relations.values())  # names come along


def _xml_value(element):
    if len(element):
        return {child.tag: child.text for child in element}
    text = element.text or ""
    return int(text) if text.isdigit() else (text or None)


def test_xml_mirrors_the_json(portal, world):
    params = {**BASE, "group_by[]": ["campaign", "day"], "columns[]": ["visits_count", "deposits_sum"]}
    rows, totals, relations = paged(world["affiliate"], params)

    response = export(portal, "xml", params)

    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(body(response))
    assert root.tag == "report" and root.findtext("report_type") == "partner_report"

    def cells(path):
        return [[{"name": c.findtext("name"), "value": _xml_value(c.find("value")), "type": c.findtext("type")}
                 for c in row.findall("cell")] for row in root.find(path).findall("row")]

    assert cells("rows/data") == rows
    assert cells("totals/data") == totals
    assert root.findtext("total_pages") == "1"
    campaigns = [{child.tag: child.text for child in c} for c in root.find("relations/campaigns")]
    assert campaigns == [{k: str(v) for k, v in item.items()} for item in relations["campaigns"]]


def test_wrong_parameters_answer_400_naming_the_field(portal):
    for fmt in ("csv", "xlsx", "json", "xml"):
        response = export(portal, fmt, {"from": "2026-03-31", "to": "2026-03-01"})
        assert response.status_code == 400
        assert "from is after to" in response.content.decode()
    response = export(portal, "csv", {**BASE, "group_by[]": ["colour"]})
    assert response.status_code == 400 and "group_by[]" in response.content.decode()


def test_a_missing_exchange_rate_is_400_not_a_broken_file(portal, world):
    DailyStatFactory(promo=world["p2"], date=D, currency="GBP", deposits_sum=Decimal(1))
    response = export(portal, "csv", {**BASE, "conversion_currency": "EUR", "exchange_rates_date": "2026-03-31", "group_by[]": ["day"]})
    assert response.status_code == 400 and "exchange_rates_date" in response.content.decode()


def test_export_needs_a_signed_in_user(client):
    response = export(client, "csv", BASE)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_unknown_format_is_404(portal):
    assert portal.get("/partner/reports/export.pdf").status_code == 404


def test_text_that_looks_like_a_formula_stays_text(portal, world):
    world["c1"].name = "=HYPERLINK(\"http://evil.example\")"
    world["c1"].save(update_fields=["name"])
    params = {**BASE, "group_by[]": ["campaign"], "columns[]": ["visits_count"]}

    lines = list(csv.reader(io.StringIO(body(export(portal, "csv", params)).decode("utf-8-sig"))))
    assert lines[1][1] == "'=HYPERLINK(\"http://evil.example\")"

    book = openpyxl.load_workbook(io.BytesIO(body(export(portal, "xlsx", params))))
    cell = book["Rows"]["B2"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://evil.example\")"


def test_player_grouper_exports_through_the_pages(portal, world):
    player = PlayerFactory(visit=VisitFactory(promo=world["p1"]), user_id="=cmd",
                           sign_up_at=dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC))
    params = {**BASE, "group_by[]": ["player"], "columns[]": ["registrations_count"]}

    lines = list(csv.reader(io.StringIO(body(export(portal, "csv", params)).decode("utf-8-sig"))))

    assert lines[0] == ["Player", "Registrations"]
    assert lines[1] == ["'=cmd", "1"] and player.user_id == "=cmd"
