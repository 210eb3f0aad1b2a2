"""Public information: the address lookup and the published bulletins (no login, no personal data).

The lookup turns what a resident types ("五泉小区1号楼", "城关区/皋兰路街道/五泉社区/五泉小区/1号楼",
"五泉小区 1栋") into places by walking the address tree from the longest known name at the start of the
text down through the children (one indexed ``name IN (...)`` query per level, never a scan), then answers
the place's status from the designations above it, on it and below it (two indexed queries). Answers are
cached per process for ``LOOKUP_TTL`` seconds, so a rush of the same addresses costs a dictionary lookup.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import translation

from cordon.core import clock
from cordon.core.models import LEVELS
from cordon.situation import addressindex
from cordon.situation.addressindex import TOP_KINDS
from cordon.places.models import Area
from cordon.situation.models import Bulletin, BulletinStatus
from cordon.zones.models import Designation, Member, Status

LOOKUP_TTL = 30  # seconds an answer is reused (the public pages say max-age 60)
MAX_Q = 100
MAX_CANDIDATES = 50
MAX_MATCHES = 10
LEVEL_RANK = {"high": 3, "medium": 2, "low": 1}
_SEP = re.compile(r"[\s/\\,，、;；:：\-－—–·.。()（）]+")
_BUILDING = re.compile(r"(\d+)(?:号楼|号|栋|幢|号栋)(?=\d+单元|$)")
_GEN = "lookup-gen"
_ANC = tuple(f"{lv}_id" for lv in LEVELS)


def normalize(q: str) -> str:
    """Compact form of an address: full-width folded, separators dropped, 1栋/1幢/1号 -> 1号楼."""
    s = unicodedata.normalize("NFKC", q or "")[:MAX_Q]
    s = _SEP.sub("", s)
    return _BUILDING.sub(lambda m: f"{m.group(1)}号楼", s)


def _prefixes(s: str) -> list[str]:
    return [s[:i] for i in range(1, min(len(s), 80) + 1)]


def resolve(q: str, gen=None) -> tuple[list, str]:
    """Places matching ``q`` (deepest first, at most MAX_MATCHES) and the normalized text.

    Start: areas of a top kind whose name begins the text; then, level by level, children of the current
    candidates whose name begins what is left. A candidate that cannot go deeper stays as it is (the rest
    of the text, e.g. a door number, is ignored). Answered from the process's address index
    (``situation.addressindex``: no query once built); the same walk through the ORM (``resolve_db``) when
    the index declines the table."""
    ix = addressindex.get(cache.get(_GEN, 0) if gen is None else gen)
    if ix is None:
        return resolve_db(q)
    return resolve_indexed(ix, q)


def _walk(frontier: list, advance) -> list:
    """The walk both resolvers take down the levels: ``frontier`` holds (place, text still to match) pairs; a
    pair whose text is used up is done; the others go to ``advance(going, names)`` with every name their rest
    could start with, which answers the next frontier (places below, with what remains) and the pairs it could
    not take further (done where they stand). At most ``MAX_CANDIDATES`` go on at each level."""
    done = []
    for _level in range(len(LEVELS)):
        going = [(p, rest) for p, rest in frontier if rest]
        done += [(p, rest) for p, rest in frontier if not rest]
        if not going:
            break
        names = set()
        for rest in {rest for _p, rest in going}:
            names.update(_prefixes(rest))
        frontier, stuck = advance(going, names)
        done += stuck
        frontier = frontier[:MAX_CANDIDATES]
    else:
        done += frontier
    return done


def resolve_indexed(ix, q: str) -> tuple[list, str]:
    """``resolve_db`` step for step (same candidates, order and limits) over an ``addressindex.Index``."""
    s = normalize(q)
    if len(s) < 2:
        return [], s
    names_of, code, depth, ids, cols = ix.names, ix.code, ix.depth, ix.ids, ix.cols
    first = ix.top(_prefixes(s))[:MAX_CANDIDATES]

    def advance(going, names):
        rest_of = {ids[p]: rest for p, rest in going}
        found = [c for c in ix.below([p for p, _rest in going], names) if ids[c] not in rest_of]
        found.sort(key=ix.rank.__getitem__)  # by (depth, id)
        nxt, advanced = [], set()
        # the ancestor columns that can hold a candidate's id: its own level's (the index checks that)
        levels = sorted({ix.level[p] for p, _rest in going})
        for c in found[:MAX_CANDIDATES * 4]:
            cname = names_of[code[c]]
            d = depth[c]
            for lv in levels:
                if lv >= d:
                    break
                anc = cols[lv][c]
                rest = rest_of.get(anc) if anc else None
                if rest is not None and rest.startswith(cname):
                    nxt.append((c, rest[len(cname):]))
                    advanced.add(anc)
        return nxt, [(p, rest) for p, rest in going if ids[p] not in advanced]

    done = _walk([(p, s[len(names_of[code[p]]):]) for p in first], advance)
    if not done:
        return [], s
    best = min(len(rest) for _p, rest in done)
    keyed = sorted((-depth[p], ix.path(p), p) for p in {p for p, rest in done if len(rest) == best})
    return [ix.place(p, path) for _d, path, p in keyed[:MAX_MATCHES]], s


def resolve_db(q: str) -> tuple[list, str]:
    """``resolve`` through the ORM: one ``name IN (...)`` query per level."""
    s = normalize(q)
    if len(s) < 2:
        return [], s
    fields = ("id", "kind", "name", "path", "parent_id", "depth", *(f"{lv}_id" for lv in LEVELS))
    first = list(Area.objects.filter(name__in=_prefixes(s), kind__in=TOP_KINDS).only(*fields)
                 .order_by("depth", "id")[:MAX_CANDIDATES])

    def advance(going, names):
        rest_of = {a.pk: rest for a, rest in going}
        # descendants at any depth (a level may be skipped: "街道 + 小区" without the community)
        below = Q(pk__in=[])
        by_kind: dict = {}
        for a, _rest in going:
            by_kind.setdefault(a.kind, []).append(a.pk)
        for kind, ids in by_kind.items():
            below |= Q(**{f"{kind}_id__in": ids})
        children = list(Area.objects.filter(below, name__in=sorted(names)).exclude(pk__in=list(rest_of))
                        .only(*fields).order_by("depth", "id")[:MAX_CANDIDATES * 4])
        nxt, advanced = [], set()
        for c in children:
            for lv in LEVELS[: c.depth]:
                anc = getattr(c, f"{lv}_id")
                rest = rest_of.get(anc)
                if rest is not None and rest.startswith(c.name):
                    nxt.append((c, rest[len(c.name):]))
                    advanced.add(anc)
        return nxt, [(a, rest) for a, rest in going if a.pk not in advanced]

    done = _walk([(a, s[len(a.name):]) for a in first], advance)
    if not done:
        return [], s
    # best: the most text consumed, then the deepest place
    best = min(len(rest) for _a, rest in done)
    matches = sorted({a.pk: a for a, rest in done if len(rest) == best}.values(), key=lambda a: (-a.depth, a.path))
    return matches[:MAX_MATCHES], s


def _in_language(text: str) -> str:
    zh, _sep, en = (text or "").partition(" / ")
    lang = translation.get_language() or "zh"
    return zh if lang.startswith("zh") or not en else en


SNAPSHOT_TTL = 15  # seconds a process reuses its picture of the live designations
_snap: dict = {"at": -1e9, "gen": None, "by_id": {}, "by_anc": {}}


class _D:
    """A live designation as the lookup needs it (no model instance: cheap to hold thousands)."""

    __slots__ = ("id", "level", "status", "since", "next_level", "next_on", "observation_until", "public_reason")

    def __init__(self, row):
        (self.id, self.level, self.status, self.since, self.next_level, self.next_on, self.observation_until,
         self.public_reason) = row


def _snapshot(gen=None) -> dict:
    """Every live designation (active or under observation) and every extra member of its extent, indexed by
    the covered place's id and by each of its ancestors' ids: two queries per process every SNAPSHOT_TTL
    seconds (or after a publish in this process), then each lookup is answered without a query."""
    import time as _time

    now = _time.monotonic()
    if gen is None:
        gen = cache.get(_GEN, 0)
    if now - _snap["at"] < SNAPSHOT_TTL and _snap["gen"] == gen:
        return _snap
    live = (Status.ACTIVE, Status.OBSERVATION)
    anc = [f"area__{lv}_id" for lv in LEVELS]
    dcols = ("id", "level", "status", "since", "next_level", "next_on", "observation_until", "public_reason")
    by_id: dict = {}
    by_anc: dict = {}
    main = {}

    def add(d, x_id, x_path, x_kind, x_ids):
        e = (d, x_id, x_path, x_kind, frozenset(i for i in x_ids if i))
        by_id.setdefault(x_id, []).append(e)
        for i in e[4]:
            by_anc.setdefault(i, []).append(e)

    for row in (Designation.objects.filter(status__in=live).order_by()
                .values_list(*dcols, "area_id", "area__path", "area__kind", *anc)):
        d = _D(row[:8])
        main[d.id] = (d, row[8])
        add(d, row[8], row[9], row[10], row[11:])
    for row in (Member.objects.filter(removed_on__isnull=True, designation__status__in=live).order_by()
                .values_list("designation_id", "area_id", "area__path", "area__kind", *anc)):
        d, main_area = main.get(row[0], (None, None))
        if d is None or row[1] == main_area:
            continue
        add(d, row[1], row[2], row[3], row[4:])
    _snap.update(at=now, gen=gen, by_id=by_id, by_anc=by_anc)
    return _snap


def status_of(areas: list, gen=None) -> dict:
    """{area id: status dict} for places: the designations (active or under observation) covering each place
    (on it or an ancestor) or lying below it, from the process's snapshot (no query per lookup)."""
    if not areas:
        return {}
    snap = _snapshot(gen)
    out = {}
    for a in areas:
        ancestors = {x for x in map(a.__getattribute__, _ANC) if x} | {a.pk}
        found = []
        for i in ancestors:
            found += snap["by_id"].get(i, [])
        found += snap["by_anc"].get(a.pk, [])
        rows, seen = [], set()
        for d, x_id, x_path, x_kind, x_ids in found:
            if (d.id, x_id) in seen:
                continue
            seen.add((d.id, x_id))
            if x_id == a.pk:
                where = "this"
            elif x_id in ancestors:
                where = "above"
            elif a.pk in x_ids:
                where = "below"
            else:
                continue
            rows.append({
                "area": x_path, "area_kind": x_kind, "where": where, "level": d.level, "status": d.status,
                "since": d.since.isoformat() if d.since else None,
                "expected_change": ({"level": d.next_level, "on": d.next_on.isoformat()}
                                    if d.status == Status.ACTIVE and d.next_on and d.next_level else None),
                "observation_until": d.observation_until.isoformat() if d.observation_until else None,
                "reason": _in_language(d.public_reason),
            })
        rows.sort(key=lambda r: ({"this": 0, "above": 1, "below": 2}[r["where"]], -LEVEL_RANK.get(r["level"], 0),
                                 r["area"]))
        active = [r for r in rows if r["status"] == Status.ACTIVE and r["where"] in ("this", "above")]
        active_below = [r for r in rows if r["status"] == Status.ACTIVE and r["where"] == "below"]
        if active:
            top = max(active, key=lambda r: LEVEL_RANK.get(r["level"], 0))
            status = top["level"]
        elif active_below:
            top = max(active_below, key=lambda r: LEVEL_RANK.get(r["level"], 0))
            status = "partly_" + top["level"]
        elif any(r["status"] == Status.OBSERVATION and r["where"] != "below" for r in rows):
            status = "observation"
        else:
            status = "none"
        out[a.pk] = {"address": a.path, "kind": a.kind, "status": status, "designations": rows[:50],
                     "more": max(0, len(rows) - 50)}
    return out


