"""A per-process, in-memory index of the address tree for the public lookup (``situation.public.resolve``).

The lookup walks the ``Area`` tree from the longest known name at the start of the text down through the
descendants. Done with the ORM, a miss costs one ``name IN (...)`` query per level; this index answers the
same questions from memory, with the same results (same candidates, same order, same limits):

- every area's id, kind, depth, name (as a code into one list of distinct names) and ancestor ids per level
  (``district_id`` .. ``unit_id``, self-inclusive) in ``array`` columns, rows in tree order (sorted by the
  ancestor-id tuple, so a node's descendants are the contiguous rows after it: ``[pos, end[pos])``);
- the rows grouped by name (one array of positions plus offsets per name code), so "descendants of X named
  N" is two bisections;
- the district/street/community/compound rows by name, for the first step.

Built lazily with one streamed ``values_list`` query (~330 k rows at 4.4 M residents: 21 MB of arrays and
dictionaries, ~30 MB of process memory once the build's temporaries are returned, ~1.1 s; see ``stats()``),
checked against the table at most every ``CHECK_SECONDS`` (row count and largest id: areas are only ever
added) and after ``public.invalidate()``; an ``Area`` saved or deleted in this process marks it stale at once.
While one thread rebuilds, the others keep answering from the previous index. If the table breaks an
assumption (an unknown kind, ancestor ids that do not nest, a path that is not the names joined by
"/"), the index declines (``get()`` returns None) and the lookup uses the ORM.
"""
from __future__ import annotations

import threading
import time
from array import array
from bisect import bisect_left

from cordon.core.models import LEVELS
from cordon.places.models import Area

assert LEVELS == ("district", "street", "community", "compound", "building", "unit")  # Place.district_id ...

#: The kinds a look-up's first name may be (a public address starts at a district, street, community or compound).
TOP_KINDS = ("district", "street", "community", "compound")
CHECK_SECONDS = 10.0  # at most this often a process compares its index with the Area table
_LEVEL = {k: i for i, k in enumerate(LEVELS)}


class Place:
    """What the lookup needs of an area (the attributes of an ``Area`` it reads), without a model instance."""

    __slots__ = ("pk", "id", "kind", "name", "path", "depth", *(f"{lv}_id" for lv in LEVELS))

    def __repr__(self) -> str:
        return f"<Place {self.pk} {self.path}>"


class Index:
    def __init__(self):
        self.usable = False
        self.why = ""
        self.signature = None
        self.n = 0
        self.build_s = 0.0

    # -------------------------------------------------------------------------------------- queries

    def top(self, names) -> list[int]:
        """Positions of district/street/community/compound rows named one of ``names``, by (depth, id)."""
        out = []
        for nm in names:
            t = self.top_by_name.get(nm)
            if t is not None:
                out.extend(t)
        out.sort(key=self.rank.__getitem__)
        return out

    def below(self, positions, names) -> set[int]:
        """Positions of rows named one of ``names`` among the descendants (self included) of ``positions``."""
        codes = [c for c in map(self.code_of.get, names) if c is not None]
        found: set[int] = set()
        if not codes:
            return found
        by_name, off, end = self.by_name, self.name_off, self.end
        add = found.add
        for c in codes:
            a0, a1 = off[c], off[c + 1]
            for p in positions:
                i = bisect_left(by_name, p, a0, a1)
                hi = end[p]
                while i < a1:
                    q = by_name[i]
                    if q >= hi:
                        break
                    add(q)
                    i += 1
        return found

    def name(self, p: int) -> str:
        return self.names[self.code[p]]

    def pos_of_id(self, area_id: int) -> int | None:
        i = bisect_left(self.id_sorted, area_id)
        if i < self.n and self.id_sorted[i] == area_id:
            return self.pos_by_id[i]
        return None

    def _path(self, p: int) -> str:
        parts = []
        for lv in range(self.level[p]):
            a = self.cols[lv][p]
            if a:
                parts.append(self.name(self.pos_of_id(a)))
        parts.append(self.name(p))
        return "/".join(parts)

    def path(self, p: int) -> str:
        """The names of p's ancestors and p joined by "/" (the district..compound paths are kept)."""
        top = self.top_path
        tail = []
        while p not in top:
            tail.append(self.names[self.code[p]])
            p = self.parent[p]
        if not tail:
            return top[p]
        tail.append(top[p])
        return "/".join(reversed(tail))

    def place(self, p: int, path: str | None = None) -> Place:
        x = Place()
        x.pk = x.id = self.ids[p]
        x.kind = LEVELS[self.level[p]]
        x.name = self.name(p)
        x.path = self.path(p) if path is None else path
        x.depth = self.depth[p]
        c = self.cols
        (x.district_id, x.street_id, x.community_id, x.compound_id, x.building_id, x.unit_id) = (
            c[0][p] or None, c[1][p] or None, c[2][p] or None, c[3][p] or None, c[4][p] or None, c[5][p] or None)
        return x

    def nbytes(self) -> int:
        """Approximate memory held (arrays, dictionaries, distinct names)."""
        import sys

        size = sum(a.buffer_info()[1] * a.itemsize for a in (
            self.ids, self.level, self.depth, self.rank, self.code, self.end, self.parent, self.by_name, self.name_off, self.id_sorted,
            self.pos_by_id, *self.cols))
        size += sys.getsizeof(self.names) + sum(sys.getsizeof(s) for s in self.names)
        size += sys.getsizeof(self.code_of) + sys.getsizeof(self.top_by_name) + sys.getsizeof(self.top_path)
        size += sum(sys.getsizeof(t) for t in self.top_by_name.values())
        size += sum(sys.getsizeof(t) for t in self.top_path.values())
        return size


