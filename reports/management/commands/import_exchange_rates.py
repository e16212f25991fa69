"""Import exchange rates from a CSV file.

    manage.py import_exchange_rates rates.csv

Format (a sample: docs/exchange-rates-sample.csv):

    date,base,quote,rate
    2026-03-31,EUR,USD,1.0825
    2026-03-31,EUR,BTC,0.0000152

- UTF-8, comma-separated, the header line exactly `date,base,quote,rate`;
- date: YYYY-MM-DD; base, quote: 3-letter currency codes (EUR, USD, GBP, BTC ...), different;
- rate: a positive decimal (dot, at most 10 decimal places): 1 base = rate quote;
- one row per date × base × quote; a pair and date already imported is replaced;
- all or nothing: if any row is bad, nothing is imported and each bad line is reported with
  its line number (the header is line 1).

Reports convert through these: the rate of the date, else the latest within 7 days before;
else the inverse pair; else through EUR.
"""
from django.core.management.base import BaseCommand, CommandError

from reports.rates import RatesFileError, exchange_rates_import


class Command(BaseCommand):
    help = (
        "Import exchange rates from a CSV file with the header date,base,quote,rate: ISO date "
        "(YYYY-MM-DD), 3-letter currency codes, a positive decimal rate (1 base = rate quote, "
        "at most 10 decimal places). A pair and date already imported is replaced. All or "
        "nothing: any bad row is reported with its line number and nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                outcome = exchange_rates_import(lines=handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text.") from None
        except RatesFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Exchange rates imported: {outcome.created} created, {outcome.updated} updated.")
