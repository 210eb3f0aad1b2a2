"""Inserting many rows of one model without a Python object per row.

``insert_columns`` takes the rows as columns (one list per field that varies from row to row, one value per field
that is the same in every row) and fills every other field with its default. On PostgreSQL it is one
``INSERT ... SELECT ... FROM unnest(...)`` per chunk: the lists travel as arrays and the database makes the
rows, so a fan-out of thousands of rows costs a few milliseconds of Python instead of one model instance,
``pre_save`` and value preparation per row and field (``bulk_create``). Elsewhere it makes the instances and
calls ``bulk_create``, so both paths write the same rows."""
from __future__ import annotations

from django.db import connections

#: rows per statement on PostgreSQL (arrays of this many values per column)
CHUNK = 20000


def insert_columns(model, columns: dict[str, list], same: dict | None = None, *, returning: tuple[str, ...] = (),
                   using: str = "default") -> list[tuple]:
    """Insert ``len(columns[...])`` rows of ``model``: field name -> the rows' values in ``columns``, field name ->
    one value for all in ``same``, defaults for the rest (never the primary key). Returns the ``returning``
    fields of each row, in the order given (empty when ``returning`` is empty)."""
    same = same or {}
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1:
        raise ValueError(f"columns of different lengths: {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    if n == 0:
        return []
    connection = connections[using]
    meta = model._meta
    if connection.vendor != "postgresql":
        objs = [model(**same, **{k: v[i] for k, v in columns.items()}) for i in range(n)]
        model.objects.using(using).bulk_create(objs, batch_size=5000)
        return [tuple(getattr(o, meta.get_field(f).attname) for f in returning) for o in objs]
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    known = {f.name for f in fields} | {f.attname for f in fields}
    unknown = (set(columns) | set(same)) - known
    if unknown:
        raise ValueError(f"{meta.label} has no field {sorted(unknown)}")

    def field(name):
        return next(f for f in fields if name in (f.name, f.attname))

    varying = [field(k) for k in columns]
    listed = {f.name for f in varying}
    fixed = [(f, same.get(f.name, same.get(f.attname))) if (f.name in same or f.attname in same)
             else (f, f.get_default()) for f in fields if f.name not in listed]
    cols = ", ".join(qn(f.column) for f in [*varying, *(f for f, _ in fixed)])
    picks = ", ".join([f"u.c{i}" for i in range(len(varying))]
                      + [f"%s::{f.db_type(connection)}" for f, _ in fixed])
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in varying)
    names = ", ".join(f"c{i}" for i in range(len(varying)))
    back = f" RETURNING {', '.join(qn(meta.get_field(r).column) for r in returning)}" if returning else ""
    sql = (f"INSERT INTO {qn(meta.db_table)} ({cols}) SELECT {picks} FROM unnest({arrays}) AS u({names}){back}")
    fixed_values = [f.get_db_prep_save(v, connection) for f, v in fixed]
    out: list[tuple] = []
    with connection.cursor() as cur:
        for i in range(0, n, CHUNK):
            arrays_values = [[f.get_db_prep_save(v, connection) for v in columns[k][i:i + CHUNK]]
                             if _needs_prep(f) else list(columns[k][i:i + CHUNK])
                             for k, f in zip(columns, varying)]
            cur.execute(sql, [*fixed_values, *arrays_values])
            if returning:
                out.extend(cur.fetchall())
    return out


def _needs_prep(f) -> bool:
    """Whether a value of ``f`` must be prepared for the database (JSON, dates as given are passed through)."""
    return f.get_internal_type() in ("JSONField", "DecimalField", "UUIDField")