def _signature():
    from django.db.models import Count, Max

    r = Area.objects.order_by().aggregate(n=Count("id"), m=Max("id"))
    return (r["n"], r["m"])


def build() -> Index:
    """Read the Area table (one streamed query) into a new Index."""
    import numpy as np

    t0 = time.perf_counter()
    ix = Index()
    ix.signature = _signature()
    ids, level, depth, code = array("q"), array("b"), array("h"), array("i")
    cols = [array("q") for _ in LEVELS]
    code_of: dict[str, int] = {}
    names: list[str] = []
    anc = [f"{lv}_id" for lv in LEVELS]
    for row in (Area.objects.order_by().values_list("id", "kind", "name", "depth", *anc)
                .iterator(chunk_size=5_000)):
        lv = _LEVEL.get(row[1])
        if lv is None:
            ix.why = f"unknown kind {row[1]!r}"
            return ix
        ids.append(row[0])
        level.append(lv)
        depth.append(row[3])
        c = code_of.get(row[2])
        if c is None:
            c = code_of[row[2]] = len(names)
            names.append(row[2])
        code.append(c)
        for i in range(len(LEVELS)):
            cols[i].append(row[4 + i] or 0)
    n = len(ids)
    ix.n = n
    a_ids = np.frombuffer(ids, dtype=np.int64)
    a_lv = np.frombuffer(level, dtype=np.int8).astype(np.int64)
    a_cols = np.stack([np.frombuffer(c, dtype=np.int64) for c in cols]) if n else np.zeros((len(LEVELS), 0), np.int64)
    del cols  # copied into a_cols
    rows = np.arange(n)
    if n and int(a_ids.min()) < 1:
        ix.why = "an area id below 1"
        return ix
    # each row is its own ancestor at its level, and has no ancestor ids below its level
    if n and not (a_cols[a_lv, rows] == a_ids).all():
        ix.why = "an area's own level column is not its id"
        return ix
    deeper = np.arange(len(LEVELS))[:, None] > a_lv[None, :]
    if n and (a_cols[deeper] != 0).any():
        ix.why = "an area has ancestor ids below its own level"
        return ix
    order = np.lexsort(a_cols[::-1]) if n else rows  # tree order: by (district, street, ..., unit) id
    s_cols = a_cols[:, order]
    s_ids, s_lv = a_ids[order], a_lv[order]
    # [p, end[p]) are the rows sharing p's id in p's level column: its subtree, if the ids nest
    end = np.zeros(n, dtype=np.int64)
    for lv in range(len(LEVELS)):
        col = s_cols[lv]
        change = np.ones(n, dtype=bool)
        change[1:] = col[1:] != col[:-1]
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], n)
        run = np.cumsum(change) - 1
        nz = col[starts] != 0
        if nz.sum() != len(np.unique(col[col != 0])):
            ix.why = f"the {LEVELS[lv]} ids do not nest"
            return ix
        mine = s_lv == lv
        if (starts[run[mine]] != np.flatnonzero(mine)).any():
            ix.why = f"a {LEVELS[lv]} does not come before its descendants"
            return ix
        end[mine] = ends[run[mine]]
    # an ancestor column holds ids of areas of its own level only
    id_order = np.argsort(s_ids, kind="stable")
    s_depth = np.frombuffer(depth, dtype=np.int16)[order]
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((s_ids, s_depth))] = np.arange(n)
    for lv in range(len(LEVELS)):
        vals = s_cols[lv][s_cols[lv] != 0]
        at = np.searchsorted(s_ids[id_order], vals)
        if len(vals) and ((at >= n).any() or (s_ids[id_order[np.minimum(at, n - 1)]] != vals).any()
                          or (s_lv[id_order[np.minimum(at, n - 1)]] != lv).any()):
            ix.why = f"a {LEVELS[lv]} column holds an id that is not a {LEVELS[lv]}"
            return ix
    s_code = np.frombuffer(code, dtype=np.int32)[order]
    by_name = np.lexsort((np.arange(n), s_code)) if n else rows
    counts = np.bincount(s_code, minlength=len(names)) if n else np.zeros(len(names), np.int64)
    name_off = np.concatenate([[0], np.cumsum(counts)])
    wide = "q" if n and int(s_ids.max()) >= 2**31 else "i"

    def arr(typecode, a, dtype):
        out = array(typecode)
        out.frombytes(np.ascontiguousarray(a, dtype=dtype).tobytes())
        return out

    i32 = np.int32
    ix.ids = arr(wide, s_ids, np.int64 if wide == "q" else i32)
    ix.level = arr("b", s_lv, np.int8)
    ix.depth = arr("h", s_depth, np.int16)
    ix.rank = arr("i", rank, i32)  # sorting positions by rank = by (depth, id)
    ix.code = arr("i", s_code, i32)
    ix.cols = tuple(arr(wide, s_cols[lv], np.int64 if wide == "q" else i32) for lv in range(len(LEVELS)))
    ix.end = arr("i", end, i32)
    ix.by_name = arr("i", by_name, i32)
    ix.name_off = arr("i", name_off, i32)
    ix.id_sorted = arr(wide, s_ids[id_order], np.int64 if wide == "q" else i32)
    ix.pos_by_id = arr("i", id_order, i32)
    ix.names = names
    ix.code_of = code_of
    del ids, level, depth, code, a_ids, a_lv, a_cols, deeper
    # parent = the nearest ancestor (the deepest non-zero ancestor column above the row's own level)
    parent_id = np.zeros(n, dtype=np.int64)
    for lv in range(len(LEVELS) - 1):
        above = s_lv > lv
        parent_id[above & (s_cols[lv] != 0)] = s_cols[lv][above & (s_cols[lv] != 0)]
    has = parent_id != 0
    parent = np.full(n, -1, dtype=np.int64)
    parent[has] = id_order[np.searchsorted(s_ids[id_order], parent_id[has])]
    if n and (s_ids[parent[has]] != parent_id[has]).any():
        ix.why = "an ancestor id names no area"
        return ix
    top_lv = {_LEVEL[k] for k in TOP_KINDS}
    if n and ((parent < 0) & (s_lv > max(top_lv))).any():
        ix.why = "a building or unit without an ancestor"
        return ix
    ix.parent = arr("i", parent, i32)
    del s_cols, parent_id, parent
    top: dict[str, list[int]] = {}
    top_path: dict[int, str] = {}
    lv_arr = ix.level
    for p in range(n):
        if lv_arr[p] in top_lv:
            top.setdefault(names[ix.code[p]], []).append(p)
            top_path[p] = ix._path(p)
    ix.top_by_name = {k: tuple(sorted(v, key=ix.rank.__getitem__)) for k, v in top.items()}
    ix.top_path = top_path
    # the stored path must be the names joined by "/": check a sample against the table
    if n:
        step = max(1, n // 64)
        sample = {ix.ids[p]: p for p in range(0, n, step)}
        sample[ix.ids[n - 1]] = n - 1
        for pk, stored in Area.objects.filter(pk__in=list(sample)).values_list("id", "path"):
            if ix.path(sample[pk]) != stored:
                ix.why = f"area {pk}: path {stored!r} is not its names joined by '/'"
                return ix
    ix.usable = True
    ix.build_s = time.perf_counter() - t0
    return ix


_lock = threading.Lock()
_state = {"ix": None, "checked": -1e9, "gen": None, "stale": True}


def mark_stale(*_args, **_kwargs) -> None:
    _state["stale"] = True


def get(gen=None) -> Index | None:
    """This process's index, fresh to within CHECK_SECONDS (None when the table does not fit the index).

    ``gen`` is the lookup generation (``public.invalidate()`` bumps it): a new one triggers a check."""
    ix = _state["ix"]
    now = time.monotonic()
    if ix is not None and not _state["stale"] and _state["gen"] == gen and now - _state["checked"] < CHECK_SECONDS:
        return ix if ix.usable else None
    if ix is not None and not _lock.acquire(blocking=False):
        return ix if ix.usable else None  # another thread is checking or rebuilding: answer from the old one
    if ix is None:
        _lock.acquire()
    try:
        ix = _state["ix"]
        if ix is not None and not _state["stale"] and _state["gen"] == gen and \
                time.monotonic() - _state["checked"] < CHECK_SECONDS:
            return ix if ix.usable else None
        stale = _state["stale"]
        _state["stale"] = False
        if ix is None or stale or _signature() != ix.signature:
            ix = build()
            _state["ix"] = ix
            _trim()
        _state["checked"] = time.monotonic()
        _state["gen"] = gen
        return ix if ix.usable else None
    finally:
        _lock.release()


def _trim() -> None:
    """Hand the build's freed temporaries (rows, numpy work arrays: ~80 MB at 4.4 M) back to the system (glibc)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def stats() -> dict:
    """The current index's size and build time (for benches and the operator)."""
    ix = _state["ix"]
    if ix is None:
        return {"built": False}
    return {"built": True, "usable": ix.usable, "why": ix.why, "areas": ix.n, "names": len(getattr(ix, "names", ())),
            "bytes": ix.nbytes() if ix.usable else None, "mb": round(ix.nbytes() / 1e6, 1) if ix.usable else None,
            "build_s": round(ix.build_s, 2)}


def _connect() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(mark_stale, sender="places.Area", dispatch_uid="cordon-addressindex-save")
    post_delete.connect(mark_stale, sender="places.Area", dispatch_uid="cordon-addressindex-delete")


_connect()
