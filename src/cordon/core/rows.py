"""Model instances from written-out statements, without the ORM's per-statement cost: the reads a checkpoint's
scanner makes every second (issue 17) compile their statement once and build the instance from its row with
``Model.from_db`` and the columns' database converters, as the ORM itself would."""
from __future__ import annotations

import contextlib

from django.db import connections, models, transaction
from django.db.models.constants import OnConflict

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


def _select(conn, model) -> tuple[str, list, list]:
    """(``SELECT <every concrete column> FROM <table>``, their attnames, their converters) of ``model``."""
    qn, table = conn.ops.quote_name, model._meta.db_table
    fields = model._meta.concrete_fields
    sql = f"SELECT {', '.join(f'{qn(table)}.{qn(f.column)}' for f in fields)} FROM {qn(table)}"  # noqa: S608
    return sql, [f.attname for f in fields], converters(conn, [f.get_col(table) for f in fields])


def _where_pk(conn, model) -> str:
    return f"WHERE {conn.ops.quote_name(model._meta.db_table)}.{conn.ops.quote_name(model._meta.pk.column)}"


def by_pk(model, pk, using: str = "default"):
    """The ``model`` row with primary key ``pk`` (through its base manager: no filtering), None when absent;
    ValueError/TypeError for a key its field refuses, as the ORM raises."""
    conn = connections[using]
    key = (conn.alias, model)
    kept = _BY_PK.get(key)
    if kept is None:
        select, attnames, convs = _select(conn, model)
        kept = _BY_PK[key] = (f"{select} {_where_pk(conn, model)} = %s", attnames, convs)
    sql, attnames, convs = kept
    value = model._meta.pk.get_db_prep_value(model._meta.pk.get_prep_value(pk), conn)
    with conn.cursor() as c:
        c.execute(sql, [value])
        row = c.fetchone()
    return None if row is None else model.from_db(conn.alias, attnames, convert(conn, list(row), convs))


#: (database alias, model, how many keys) -> (statement, attnames, converters) of ``by_pks``
_BY_PKS: dict = {}


def by_pks(model, pks, using: str = "default") -> list:
    """The ``model`` rows whose primary key is among ``pks`` (through its base manager: no filtering; in no
    particular order), as ``by_pk`` reads one: a statement compiled once per number of keys (a phone's sync names
    a few); ValueError/TypeError for a key its field refuses."""
    conn = connections[using]
    pk = model._meta.pk
    values = list(dict.fromkeys(pk.get_db_prep_value(pk.get_prep_value(k), conn) for k in pks))
    if not values:
        return []
    key = (conn.alias, model, len(values))
    kept = _BY_PKS.get(key)
    if kept is None:
        select, attnames, convs = _select(conn, model)
        if len(_BY_PKS) > 256:
            _BY_PKS.clear()
        kept = _BY_PKS[key] = (f"{select} {_where_pk(conn, model)} IN ({', '.join(['%s'] * len(values))})",
                               attnames, convs)
    sql, attnames, convs = kept
    with conn.cursor() as c:
        c.execute(sql, values)
        found = c.fetchall()
    return [model.from_db(conn.alias, attnames, convert(conn, list(row), convs)) for row in found]


def insert_columns(model):
    """The fields an INSERT of a new ``model`` row names (its concrete fields but an auto primary key), None when
    the model has one that a written-out INSERT would not fill as the ORM does (a database default or a generated
    field)."""
    fields = [f for f in model._meta.local_concrete_fields if not (f.primary_key and f.auto_created or
                                                                   getattr(f, "db_returning", False))]
    if any(getattr(f, "generated", False) or getattr(f, "has_db_default", lambda: False)() for f in fields):
        return None
    return fields


def insert_value(field, obj, conn):
    """``field``'s value of the new ``obj`` as ``Model.save`` writes it (its ``pre_save``, then its database
    preparation)."""
    return field.get_db_prep_save(field.pre_save(obj, True), conn)


#: field classes (exactly these) whose database preparation answers a value of the given type, or None, as it is
#: (``to_python`` of a str, ``int()`` of an int, a bool's own ``to_python``); their ``pre_save`` reads the attribute
_PLAIN = {models.CharField: str, models.TextField: str, models.IntegerField: int, models.BigIntegerField: int,
          models.SmallIntegerField: int, models.PositiveIntegerField: int, models.PositiveSmallIntegerField: int,
          models.BooleanField: bool}
_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField)
#: model -> ``plan`` of its ``insert_columns`` (``Writes.insert``)
_PLANS: dict = {}


def _plain_type(field):
    if type(field).pre_save is not models.Field.pre_save:
        return None
    if type(field) is models.ForeignKey:
        return int if type(field.target_field) in _KEYS else None
    return _PLAIN.get(type(field))


def plan(fields) -> list:
    """[(field, the type its values are written as they are, or None)] of ``fields``: how ``insert_values`` takes
    each (built once by its caller for a statement it keeps)."""
    return [(f, _plain_type(f)) for f in fields]


def _plan(model) -> list:
    kept = _PLANS.get(model)
    if kept is None:
        fields = insert_columns(model)
        if fields is None:
            raise ValueError(f"{model.__name__}: a column with a database default or generated")
        kept = _PLANS[model] = plan(fields)
    return kept


def _value(f, kind, obj, conn):
    if kind is not None:
        v = getattr(obj, f.attname)
        if v is None or type(v) is kind:
            return v
    return insert_value(f, obj, conn)


