"""Change stamps: one counter per domain, bumped after each committed change to the domain's records.

Busy pages (the dispatcher board, the hotline ticket list: 200 staff reloading them) keep what they rendered
under a key made of the domain's stamp, the minute (their texts say "12 minutes left"; each key's minute starts
at a second of its own, ``minute``) and everything else the rendering depends on (the user's jurisdiction, the
tab, the page, the language). A change anywhere in the domain bumps the stamp, so the next load renders afresh;
with no change, a process renders each key once a minute. Reading the stamps is one primary-key query.

Bumps come from ``post_save``/``post_delete`` of the domain's models (``watch``), so every action and every
``save()`` counts; a bulk ``QuerySet.update()`` on a watched model must call ``bump`` itself. The bump runs
when the transaction commits (``on_commit``), once per domain per transaction, so a reader never caches
uncommitted data under a new stamp and writers never wait on the counter's row while their transaction runs.

When a stamp moves (or the minute turns) every reload of a busy page misses at once; in a process, one
thread renders each key while the others asking for it wait and take its result (instead of all rendering
the same list at the same time, each slowed by the others).

Stamps per area. A change to a record that carries its areas (``ScopedFields``) also counts on the stamps of
its district, street and community (``care@<area id>``), and on those it had when it was read, if it moved. A
reader whose jurisdiction is a set of areas (a community worker) keys on the stamps of those areas and on the
domain's stamp of changes whose areas are not known (``care!``: bulk updates, records without areas, an explicit
``bump``), not on the domain's stamp: a change in one community renders again the lists of the jurisdictions
that hold it, not the lists of the city's other 1 800 communities. A city-wide reader keys on the domain's stamp,
which every change moves.
"""
from __future__ import annotations

import hashlib
import threading
from functools import partial

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from cordon.core import clock

#: Start of every key (tests give each test its own: their database rolls back, so stamps repeat).
PREFIX = "stamp"

#: One thread renders a key at a time: a key takes one of these locks by its hash (re-entrant, so a render
#: that asks for another part on the same lock goes on; bounded waits, so no render waits on a stuck one).
_LOCKS = tuple(threading.RLock() for _ in range(64))
_WAIT_S = 10.0


#: The levels whose areas have stamps of their own (``ScopedFields.area_ids``; a jurisdiction below a community
#: keys on its community's).
AREA_LEVELS = ("district", "street", "community")


def _names(name: str, areas) -> list[str]:
    """The stamps a change counts on: the domain's, and its areas' (``areas``: ids) or, when the areas are not
    known (None), the domain's stamp of unplaced changes."""
    if areas is None:
        return [name, f"{name}!"]
    return [name, *(f"{name}@{a}" for a in sorted(areas))]


def _apply(name: str, areas=None) -> None:
    """Count one change on ``_names(name, areas)``: one statement (sorted names, so two writers never take the
    counters' rows in opposite orders)."""
    from cordon.core.models import Stamp

    names = sorted(_names(name, areas))
    qn = connection.ops.quote_name
    meta = Stamp._meta
    table, name_col, n_col = (qn(meta.db_table), qn(meta.get_field("name").column),
                              qn(meta.get_field("n").column))
    with connection.cursor() as c:
        c.execute(f"INSERT INTO {table} ({name_col}, {n_col}) VALUES {', '.join(['(%s, 1)'] * len(names))} "  # noqa: S608
                  f"ON CONFLICT ({name_col}) DO UPDATE SET {n_col} = {table}.{n_col} + 1", names)


class _Pending:
    """The count a transaction makes on a domain when it commits: its areas gathered over the transaction."""

    def __init__(self, name: str):
        self.name = name
        self.areas: set[int] | None = set()

    def add(self, areas) -> None:
        if areas is None or self.areas is None:
            self.areas = None
        else:
            self.areas.update(areas)

    def __call__(self) -> None:
        _apply(self.name, self.areas)


def bump(name: str, areas=None) -> None:
    """Count a change to ``name``'s records (after commit; once per transaction). ``areas``: the ids of the
    areas the change touched (``record_areas``), or None when they are not known (every area's lists render
    again)."""
    if connection.in_atomic_block:
        for entry in connection.run_on_commit:
            pending = entry[1]
            if isinstance(pending, _Pending) and pending.name == name:
                pending.add(areas)
                return
    pending = _Pending(name)
    pending.add(areas)
    transaction.on_commit(pending)


