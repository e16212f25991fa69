"""Affilae connector (pull): the `partnerships_history` and `commissions` tables.

Kinds, run in this order (partnerships first: commissions take each partnership's profile and
program from the latest snapshot):

- "partnerships": lists the affiliate profiles, then each profile's partnerships
  (`withProgramsDetails=true`), and stores them as a PartnershipSnapshot dated today (UTC).
  A later sync on the same date updates that date's rows; the next date adds new ones, so a
  status change between two syncs leaves two rows. `--since` does not apply (Affilae only
  tells the present state). Cursor: {"date", "complete", "done_profiles"}; an interrupted
  run resumes with the profiles not yet done that day.
- "commissions": per UTC date and partnership, from `partnerships.kpis` (one call per date ×
  metric for all profiles at once, since the KPI endpoint sums over its range): clicks,
  impressions, conversionsTotal (no `currency`: Affilae answers 400 when a count metric has
  one) and commissionsTotal (in the connection's `currency`). EPC is not stored: it is
  commissions / clicks. The KPI endpoint has no revenue metric, so revenue is the sum of the
  day's conversion amounts from `conversions.list` (read once per profile for the whole range,
  paginated), leaving out refused/cancelled conversions and those in another currency than
  the connection's (counted as skipped: Affilae converts KPI money for us, but not conversion
  amounts, and we do not mix currencies in one figure). Amounts arrive in cents.

Options (`Connection.options`):
  currency          money currency asked for, default "EUR"
  lookback_days     days before the last synced date re-read on each run for late changes
                    (conversions accepted or refused later), default 7
  start_date        first date of the first sync (YYYY-MM-DD), default 30 days ago
  max_days_per_run  dates one scheduled run reads at most (calls stay bounded), default 31;
                    the next run continues from there. A `--since` re-read is not capped: it
                    reads through today in chunks of this many dates.

Cursor of "commissions": {"synced_through": last date fully written, "complete": whether the
pass reached today}. A complete cursor makes the next run start `lookback_days` before it
(re-reading the last lookback_days dates up to and including it); an incomplete one (an
interrupted or capped pass) continues the day after it. `--since` re-reads from that date
through today in the one run, and never moves the cursor back: it moves it only forward, past
the saved date, when the re-read joins on to it (an interrupted re-read leaves it as it was).
A `--since` in the future is refused (IntegrationError) and leaves the cursor alone.
Each date is written in one transaction with the cursor, and a re-read date replaces that
date's rows (a partnership no longer reported loses its row), so replays create no duplicates.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from integrations.affilae import client as api
from integrations.affilae.models import AffiliateProfile, CommissionDay, PartnershipSnapshot
from integrations.affilae.parsing import (
    BadItem,
    cents_to_decimal,
    conversion_revenue,
    count,
    id_of,
    payload,
    snapshot_values,
    text,
)
from integrations.client import IntegrationError, RejectedError
from integrations.connector import Connector, RunContext
from integrations.models import Network

log = logging.getLogger(__name__)

DEFAULT_CURRENCY = "EUR"
DEFAULT_LOOKBACK_DAYS = 7
DEFAULT_START_DAYS_AGO = 30
DEFAULT_MAX_DAYS_PER_RUN = 31
COUNT_METRICS = (
    ("clicks", api.METRIC_CLICKS),
    ("impressions", api.METRIC_IMPRESSIONS),
    ("conversions", api.METRIC_CONVERSIONS),
)


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


class AffilaeConnector(Connector):
    network = Network.AFFILAE
    kinds = ("partnerships", "commissions")
    client_class = api.AffilaeClient

    # --- Save & Test ---------------------------------------------------------------------------

    def test(self) -> str:
        publisher = self.client.me()
        who = text(publisher.get("name") or publisher.get("company") or publisher.get("email"), 120)
        publisher_id = id_of(publisher)
        if who and publisher_id:
            return f"Affilae accepted the API key (publisher {who}, {publisher_id})."
        return f"Affilae accepted the API key{f' (publisher {who or publisher_id})' if who or publisher_id else ''}."

    def run(self, kind: str, ctx: RunContext) -> None:
        if kind == "partnerships":
            self._sync_partnerships(ctx)
        elif kind == "commissions":
            self._sync_commissions(ctx)
        else:
            raise IntegrationError(f"Affilae has no sync kind {kind!r} (known: {', '.join(self.kinds)}).")

    # --- options -------------------------------------------------------------------------------

    def _currency(self) -> str:
        currency = str(self.connection.option("currency", DEFAULT_CURRENCY)).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise IntegrationError(f'Affilae option "currency" must be a 3-letter code such as EUR, not {currency!r}.')
        return currency

    def _whole_option(self, key: str, default: int, *, minimum: int) -> int:
        value = self.connection.option(key, default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or number < minimum or isinstance(value, bool) or str(number) != str(value).strip():
            raise IntegrationError(f'Affilae option "{key}" must be a whole number ≥ {minimum}, not {value!r}.')
        return number

    def _start_date(self, today: dt.date) -> dt.date:
        value = self.connection.option("start_date")
        if value is None:
            return today - dt.timedelta(days=DEFAULT_START_DAYS_AGO)
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise IntegrationError(f'Affilae option "start_date" must be a date like 2026-01-31, not {value!r}.') from None

    # --- affiliate profiles --------------------------------------------------------------------

    def _profiles_sync(self, ctx: RunContext) -> list[AffiliateProfile]:
        rows = self.client.affiliate_profiles()
        now = timezone.now()
        existing = {p.profile_id: p for p in AffiliateProfile.objects.filter(connection=self.connection)}
        seen: list[AffiliateProfile] = []
        with transaction.atomic():
            for row in rows:
                row = {"id": row} if isinstance(row, str) else row  # a bare list of ids
                profile_id = id_of(row)[:64] if isinstance(row, dict) else ""
                if not profile_id:
                    ctx.item_failed("", "an affiliate profile without an id", payload=payload(row))
                    continue
                name = text(row.get("name") or row.get("title"), 200)
                url = text(row.get("url") or row.get("website"), 500)
                profile = existing.get(profile_id)
                if profile is None:
                    profile = AffiliateProfile.objects.create(connection=self.connection, profile_id=profile_id,
                                                              name=name, url=url, first_seen_at=now, last_seen_at=now)
                    existing[profile_id] = profile
                else:
                    profile.name, profile.url, profile.last_seen_at = name or profile.name, url or profile.url, now
                    profile.save(update_fields=["name", "url", "last_seen_at"])
                if profile not in seen:
                    seen.append(profile)
        return seen

    # --- partnerships_history ------------------------------------------------------------------

    def _sync_partnerships(self, ctx: RunContext) -> None:
        today = utc_today()
        state = ctx.state
        resuming = state.get("date") == today.isoformat() and not state.get("complete", True)
        done = set(state.get("done_profiles") or []) if resuming else set()
        for profile in self._profiles_sync(ctx):
            if profile.profile_id in done:
                continue
            try:
                rows = self.client.partnerships(profile.profile_id)
            except RejectedError as exc:
                ctx.item_failed(profile.profile_id, exc.message, status_code=exc.status)
                continue
            ctx.fetched += len(rows)
            with transaction.atomic():
                self._snapshots_write(ctx, profile, rows, today)
                done.add(profile.profile_id)
                ctx.checkpoint({"date": today.isoformat(), "complete": False, "done_profiles": sorted(done)})
        with transaction.atomic():
            ctx.checkpoint({"date": today.isoformat(), "complete": True})

    def _snapshots_write(self, ctx, profile: AffiliateProfile, rows: list, today: dt.date) -> None:
        parsed = {}
        for row in rows:
            try:
                values = snapshot_values(row)
            except BadItem as exc:
                ctx.item_failed(id_of(row) if isinstance(row, dict) else "", str(exc), payload=payload(row))
                continue
            parsed[values.pop("partnership_id")] = values
        existing = {s.partnership_id: s for s in PartnershipSnapshot.objects.filter(
            connection=self.connection, snapshot_date=today, partnership_id__in=list(parsed))}
        now = timezone.now()
        for partnership_id, values in parsed.items():
            values["profile"] = profile
            _upsert(ctx, PartnershipSnapshot, existing.get(partnership_id), values, now=now,
                    connection=self.connection, snapshot_date=today, partnership_id=partnership_id)

    # --- commissions ---------------------------------------------------------------------------

    def _commission_dates(self, ctx: RunContext, today: dt.date, max_days: int) -> list[dt.date]:
        """The dates this run reads: with `--since`, from that date through today (all of them:
        the manager asked for that range now); otherwise the scheduled pass, at most `max_days`."""
        if ctx.since:
            if ctx.since > today:
                raise IntegrationError(
                    f"Affilae: --since {ctx.since.isoformat()} is in the future (today is {today.isoformat()} UTC); "
                    "there is nothing to re-read yet, and the saved position was left as it was.")
            return _date_range(ctx.since, today)
        lookback = self._whole_option("lookback_days", DEFAULT_LOOKBACK_DAYS, minimum=0)
        synced = _cursor_date(ctx.state)
        if synced and not ctx.state.get("complete", False):
            start = synced + dt.timedelta(days=1)  # an unfinished pass continues where it stopped
        elif synced:
            start = synced + dt.timedelta(days=1) - dt.timedelta(days=lookback)
        else:
            start = self._start_date(today)
        return _date_range(start, min(today, start + dt.timedelta(days=max_days - 1)))

    def _sync_commissions(self, ctx: RunContext) -> None:
        today = utc_today()
        currency = self._currency()
        max_days = self._whole_option("max_days_per_run", DEFAULT_MAX_DAYS_PER_RUN, minimum=1)
        days = self._commission_dates(ctx, today, max_days)
        saved = dict(ctx.state)  # the cursor as this run found it (a --since re-read never moves it back)
        if not days:
            with transaction.atomic():
                ctx.checkpoint({**ctx.state, "complete": True})
            return
        profiles = self._profiles_sync(ctx)
        if not profiles:
            with transaction.atomic():
                ctx.checkpoint(_cursor_after(saved, days[-1], today, since=ctx.since))
            return
        by_id = {p.profile_id: p for p in profiles}
        partnerships = self._partnership_directory(by_id)
        # A --since range longer than max_days_per_run is read in chunks of that many dates, so
        # each conversions.list range (and what we hold in memory) stays as bounded as a scheduled run's.
        for chunk in (days[n:n + max_days] for n in range(0, len(days), max_days)):
            revenue = self._revenue(ctx, profiles, chunk[0], chunk[-1], currency, partnerships)
            for day in chunk:
                figures = self._day_figures(ctx, day, list(by_id), currency)
                for partnership_id, amount in revenue.get(day, {}).items():
                    figures[partnership_id]["revenue"] = amount
                with transaction.atomic():
                    self._commission_rows_write(ctx, day, currency, figures, partnerships, profiles)
                    ctx.checkpoint(_cursor_after(saved, day, today, since=ctx.since))

    def _partnership_directory(self, profiles: dict[str, AffiliateProfile]) -> dict[str, dict]:
        """partnership id → its profile and program, from each partnership's latest snapshot."""
        directory: dict[str, dict] = {}
        rows = (PartnershipSnapshot.objects.filter(connection=self.connection, profile__in=profiles.values())
                .order_by("partnership_id", "-snapshot_date")
                .values_list("partnership_id", "profile_id", "program_id", "program_name"))
        by_pk = {p.pk: p for p in profiles.values()}
        for partnership_id, profile_pk, program_id, program_name in rows:
            directory.setdefault(partnership_id, {"profile": by_pk[profile_pk], "program_id": program_id,
                                                  "program_name": program_name})
        return directory

    def _revenue(self, ctx, profiles, start: dt.date, end: dt.date, currency: str,
                 partnerships: dict) -> dict[dt.date, dict[str, Decimal]]:
        """date → partnership id → sum of its conversion amounts in `currency`, over [start, end]."""
        revenue: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        left_out = 0
        for profile in profiles:
            try:
                rows = self.client.conversions(profile.profile_id, start, end)
            except RejectedError as exc:
                ctx.item_failed(f"conversions of {profile.profile_id}", exc.message, status_code=exc.status)
                continue
            ctx.fetched += len(rows)
            for row in rows:
                try:
                    key, amount = conversion_revenue(row, currency)
                except BadItem as exc:
                    ctx.item_failed(id_of(row) if isinstance(row, dict) else "", f"conversion: {exc}",
                                    payload=payload(row))
                    continue
                if key is None:
                    ctx.skipped += 1
                    left_out += 1
                    continue
                revenue[key[0]][key[1]] += amount
                # A conversion names its partnership: that maps it to this profile even before a
                # partnerships sync has seen it.
                partnerships.setdefault(key[1], {"profile": profile, "program_id": "", "program_name": ""})
        if left_out:
            log.info("affilae: %s: %d conversions refused or not in %s, left out of revenue",
                     self.connection, left_out, currency)
        return revenue

    def _day_figures(self, ctx, day: dt.date, profile_ids: list[str], currency: str) -> dict[str, dict]:
        figures: dict[str, dict] = defaultdict(dict)
        metrics = [*COUNT_METRICS, ("commissions", api.METRIC_COMMISSIONS)]
        for field, metric in metrics:
            rows = self.client.kpis(day=day, metric=metric, profile_ids=profile_ids,
                                    currency=currency if metric in api.MONEY_METRICS else "")
            ctx.fetched += len(rows)
            for row in rows:
                partnership_id = id_of(row) if isinstance(row, dict) else ""
                try:
                    if not partnership_id:
                        raise BadItem("a KPI row without a partnership id")
                    value = row.get("value", 0)
                    if field == "commissions":
                        figures[partnership_id][field] = cents_to_decimal(value, currency, metric)
                    else:
                        figures[partnership_id][field] = count(value, metric)
                except BadItem as exc:
                    ctx.item_failed(f"{partnership_id}@{day}", f"{metric}: {exc}", payload=payload(row))
                    figures[partnership_id]["bad"] = True
        return figures

    def _commission_rows_write(self, ctx, day, currency, figures, partnerships, profiles) -> None:
        existing = {r.partnership_id: r for r in CommissionDay.objects.filter(
            connection=self.connection, date=day, currency=currency)}
        keep = set()
        now = timezone.now()
        for partnership_id, values in figures.items():
            if values.pop("bad", False):
                keep.add(partnership_id)  # a figure did not parse: leave the stored row as it was
                continue
            known = partnerships.get(partnership_id)
            if known is None and len(profiles) == 1:
                known = {"profile": profiles[0], "program_id": "", "program_name": ""}
            if known is None:
                ctx.item_failed(f"{partnership_id}@{day}", f"partnership {partnership_id} is in none of the "
                                "affiliate profiles' partnership lists; run the partnerships sync first")
                keep.add(partnership_id)
                continue
            row = {"clicks": 0, "impressions": 0, "conversions": 0, "commissions": Decimal("0.00"),
                   "revenue": Decimal("0.00"), **values}
            if not any(row.values()):
                continue  # nothing happened on that partnership that day: no row (or no longer one)
            keep.add(partnership_id)
            row.update(profile=known["profile"], program_id=known["program_id"], program_name=known["program_name"])
            _upsert(ctx, CommissionDay, existing.get(partnership_id), row, now=now, connection=self.connection,
                    date=day, partnership_id=partnership_id, currency=currency)
        stale = [row.pk for partnership_id, row in existing.items() if partnership_id not in keep]
        if stale:
            # Affilae no longer reports these (e.g. the day's only conversion was refused).
            CommissionDay.objects.filter(pk__in=stale).delete()
            ctx.updated += len(stale)