def _answer(q: str, gen) -> dict:
    matches, norm = resolve(q, gen)
    statuses = status_of(matches, gen)
    return {"query": (q or "")[:MAX_Q], "normalized": norm, "updated": clock.now().isoformat(timespec="seconds"),
            "matches": [statuses[a.pk] for a in matches], "risk_areas": "/public/risk-areas"}


def _cached(kind: str, q: str, make):
    """``make(gen)`` for the query, cached per process for LOOKUP_TTL seconds under the published
    generation, the language and the normalized query."""
    norm = normalize(q)
    lang = (translation.get_language() or "zh")[:2]
    gen = cache.get(_GEN, 0)
    key = f"cordon:{kind}:{gen}:{lang}:{norm}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = make(gen)
    cache.set(key, value, LOOKUP_TTL)
    return value


def lookup(q: str) -> dict:
    """The lookup's answer (JSON-ready, cached per process for LOOKUP_TTL seconds)."""
    return _cached("lookup", q, lambda gen: _answer(q, gen))


def lookup_json(q: str) -> bytes:
    """The lookup's answer as JSON bytes, cached as bytes (a cache hit costs no serialisation)."""
    return _cached("lookupj", q, lambda gen: json.dumps(_answer(q, gen), ensure_ascii=False).encode())


