"""Reads of passes and checks: the facts a check needs (orders, overdue key workers, negative samples), the pass
list and its filters, the revocation list, the deliveries to reassign."""
from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from cordon.cases import hooks as case_hooks
from cordon.cases.models import PersonOrder
from cordon.core import access, rows
from cordon.passes import hooks
from cordon.passes.models import CheckLog, Pass, PassStatus
from cordon.policy import passes as rule
from cordon.screening.models import BLOCK, Registered, Result, Round, Sample, TubeResult, encode_ids
from cordon.supplies.models import DeliveryOrder, DeliveryStatus

#: the pass kinds that may carry deliveries into a sealed unit
DELIVERY_KINDS = ("delivery", "supply")


def under_order(resident_ids, day: dt.date) -> set[int]:
    """Which of these residents are under an active quarantine/isolation order on ``day``."""
    ids = [i for i in resident_ids if i]
    if not ids:
        return set()
    return set(_orders_on(day).filter(resident_id__in=ids).values_list("resident_id", flat=True))


def _orders_on(day: dt.date):
    return PersonOrder.objects.filter(identified_on__lte=day).exclude(status="void") \
        .filter(Q(free_on__isnull=True) | Q(free_on__gt=day)).filter(Q(released_on__isnull=True) | Q(released_on__gt=day))


def overdue(resident_ids, day: dt.date) -> set[int]:
    """Which of these residents are key workers overdue for a test on ``day`` (``hooks.OVERDUE``)."""
    ids = [i for i in resident_ids if i]
    out: set[int] = set()
    if ids:
        for _name, fn in hooks.OVERDUE:
            out |= set(fn(ids, day))
    return out


