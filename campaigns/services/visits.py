"""Recording visits: the one write of a click on a tracking link.

Everything a visitor sends is untrusted and unbounded, so it is cut to the model's limits
here, once, whoever the caller is (the tracking view, the demo seeder): user agent and
referrer truncated, the client address kept only if it parses as an IP address, and query
parameters limited in number and length. NUL characters are removed because PostgreSQL
refuses them in text and in jsonb.
"""
import datetime as dt
import socket
from collections.abc import Iterable

from django.conf import settings
from django.db import connections, router

from campaigns.models import Visit
from campaigns.services.visit_buffer import visit_buffer_add

MAX_PARAMS = 30
MAX_PARAM_NAME_LENGTH = 64
MAX_PARAM_VALUE_LENGTH = 256
USER_AGENT_MAX_LENGTH = Visit._meta.get_field("user_agent").max_length
REFERRER_MAX_LENGTH = Visit._meta.get_field("referrer").max_length


def _text(value: str | None, limit: int) -> str:
    if not value:
        return ""
    return value.replace("\x00", "")[:limit]


def visit_ip_clean(value: str | None) -> str | None:
    """The address as stored, or None when it is not an IP address (a proxy may forward
    "unknown", a port or garbage; the database's inet type would refuse it)."""
    if not value:
        return None
    value = value.strip().split("%", 1)[0]  # no IPv6 zone id
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)  # strict, and ~50x cheaper than ipaddress
        except OSError:
            continue
        return value  # the field normalises IPv6 on save
    return None


def visit_params_clean(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The custom parameters worth keeping, in the order they first appear.

    At most MAX_PARAMS distinct names; a name longer than MAX_PARAM_NAME_LENGTH is dropped
    (a cut name would be another parameter), a value is cut to MAX_PARAM_VALUE_LENGTH. A
    repeated name keeps its last value, as Django's request.GET[name] and PHP do. Our own
    tag parameter is never a custom parameter: we set it, the visitor does not. Anything
    beyond the limits is dropped silently: the click still counts.
    """
    tag_param = settings.TRACKING_TAG_PARAM
    params: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.replace("\x00", "")
        if not name or len(name) > MAX_PARAM_NAME_LENGTH or name == tag_param:
            continue
        if name not in params and len(params) >= MAX_PARAMS:
            continue
        params[name] = _text(raw_value, MAX_PARAM_VALUE_LENGTH)
    return params


def visit_record(
    *,
    promo_id: int,
    affiliate_id: int,
    ip: str | None,
    user_agent: str,
    referrer: str,
    params: dict[str, str] | Iterable[tuple[str, str]],
    created_at: dt.datetime | None = None,
    buffered: bool = False,
) -> Visit:
    """Store one click: exactly one INSERT, nothing else (no model signals either: a click
    must not grow side effects; whoever needs visits counts them with a query).

    With `buffered` (the tracking view passes settings.TRACKING_BUFFERED_WRITES), on
    PostgreSQL outside a transaction, the visit gets its id at once but its row is written a
    moment later, in bulk, by this process's writer thread (see visit_buffer): the returned
    Visit's row may not exist yet, so only a caller that needs no more than its id and tag
    should ask for it. Elsewhere `buffered` silently changes nothing.

    Takes the promo's and affiliate's ids rather than a Promo so that the tracking view can
    record a click from its in-process cache without loading the promo. `params` may be raw
    (name, value) pairs or a dict; either way they are cleaned by visit_params_clean.

    On PostgreSQL outside a transaction (a tracking request) the visit commits
    asynchronously, see _insert_with_async_commit; inside a caller's transaction it simply
    joins it, with its durability.
    """
    pairs = params.items() if isinstance(params, dict) else params
    visit = Visit(
        promo_id=promo_id,
        affiliate_id=affiliate_id,
        ip=visit_ip_clean(ip),
        user_agent=_text(user_agent, USER_AGENT_MAX_LENGTH),
        referrer=_text(referrer, REFERRER_MAX_LENGTH),
        params=visit_params_clean(pairs),
    )
    if created_at is not None:
        visit.created_at = created_at
    connection = connections[router.db_for_write(Visit)]
    if buffered and visit_buffer_add(visit=visit, connection=connection):
        return visit
    if (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and settings.TRACKING_ASYNC_COMMIT
    ):
        visit.pk = _insert_with_async_commit(visit, connection)
    else:
        Visit.objects.using(connection.alias).bulk_create([visit])
    return visit


_async_insert_sql: dict[str, str] = {}


def _insert_fields():
    return [f for f in Visit._meta.local_concrete_fields if not f.primary_key]


def _insert_with_async_commit(visit: Visit, connection) -> int:
    """INSERT the visit in one statement that is also its own transaction with
    synchronous_commit off, and return its id.

    Why: a sync worker would otherwise wait for the WAL flush of every click's commit (0.5-2
    ms of disk, more than the rest of the request), and wrapping the insert in BEGIN / SET
    LOCAL / COMMIT costs three more round trips and Django's transaction machinery. With
    asynchronous commit a database crash may lose the last fraction of a second of visits
    (it never corrupts or half-writes anything); their tags then arrive as organic players.
    set_config(..., true) is transaction-local, and the transaction is this one statement:
    nothing else on the connection is affected.

    The statement is built from the model's fields (as the ORM would) so a new column does
    not need this code changed; values are prepared by the fields themselves.
    """
    sql = _async_insert_sql.get(connection.alias)
    fields = _insert_fields()
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        values = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
        # Identifiers come from the model, never from input; every value is a bound parameter.
        sql = (
            f"INSERT INTO {quote(Visit._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT {values} FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit "
            f"RETURNING {quote(Visit._meta.pk.column)}"
        )
        _async_insert_sql[connection.alias] = sql
    params = [f.get_db_prep_save(f.pre_save(visit, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]
