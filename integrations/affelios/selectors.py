"""What the Affelios connector has to push or read back, page by page (reads only).

Every query is an anti-join against what was already recorded for the connection, so a run
resumes by itself after an interruption, a replay finds nothing new, and a player whose brand
gets mapped later (or a deposit older than its customer's push) is still picked up. Inside a
run, `after` (the last primary key handled) keeps pages moving forward.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.db.models import Exists, F, OuterRef, Q, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from backoffice.timeutil import program_tz
from campaigns.models import Deposit, Player, PlayerActivity
from integrations.affelios.models import AffeliosCustomer, AffeliosTransaction, PushStatus


def mapped_brand_ids(connection) -> dict[int, str]:
    """Our brand id → externalBrandId, for the mapping entries that name both."""
    mapped = {}
    for ours, theirs in (connection.brand_mapping or {}).items():
        if str(ours).strip().isdigit() and str(theirs or "").strip():
            mapped[int(ours)] = str(theirs).strip()
    return mapped


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=program_tz())


def _click_players(click_key: str):
    """Players whose attributed visit carried the click key with a value."""
    return Player.objects.alias(click=_click_value(click_key)).filter(click__gt="")


def _click_value(click_key: str):
    # Cast: a plain text comparison on every backend (a JSON key lookup compares JSON values).
    return Cast(KeyTextTransform(click_key, "visit__params"), output_field=TextField())


def _recorded_customers(connection, *, retry_failed: bool):
    recorded = AffeliosCustomer.objects.filter(connection=connection, player=OuterRef("pk"))
    return recorded.filter(status=PushStatus.PUSHED) if retry_failed else recorded


def customers_to_push(connection, *, click_key: str, after: int, limit: int, since: dt.date | None = None):
    """Players of mapped brands with the click key and no customer record yet (with `since`:
    signed up since then and not pushed, failed ones included)."""
    players = (_click_players(click_key).filter(brand_id__in=list(mapped_brand_ids(connection)), pk__gt=after)
               .exclude(Exists(_recorded_customers(connection, retry_failed=since is not None))))
    if since is not None:
        players = players.filter(sign_up_at__gte=day_start(since))
    return list(players.annotate(click_value=_click_value(click_key))
                .only("pk", "brand_id", "sign_up_at", "country").order_by("pk")[:limit])


def unmapped_players_count(connection, *, click_key: str) -> int:
    """Click-key players not pushed because their brand has no mapping on this connection."""
    return (_click_players(click_key).exclude(brand_id__in=list(mapped_brand_ids(connection)))
            .exclude(Exists(_recorded_customers(connection, retry_failed=False))).count())


def _pushed_customer_of_player(connection):
    return Exists(AffeliosCustomer.objects.filter(connection=connection, player=OuterRef("player_id"),
                                                  status=PushStatus.PUSHED))


def deposits_to_push(connection, *, after: int, limit: int, since: dt.date | None = None) -> list[SimpleNamespace]:
    sent = AffeliosTransaction.objects.filter(connection=connection, deposit=OuterRef("pk"))
    if since is not None:
        sent = sent.filter(status=PushStatus.PUSHED)
    deposits = Deposit.objects.filter(_pushed_customer_of_player(connection), pk__gt=after).exclude(Exists(sent))
    if since is not None:
        deposits = deposits.filter(processed_at__gte=day_start(since))
    return _rows(deposits.order_by("pk")[:limit], "pk", "player_id", "brand_id", "amount", "currency", "processed_at")


def activities_to_push(connection, *, after: int, limit: int,
                       since: dt.date | None = None) -> list[SimpleNamespace]:
    """Windows never sent, or changed (updated_at) since they were last sent; windows with no
    bets and no wins are left out unless something was sent for them before (a correction to
    zero still has to reach Affelios)."""
    sent = AffeliosTransaction.objects.filter(connection=connection, activity=OuterRef("pk"))
    current = sent.filter(source_updated_at__gte=OuterRef("updated_at"))
    if since is not None:
        current = current.filter(status=PushStatus.PUSHED)
    activities = (
        PlayerActivity.objects.filter(_pushed_customer_of_player(connection), pk__gt=after)
        .exclude(Exists(current))
        .filter(~Q(bets_sum=0) | ~Q(wins_sum=0) | Exists(sent.filter(status=PushStatus.PUSHED)))
    )
    if since is not None:
        activities = activities.filter(period_start__gte=day_start(since))
    return _rows(activities.order_by("pk")[:limit], "pk", "player_id", "currency", "period_end", "bets_sum", "wins_sum",
                 "updated_at")


def _rows(queryset, *fields) -> list[SimpleNamespace]:
    """Plain rows rather than model instances: a page of 500 is built and thrown away, and
    model instances cost more than the rest of the page (init, signals)."""
    return [SimpleNamespace(**row) for row in queryset.values(*fields)]


def customers_for_player_ids(connection, player_ids) -> dict[int, SimpleNamespace]:
    """player id → the pushed customer (pk, external ids, the player's country and brand)."""
    rows = _rows(AffeliosCustomer.objects.filter(
        connection=connection, player_id__in=set(player_ids), status=PushStatus.PUSHED,
    ), "pk", "player_id", "external_id", "external_brand_id", "player__country", "player__brand_id")
    for row in rows:
        row.country, row.brand_id = row.player__country, row.player__brand_id
    return {row.player_id: row for row in rows}


def customers_to_refresh(connection, *, stale_after: dt.timedelta, after: int, limit: int) -> list[AffeliosCustomer]:
    """Pushed customers with an Affelios id never read back, read before their latest
    transactions were pushed, or read longer than `stale_after` ago."""
    stale = timezone.now() - stale_after
    return list(
        AffeliosCustomer.objects.filter(connection=connection, status=PushStatus.PUSHED, pk__gt=after)
        .exclude(affelios_id="")
        .filter(Q(refreshed_at__isnull=True) | Q(refreshed_at__lt=stale) | Q(refreshed_at__lt=F("last_transaction_at")))
        .order_by("pk")[:limit]
    )
