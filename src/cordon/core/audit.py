"""Writing audit rows. Actions call ``record`` explicitly inside their transaction."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

from cordon.core import clock


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def actor_name(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username()


def record(action: str, **kwargs):
    """Append one audit row. ``scope`` (a record with ancestor ids, or an Area) places it in a jurisdiction."""
    e = entry(action, **kwargs)
    e.save()
    return e


def entry(action: str, *, actor, obj=None, object_type: str = "", object_id="", object_repr: str = "",
          before=None, after=None, reason: str = "", rule: str = "", scope=None):
    """An unsaved audit row (bulk paths collect these and write them with ``bulk_create``)."""
    from cordon.core.models import AuditEntry

    entry = AuditEntry(
        at=clock.now(),
        actor=None if (actor is None or isinstance(actor, str)) else actor,
        actor_name=actor_name(actor),
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=str(object_id or (obj.pk if obj is not None else "")),
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:400],
        before=_plain(before),
        after=_plain(after),
        reason=reason or "",
        rule=rule or "",
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