def insert_values(fields_plan, obj, conn) -> list:
    """``insert_value`` of each field of ``fields_plan`` (``plan(fields)``) of the new ``obj``: a value of a plain
    field (a text, number, flag or key field without a ``pre_save`` of its own) that already has the type it is
    written as, or is None, is taken as it is; every other value goes through ``insert_value``. A sync writes a
    few hundred values: this is most of what writing them costs in Python."""
    return [_value(f, kind, obj, conn) for f, kind in fields_plan]


def alone_or_savepoint(conn):
    """Where one statement writes several rows at once: inside a caller's transaction a savepoint (a failed
    statement leaves the transaction usable, as ``transaction.atomic`` would), alone nothing (the statement is a
    transaction of its own: no BEGIN and COMMIT round trips)."""
    return transaction.atomic(using=conn.alias) if conn.in_atomic_block else contextlib.nullcontext()


class Writes:
    """Writes made by ONE statement on PostgreSQL: each a data-modifying CTE of ``WITH a AS (INSERT ...), b AS
    (UPDATE ...) SELECT ...``. They all run, on the same snapshot, and succeed or fail together (outside a
    transaction the statement is one of its own: no BEGIN and COMMIT round trips). A sync of a phone's
    check-ins writes its rows, their audit rows, its changes, the device's last contact and its own audit row
    this way (issue 20). No ``pre_save``/``post_save`` signal is sent: only for models none listens to.

    ``insert`` adds an INSERT of model instances (their values as ``Model.save`` would write them, or, for some
    of their fields, an SQL expression of the caller's, which may read an earlier CTE); ``add`` any other
    statement; ``execute`` runs them, handing the rows of the one CTE that asked for them (``then``) to its
    callback."""

    def __init__(self, connection):
        if connection.vendor != "postgresql":
            raise ValueError("data-modifying CTEs are PostgreSQL's")
        self.connection = connections[connection.alias]  # (not ``django.db.connection``'s proxy: read per value)
        self._ctes: list[str] = []
        self._params: list = []
        self._then = None

    def add(self, name: str, sql: str, params=(), *, then=None) -> None:
        """The statement ``sql`` (with ``params``) as the CTE ``name``; ``then(rows)`` gets its RETURNING rows."""
        if then is not None:
            if self._then is not None:
                raise ValueError("one CTE of a statement hands its rows back")
            self._then = (name, then)
        self._ctes.append(f"{self.connection.ops.quote_name(name)} AS ({sql})")
        self._params += list(params)

    def insert(self, name: str, model, objs, *, exprs: dict | None = None, upsert=None, returning=(),
               then=None) -> None:
        """INSERT ``objs`` (new ``model`` instances) as the CTE ``name``; ``exprs``: {index in ``objs``: {attname:
        (sql, params)}} written instead of those values; ``upsert``: (unique fields, fields to update), as
        ``bulk_create(update_conflicts=True, ...)`` writes it; ``returning``: field names (their columns)."""
        conn, qn = self.connection, self.connection.ops.quote_name
        tail = ""
        if upsert:
            col = lambda names: [model._meta.get_field(n).column for n in names]  # noqa: E731
            tail = conn.ops.on_conflict_suffix_sql(None, OnConflict.UPDATE, col(upsert[1]), col(upsert[0]))
        if returning:
            tail += f" RETURNING {', '.join(qn(model._meta.get_field(n).column) for n in returning)}"
        columns = _plan(model)
        rows, params = [], []
        for i, obj in enumerate(objs):
            own = (exprs or {}).get(i, {})
            marks = []
            for f, kind in columns:
                if f.attname in own:
                    sql, p = own[f.attname]
                    marks.append(sql)
                    params += list(p)
                else:
                    marks.append("%s")
                    params.append(_value(f, kind, obj, conn))
            rows.append(f"({', '.join(marks)})")
        sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f, _k in columns)}) "  # noqa: S608
               f"VALUES {', '.join(rows)} {tail}")
        self.add(name, sql, params, then=then)

    def execute(self) -> None:
        """Run the statement (nothing when no write was added)."""
        if not self._ctes:
            return
        qn = self.connection.ops.quote_name
        last = f"SELECT * FROM {qn(self._then[0])}" if self._then else "SELECT 1"
        with self.connection.cursor() as c:
            c.execute(inline(f"WITH {', '.join(self._ctes)} {last}", self._params, c))
            found = c.fetchall()
        if self._then:
            self._then[1](found)


def inline(sql: str, params: list, cursor) -> str:
    """``sql`` with ``params`` written in as literals, as psycopg's client-side binding writes them (the cursor's
    adapters: ``Transformer.as_literal``, NULL for None); ``cursor`` is Django's. psycopg would first split the
    statement at its placeholders with a regular expression, and caches that only for statements of at most
    4 096 characters and 50 parameters: a sync's writes are longer and have a few hundred, and the split cost
    about as much CPU as everything else the statement needs in Python. The placeholders must all be ``%s``
    (no ``%%``, no named ones: ``Writes`` makes its own), so a plain split finds them."""
    from psycopg.adapt import Transformer

    parts = sql.split("%s")
    if len(parts) != len(params) + 1:
        raise ValueError("a statement's placeholders and parameters differ in number")
    tx = Transformer(cursor.cursor)
    encoding = cursor.cursor.connection.info.encoding
    out = [parts[0]]
    for value, part in zip(params, parts[1:]):
        out.append("NULL" if value is None else tx.as_literal(value).decode(encoding))
        out.append(part)
    return "".join(out)
