"""Reports as tables: CSV (streamed, or as the rows/totals pair of a requested report's zip)
and XLSX (a write-only workbook with a Rows and a Totals sheet).

Memory stays flat however many rows a report has: rows come from a ReportStream batch by
batch and go straight out (CSV) or into openpyxl's write-only sheets, which spool to temporary
files; the finished workbook is a file on disk, never bytes in memory.

Text that people typed (campaign and promo names, tracking-link parameters) can start with
"=", "+", "-" or "@": a spreadsheet would run it as a formula. CSV text cells get a leading
apostrophe then (the OWASP advice for CSV injection); XLSX text cells are typed as strings.
"""
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from reports.exports.layout import Layout, Names

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- CSV ----------------------------------------------------------------------------------

class _Echo:
    """csv.writer target that hands each formatted line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_line(writer, values: list) -> str:
    return writer.writerow([_csv_value(v) for v in values])


def csv_chunks(stream, layout: Layout) -> Iterator[str]:
    """One CSV document: the header, every row, then (when the report is grouped) an empty
    line and a "Total" line per currency, aligned with the columns above."""
    writer = csv.writer(_Echo())
    names = Names(stream.relations)
    yield BOM + _csv_line(writer, layout.header())
    for batch in stream.batches():
        names.refresh()
        yield "".join(_csv_line(writer, layout.row(row, names)) for row in batch)
    if layout.grouper_width:
        lines = ["\r\n"]
        for total in stream.totals:
            label = ["Total"] + [""] * (layout.grouper_width - 1)
            lines.append(_csv_line(writer, label + layout.column_values(total)))
        yield "".join(lines)


# --- XLSX ---------------------------------------------------------------------------------

DATE_FORMATS = {"date_day": "yyyy-mm-dd", "date_week": "yyyy-mm-dd", "date_month": "yyyy-mm", "date_year": "yyyy"}
NUMBER_FORMATS = {
    "money": "#,##0.00######",  # at least the cents, up to a crypto amount's 8 places
    "integer": "#,##0",
    "percent": "0.00%",  # the value is a fraction: 12.5 % is 0.125
}


def _xlsx_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


class _XlsxSheet:
    """A write-only sheet with one reusable styled cell per column: openpyxl writes a row out
    as soon as it is appended, so one cell object per column can carry every row's value
    (a new styled cell per value would cost a style lookup each)."""

    def __init__(self, workbook, title: str, header: list[str], kinds: list[str]):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self._cell_class = WriteOnlyCell
        self.sheet = workbook.create_sheet(title)
        self.sheet.freeze_panes = "A2"
        for position, (text, kind) in enumerate(zip(header, kinds, strict=True), start=1):
            width = 28 if kind == "text" else max(10, min(40, len(text) + 2))
            self.sheet.column_dimensions[get_column_letter(position)].width = width
        bold = Font(bold=True)
        cells = []
        for text in header:
            cell = WriteOnlyCell(self.sheet, value=_xlsx_text(text))
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)
        self._kinds = kinds
        self._styled = {}
        for position, kind in enumerate(kinds):
            number_format = DATE_FORMATS.get(kind) or NUMBER_FORMATS.get(kind)
            if number_format:
                cell = WriteOnlyCell(self.sheet)
                cell.number_format = number_format
                self._styled[position] = cell

    def append(self, values: list) -> None:
        out = []
        for position, value in enumerate(values):
            if value is None or value == "":
                out.append(None)
            elif isinstance(value, str):
                out.append(self._text_cell(value))
            else:
                if self._kinds[position] == "percent":
                    value = value / 100
                styled = self._styled.get(position)
                if styled is None:
                    out.append(value)
                else:
                    styled.value = value
                    out.append(styled)
        self.sheet.append(out)

    def _text_cell(self, value: str):
        value = _xlsx_text(value)
        if not value.startswith("="):
            return value
        cell = self._cell_class(self.sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell


class XlsxWriter:
    """Rows and Totals sheets of one report in an openpyxl write-only workbook (its sheets
    spool to temporary files), saved to `target` (a path or a binary file) on close()."""

    def __init__(self, target, layout: Layout):
        from openpyxl import Workbook

        self.target, self.layout = target, layout
        self.workbook = Workbook(write_only=True)
        self.rows = _XlsxSheet(self.workbook, "Rows", layout.header(), layout.kinds())

    def append(self, values: list) -> None:
        self.rows.append(values)

    def close(self, totals: list[list]) -> None:
        sheet = _XlsxSheet(self.workbook, "Totals", self.layout.column_titles(), self.layout.column_kinds())
        for values in totals:
            sheet.append(values)
        self.workbook.save(self.target)


class CsvPairWriter:
    """rows.csv and totals.csv of one report, as files on disk (then zipped)."""

    def __init__(self, directory: Path, layout: Layout):
        self.layout = layout
        self.rows_path, self.totals_path = directory / "rows.csv", directory / "totals.csv"
        self._handle = open(self.rows_path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._handle)
        self._writer.writerow([_csv_value(v) for v in layout.header()])

    def append(self, values: list) -> None:
        self._writer.writerow([_csv_value(v) for v in values])

    def close(self, totals: list[list]) -> None:
        self._handle.close()
        with open(self.totals_path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.layout.column_titles())
            for values in totals:
                writer.writerow([_csv_value(v) for v in values])

    def zip_to(self, path: Path | str) -> None:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(self.rows_path, "rows.csv")
            archive.write(self.totals_path, "totals.csv")


def write_tables(stream, layout: Layout, writers: list) -> int:
    """Feed every row of `stream` to each writer, then the totals; returns the rows written."""
    names = Names(stream.relations)
    count = 0
    for batch in stream.batches():
        names.refresh()
        for row in batch:
            values = layout.row(row, names)
            for writer in writers:
                writer.append(values)
        count += len(batch)
    totals = [layout.column_values(total) for total in stream.totals]
    for writer in writers:
        writer.close(totals)
    return count


def write_xlsx(stream, layout: Layout, path: Path | str) -> int:
    return write_tables(stream, layout, [XlsxWriter(path, layout)])
