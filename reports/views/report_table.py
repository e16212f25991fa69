"""How the report page shows a ReportResult: header labels, grouper cells with the names of
brands, campaigns, promos and plans (from the result's relations), formatted values (money with
its currency, thousands separated), the totals rows, and a pager for portal/_pagination.html.

Every value cell keeps the engine's value in data attributes, so what the page shows can be
checked against the Report API's JSON for the same parameters.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from reports.columns import MONEY, PERCENT
from reports.forms import column_label, grouper_label

_RELATIONS = {"brand": "brands", "campaign": "campaigns", "promo": "promos", "strategy": "strategies"}


class ReportPager:
    """The part of a Django Page that portal/_pagination.html reads, for the engine's pages."""

    def __init__(self, number: int, num_pages: int):
        self.number = number
        self.paginator = type("Paginator", (), {"num_pages": num_pages})()

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def previous_page_number(self) -> int:
        return min(self.number - 1, self.paginator.num_pages)

    def next_page_number(self) -> int:
        return self.number + 1


@dataclass
class ReportTable:
    headers: list[dict]
    rows: list[list[dict]]
    totals: list[dict]
    groupers_count: int
    range_label: str  # the first column of a report without groupers

    @property
    def label_column(self) -> bool:
        return self.groupers_count == 0


def value_text(cell: dict) -> str:
    """A value as the page shows it: 1,234.50 EUR; 12.50 %; 1,234."""
    value = cell["value"]
    if cell["type"] == MONEY:
        return f"{Decimal(value['amount']):,} {value['currency']}"
    if cell["type"] == PERCENT:
        return f"{value} %"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _date_text(grouper: str, value: str) -> str:
    day = dt.date.fromisoformat(value)
    if grouper == "year":
        return str(day.year)
    if grouper == "month":
        return day.strftime("%Y-%m")
    if grouper == "week":
        return f"Week of {value}"
    return value


def _value_cell(cell: dict) -> dict:
    value = cell["value"]
    money = cell["type"] == MONEY
    return {
        "name": cell["name"], "type": cell["type"], "text": value_text(cell), "numeric": True,
        "value": value["amount"] if money else value, "currency": value["currency"] if money else "",
    }


def _grouper_cell(grouper: str, cell: dict, names: dict) -> dict:
    value = cell["value"]
    out = {"name": grouper, "type": "grouper", "value": value, "numeric": False, "currency": "", "ref": ""}
    if cell["name"] == "date":
        out["text"] = _date_text(grouper, value)
    elif grouper in _RELATIONS:
        out["text"] = names[grouper].get(value) or (f"#{value}" if value not in (None, "") else "—")
        out["ref"] = f"#{value}" if value not in (None, "") else ""
    else:
        out["text"] = str(value) if value not in (None, "") else "—"
    return out


def report_table(*, query, result) -> ReportTable:
    names = {
        grouper: {item["id"]: item["name"] for item in result.relations.get(key, [])}
        for grouper, key in _RELATIONS.items()
    }
    groupers = list(query.group_by)
    headers = [{"name": g, "label": grouper_label(g), "numeric": False} for g in groupers]
    headers += [{"name": c, "label": column_label(c), "numeric": True} for c in query.columns]
    rows = []
    for row in result.rows:
        group_cells, value_cells = row[:len(groupers)], row[len(groupers):]
        rows.append([_grouper_cell(g, cell, names) for g, cell in zip(groupers, group_cells, strict=True)]
                    + [_value_cell(cell) for cell in value_cells])
    totals = []
    for total in result.totals:
        cells = [_value_cell(cell) for cell in total]
        currency = next((c["currency"] for c in cells if c["currency"]), "")
        totals.append({"label": f"Total {currency}".strip() if len(result.totals) > 1 else "Total", "cells": cells})
    return ReportTable(headers=headers, rows=rows, totals=totals, groupers_count=len(groupers),
                       range_label=f"{query.date_from.isoformat()} – {query.date_to.isoformat()}")
