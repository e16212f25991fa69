"""The Affili connector: we are the merchant, Affili the network that brought the visit.

Three kinds of sync, run in this order (integrations.connector explains the run context):

1. `referrals` — every visit whose query carried `referrer` (and `aff_id`) gets a client token
   from Affili's set-cookie call, once per connection × visit (AffiliReferral). Visits are
   scanned by primary key from a cursor; the last couple of minutes are left for the next run
   so a visit whose insert commits late is not stepped over.
2. `conversions_push` — each deposit of a player whose visit has a referral becomes a "buy"
   conversion at Affili (external id `dep-<deposit pk>`), once: the deposits chosen are those
   with no AffiliConversion yet (that anti-join is also what resumes an interrupted push). A
   conversion Affili already has (a replay after a crash between its answer and our commit) is
   refused as a duplicate; we then look it up by external id and keep it instead of failing.
3. `conversions_pull` — the list of conversions, incremental by `min_updated_at` (Gregorian)
   from the last watermark minus an overlap, page by page; each page is upserted in bulk and
   the page cursor is saved with it, so an interrupted pull resumes at the page it stopped.
   Status, wage and Affili's Jalali times (converted to UTC) are stored. Pagination is
   undocumented: pagination meta, when the answer has it, says which page is the last;
   without it an empty page or one shorter than asked ends the pass (after a short first
   page one more page is asked, in case Affili caps per_page below what we asked).

Options (Connection.options; every key optional):
    referrer_param        visit parameter holding Affili's referrer code      "referrer"
    aff_id_param          visit parameter holding the affiliate's Affili id    "aff_id"
    commission_name       commission key sent with each conversion             "buy"
    deposits              "all" deposits, or only each player's "first"         "all"
    currency              push only deposits in this currency (blank: any)     ""
    push_lookback_days    deposits older than this are not pushed              30
    page_size             conversions per page when pulling (max 1000)         500
    pull_overlap_minutes  how far before the watermark each pull starts        360

Affili documents no page size limit. A server that gives fewer rows than asked is detected
(see above); one that refuses the size says so in the run's error, and `page_size` lowers it.
Pages are large by default because each one is a round trip and a commit.

The overlap is generous on purpose: the filter's time zone is undocumented (we send Tehran
time, see jalali.py), and 6 hours covers Tehran's offset from UTC with room for clock skew;
re-reading a few hours of updates costs a page or two. `brand_mapping`, when set, limits the
referrals and deposits to the mapped brands (our brand ids; Affili has no brand id to map to).
`manage.py sync_integrations --since DATE` re-scans visits and deposits from that date and
re-pulls conversions updated since it.
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import InvalidOperation

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Subquery, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Deposit, Visit
from integrations.affili.client import AffiliClient
from integrations.affili.jalali import gregorian_filter
from integrations.affili.models import AffiliConversion, AffiliReferral
from integrations.affili.payloads import (
    PULLED_FIELDS,
    conversion_from_wire,
    json_safe,
    money,
    wire_amount,
)
from integrations.client import RejectedError
from integrations.connector import Connector, RunContext
from integrations.models import Network

log = logging.getLogger(__name__)

DEFAULTS = {
    "referrer_param": "referrer",
    "aff_id_param": "aff_id",
    "commission_name": "buy",
    "deposits": "all",
    "currency": "",
    "push_lookback_days": 30,
    "page_size": 500,
    "pull_overlap_minutes": 360,
}
BATCH = 100  # visits or deposits per checkpoint
MAX_PAGE_SIZE = 1000
# Visits younger than this are left to the next run: a concurrent insert that commits late
# must not end up behind the cursor.
VISIT_SETTLE = dt.timedelta(minutes=2)

def _param(name: str):
    """A visit's query parameter as text ("" when absent), on SQLite and PostgreSQL alike."""
    return Coalesce(KeyTextTransform(name, "params"), Value(""), output_field=CharField())