def read(*names: str) -> tuple[int, ...]:
    """The stamps of ``names`` (0 for a domain never changed): one primary-key query, written out (every
    load of a busy page asks, so it skips building the query each time)."""
    from cordon.core.models import Stamp

    qn = connection.ops.quote_name
    meta = Stamp._meta
    name_col, n_col = qn(meta.get_field("name").column), qn(meta.get_field("n").column)
    with connection.cursor() as c:
        c.execute(f"SELECT {name_col}, {n_col} FROM {qn(meta.db_table)} "  # noqa: S608 - names quoted
                  f"WHERE {name_col} IN ({', '.join(['%s'] * len(names))})", list(names))
        got = dict(c.fetchall())
    return tuple(got.get(n, 0) for n in names)


def _placed(obj) -> bool:
    from cordon.core.models import ScopedFields

    return isinstance(obj, ScopedFields)


def record_areas(obj, *, created: bool = False) -> set[int] | None:
    """The areas (district, street, community ids) a change to ``obj`` touches: where it is now and, when it has
    moved since it was read (``remember_areas``), where it was. None for a record that carries no areas, or one
    whose earlier areas are not known (not read from the database, not just made)."""
    if not _placed(obj):
        return None
    now = obj.area_ids()
    loaded = getattr(obj, "_cordon_areas", None)
    if now is None or (loaded is None and not created):
        return None
    return {a for a in (*now, *(loaded or ())) if a is not None}


def remember_areas(obj) -> None:
    """Note the areas ``obj`` has as read from the database (``ScopedFields.from_db``) or as last saved, so a
    later save that moves it counts on the areas it left too (nothing when some are not loaded)."""
    obj._cordon_areas = obj.area_ids()


def _saved(name: str, instance, created: bool = False, **kw) -> None:
    bump(name, record_areas(instance, created=created))
    if _placed(instance):
        remember_areas(instance)


def _deleted(name: str, instance, **kw) -> None:
    bump(name, record_areas(instance))


def watch(name: str, *models) -> None:
    """Bump ``name`` on every save and delete of ``models`` (with the record's areas when it carries them)."""
    for model in models:
        model._cordon_watched = True  # ScopedFields.from_db remembers its areas
        post_save.connect(partial(_saved, name), sender=model, weak=False,
                          dispatch_uid=f"stamp-{name}-{model._meta.label}-save")
        post_delete.connect(partial(_deleted, name), sender=model, weak=False,
                            dispatch_uid=f"stamp-{name}-{model._meta.label}-delete")


def scope_names(names: tuple[str, ...], scope) -> tuple[str, ...]:
    """The stamps a reader keys on: the domains' own for a city-wide reader (``scope`` None or everything), else
    each domain's stamp of unplaced changes and those of the areas that bound the jurisdiction (a node below a
    community: its community; one whose community is not known: the domains' own, as a city-wide reader)."""
    if scope is None or scope.everything:
        return names
    areas: set[int] = set()
    for level, ids in scope.by_level.items():
        if level in AREA_LEVELS:
            areas.update(ids)
            continue
        for i in ids:
            community = next((a for lv, a in scope.above.get(i, ()) if lv == "community"), None)
            if community is None:
                return names
            areas.add(community)
    return tuple(n for name in names for n in (f"{name}!", *(f"{name}@{a}" for a in sorted(areas))))


def minute(own: bytes) -> int:
    """The number of the minute a key is in: each key's minutes start at a second of their own (from ``own``, its
    digest), so the parts of a busy desk do not all render again at the same second every minute (200 staff
    reloading: one burst of every jurisdiction's renders, the slowest loads of the minute). A part still shows
    the time as it was at most a minute ago."""
    return (int(clock.now().timestamp()) + int.from_bytes(own[:2], "big") % 60) // 60


def cached(names: tuple[str, ...], key: tuple, render, *, ttl: int = 90, scope=None):
    """``render()``'s result for ``key`` while the stamps of ``names`` and the minute stay the same. ``scope``
    (an ``access.Scope``; ``key`` must name it too): the reader's jurisdiction, whose areas' stamps count
    instead of the domains' when it is not the whole city."""
    names = scope_names(names, scope)
    stamp = read(*names)
    # the stamps (one per area of a wide jurisdiction) and the page's own part (jurisdiction, query, language) as
    # a digest: a long query or many grants would otherwise make a key longer than shared caches accept
    # (memcached: 250 characters)
    own = hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8", "surrogatepass")).digest()
    digest = hashlib.sha256(own + "\x1f".join(map(str, (*names, *stamp))).encode("utf-8", "surrogatepass"))
    full = f"{PREFIX}:{minute(own)}:{digest.hexdigest()[:40]}"
    value = cache.get(full)
    if value is not None:
        return value
    lock = _LOCKS[hash(full) % len(_LOCKS)]
    locked = lock.acquire(timeout=_WAIT_S)
    try:
        value = cache.get(full) if locked else None  # rendered by another thread while this one waited
        if value is None:
            value = render()
            cache.set(full, value, ttl)
    finally:
        if locked:
            lock.release()
    return value