EMPTY_JSON = json.dumps({"query": "", "matches": [], "risk_areas": "/public/risk-areas"}).encode()


def json_answer(raw_q: str | None) -> bytes:
    """The body of ``/public/lookup.json?q=raw_q`` (the view and ``PublicLookupMiddleware`` both send it)."""
    q = (raw_q or "").strip()[:MAX_Q]
    return lookup_json(q) if q else EMPTY_JSON


def invalidate() -> None:
    """Forget cached answers (in this process; others expire within LOOKUP_TTL)."""
    try:
        cache.incr(_GEN)
    except ValueError:
        cache.set(_GEN, 1, None)


# ------------------------------------------------------------------------------------------ bulletins

def published(limit: int = 90, before: dt.date | None = None):
    qs = Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).only("id", "day", "title", "published_at")
    if before:
        qs = qs.filter(day__lt=before)
    return list(qs.order_by("-day")[:limit])


def published_one(day: dt.date):
    return (Bulletin.objects.filter(status=BulletinStatus.PUBLISHED, day=day)
            .only("id", "day", "title", "text", "published_at").first())


def area_counts() -> dict:
    """Current high / medium / under-observation counts for the public hub: one grouped query."""
    out = {"high": 0, "medium": 0, "observation": 0}
    for status, level, n in (Designation.objects.filter(status__in=(Status.ACTIVE, Status.OBSERVATION)).order_by()
                             .values_list("status", "level").annotate(n=Count("id"))):
        if status == Status.ACTIVE and level in out:
            out[level] += n
        elif status == Status.OBSERVATION:
            out["observation"] += n
    return out
