"""Fast bulk inserts for imports and demo data: COPY on PostgreSQL, executemany on SQLite.

Django's bulk_create spends most of its time building SQL per object; for a million rows
that is the whole budget. Here ids are reserved up front (so rows can point at each other
before they are written) and rows go to the database as plain tuples.
"""

import datetime
import functools
import json
import operator

from django.db import connection, models


def reserve_ids(model, count: int) -> list[int]:
    """`count` fresh primary keys for `model`. Must run inside the transaction that inserts them."""
    if count <= 0:
        return []
    assert connection.in_atomic_block, "reserve ids inside the transaction that uses them"
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, count])
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the IMMEDIATE transaction holds the write lock, so nobody else takes these.
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # our own table name
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def _sqlite_datetime(value):
    # Django keeps datetimes in SQLite as naive UTC text
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _converter(field):
    if isinstance(field, models.JSONField):
        return json.dumps
    if connection.vendor == "sqlite":
        if isinstance(field, models.DateTimeField):
            return _sqlite_datetime
        if isinstance(field, models.DateField):
            return datetime.date.isoformat
        if isinstance(field, models.DecimalField):
            return str
    return None


def insert_rows(model, objs) -> int:
    """Insert unsaved instances whose pk is already set (see reserve_ids); no signals, no save()."""
    if not objs:
        return 0
    fields = [f for f in model._meta.concrete_fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    converters = [(f.attname, _converter(f)) for f in fields]
    rows = ([conv(getattr(o, name)) if conv and getattr(o, name) is not None else getattr(o, name)
             for name, conv in converters] for o in objs)
    _write(model._meta.db_table, columns, len(fields), rows)
    return len(objs)


def _write(table: str, columns: str, width: int, rows) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The raw COPY's errors (a unique key taken meanwhile) come out as Django's, as every other
            # statement's do, so callers catch IntegrityError whichever way the rows were written.
            copying = cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN')
            with connection.wrap_database_errors, copying as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * width)
        if not _has_triggers(cursor, table):
            cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(rows))
            return
        # A table with triggers (the people's full-text index): row by row, SQLite runs the trigger as a
        # statement of its own each time, and an FTS5 index costs three times as much that way (2.8 s against
        # 0.9 s for 20,000 people, measured). So the rows are staged in a temporary table without triggers and
        # moved in one INSERT … SELECT, one statement: the same rows, the same triggers, the same transaction.
        stage = f"bulk_stage_{table}"
        cursor.execute(f'DROP TABLE IF EXISTS temp."{stage}"')
        cursor.execute(f'CREATE TEMP TABLE "{stage}" AS SELECT {columns} FROM "{table}" WHERE 0')
        cursor.executemany(f'INSERT INTO temp."{stage}" VALUES ({marks})', list(rows))
        cursor.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM temp."{stage}"')
        cursor.execute(f'DROP TABLE temp."{stage}"')


def _has_triggers(cursor, table: str) -> bool:
    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s LIMIT 1", [table])
    return cursor.fetchone() is not None


def insert_with_ids(model, objs) -> list:
    """Reserve ids for `objs`, set them, insert; returns the objects."""
    for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
        obj.pk = pk
    insert_rows(model, objs)
    return objs


def insert_dicts(model, rows: list[dict]) -> list[dict]:
    """Insert rows given as {attname: value}; missing fields take their defaults. Sets each row's "id"."""
    if not rows:
        return rows
    fields = [f for f in model._meta.concrete_fields]
    defaults = {f.attname: f.get_default() for f in fields if f.attname != "id"}
    for row, pk in zip(rows, reserve_ids(model, len(rows)), strict=True):
        row["id"] = pk
    columns = ", ".join(f'"{f.column}"' for f in fields)
    pick = operator.itemgetter(*(f.attname for f in fields))
    converted = [(i, _memo(conv)) for i, f in enumerate(fields) if (conv := _converter(f))]
    values = []
    for row in rows:
        out = list(pick({**defaults, **row}))
        for i, conv in converted:
            if out[i] is not None:
                out[i] = conv(out[i])
        values.append(out)
    _write(model._meta.db_table, columns, len(fields), values)
    return rows


def _memo(conv):
    """Dates and times repeat down a batch (one `now` for every row): each is converted once."""
    if conv is json.dumps:
        return conv
    return functools.lru_cache(maxsize=1024)(conv)
