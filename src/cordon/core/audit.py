"""Writing audit rows. Actions call ``record`` explicitly inside their transaction."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import uuid

from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from cordon.core import clock, rows
from cordon.core.errors import ActionError
from cordon.core.models import AuditEntry

#: The longest reason (or note) an action accepts: a reason explains a decision, it is not a document.
#: Actions refuse longer ones (``check_text``: ActionError on the field); ``entry`` also clips what it stores.
MAX_REASON = 2000
#: The longest text an audit row keeps in one value of its before/after change (clipped with "…").
MAX_VALUE = 2000


#: When the actions being run now really happened, if earlier than their arrival (see ``occurred``).
_OCCURRED: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("audit_occurred", default=None)


@contextlib.contextmanager
def occurred(when: dt.datetime | None):
    """Audit rows written inside this block record ``when`` as the moment the action happened (a change made
    offline and synced later); ``at`` stays the moment it reached the server."""
    token = _OCCURRED.set(when)
    try:
        yield
    finally:
        _OCCURRED.reset(token)


def occurred_now() -> dt.datetime | None:
    """The moment set by the ``occurred`` block around this call (None outside one)."""
    return _OCCURRED.get()


def check_text(value, field: str = "reason", limit: int = MAX_REASON) -> str:
    """``value`` as text, refused (ActionError on ``field``) when longer than ``limit`` characters."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        raise ActionError(gettext("at most %(limit)s characters, got %(n)s") % {"limit": limit, "n": len(text)},
                          field=field)
    return text


def require_reason(reason, message, *, rule: str = "") -> None:
    """Refuse (ActionError on ``reason``, citing ``rule`` when given) an action whose reason is missing or blank:
    ``message`` says which action needs one."""
    if not (reason or "").strip():
        raise ActionError(message, field="reason", rule=rule)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, str):
        return _clip(value, MAX_VALUE)
    return value


def object_repr_of(obj) -> str:
    """How an audit row names a record: ``audit_repr()`` where the model defines one (people are named by
    their id, never by name, ID number or phone), else ``str(obj)``; a model with neither is named by its kind
    in English and its id ("delivery order 12"), not by Django's "DeliveryOrder object (12)"."""
    if obj is None:
        return ""
    named = getattr(obj, "audit_repr", None)
    if callable(named):
        return named()
    if type(obj).__str__ is models.Model.__str__:
        with translation.override("en"):
            return f"{obj._meta.verbose_name} {obj.pk}"
    return str(obj)