def _date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _cursor_date(state: dict) -> dt.date | None:
    try:
        return dt.date.fromisoformat(state["synced_through"]) if state.get("synced_through") else None
    except (TypeError, ValueError):
        return None  # an unreadable cursor: start as on a first sync


def _cursor_after(saved: dict, day: dt.date, today: dt.date, *, since: dt.date | None) -> dict:
    """The commissions cursor once `day` is written.

    A scheduled pass moves it to `day`. A `--since` re-read only ever moves it forward: past the
    saved date, and only when the re-read began no later than the day after it (else the dates
    in between were never read and the scheduled runs must still read them). Otherwise the
    saved cursor stays as it was, so an interrupted re-read leaves the scheduled runs where they were.
    """
    mine = {"synced_through": day.isoformat(), "complete": day >= today}
    synced = _cursor_date(saved)
    if since is None or synced is None:
        return mine
    if day > synced and since <= synced + dt.timedelta(days=1):
        return mine
    return dict(saved)


def _upsert(ctx, model, current, values: dict, *, now, **key):
    """Create the row, update what changed, or count it unchanged (skipped)."""
    if current is None:
        model.objects.create(**key, **values, synced_at=now)
        ctx.created += 1
        return
    changed = [name for name, value in values.items() if getattr(current, name) != value]
    if not changed:
        ctx.skipped += 1
        return
    for name in changed:
        setattr(current, name, values[name])
    current.synced_at = now
    current.save(update_fields=[*changed, "synced_at"])
    ctx.updated += 1
