"""Change stamps: one counter per domain, bumped after each committed change to the domain's records.

Busy pages (the dispatcher board, the hotline ticket list: 200 staff reloading them) keep what they rendered
under a key made of the domain's stamp, the minute (their texts say "12 minutes left") and everything else the
rendering depends on (the user's jurisdiction, the tab, the page, the language). A change anywhere in the
domain bumps the stamp, so the next load renders afresh; with no change, a process renders each key once a
minute. Reading the stamps is one primary-key query.

Bumps come from ``post_save``/``post_delete`` of the domain's models (``watch``), so every action and every
``save()`` counts; a bulk ``QuerySet.update()`` on a watched model must call ``bump`` itself. The bump runs
when the transaction commits (``on_commit``), once per domain per transaction, so a reader never caches
uncommitted data under a new stamp and writers never wait on the counter's row while their transaction runs.

When a stamp moves (or the minute turns) every reload of a busy page misses at once; in a process, one
thread renders each key while the others asking for it wait and take its result (instead of all rendering
the same list at the same time, each slowed by the others).
"""
from __future__ import annotations

import hashlib
import threading
from functools import partial

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from cordon.core import clock

#: Start of every key (tests give each test its own: their database rolls back, so stamps repeat).
PREFIX = "stamp"

#: One thread renders a key at a time: a key takes one of these locks by its hash (re-entrant, so a render
#: that asks for another part on the same lock goes on; bounded waits, so no render waits on a stuck one).
_LOCKS = tuple(threading.RLock() for _ in range(64))
_WAIT_S = 10.0


def _apply(name: str) -> None:
    from cordon.core.models import Stamp

    if not Stamp.objects.filter(name=name).update(n=F("n") + 1):
        try:
            with transaction.atomic():
                Stamp.objects.create(name=name, n=1)
        except IntegrityError:
            Stamp.objects.filter(name=name).update(n=F("n") + 1)


def bump(name: str) -> None:
    """Count a change to ``name``'s records (after commit; once per transaction)."""
    if connection.in_atomic_block and any(getattr(entry[1], "cordon_stamp", None) == name
                                          for entry in connection.run_on_commit):
        return
    fn = partial(_apply, name)
    fn.cordon_stamp = name
    transaction.on_commit(fn)


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


def watch(name: str, *models) -> None:
    """Bump ``name`` on every save and delete of ``models``."""
    for model in models:
        post_save.connect(lambda sender, **kw: bump(name), sender=model, weak=False,
                          dispatch_uid=f"stamp-{name}-{model._meta.label}-save")
        post_delete.connect(lambda sender, **kw: bump(name), sender=model, weak=False,
                            dispatch_uid=f"stamp-{name}-{model._meta.label}-delete")


def cached(names: tuple[str, ...], key: tuple, render, *, ttl: int = 90):
    """``render()``'s result for ``key`` while the stamps of ``names`` and the minute stay the same."""
    stamp = read(*names)
    # the page's own part (jurisdiction, query, language) as a digest: a long query or many grants would
    # otherwise make a key longer than shared caches accept (memcached: 250 characters)
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    full = f"{PREFIX}:" + ":".join(map(str, (*names, *stamp, f"{clock.now():%Y%m%d%H%M}", digest)))
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
