"""The Affelios connector: we are the operator, pushing our players and their money to Affelios.

Kinds, run in this order by integrations.services.connection_sync:

- "customers": players whose attributed visit carried the Affelios click key (the query
  parameter named by option `click_key_param`, default "clickKey") and whose brand is in the
  connection's `brand_mapping` → POST /api/v1/customer, one per player; the Affelios id is
  stored. A 409 means Affelios already has the customer: we take its id from the answer or
  look it up, never fail. Players of unmapped brands are counted as skipped.
- "transactions": the deposits (type "deposit", depositAmount) and activity windows (type
  "revenue", grossRevenue = bets − wins, wageredAmount = bets) of pushed customers → POST
  /api/v1/transaction/bulk in batches of at most 500 (option `batch_size`), with stable
  externalIds (dep-<id>, act-<id>, act-<id>-r<n> for a corrected window, sent as the
  difference) so a replay or a resumed run creates nothing twice.
- "customers_refresh": GET /api/v1/customer/{id} for customers not read since their last
  transactions (or for `refresh_hours`, default 24), at most `refresh_limit` (default 1000)
  per run, storing what Affelios computed (cpaQualified, lifetimeCommission ...).

Failures: 401/403 (AuthError) and 5xx/429 once the client's retries are spent fail the run,
which the next run resumes (committed pages stay committed). A 4xx about one item is recorded
(the item's row is marked failed, a SyncItemError is written) and not sent again unless the
manager re-drives with `sync_integrations --since`. How a bulk answer names refused items is
undocumented; payloads.refused_items reads the shapes we accept, and a 4xx for a whole batch
whose items it cannot attribute is split in halves until the refused items are isolated (a
smaller batch is never the same request, so no 4xx is retried as such). A 404/405 on a POST
endpoint means a wrong base URL, not a bad item: the run fails instead of marking items.

Other options: `currency` (amounts are sent as they are; Affelios transactions carry no
currency, so rows in another currency than this — default: the brand's base currency — are
refused locally as item errors), `deposit_type` / `revenue_type` (the `type` values),
`external_product_id` (sent when set).
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from campaigns.models import Brand
from campaigns.services.bulk import OnConflict, insert_rows
from integrations.affelios import payloads, selectors
from integrations.affelios.client import AffeliosClient
from integrations.affelios.models import AffeliosCustomer, AffeliosTransaction, PushStatus
from integrations.client import IntegrationError, RejectedError
from integrations.connector import Connector, RunContext
from integrations.models import Network

log = logging.getLogger(__name__)

MAX_BATCH = 500
CUSTOMER_PAGE = 100
NIL_ID = "00000000-0000-0000-0000-000000000000"
ZERO = Decimal(0)
_TX_UPDATE_FIELDS = ["kind", "customer", "deposit", "activity", "revision", "source_updated_at", "transaction_date",
                     "currency", "deposit_amount", "gross_revenue", "wagered_amount", "status", "error", "status_code",
                     "pushed_at"]


class AffeliosConnector(Connector):
    network = Network.AFFELIOS
    kinds = ("customers", "transactions", "customers_refresh")
    client_class = AffeliosClient

    # --- options -------------------------------------------------------------------------------

    @property
    def click_key(self) -> str:
        return str(self.connection.option("click_key_param", "clickKey"))

    @property
    def batch_size(self) -> int:
        try:
            size = int(self.connection.option("batch_size", MAX_BATCH))
        except (TypeError, ValueError):
            size = MAX_BATCH
        return max(1, min(size, MAX_BATCH))

    @property
    def types(self) -> dict:
        return {"deposit": str(self.connection.option("deposit_type", payloads.DEPOSIT_TYPE)),
                "revenue": str(self.connection.option("revenue_type", payloads.REVENUE_TYPE))}

    # --- Save & Test ---------------------------------------------------------------------------

    def test(self) -> str:
        """Read one customer (one we pushed, else a nil id). A 200, or a 404 in Affelios's
        ProblemDetails shape for an unknown customer, proves the key is accepted and may read
        customers. Any other answer is refused: another server's 404 (say {"message": "no
        route"} from a wrong base URL) says nothing about the key."""
        probe = (AffeliosCustomer.objects.filter(connection=self.connection).exclude(affelios_id="")
                 .values_list("affelios_id", flat=True).first()) or NIL_ID
        try:
            self.client.customer_get(probe)
        except RejectedError as exc:
            if not (exc.status == 404 and payloads.is_not_found_problem(exc.body)):
                raise IntegrationError(
                    f"Affelios: unexpected answer at {self.client.base_url.rstrip('/')} ({exc.status}) — "
                    "check the base URL", status=exc.status,
                ) from exc
        mapped = len(selectors.mapped_brand_ids(self.connection))
        note = (f"{mapped} brand{'s' if mapped != 1 else ''} mapped" if mapped else
                "no brand is mapped yet, so nothing will be pushed")
        return f"Affelios accepted the API key (customers can be read); {note}; click key parameter “{self.click_key}”."

    # --- runs ----------------------------------------------------------------------------------

    def run(self, kind: str, ctx: RunContext) -> None:
        {"customers": self._customers, "transactions": self._transactions,
         "customers_refresh": self._customers_refresh}[kind](ctx)

    # customers

    def _customers(self, ctx: RunContext) -> None:
        mapping = selectors.mapped_brand_ids(self.connection)
        after = 0 if ctx.since else int(ctx.state.get("after") or 0)
        skipped = selectors.unmapped_players_count(self.connection, click_key=self.click_key)
        ctx.skipped += skipped
        while True:
            players = selectors.customers_to_push(self.connection, click_key=self.click_key, after=after,
                                                  limit=CUSTOMER_PAGE, since=ctx.since)
            if not players:
                break
            ctx.fetched += len(players)
            done: list[tuple] = []
            try:
                for player in players:
                    done.append((player, *self._customer_push(player, mapping[player.brand_id])))
            finally:  # what Affelios already has is recorded, even when a later call fails
                if done:
                    after = done[-1][0].pk
                    with transaction.atomic():
                        self._customers_record(done, ctx)
                        ctx.checkpoint({"after": after})
            if len(players) < CUSTOMER_PAGE:
                break
        ctx.checkpoint({})
        log.info("affelios %s: customers fetched=%s created=%s failed=%s unmapped=%s", self.connection.pk,
                 ctx.fetched, ctx.created, ctx.failed, skipped)

    def _customer_push(self, player, external_brand_id: str) -> tuple[dict, str, str, int | None]:
        """(payload, affelios id, error, status) of one create; raises what fails the run."""
        payload = payloads.customer_payload(player=player, external_brand_id=external_brand_id,
                                            click_key=player.click_value)
        try:
            body = self.client.customer_create(payload)
        except RejectedError as exc:
            if exc.status in (404, 405):
                raise IntegrationError(f"Affelios: no customer endpoint at {self.client.base_url} ({exc.status}); "
                                       "check the base URL.", status=exc.status) from exc
            if exc.status != 409:
                return payload, "", exc.message, exc.status
            found = payloads.id_in_conflict(exc.body) or (
                self.client.customer_find(external_id=payload["externalId"], external_brand_id=external_brand_id)
                or {}).get("id") or ""
            return payload, str(found), "", None
        return payload, str(body.get("id") or "") if isinstance(body, dict) else "", "", None

    def _customers_record(self, done, ctx: RunContext) -> None:
        now = timezone.now()
        existing = {c.player_id: c for c in AffeliosCustomer.objects.filter(
            connection=self.connection, player_id__in=[p.pk for p, *_ in done])}
        for player, payload, affelios_id, error, status in done:
            customer = existing.get(player.pk) or AffeliosCustomer(connection=self.connection, player=player)
            is_new = customer.pk is None
            customer.external_id = payload["externalId"]
            customer.external_brand_id = payload["externalBrandId"]
            customer.click_key = payload["clickKey"][:256]
            customer.affelios_id = affelios_id or customer.affelios_id
            customer.status = PushStatus.FAILED if error else PushStatus.PUSHED
            customer.error, customer.status_code, customer.pushed_at = error, status, now
            customer.save()
            if error:
                ctx.item_failed(payload["externalId"], error, status_code=status, payload=payload)
            elif is_new:
                ctx.created += 1
            else:
                ctx.updated += 1

    # transactions

    def _transactions(self, ctx: RunContext) -> None:
        state = {} if ctx.since else dict(ctx.state)
        phase, after = state.get("phase") or "deposits", int(state.get("after") or 0)
        phases = ("deposits", "activities")
        for current in phases[phases.index(phase) if phase in phases else 0:]:
            while True:
                take = self._deposits_page if current == "deposits" else self._activities_page
                last, full = take(ctx, after=after)
                if last is None:
                    break
                after = last
                if not full:
                    break
            after = 0
        ctx.checkpoint({})

    def _expected_currency(self, brand_id: int, brands: dict[int, str]) -> str:
        return str(self.connection.option("currency", "") or brands.get(brand_id) or "").upper()

    def _deposits_page(self, ctx: RunContext, *, after: int) -> tuple[int | None, bool]:
        deposits = selectors.deposits_to_push(self.connection, after=after, limit=self.batch_size, since=ctx.since)
        if not deposits:
            return None, False
        customers = selectors.customers_for_player_ids(self.connection, [d.player_id for d in deposits])
        brands = dict(Brand.objects.filter(pk__in={d.brand_id for d in deposits}).values_list("pk", "base_currency"))
        product = str(self.connection.option("external_product_id", "") or "")
        rows, items = [], []
        for deposit in deposits:
            customer = customers[deposit.player_id]
            row = _row(self.connection, customer, external_id=f"dep-{deposit.pk}", kind=AffeliosTransaction.Kind.DEPOSIT,
                       deposit=deposit.pk, transaction_date=deposit.processed_at, currency=deposit.currency,
                       deposit_amount=deposit.amount)
            expected = self._expected_currency(deposit.brand_id, brands)
            if expected and deposit.currency != expected:
                row.update(status=PushStatus.FAILED, error=_currency_error(deposit.currency, expected))
            else:
                items.append(payloads.deposit_payload(deposit=deposit, customer=customer, types=self.types,
                                                      product_id=product))
            rows.append(row)
        ctx.fetched += len(deposits)
        self._push_and_record(ctx, rows, items, after=deposits[-1].pk, phase="deposits")
        return deposits[-1].pk, len(deposits) == self.batch_size

    def _activities_page(self, ctx: RunContext, *, after: int) -> tuple[int | None, bool]:
        activities = selectors.activities_to_push(self.connection, after=after, limit=self.batch_size, since=ctx.since)
        if not activities:
            return None, False
        customers = selectors.customers_for_player_ids(self.connection, [a.player_id for a in activities])
        brands = dict(Brand.objects.filter(pk__in={c.brand_id for c in customers.values()})
                      .values_list("pk", "base_currency"))
        history: dict[int, list[AffeliosTransaction]] = {}
        for sent in AffeliosTransaction.objects.filter(connection=self.connection,
                                                       activity_id__in=[a.pk for a in activities]).order_by("revision"):
            history.setdefault(sent.activity_id, []).append(sent)
        product = str(self.connection.option("external_product_id", "") or "")
        rows, items, unchanged = [], [], []
        for activity in activities:
            customer = customers[activity.player_id]
            previous = history.get(activity.pk, [])
            target = payloads.revenue_amounts(activity)
            delta = {
                name: value - sum((getattr(p, name) for p in previous if p.status == PushStatus.PUSHED), ZERO)
                for name, value in target.items()
            }
            if previous and not any(delta.values()):
                unchanged.append((previous[-1].pk, activity.updated_at))  # re-posted, same sums: nothing to send
                continue
            # A failed last attempt is retried under its own externalId (Affelios refused it,
            # so it has nothing under that id); otherwise the next revision.
            last = previous[-1] if previous else None
            revision = last.revision if last and last.status == PushStatus.FAILED else (last.revision + 1 if last else 0)
            row = _row(self.connection, customer, kind=AffeliosTransaction.Kind.REVENUE,
                       external_id=payloads.revenue_external_id(activity.pk, revision), activity=activity.pk,
                       revision=revision, source_updated_at=activity.updated_at, transaction_date=activity.period_end,
                       currency=activity.currency, gross_revenue=delta["gross_revenue"],
                       wagered_amount=delta["wagered_amount"])
            expected = self._expected_currency(customer.brand_id, brands)
            if expected and activity.currency != expected:
                row.update(status=PushStatus.FAILED, error=_currency_error(activity.currency, expected))
            else:
                items.append(payloads.revenue_payload(activity=activity, customer=customer, revision=revision,
                                                      amounts=delta, types=self.types, product_id=product))
            rows.append(row)
        ctx.fetched += len(activities)
        ctx.skipped += len(unchanged)

        def note_unchanged():
            for pk, updated_at in unchanged:
                AffeliosTransaction.objects.filter(pk=pk).update(source_updated_at=updated_at)

        self._push_and_record(ctx, rows, items, after=activities[-1].pk, phase="activities", also=note_unchanged)
        return activities[-1].pk, len(activities) == self.batch_size

    def _push_and_record(self, ctx: RunContext, rows: list[dict], items: list[dict], *, after: int,
                         phase: str, also=None) -> None:
        """Send one batch, then record every row of it (and run `also`) with the cursor in one
        transaction, after the HTTP call: no transaction stays open while Affelios answers."""
        refused = self._send(items) if items else {}
        now = timezone.now()
        payload_of = {item["externalId"]: item for item in items}
        for row in rows:
            row["pushed_at"] = now
            if row["external_id"] in refused:
                status, message = refused[row["external_id"]]
                if status == 409:  # Affelios already has this externalId: it is there
                    continue
                row.update(status=PushStatus.FAILED, error=message, status_code=status)
        existing = set(AffeliosTransaction.objects.filter(
            connection=self.connection, external_id__in=[r["external_id"] for r in rows],
        ).values_list("external_id", flat=True))
        with transaction.atomic():
            # insert_rows: the INSERT ... ON CONFLICT of bulk_create without a model instance
            # per row (they cost more than the rest of the batch).
            insert_rows(AffeliosTransaction, rows, on_conflict=OnConflict.UPDATE,
                        unique_fields=["connection", "external_id"], update_fields=_TX_UPDATE_FIELDS)
            pushed_customers = set()
            for row in rows:
                if row["status"] == PushStatus.FAILED:
                    ctx.item_failed(row["external_id"], row["error"], status_code=row["status_code"],
                                    payload=payload_of.get(row["external_id"]))
                else:
                    pushed_customers.add(row["customer"])
                    if row["external_id"] in existing:
                        ctx.updated += 1
                    else:
                        ctx.created += 1
            if also is not None:
                also()
            if pushed_customers:
                AffeliosCustomer.objects.filter(pk__in=pushed_customers).update(last_transaction_at=now)
            ctx.checkpoint({"phase": phase, "after": after})

    def _send(self, items: list[dict]) -> dict[str, tuple[int, str]]:
        """POST one batch; externalId → (status, message) of the items Affelios refused."""
        ids = [item["externalId"] for item in items]
        try:
            body = self.client.transactions_bulk(items)
        except RejectedError as exc:
            if exc.status in (404, 405):
                raise IntegrationError(f"Affelios: no bulk transaction endpoint at {self.client.base_url} "
                                       f"({exc.status}); check the base URL.", status=exc.status) from exc
            refused = payloads.refused_items(exc.body, ids, default_status=exc.status)
            if refused:
                rest = [item for item in items if item["externalId"] not in refused]
                return {**refused, **(self._send(rest) if rest else {})}
            if len(items) == 1:
                return {ids[0]: (exc.status, exc.message)}
            middle = len(items) // 2
            return {**self._send(items[:middle]), **self._send(items[middle:])}
        return payloads.refused_items(body, ids)

    # customers_refresh

    def _customers_refresh(self, ctx: RunContext) -> None:
        stale_after = dt.timedelta(hours=float(self.connection.option("refresh_hours", 24)))
        budget = int(self.connection.option("refresh_limit", 1000))
        after = 0
        while budget > 0:
            customers = selectors.customers_to_refresh(self.connection, stale_after=stale_after, after=after,
                                                       limit=min(CUSTOMER_PAGE, budget))
            if not customers:
                break
            budget -= len(customers)
            ctx.fetched += len(customers)
            read: list[tuple[AffeliosCustomer, dict | None, RejectedError | None]] = []
            try:
                for customer in customers:
                    try:
                        read.append((customer, self.client.customer_get(customer.affelios_id), None))
                    except RejectedError as exc:
                        read.append((customer, None, exc))
            finally:
                if read:
                    after = read[-1][0].pk
                    with transaction.atomic():
                        self._figures_record(read, ctx)
                        ctx.checkpoint({"after": after})
        ctx.checkpoint({})

    def _figures_record(self, read, ctx: RunContext) -> None:
        now = timezone.now()
        for customer, body, error in read:
            customer.refreshed_at = now
            if error is not None:
                # Not retried before the next refresh is due (refreshed_at is set all the same).
                ctx.item_failed(customer.external_id, f"reading customer {customer.affelios_id}: {error.message}",
                                status_code=error.status)
                AffeliosCustomer.objects.filter(pk=customer.pk).update(refreshed_at=now)
                continue
            figures = payloads.customer_figures(body if isinstance(body, dict) else {})
            for name, value in figures.items():
                setattr(customer, name, value)
            customer.save(update_fields=["refreshed_at", *figures])
            ctx.updated += 1


def _row(connection, customer, **values) -> dict:
    """One AffeliosTransaction as insert_rows takes it (every column: an upsert sets them all)."""
    return {"connection": connection.pk, "customer": customer.pk, "deposit": None, "activity": None, "revision": 0,
            "source_updated_at": None, "deposit_amount": ZERO, "gross_revenue": ZERO, "wagered_amount": ZERO,
            "status": PushStatus.PUSHED, "error": "", "status_code": None, **values}


def _currency_error(currency: str, expected: str) -> str:
    return (f"amount in {currency}, but this connection reports in {expected}: Affelios transactions carry no "
            "currency, so it was not sent (set the connection option “currency” or convert upstream).")
