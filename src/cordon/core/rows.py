"""Model instances from written-out statements, without the ORM's per-statement cost: the reads a checkpoint's
scanner makes every second (issue 17) compile their statement once and build the instance from its row with
``Model.from_db`` and the columns' database converters, as the ORM itself would."""
from __future__ import annotations

from django.db import connections

#: (database alias, model) -> (statement, attnames, converters) of ``by_pk``
_BY_PK: dict = {}


def converters(conn, expressions) -> list[tuple[int, object, list]]:
    """(index, expression, converters) of the ``expressions`` (columns or annotations) whose values the database
    layer converts: the backend's converters for the expression's type, then the expression's own."""
    out = []
    for i, expr in enumerate(expressions):
        convs = [*conn.ops.get_db_converters(expr), *expr.get_db_converters(conn)]
        if convs:
            out.append((i, expr, convs))
    return out


def convert(conn, values: list, convs) -> list:
    """``values`` (a row's, in the expressions' order) with ``converters``'s converters applied, in place."""
    for i, expr, fns in convs:
        value = values[i]
        for fn in fns:
            value = fn(value, expr, conn)
        values[i] = value
    return values


def by_pk(model, pk, using: str = "default"):
    """The ``model`` row with primary key ``pk`` (through its base manager: no filtering), None when absent;
    ValueError/TypeError for a key its field refuses, as the ORM raises."""
    conn = connections[using]
    key = (conn.alias, model)
    kept = _BY_PK.get(key)
    if kept is None:
        qn = conn.ops.quote_name
        fields = model._meta.concrete_fields
        cols = [f.get_col(model._meta.db_table) for f in fields]
        sql = (f"SELECT {', '.join(f'{qn(model._meta.db_table)}.{qn(f.column)}' for f in fields)} "  # noqa: S608
               f"FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.db_table)}.{qn(model._meta.pk.column)} = %s")
        kept = _BY_PK[key] = (sql, [f.attname for f in fields], converters(conn, cols))
    sql, attnames, convs = kept
    value = model._meta.pk.get_db_prep_value(model._meta.pk.get_prep_value(pk), conn)
    with conn.cursor() as c:
        c.execute(sql, [value])
        row = c.fetchone()
    return None if row is None else model.from_db(conn.alias, attnames, convert(conn, list(row), convs))
