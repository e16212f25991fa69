"""Bulk writes for batches of thousands of rows (ingestion, events, postback outbox)."""
from collections.abc import Iterable

from django.db import connection
from django.db.models.constants import OnConflict

__all__ = ["BATCH", "IN_CHUNK", "OnConflict", "chunks", "insert_rows"]

# IN lists are cut in chunks below SQLite's variable limit (32,766); inserts go in batches.
IN_CHUNK = 5000
BATCH = 2000


def chunks(values: Iterable, size: int = IN_CHUNK) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


# Django's bulk_create prepares every value through the model layer and the SQL compiler,
# ~6 us a value: about half of a 10,000-item batch (50,000 rows, 560,000 values).
# insert_rows writes the same INSERT ... ON CONFLICT with Django's own backend operations
# (insert_statement, on_conflict_suffix_sql, adapt_*_value for the types whose wire form
# differs between databases), deciding per column once instead of per value. Values must
# already be of the field's Python type (the validation made them so: aware datetimes,
# Decimals). On PostgreSQL it sends one array per column through UNNEST, as bulk_create
# itself does there: one parameter per column rather than per value.


def _adapter(f):
    ops = connection.ops
    kind = f.get_internal_type()
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(value, f.max_digits, f.decimal_places)
    if kind in ("UUIDField", "JSONField"):
        return lambda value: f.get_db_prep_save(value, connection)
    return None  # strings, integers, booleans, foreign key ids: as they are


def insert_rows(model, rows: list[dict], *, on_conflict: OnConflict, unique_fields=(), update_fields=()) -> None:
    """INSERT `rows` (field name -> value; a missing field takes its default)."""
    if not rows:
        return
    ops = connection.ops
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    by_name = {f.name: f for f in fields}
    head = "{} {} ({})".format(
        ops.insert_statement(on_conflict=on_conflict), ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields),
    )
    suffix = ops.on_conflict_suffix_sql(
        fields, on_conflict, [by_name[n].column for n in update_fields], [by_name[n].column for n in unique_fields],
    )
    unnest = connection.vendor == "postgresql"
    if unnest:
        arrays = ", ".join("(%s)::{}[]".format(f.db_type(connection).split("(")[0]) for f in fields)
        head += f" SELECT * FROM UNNEST({arrays})"  # noqa: S608 - names from _meta; values are parameters
        batch = BATCH
    else:
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        head += " VALUES "
        batch = max(1, min(BATCH, (connection.features.max_query_params or 30_000) // len(fields)))
    columns = [(f.name, f, _adapter(f)) for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            values = []
            for name, f, adapt in columns:
                column = [row[name] if name in row else f.get_default() for row in chunk]
                if adapt is not None:
                    column = [None if value is None else adapt(value) for value in column]
                values.append(column)
            if unnest:
                cursor.execute(f"{head} {suffix}", values)
            else:
                params = [value for row in zip(*values, strict=True) for value in row]
                cursor.execute(head + ", ".join([row_sql] * len(chunk)) + " " + suffix, params)