def _deposit_pk(external_id: str) -> int | None:
    head, _, tail = external_id.partition("-")
    return int(tail) if head == "dep" and tail.isdigit() else None


class AffiliConnector(Connector):
    network = Network.AFFILI
    kinds = ("referrals", "conversions_push", "conversions_pull")
    client_class = AffiliClient

    def option(self, key: str):
        return self.connection.option(key, DEFAULTS[key])

    def _brand_ids(self) -> list[int] | None:
        mapping = self.connection.brand_mapping or {}
        ids = [int(key) for key in mapping if str(key).isdigit()]
        return ids or None

    def test(self) -> str:
        page = self.client.conversions_list(page=1, per_page=1)
        seen = "it lists your conversions" if page.items else "no conversions yet"
        return f"Affili accepted the access ID ({seen})."

    def run(self, kind: str, ctx: RunContext) -> None:
        {
            "referrals": self.referrals_obtain,
            "conversions_push": self.conversions_push,
            "conversions_pull": self.conversions_pull,
        }[kind](ctx)

    # --- referrals -----------------------------------------------------------------------------

    def _visits(self, ctx: RunContext):
        visits = (
            Visit.objects
            .annotate(affili_referrer=_param(self.option("referrer_param")),
                      affili_aff_id=_param(self.option("aff_id_param")))
            .filter(created_at__lt=timezone.now() - VISIT_SETTLE)
            .exclude(affili_referrer="")
            .exclude(Exists(AffiliReferral.objects.filter(connection=self.connection, visit=OuterRef("pk"))))
            .only("pk", "created_at")
            .order_by("pk")
        )
        if (brands := self._brand_ids()) is not None:
            visits = visits.filter(promo__brand_id__in=brands)
        if ctx.since:
            return visits.filter(created_at__gte=dt.datetime.combine(ctx.since, dt.time(), tzinfo=dt.UTC)), 0
        return visits, int(ctx.state.get("after_visit") or 0)

    def referrals_obtain(self, ctx: RunContext) -> None:
        visits, after = self._visits(ctx)
        while True:
            batch = list(visits.filter(pk__gt=after)[:BATCH])
            if not batch:
                return
            rows: list[AffiliReferral] = []
            try:
                for visit in batch:
                    ctx.fetched += 1
                    referrer, aff_id = str(visit.affili_referrer).strip(), str(visit.affili_aff_id or "").strip()
                    if len(referrer) > 200 or len(aff_id) > 200:
                        ctx.item_failed(f"visit-{visit.pk}", "referrer or aff_id longer than 200 characters")
                    else:
                        try:
                            token = self.client.set_cookie(referrer)
                        except RejectedError as exc:
                            ctx.item_failed(f"visit-{visit.pk}", exc.message, status_code=exc.status)
                        else:
                            rows.append(AffiliReferral(connection=self.connection, visit=visit, referrer=referrer,
                                                       aff_id=aff_id, token=token))
                    after = visit.pk
            finally:
                # Keep the tokens obtained so far even when the run stops half-way (a network
                # error, a crash): they are not asked for twice.
                with transaction.atomic():
                    created = AffiliReferral.objects.bulk_create(rows, ignore_conflicts=True)
                    ctx.created += len(created)
                    ctx.checkpoint({"after_visit": after})

    # --- conversions: push ---------------------------------------------------------------------

    def _deposits(self, ctx: RunContext):
        referral = AffiliReferral.objects.filter(connection=self.connection, visit=OuterRef("player__visit"))
        if ctx.since:
            since = dt.datetime.combine(ctx.since, dt.time(), tzinfo=dt.UTC)
        else:
            since = timezone.now() - dt.timedelta(days=int(self.option("push_lookback_days")))
        deposits = (
            Deposit.objects
            .filter(processed_at__gte=since, player__visit__isnull=False)
            .annotate(referral_pk=Subquery(referral.values("pk")[:1]))
            .filter(referral_pk__isnull=False)
            .exclude(Exists(AffiliConversion.objects.filter(connection=self.connection, deposit=OuterRef("pk"))))
            .order_by("pk")
        )
        if self.option("deposits") == "first":
            deposits = deposits.filter(is_first=True)
        if currency := self.option("currency"):
            deposits = deposits.filter(currency=currency)
        if (brands := self._brand_ids()) is not None:
            deposits = deposits.filter(brand_id__in=brands)
        return deposits

    def _push_one(self, deposit: Deposit, referral: AffiliReferral, ctx: RunContext) -> AffiliConversion | None:
        external_id = f"dep-{deposit.pk}"
        amount = wire_amount(money(deposit.amount))
        payload = {
            "external_id": external_id, "amount": amount, "token": referral.token, "aff_id": referral.aff_id,
            "referrer": referral.referrer, "type": "buy",
            "commissions": [{"name": self.option("commission_name"), "sub_amount": amount}],
        }
        adopted = False
        try:
            data = self.client.conversion_create(payload)
        except RejectedError as exc:
            # Refused: most often because Affili already holds this external id (our earlier
            # request arrived but its answer or our commit did not). Then keep what it holds.
            try:
                data = self.client.conversion_find(external_id)
            except RejectedError:
                data = None
            if data is None:
                ctx.item_failed(external_id, exc.message, status_code=exc.status, payload=payload)
                return None
            adopted = True
        now = timezone.now()
        row = AffiliConversion(
            connection=self.connection, external_id=external_id, deposit=deposit, player_id=deposit.player_id,
            referral=referral, conversion_type="buy", amount=money(deposit.amount), currency=deposit.currency,
            pushed_at=now, raw=data or {},
        )
        try:
            if data:
                pulled = conversion_from_wire({**data, "external_id": external_id}, connection_id=self.connection.pk,
                                              now=now)
                for field in ("affili_id", "status", "wage", "is_closed", "checked_out", "publisher_id",
                              "created_at", "updated_at"):
                    setattr(row, field, getattr(pulled, field))
                row.last_pulled_at = now if adopted else None
        except (ValueError, InvalidOperation) as exc:
            # Created all the same; the next pull brings what this answer could not say.
            log.info("affili: the answer to creating %s was not fully readable: %s", external_id, exc)
        if adopted:
            ctx.skipped += 1
        else:
            ctx.created += 1
        return row

    def conversions_push(self, ctx: RunContext) -> None:
        deposits = self._deposits(ctx)
        after = 0
        while True:
            batch = list(deposits.filter(pk__gt=after)[:BATCH])
            if not batch:
                return
            referrals = AffiliReferral.objects.in_bulk({d.referral_pk for d in batch})
            rows: list[AffiliConversion] = []
            try:
                for deposit in batch:
                    ctx.fetched += 1
                    after = deposit.pk  # a deposit that failed is not tried again in this run
                    row = self._push_one(deposit, referrals[deposit.referral_pk], ctx)
                    if row is not None:
                        rows.append(row)
            finally:
                # What Affili accepted is recorded even if the batch stops half-way.
                with transaction.atomic():
                    AffiliConversion.objects.bulk_create(rows, ignore_conflicts=True)
                    ctx.checkpoint()

    # --- conversions: pull ---------------------------------------------------------------------

    def _pull_start(self, ctx: RunContext) -> dict:
        """The pass to run: the interrupted one if any, else a new one from the watermark."""
        state = ctx.state
        if ctx.since:
            return {"min_updated_at": gregorian_filter(ctx.since), "page": 1, "max_updated": None}
        if isinstance(state.get("pass"), dict):
            return dict(state["pass"])
        watermark = state.get("since")
        if not watermark:
            return {"min_updated_at": None, "page": 1, "max_updated": None}
        start = dt.datetime.fromisoformat(watermark) - dt.timedelta(minutes=int(self.option("pull_overlap_minutes")))
        return {"min_updated_at": gregorian_filter(start), "page": 1, "max_updated": None}

    def conversions_pull(self, ctx: RunContext) -> None:
        current = self._pull_start(ctx)
        current.setdefault("per_page", max(1, min(int(self.option("page_size")), MAX_PAGE_SIZE)))
        watermark = ctx.state.get("since")
        filters = {"min_updated_at": current["min_updated_at"]} if current["min_updated_at"] else {}
        previous_keys = None
        while True:
            asked = current["per_page"]
            page = self.client.conversions_list(page=current["page"], per_page=asked, filters=filters)
            ctx.fetched += len(page.items)
            keys = [item.get("id") if isinstance(item, dict) else None for item in page.items]
            # An API that ignores `page` would hand the same rows forever.
            repeated = bool(keys) and keys == previous_keys
            if not page.items:
                last = True
            elif page.is_last is not None:
                last = page.is_last
            elif len(page.items) < asked and current["page"] == 1 and not current.get("probed"):
                # No meta and a short first page: the end, or a cap on per_page below what we
                # asked (Affili documents neither). One more page, asked at the size we got,
                # tells them apart and keeps the offsets right either way.
                current["probed"], current["per_page"], last = True, len(page.items), False
            else:
                last = len(page.items) < asked
            with transaction.atomic():
                if not repeated:
                    newest = self._upsert_page(page.items, ctx)
                    if newest and (current["max_updated"] is None or newest > current["max_updated"]):
                        current["max_updated"] = newest
                current["page"] += 1
                if last or repeated:
                    ends = [w for w in (watermark, current["max_updated"]) if w]
                    ctx.checkpoint({"since": max(ends)} if ends else {})
                    break
                ctx.checkpoint({"since": watermark, "pass": current} if watermark else {"pass": current})
            previous_keys = keys
        if repeated:
            log.warning("affili: %s: the conversion list repeated a page; it seems to ignore `page`",
                        self.connection)

    def _upsert_page(self, items: list, ctx: RunContext) -> str | None:
        """Upsert one page in bulk; returns the newest updated_at of the page (ISO, UTC)."""
        now = timezone.now()
        rows: dict[str, AffiliConversion] = {}
        for item in items:
            try:
                row = conversion_from_wire(item, connection_id=self.connection.pk, now=now)
            except (ValueError, TypeError, InvalidOperation) as exc:
                ref = (item.get("external_id") or item.get("id")) if isinstance(item, dict) else None
                ctx.item_failed(ref, f"unreadable conversion: {exc}", payload=json_safe(item))
                continue
            rows[row.external_id] = row  # the same conversion twice in a page: the later one wins
        if not rows:
            return None
        times = [row.updated_at for row in rows.values() if row.updated_at]
        # By external_id alone (the unique index leads with it); other connections' rows are
        # dropped here rather than in SQL, where a filter on the connection can lure the
        # planner into reading every row of the connection.
        existing = {
            key: rest for connection_id, key, *rest in AffiliConversion.objects.filter(
                external_id__in=list(rows),
            ).order_by().values_list("connection_id", "external_id", "status", "wage", "amount", "is_closed",
                                     "checked_out", "updated_at")
            if connection_id == self.connection.pk
        }
        new_deposits = {pk for key in rows if key not in existing if (pk := _deposit_pk(key)) is not None}
        deposits = dict(Deposit.objects.filter(pk__in=new_deposits).values_list("pk", "player_id")) if new_deposits else {}
        for key, row in list(rows.items()):
            if key in existing:
                if existing[key] == [row.status, row.wage, row.amount, row.is_closed, row.checked_out, row.updated_at]:
                    ctx.skipped += 1
                    del rows[key]  # unchanged (the overlap re-reads many): not written again
                else:
                    ctx.updated += 1
            else:
                ctx.created += 1
                pk = _deposit_pk(key)
                if pk in deposits:
                    row.deposit_id, row.player_id = pk, deposits[pk]
        if rows:
            AffiliConversion.objects.bulk_create(
                list(rows.values()), update_conflicts=True, unique_fields=["external_id", "connection"],
                update_fields=PULLED_FIELDS, batch_size=1000,
            )
        return max(times).isoformat() if times else None