def negative_sample_at(resident_id: int | None, upto: dt.datetime) -> dt.datetime | None:
    """The latest negative sample of the resident in the 48 hours up to ``upto`` (screening's tubes: a tube the
    resident was sampled into whose result is negative), None when there is none."""
    if not resident_id:
        return None
    since = upto - rule.EXIT_WINDOW
    rounds = list(Round.objects.filter(on__gte=since.date() - dt.timedelta(days=1), on__lte=upto.date())
                  .values_list("id", flat=True))
    if not rounds:
        return None
    block, n = divmod(resident_id, BLOCK)
    registered = [g.round_id for g in Registered.objects.filter(round_id__in=rounds, block=block)
                  if n // 8 < len(g.bits) and (bytes(g.bits)[n // 8] >> (n % 8)) & 1]
    if not registered:
        return None
    needle = encode_ids([resident_id])
    where = "position(%s in people) > 0" if connection.vendor == "postgresql" else "instr(people, %s) > 0"
    best = None
    for s in Sample.objects.filter(round_id__in=registered, sampled_at__gte=since, sampled_at__lte=upto) \
            .extra(where=[where], params=[needle]).order_by("-sampled_at"):
        if resident_id in s.people and TubeResult.objects.filter(barcode=s.barcode, result=Result.NEGATIVE).exists():
            best = s.sampled_at
            break
    return best


def low_risk(area, day: dt.date) -> bool:
    """No high or medium designation covers ``area`` on ``day`` (``cases.hooks.risk_level``, zones)."""
    return area is None or case_hooks.risk_level(area, day) is None


def with_holder_status(qs, day: dt.date):
    """``qs`` (passes) with their holder's status on ``day`` read in the same statement: ``holder_ordered`` and,
    for each ``hooks.OVERDUE_EXISTS`` entry, ``holder_late_<i>``."""
    holder = OuterRef("holder_id")
    marks = {"holder_ordered": Exists(_orders_on(day).filter(resident_id=holder))}
    marks.update({f"holder_late_{i}": fn(holder, day) for i, (_n, fn) in enumerate(hooks.OVERDUE_EXISTS)})
    return qs.annotate(**marks)


#: the statement of ``pass_for_check`` as compiled once per (database, day, lookup, hooks): building and compiling
#: its subqueries took more time than running it. The pass and its holder's status are read afresh each time.
_CHECK_SQL: dict = {}
_MARK = {"pk": -7_000_000_001, "code": "\x00mark"}


def pass_for_check(day: dt.date, *, pk: int | None = None, code: str = "") -> Pass | None:
    """The pass with this id or typed code and its holder's status on ``day`` (``with_holder_status``), in one
    statement; ``answer`` takes the status from it instead of asking again. The instance is built from the row
    as the ORM would (``rows.convert``, ``Pass.from_db``) with the holder's marks as attributes."""
    field, value = ("pk", pk) if pk is not None else ("code", code)
    key = (connection.alias, connection.vendor, day, field, tuple(n for n, _fn in hooks.OVERDUE_EXISTS))
    compiled = _CHECK_SQL.get(key)
    if compiled is None:
        compiler = with_holder_status(Pass.objects.filter(**{field: _MARK[field]}), day)[:1] \
            .query.get_compiler(connection.alias)
        sql, params = compiler.as_sql()
        exprs = [expr for expr, _sql, _alias in compiler.select]
        names = [alias or expr.target.attname for expr, _sql, alias in compiler.select]
        fields = sum(1 for _e, _s, alias in compiler.select if not alias)
        if len(_CHECK_SQL) > 64:
            _CHECK_SQL.clear()
        compiled = _CHECK_SQL[key] = (sql, tuple(params), list(params).index(_MARK[field]), names, fields,
                                      rows.converters(connection, exprs))
    sql, params, at, names, fields, convs = compiled
    with connection.cursor() as c:
        c.execute(sql, [*params[:at], value, *params[at + 1:]])
        row = c.fetchone()
    if row is None:
        return None
    values = rows.convert(connection, list(row), convs)
    p = Pass.from_db(connection.alias, names[:fields], values[:fields])
    for name, v in zip(names[fields:], values[fields:]):
        setattr(p, name, v)
    p.holder_day = day
    return p


def _holder_overdue(p: Pass, day: dt.date) -> bool:
    who = [p.holder_id] if p.holder_id else []
    if getattr(p, "holder_day", None) != day:  # not read with the pass for this day: ask each source
        return bool(overdue(who, day))
    if any(getattr(p, f"holder_late_{i}", False) for i in range(len(hooks.OVERDUE_EXISTS))):
        return True
    read = {n for n, _fn in hooks.OVERDUE_EXISTS}
    return bool(who) and any(fn(who, day) for n, fn in hooks.OVERDUE if n not in read)


def answer(p: Pass, path: str, day: dt.date) -> rule.Answer:
    """The check of pass ``p`` on ``day`` at the area ``path``, from the records (POLICY.md's order); the
    holder's status as ``pass_for_check`` read it with the pass, or read now."""
    who = [p.holder_id] if p.holder_id else []
    ordered = p.holder_ordered if getattr(p, "holder_day", None) == day else bool(under_order(who, day))
    return rule.check_pass(day=day, revoked=p.status == PassStatus.REVOKED, valid_from=p.valid_from,
                           valid_to=p.valid_to, covered=rule.covers(p.area_paths, path),
                           under_order=ordered, overdue=_holder_overdue(p, day))


def pass_is_valid(p: Pass, a: rule.Answer) -> bool:
    """#8's "valid pass": refused for the holder's state only, not for the pass itself."""
    return not a.allowed and a.reason in ("holder_under_order", "test_overdue", rule.NO_RECENT_NEGATIVE)


FILTERS = ("status", "kind")


def pass_list(user, *, status: str = "", kind: str = "", q: str = "", today: dt.date | None = None):
    """The pass list (its page and its export): newest first, narrowed by status, kind, holder name or id."""
    qs = Pass.objects.for_user(user, access.PASSES_READ)
    if status == "current" and today is not None:
        qs = qs.exclude(status=PassStatus.REVOKED).filter(valid_from__lte=today, valid_to__gte=today)
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    q = (q or "").strip()
    if q:
        number = int(q) if q.isascii() and q.isdigit() and len(q) <= 18 else 0  # a pass number, within bigint
        qs = qs.filter(Q(holder_name__icontains=q) | Q(code=q.upper()) | Q(pk=number))
    return qs.order_by("-issued_at", "-id")


def check_list(user, *, on: dt.date | None = None, result: str = ""):
    qs = CheckLog.objects.for_user(user, access.PASSES_READ)
    if on:
        qs = qs.filter(on=on)
    if result:
        qs = qs.filter(result=result)
    return qs.select_related("pass_ref", "checkpoint", "area").order_by("-at", "-id")


def revocations(since: int = 0) -> dict:
    """The passes revoked after version ``since``: ``{"version": latest, "revoked": [ids]}`` (checkpoints sync)."""
    rows = list(Pass.objects.filter(revoked_seq__gt=since).order_by("revoked_seq").values_list("revoked_seq", "id"))
    return {"version": rows[-1][0] if rows else since, "revoked": [i for _s, i in rows]}


def rider_passes(rider_id: int, day: dt.date):
    """The rider's passes that may carry deliveries and are active on ``day``."""
    return Pass.objects.filter(holder_id=rider_id, kind__in=DELIVERY_KINDS, status=PassStatus.ACTIVE,
                               valid_from__lte=day, valid_to__gte=day)


def to_reassign(user, day: dt.date) -> list:
    """Open deliveries whose rider is overdue on ``day``: to give to another rider."""
    qs = DeliveryOrder.objects.for_user(user, access.SUPPLIES_READ).filter(status=DeliveryStatus.PLANNED,
                                                                            rider__isnull=False)
    rows = list(qs.select_related("household", "item", "rider").order_by("due_on", "id")[:500])
    late = overdue({o.rider_id for o in rows}, day)
    return [o for o in rows if o.rider_id in late]


def day_counts(qs_filter, on: dt.date) -> dict:
    """The daily close's figures of ``on`` for the records ``qs_filter`` keeps (a situation scope's filter)."""
    issued = qs_filter(Pass.objects.filter(events__kind="issue", events__on=on)).count()
    revoked = qs_filter(Pass.objects.filter(events__kind="revoke", events__on=on)).count()
    checks = qs_filter(CheckLog.objects.filter(on=on))
    return {"issued": issued, "revoked": revoked, "checks": checks.count(),
            "refusals": checks.filter(result="refused").count(), "flagged": checks.filter(flagged=True).count(),
            "active": qs_filter(Pass.objects.filter(status=PassStatus.ACTIVE, valid_from__lte=on,
                                                    valid_to__gte=on)).count()}
