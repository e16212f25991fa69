"""Every row of a report, batch by batch, for exports, feeds and requested reports.

report_run answers one page; a file needs all rows without holding them all. report_stream
gives the same rows in the same order, the same totals and the same relations as the pages of
report_run would, with memory bounded by one batch (plus the ids seen, for `relations`):

- Reports grouped only by the rollup groupers (date buckets, brand, campaign, promo,
  strategy) read ONE grouped query through a server-side cursor (`.iterator()`). Unconverted,
  every grouped row is a report row and the totals are summed per currency on the way, as
  report_run does for the groups it holds in memory. Converted, the query is ordered by the
  groupers then currency, so the currency rows of one group arrive together and are merged
  before the group is handed out.
- Anything else (no grouper) walks report_run page by page (`chunk` rows a page), except
  raw-data reports (groupers player/player_country/cohorts/dynamic_tag_*, or tag filters):
  their groups are read and merged once (reports.engine.players.raw_report_prepare, bounded
  by REPORT_MAX_RAW_FILE_GROUPS rather than the API's REPORT_MAX_RAW_GROUPS) and paged here.

Errors a report would raise (a missing exchange rate, a column refused with a grouper) are
raised by report_stream itself, before any row is produced, so a streamed response can still
answer 400 instead of breaking off mid-file.

This module reads the engine's internals (reports.engine.report): keep it in step with them;
tests/reports/test_exports.py checks that both give the same rows.
"""
import dataclasses
from collections.abc import Iterator
from itertools import zip_longest

from reports.columns import COLUMNS, MONEY, MONEY_SOURCES, sources_of
from reports.engine import players
from reports.engine.query import DATE_GROUPERS, DIMENSION_GROUPERS, ReportQuery, _today
from reports.engine.report import (
    ReportResult,
    _add,
    _alias,
    _base_queryset,
    _column_cells,
    _grouped,
    _grouper_cells,
    _Rates,
    _relations,
    _sums,
    report_run,
)

DEFAULT_CHUNK = 2000
# grouper -> its list in ReportResult.relations
RELATION_KEYS = {"campaign": "campaigns", "brand": "brands", "promo": "promos", "strategy": "strategies"}

Row = list[dict]


