"""Jurisdiction scoping: the one way to read records under a user's grants (DESIGN.md #3).

A user holds grants (role, node). Each role has a set of permissions. ``Model.objects.for_user(user, perm)``
turns the grants whose role carries ``perm`` into a filter on the record's ancestor ids and denies by
default (no grant, no rows). Single objects come through ``access(...)``, which raises ``NotFound`` both for
"absent" and for "not yours", and ``Forbidden`` for an in-scope object the user may read but not change.
Pages, API, exports and CLI all use these.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

VIEW = "view"
WRITE = "write"
UNMASK = "unmask"
AUDIT = "audit"
MANAGE_USERS = "manage_users"

#: What each role may do within its jurisdiction. Auditors are read-only.
ROLE_PERMS: dict[str, frozenset[str]] = {
    "commander": frozenset({VIEW, WRITE, UNMASK, AUDIT, MANAGE_USERS}),
    "district_officer": frozenset({VIEW, WRITE, UNMASK}),
    "street_officer": frozenset({VIEW, WRITE, UNMASK}),
    "community_worker": frozenset({VIEW, WRITE, UNMASK}),
    "hotline_operator": frozenset({VIEW}),
    "medical_dispatcher": frozenset({VIEW, UNMASK}),
    "logistics_officer": frozenset({VIEW}),
    "keyplace_manager": frozenset({VIEW}),
    "auditor": frozenset({VIEW, AUDIT}),
}

#: The jurisdiction levels, largest first; every scoped record carries an ancestor id per level.
LEVELS = ("district", "street", "community", "compound", "building", "unit")


class NotFound(Exception):
    """Absent, or outside the user's jurisdiction: the same answer for both."""


class Forbidden(Exception):
    """In scope, but the user's roles do not allow this (e.g. a write by a read-only user)."""


@dataclass(frozen=True)
class Scope:
    """The part of the city where a user holds ``perm``: everything, nothing, or ids per level."""

    everything: bool
    by_level: dict[str, frozenset[int]]
    #: For each granted node below district level: the ids of its ancestors at the levels above it. The filter
    #: names them too (``district_id = d AND street_id = s AND community_id IN (...)``), so one composite
    #: (district, street, community, ...) index answers every level on the tables written most (orders, audit
    #: rows), which then keep no per-level indexes. Records carry self-inclusive ancestor ids, so the extra
    #: conditions never change which rows match.
    above: dict[int, tuple[tuple[str, int], ...]] = field(default_factory=dict)

    @property
    def nothing(self) -> bool:
        return not self.everything and not any(self.by_level.values())

    def q(self) -> models.Q:
        if self.everything:
            return models.Q()
        q = models.Q(pk__in=[])
        for level, ids in self.by_level.items():
            groups: dict[tuple, list[int]] = {}
            for i in sorted(ids):
                groups.setdefault(self.above.get(i, ()), []).append(i)
            for chain, members in groups.items():
                q |= models.Q(**{f"{lv}_id": a for lv, a in chain}, **{f"{level}_id__in": members})
        return q

    def contains(self, record) -> bool:
        if self.everything:
            return True
        return any(getattr(record, f"{lv}_id", None) in ids for lv, ids in self.by_level.items() if ids)


def grants_of(user):
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_cordon_grants", None)
    if cached is None:
        from cordon.core.models import Grant

        cached = list(Grant.objects.filter(user=user).select_related("area"))
        user._cordon_grants = cached
    return cached


def roles_of(user) -> set[str]:
    return {g.role for g in grants_of(user)}


def has_perm(user, perm: str) -> bool:
    return any(perm in ROLE_PERMS.get(g.role, ()) for g in grants_of(user))


def scope_for(user, perm: str = VIEW) -> Scope:
    return scope_of([g for g in grants_of(user) if perm in ROLE_PERMS.get(g.role, ())])


def scope_key(scope: Scope) -> str:
    """A short text naming the scope (for cache keys): the same for the same jurisdiction."""
    if scope.everything:
        return "all"
    return ";".join(f"{lv}={','.join(map(str, sorted(ids)))}" for lv, ids in scope.by_level.items() if ids) or "none"


def scope_of(grants) -> Scope:
    """The scope of these grants (each a role over a node, or over the whole city when ``area`` is None)."""
    everything = False
    by_level: dict[str, set[int]] = {lv: set() for lv in LEVELS}
    above: dict[int, tuple[tuple[str, int], ...]] = {}
    for g in grants:
        if g.area_id is None:
            everything = True
        else:
            by_level[g.area.kind].add(g.area_id)
            above[g.area_id] = ancestors_above(g.area)
    return Scope(everything, {k: frozenset(v) for k, v in by_level.items()}, above)


def ancestors_above(area) -> tuple[tuple[str, int], ...]:
    """(level, id) of the area's ancestors at the levels above its own, largest first."""
    if area.kind not in LEVELS:
        return ()
    return tuple((lv, getattr(area, f"{lv}_id")) for lv in LEVELS[:LEVELS.index(area.kind)]
                 if getattr(area, f"{lv}_id", None) is not None)


def within(area) -> dict[str, int]:
    """Filter keywords for records inside ``area``: its ancestor chain down to it (see ``Scope.above``)."""
    return {**{f"{lv}_id": a for lv, a in ancestors_above(area)}, f"{area.kind}_id": area.pk}


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user, perm: str = VIEW):
        scope = scope_for(user, perm)
        if scope.everything:
            return self
        if scope.nothing:
            return self.none()
        return self.filter(scope.q())


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass


class AppendOnlyQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise RuntimeError("audit entries are append-only")

    def delete(self):
        raise RuntimeError("audit entries are append-only")


class AppendOnlyManager(models.Manager.from_queryset(AppendOnlyQuerySet)):
    pass


def access(model_or_qs, user, pk, *, write: bool = False, perm: str | None = None):
    """Fetch one record the user may see; ``write=True`` also demands the write permission.

    Raises NotFound (absent or out of scope) before Forbidden (in scope, not allowed), so a read-only
    user learns nothing more than an in-scope reader would.
    """
    qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs.objects.all()
    try:
        obj = qs.for_user(user, VIEW).get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound from None
    need = perm or (WRITE if write else None)
    if need and not scope_for(user, need).contains(obj):
        raise Forbidden
    return obj


def require_in_scope(user, record, perm: str = WRITE) -> None:
    """Re-check, after a write inside the transaction, that the record is still within ``perm`` scope."""
    if not scope_for(user, perm).contains(record):
        raise Forbidden