def actor_name(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username()


def record(action: str, **kwargs):
    """Append one audit row. ``scope`` (a record with ancestor ids, or an Area) places it in a jurisdiction.

    A reason over ``MAX_REASON`` characters is refused (ActionError, field "reason"): actions call this
    inside their transaction, so the action is undone with it."""
    check_text(kwargs.get("reason"), "reason")
    e = entry(action, **kwargs)
    e.save()
    return e


def entry(action: str, *, actor, obj=None, object_type: str = "", object_id="", object_repr: str = "",
          before=None, after=None, reason: str = "", rule: str = "", scope=None):
    """An unsaved audit row (bulk paths collect these and write them with ``bulk_create``)."""
    entry = AuditEntry(
        at=clock.now(),
        actor=None if (actor is None or isinstance(actor, str)) else actor,
        actor_name=actor_name(actor),
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=str(object_id or (obj.pk if obj is not None else "")),
        object_repr=(object_repr or object_repr_of(obj))[:400],
        before=_plain(before),
        after=_plain(after),
        reason=_clip(reason or "", MAX_REASON),
        rule=rule or "",
        occurred_at=_OCCURRED.get(),
    )
    src = scope if scope is not None else obj
    if src is not None and hasattr(src, "district_id"):
        entry.set_scope_from(src)
    for name in ("action", "object_type", "object_id", "object_repr", "rule", "actor_name"):
        limit = AuditEntry._meta.get_field(name).max_length
        value = getattr(entry, name)
        if value and len(value) > limit:  # PostgreSQL enforces lengths; keep the row, clip the text
            setattr(entry, name, value[: limit - 1] + "…")
    return entry


#: The audit log's filters (its page, the page's export and ``GET /api/audit``): name -> lookup.
FILTERS = {"actor": "actor_name", "actor_contains": "actor_name__icontains", "action": "action__startswith",
           "object_type": "object_type", "object_id": "object_id", "since": "at__date__gte",
           "until": "at__date__lte"}


def select(qs, text: str = "", **given):
    """``qs`` (audit rows already scoped to the reader) narrowed by the ``FILTERS`` given a value, and by
    ``text`` found in the object, reason or rule (or equal to the object's id)."""
    qs = qs.filter(**{FILTERS[k]: v for k, v in given.items() if v})
    if text:
        qs = qs.filter(Q(object_repr__icontains=text) | Q(reason__icontains=text) | Q(object_id=text)
                       | Q(rule__icontains=text))
    return qs


#: (database alias, model) -> (INSERT statement, ``rows.plan`` of the record's and the audit row's fields in its
#: order) of ``save_with_entry`` (built once)
_WITH_ENTRY_SQL: dict = {}


def _with_entry_sql(model, connection):
    key = (connection.alias, model)
    kept = _WITH_ENTRY_SQL.get(key)
    if kept is None:
        qn = connection.ops.quote_name
        mine, theirs = rows.insert_columns(model), rows.insert_columns(AuditEntry)
        if mine is None or theirs is None:
            kept = _WITH_ENTRY_SQL[key] = (None, None, None)
            return kept
        theirs = [f for f in theirs if f.name != "object_id"]
        pk = qn(model._meta.pk.column)
        sql = (f"WITH r AS (INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in mine)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(mine))}) RETURNING {pk}) "
               f"INSERT INTO {qn(AuditEntry._meta.db_table)} ({', '.join(qn(f.column) for f in theirs)}, "
               f"{qn(AuditEntry._meta.get_field('object_id').column)}) "
               f"SELECT {', '.join(['%s'] * len(theirs))}, CAST(r.{pk} AS text) FROM r "
               f"RETURNING {qn(AuditEntry._meta.pk.column)}, (SELECT {pk} FROM r)")
        kept = _WITH_ENTRY_SQL[key] = (sql, rows.plan(mine), rows.plan(theirs))
    return kept


def save_with_entry(obj, e) -> None:
    """Insert the new record ``obj`` and its audit row ``e`` (``entry(...)`` with ``obj=obj``, unsaved; its
    ``object_id`` becomes ``obj``'s new id), atomically. On PostgreSQL one statement (``WITH r AS (INSERT ...
    RETURNING id) INSERT ... SELECT ... FROM r``), which outside a transaction is a transaction of its own: a
    write that is written every second (a checkpoint's check log) costs one round trip instead of BEGIN, two
    INSERTs and COMMIT. Elsewhere (or for a model with database defaults) ``obj.save()`` then ``e.save()`` in a
    transaction. No ``pre_save``/``post_save`` signal is sent on the one-statement path: only for models none
    listens to. ``entry`` clips a reason: the caller refuses one over ``MAX_REASON`` first (``check_text``), as
    ``record`` does."""
    from django.db import connection, transaction

    sql = None
    if connection.vendor == "postgresql" and obj.pk is None and e.pk is None:
        sql, mine, theirs = _with_entry_sql(type(obj), connection)
    if sql is None:
        with transaction.atomic():
            obj.save()
            e.object_id = str(obj.pk)
            e.save()
        return
    params = rows.insert_values(mine, obj, connection) + rows.insert_values(theirs, e, connection)
    with rows.alone_or_savepoint(connection), connection.cursor() as c:
        c.execute(sql, params)
        e.pk, obj.pk = c.fetchone()
    e.object_id = str(obj.pk)
    obj._state.adding = e._state.adding = False
    obj._state.db = e._state.db = connection.alias