class ReportStream:
    """One report, read batch by batch. Iterate `batches()` once; `totals`, `relations` and
    `rows_count` are complete after that (`totals` is known from the start)."""

    def __init__(self, *, affiliate, query: ReportQuery, chunk: int):
        self.affiliate, self.query, self.chunk = affiliate, query, max(1, chunk)
        self.currency = query.conversion_currency or (
            affiliate.default_report_currency if query.convert_all_currencies else None)
        self.totals: list[Row] = []
        self.relations: dict[str, list[dict]] = {"campaigns": []}
        self.rows_count = 0
        self._seen: dict[str, set] = {}
        self._used = False
        self._first_page: ReportResult | None = None
        self._raw = None
        self._streamed = bool(query.group_by) and not players.needs_raw(query) and all(
            g in DATE_GROUPERS or g in DIMENSION_GROUPERS for g in query.group_by)
        if players.needs_raw(query):
            self._raw = players.raw_report_prepare(affiliate=affiliate, query=query, currency=self.currency,
                                                   max_groups=players.max_raw_groups(files=True))
        if self._streamed:
            self._prepare_streamed()
        else:
            # The first page runs now: its errors surface here, its totals cover every row.
            self._first_page = self._page(1)
            self.totals = self._first_page.totals

    # --- reading ---------------------------------------------------------------------------

    def batches(self) -> Iterator[list[Row]]:
        """Lists of at most `chunk` rows, in report order. `relations` already holds the
        dimensions of a batch when it is handed out."""
        if self._used:
            raise RuntimeError("a ReportStream is read once")
        self._used = True
        source = self._streamed_batches() if self._streamed else self._paged_batches()
        for batch in source:
            self.rows_count += len(batch)
            yield batch

    def rows(self) -> Iterator[Row]:
        for batch in self.batches():
            yield from batch

    # --- rollup groupers: one grouped query through a cursor --------------------------------

    def _prepare_streamed(self) -> None:
        query = self.query
        self._sources = sources_of(query.columns)
        self._has_money = any(COLUMNS[c].type == MONEY for c in query.columns)
        self._qs = _base_queryset(affiliate=self.affiliate, query=query)
        self._rate = None
        if self.currency:
            self._rate = _Rates(date=query.rates_date or _today(), quote=self.currency)
            if self._has_money:
                # Ask for every rate now: a missing one is a 400 before the first byte.
                for code in self._qs.order_by().values_list("currency", flat=True).distinct():
                    self._rate(code)
        self._by_currency = bool(self.currency) or self._has_money
        self._totals_by: dict = {}

    def _streamed_batches(self) -> Iterator[list[Row]]:
        groupers = self.query.group_by
        aliases = [_alias(g) for g in groupers]
        grouped, _ = _grouped(self._qs, groupers=groupers, by_currency=self._by_currency, sources=self._sources)
        batch: list[tuple[tuple, dict, str | None]] = []
        pending_key, pending = None, None
        for row in grouped.iterator(chunk_size=self.chunk):
            key = tuple(row[a] for a in aliases)
            sums = _sums(row, self._sources)
            if self.currency:
                if self._has_money:
                    factor = self._rate(row["currency"])
                    sums = {s: (v * factor if s in MONEY_SOURCES else v) for s, v in sums.items()}
                if pending is not None and key == pending_key:
                    _add(pending, sums)
                    continue
                if pending is not None:
                    batch.append((pending_key, pending, self.currency))
                pending_key, pending = key, sums
            else:
                batch.append((key, sums, row.get("currency")))
            if len(batch) >= self.chunk:
                yield self._cells(batch)
                batch = []
        if pending is not None:
            batch.append((pending_key, pending, self.currency))
        if batch:
            yield self._cells(batch)
        self._finish_totals()

    def _cells(self, batch: list[tuple[tuple, dict, str | None]]) -> list[Row]:
        groupers, columns = self.query.group_by, self.query.columns
        rows = []
        for key, sums, code in batch:
            _add(self._totals_by.setdefault(code, {}), sums)
            rows.append(_grouper_cells(groupers, key) + _column_cells(columns, sums, code))
        self._add_relations(groupers, [key for key, _, _ in batch])
        return rows

    def _finish_totals(self) -> None:
        # As report_run: one totals row per currency (unconverted) or one converted row; a
        # zero row in the affiliate's report currency when there is nothing at all.
        columns = self.query.columns
        if self.currency:
            total = self._totals_by.get(self.currency) or _sums({}, self._sources)
            self.totals = [_column_cells(columns, total, self.currency)]
            return
        self.totals = [_column_cells(columns, sums, code)
                       for code, sums in sorted(self._totals_by.items(), key=lambda item: item[0] or "")]
        if not self.totals:
            self.totals = [_column_cells(columns, _sums({}, self._sources), self.affiliate.default_report_currency)]

    def _add_relations(self, groupers: list[str], keys: list[tuple]) -> None:
        new: dict[str, set] = {}
        for position, grouper in enumerate(groupers):
            if grouper not in RELATION_KEYS:
                continue
            seen = self._seen.setdefault(grouper, set())
            fresh = {key[position] for key in keys} - seen - {None}
            if fresh:
                seen |= fresh
                new[grouper] = fresh
        if not new:
            return
        # _relations reads ids per grouper position; one synthetic key per id is enough.
        names = list(new)
        synthetic = list(zip_longest(*(sorted(new[g]) for g in names)))
        self._merge_relations(_relations(names, synthetic))

    def _merge_relations(self, relations: dict[str, list[dict]]) -> None:
        for name, items in relations.items():
            into = self.relations.setdefault(name, [])
            known = {item["id"] for item in into}
            fresh = [item for item in items if item["id"] not in known]
            if fresh:
                into.extend(fresh)
                into.sort(key=lambda item: item["id"])  # as report_run lists them

    # --- everything else: report_run page by page -------------------------------------------

    def _page(self, page: int) -> ReportResult:
        # per_page above the API's MAX_PER_PAGE on purpose: it bounds one API answer, not a file.
        if self._raw is not None:
            return self._raw.page(page, self.chunk)
        return report_run(affiliate=self.affiliate,
                          query=dataclasses.replace(self.query, page=page, per_page=self.chunk))

    def _paged_batches(self) -> Iterator[list[Row]]:
        result, page = self._first_page, 1
        while True:
            self._merge_relations(result.relations)
            if result.rows:
                yield result.rows
            if page >= result.total_pages:
                return
            page += 1
            result = self._page(page)


def report_stream(*, affiliate, query: ReportQuery, chunk: int = DEFAULT_CHUNK) -> ReportStream:
    """Every row of the report of `affiliate` for `query` (its page and per_page are ignored).
    Raises ReportsError, naming the parameter, before any row is read."""
    return ReportStream(affiliate=affiliate, query=query, chunk=chunk)


def report_iter_rows(*, affiliate, query: ReportQuery, chunk: int = DEFAULT_CHUNK) -> Iterator[Row]:
    """The rows alone, one at a time."""
    return report_stream(affiliate=affiliate, query=query, chunk=chunk).rows()
