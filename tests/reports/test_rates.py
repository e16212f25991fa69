"""Exchange rates: the lookup rules, conversions, the CSV import command and the admin."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from reports.errors import ReportsError
from reports.models import DailyStat, ExchangeRate
from reports.rates import convert, rate_for
from tests.conftest import sign_in
from tests.partners.factories import StaffFactory
from tests.reports.factories import DailyStatFactory

pytestmark = pytest.mark.django_db

MAR_31 = dt.date(2026, 3, 31)


def rate(base, quote, value, date=MAR_31):
    return ExchangeRate.objects.create(date=date, base=base, quote=quote, rate=Decimal(value))


def test_same_currency_is_one_without_any_rate():
    assert rate_for(date=MAR_31, base="BTC", quote="BTC") == 1


def test_the_rate_of_the_date_wins_over_older_ones():
    rate("EUR", "USD", "1.05", MAR_31 - dt.timedelta(days=1))
    rate("EUR", "USD", "1.08")
    rate("EUR", "USD", "1.20", MAR_31 + dt.timedelta(days=1))  # the future is never used

    assert rate_for(date=MAR_31, base="EUR", quote="USD") == Decimal("1.08")


def test_an_earlier_rate_serves_for_seven_days_and_no_longer():
    rate("EUR", "USD", "1.05", MAR_31 - dt.timedelta(days=7))

    assert rate_for(date=MAR_31, base="EUR", quote="USD") == Decimal("1.05")
    with pytest.raises(ReportsError):
        rate_for(date=MAR_31 + dt.timedelta(days=1), base="EUR", quote="USD")


def test_the_inverse_pair_when_only_the_other_direction_is_known():
    rate("EUR", "USD", "1.25")

    assert rate_for(date=MAR_31, base="USD", quote="EUR") == Decimal("0.8")
    assert convert(Decimal("10.00"), date=MAR_31, base="USD", quote="EUR") == Decimal("8.00")


def test_through_eur_when_neither_direction_is_known():
    rate("EUR", "GBP", "0.8")
    rate("USD", "EUR", "0.9")  # inverse legs are fine too

    assert rate_for(date=MAR_31, base="USD", quote="GBP") == Decimal("0.72")
    assert rate_for(date=MAR_31, base="GBP", quote="USD") == Decimal(1) / Decimal("0.8") / Decimal("0.9")


def test_a_missing_rate_names_the_pair_and_the_date():
    rate("EUR", "GBP", "0.8")

    with pytest.raises(ReportsError) as error:
        rate_for(date=MAR_31, base="USD", quote="GBP")

    assert str(error.value) == "No exchange rate for USD→GBP on or before 2026-03-31"
    assert error.value.field == "exchange_rates_date"


def test_convert_rounds_to_the_quote_currency_and_refuses_floats():
    rate("EUR", "BTC", "0.0000152")
    rate("EUR", "USD", "1.0825")

    assert convert(Decimal("1234.56"), date=MAR_31, base="EUR", quote="BTC") == Decimal("0.01876531")
    assert convert(Decimal("0.05"), date=MAR_31, base="EUR", quote="USD") == Decimal("0.05")  # 0.054125 half-up
    assert convert(Decimal("0.10"), date=MAR_31, base="EUR", quote="USD") == Decimal("0.11")  # 0.10825
    with pytest.raises(TypeError):
        convert(1.5, date=MAR_31, base="EUR", quote="USD")


# --- import command -------------------------------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_creates_and_replaces_rates_and_prints_counts(tmp_path, capsys):
    rate("EUR", "USD", "1.00")
    path = write(tmp_path, "date,base,quote,rate\n2026-03-31,EUR,USD,1.0825\n\n2026-03-31,eur,btc,0.0000152\n")

    call_command("import_exchange_rates", path)

    assert "1 created, 1 updated" in capsys.readouterr().out
    assert dict(ExchangeRate.objects.values_list("quote", "rate")) == {"USD": Decimal("1.0825"),
                                                                       "BTC": Decimal("0.0000152")}


def test_the_sample_file_imports(capsys):
    call_command("import_exchange_rates", "docs/exchange-rates-sample.csv")

    assert "12 created, 0 updated" in capsys.readouterr().out
    assert rate_for(date=dt.date(2026, 4, 3), base="BTC", quote="GBP") > 0  # pivot, a few days later


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(tmp_path):
    path = write(tmp_path, "\n".join([
        "date,base,quote,rate",
        "2026-03-31,EUR,USD,1.08",           # 2: fine
        "2026-31-03,EUR,USD,1.08",           # 3: bad date
        "2026-03-31,EUR,XYZ,1.08",           # 4: unknown currency
        "2026-03-31,EUR,GBP,-1",             # 5: not positive
        "2026-03-31,EUR,EUR,1",              # 6: same currency
        "2026-03-31,EUR,USD,1.09",           # 7: repeats line 2
        "2026-03-31,EUR,GBP",                # 8: a value missing
        "2026-03-31,EUR,GBP,abc",            # 9: not a number
        "2026-03-31,EUR,CAD,1.12345678901",  # 10: too precise
    ]) + "\n")

    with pytest.raises(CommandError) as error:
        call_command("import_exchange_rates", path)

    message = str(error.value)
    assert "nothing was imported" in message
    for line, words in [(3, "not a date"), (4, "'XYZ' is not a known currency"), (5, "must be a positive number"),
                        (6, "both EUR"), (7, "also on line 2"), (8, "expected 4 values"),
                        (9, "not a decimal number"), (10, "more than 10 decimal places")]:
        assert f"line {line}: " in message and words in message
    assert "line 2:" not in message
    assert not ExchangeRate.objects.exists()


def test_a_wrong_header_or_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="line 1: the header must be date,base,quote,rate"):
        call_command("import_exchange_rates", write(tmp_path, "day,from,to,rate\n2026-03-31,EUR,USD,1\n"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_exchange_rates", str(tmp_path / "missing.csv"))


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    return sign_in(client, StaffFactory(is_superuser=True), verified=True)


def test_admin_lists_stats_read_only_and_edits_rates(admin_client):
    DailyStatFactory(visits_count=42)

    page = admin_client.get(reverse("admin:reports_dailystat_changelist"))
    assert page.status_code == 200 and "42" in page.content.decode()
    assert admin_client.get(reverse("admin:reports_dailystat_add")).status_code == 403

    response = admin_client.post(reverse("admin:reports_exchangerate_add"),
                                 {"date": "2026-03-31", "base": "EUR", "quote": "EUR", "rate": "1"})
    assert "both are EUR" in response.content.decode()
    response = admin_client.post(reverse("admin:reports_exchangerate_add"),
                                 {"date": "2026-03-31", "base": "EUR", "quote": "USD", "rate": "1.08"})
    assert response.status_code == 302
    assert rate_for(date=MAR_31, base="USD", quote="EUR") == Decimal(1) / Decimal("1.08")
    assert admin_client.get(reverse("admin:reports_exchangerate_changelist")).status_code == 200
    assert DailyStat.objects.count() == 1


def test_demo_seed_imports_30_days_of_rates_and_is_idempotent():
    from reports.demo import seed

    seed()
    seed()

    assert ExchangeRate.objects.count() == 30 * 4
    assert set(ExchangeRate.objects.values_list("quote", flat=True)) == {"USD", "GBP", "CAD", "BTC"}
