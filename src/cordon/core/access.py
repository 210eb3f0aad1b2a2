"""Jurisdiction scoping: the one way to read records under a user's grants (DESIGN.md #3).

A user holds grants (role, node). Each role has a set of permissions. ``Model.objects.for_user(user, perm)``
turns the grants whose role carries ``perm`` into a filter on the record's ancestor ids and denies by
default (no grant, no rows). Single objects come through ``access(...)``, which raises ``NotFound`` both for
"absent" and for "not yours", and ``Forbidden`` for an in-scope object the user may read but not change.
Pages, API, exports and CLI all use these.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

# ------------------------------------------------------------------------------------------ capabilities
# One role x capability table (ROLE_CAPS) that pages, API, navigation, exports and the CLI all read.
# docs/permissions.md renders it; tests/core/test_permissions.py checks the two agree and enumerates every
# page and API operation against it.

VIEW = "view"
READ_PERSONAL = "read_personal"
READ_HEALTH = "read_health"
CARE_READ = "care.read"
CARE_CREATE = "care.create"
CARE_DISPATCH = "care.dispatch"
CARE_SPECIAL = "care.special"
HOTLINE_READ = "hotline.read"
HOTLINE_WRITE = "hotline.write"
HOTLINE_ROSTER = "hotline.roster"
SUPPLIES_READ = "supplies.read"
SUPPLIES_WRITE = "supplies.write"
SUPPLIES_DELIVER = "supplies.deliver"
ZONES_WRITE = "zones.write"
CASES_WRITE = "cases.write"
SCREENING_WRITE = "screening.write"
PLACES_WRITE = "places.write"
UPLOAD = "upload"
COMMAND = "command"
CLOSE_DAY = "close_day"
UNMASK = "unmask"
EXPORT = "export"
AUDIT = "audit"
MANAGE_USERS = "manage_users"
KEYPLACES_READ = "keyplaces.read"
KEYPLACES_WRITE = "keyplaces.write"
KEYWORKERS_READ = "keyworkers.read"
KEYWORKERS_WRITE = "keyworkers.write"
PASSES_READ = "passes.read"
PASSES_ISSUE = "passes.issue"
PASSES_CHECK = "passes.check"
ORDERS_SEND = "orders.send"
ORDERS_RECEIVE = "orders.receive"
RESOURCES_READ = "resources.read"
RESOURCES_WRITE = "resources.write"
PHONE_USE = "phone.use"

#: What each capability opens (docs/permissions.md shows this text).
CAPABILITY_TEXT: dict[str, str] = {
    VIEW: ("operational, non-personal data: areas, risk areas, situation, bulletins, screening coverage, "
           "facility capacity"),
    READ_PERSONAL: "resident pages: name, birth date, flat, household; special groups",
    READ_HEALTH: "infections, contacts, orders, arrivals, placements, positives of persons",
    CARE_READ: "emergency medical requests (the board, a request, its KPIs)",
    CARE_CREATE: "receive a medical request (from a call or the community)",
    CARE_DISPATCH: "retriage, dispatch, advance, close; hospitals, vehicles, proactive tasks",
    CARE_SPECIAL: "special-group needs and the proactive task sync of sealed areas",
    HOTLINE_READ: "hotline tickets and the roster",
    HOTLINE_WRITE: "create, respond to, give feedback on and close tickets",
    HOTLINE_ROSTER: "add and remove shifts of the city-wide roster (needs a city-wide grant)",
    SUPPLIES_READ: "warehouses, stock, allocations, deliveries, price reports",
    SUPPLIES_WRITE: "stock movements, allocations, deliveries, warehouses, teams, items",
    SUPPLIES_DELIVER: ("confirm at the door that a planned delivery was delivered, or failed with its reason; the "
                       "planned deliveries themselves (household number, unit, item, quantity; no names) are read "
                       "on the field phone app"),
    ZONES_WRITE: "designate, adjust, lift, reseal risk areas; proposals",
    CASES_WRITE: "infections, contacts, orders, check-ins, facilities, arrivals, tasks",
    SCREENING_WRITE: "screening rounds, samples, results, retests",
    PLACES_WRITE: "residents and households (records, imports)",
    UPLOAD: ("the Files in page: upload files and follow their imports, of each kind whose own capability the "
             "role holds (residents: places.write; registrations, results: screening.write; counts: command; "
             "key workers: keyworkers.write)"),
    COMMAND: "city command: risk-area notices, bulletins (a second commander approves), outside-region levels",
    CLOSE_DAY: "sign off (and reopen, with a reason) a district's daily close",
    UNMASK: "reveal an ID number or phone (with a reason, audited)",
    EXPORT: ("files out: every list as CSV or XLSX with its page's filters (risk areas, people under orders, "
             "screening missing and recall lists, deliveries, tickets, care requests, special groups, arrivals, "
             "the audit log), within the jurisdiction where the list's own capability is held too, personal data "
             "masked (in full only with unmask over the whole export scope and a reason), each export audited; "
             "the daily report as PDF or JSON (the page's formats, `GET /api/situation/daily`, "
             "`cordon report daily --as USER`)"),
    AUDIT: "the audit log",
    MANAGE_USERS: "accounts and grants",
    KEYPLACES_READ: "key places (schools, hospitals, nursing homes, prisons, essential places): status, shifts, "
                    "entries and exits, on-site tests, breaches",
    KEYPLACES_WRITE: "register key places; change their status (open, closed loop, closed); shifts, entries, exits "
                     "and on-site test results",
    KEYWORKERS_READ: "key workers (riders, couriers, market staff, drivers, ...) and their test cadence; an employer "
                     "contact sees only their own employer's staff",
    KEYWORKERS_WRITE: "register key workers (one by one or from a file) and record their on-site samples",
    PASSES_READ: "passes for essential movement and the checkpoint log",
    PASSES_ISSUE: "issue, and revoke with a reason, passes for essential movement",
    PASSES_CHECK: "check a pass at a checkpoint (every check logged)",
    ORDERS_SEND: ("send command orders (指令) to units within the jurisdiction, revise or withdraw them, follow "
                  "their status matrix"),
    ORDERS_RECEIVE: "receive command orders addressed to one's unit: acknowledge, report progress, complete",
    RESOURCES_READ: "staff, volunteers, teams, shifts, vehicles, sampling teams and lab capacity; resource gaps",
    RESOURCES_WRITE: "register and assign staff, volunteers, teams, shifts, vehicles and lab capacity",
    PHONE_USE: ("the field phone app (/app/): the jurisdiction's buildings, households (masked), open tasks and today's "
                "lists kept offline on a registered device, changes queued there and synced through the same actions "
                "(each write still needs its own capability); the device's key is revoked by logging out or locking "
                "the account"),
}

#: Every capability, in the order the documentation lists them.
CAPABILITIES: tuple[str, ...] = tuple(CAPABILITY_TEXT)

#: Not capabilities but what a page or operation may declare instead: open to anyone, or to any signed-in user.
PUBLIC = "public"
SIGNED_IN = "signed_in"

_STAFF = frozenset({
    VIEW, READ_PERSONAL, READ_HEALTH, CARE_READ, CARE_CREATE, CARE_DISPATCH, CARE_SPECIAL, HOTLINE_READ,
    HOTLINE_WRITE, SUPPLIES_READ, SUPPLIES_WRITE, SUPPLIES_DELIVER, ZONES_WRITE, CASES_WRITE, SCREENING_WRITE,
    PLACES_WRITE, UPLOAD, UNMASK, EXPORT,
})

#: Key places, key workers and passes (issue 17): what jurisdiction staff above the community hold.
_KEY = frozenset({KEYPLACES_READ, KEYPLACES_WRITE, KEYWORKERS_READ, KEYWORKERS_WRITE, PASSES_READ})
#: Command orders and resources (issue 18) for jurisdiction staff.
_ORDERS = frozenset({ORDERS_RECEIVE, RESOURCES_READ, RESOURCES_WRITE})

#: What each role may do within its jurisdiction (MISSION.md "Who uses it"; least privilege, PIPL minimum
#: necessary). Hotline operators and logistics officers read no resident, contact or infection; hotline
#: operators create medical requests but do not triage, dispatch or close them; auditors are read-only.
#: Volunteers (志愿者) carry supplies to the doors of sealed buildings (终端配送) and read the playbooks (signed in):
#: on the phone app they see only the planned deliveries of their grant (a community, a compound or a building)
#: and confirm them; no resident, order or result (sampling help and check-ins stay with staff: both name people
#: and their health), no page of the operational data, nothing to manage.
ROLE_CAPS: dict[str, frozenset[str]] = {
    "commander": frozenset(_STAFF | _KEY | _ORDERS | {PASSES_ISSUE, PASSES_CHECK, ORDERS_SEND, HOTLINE_ROSTER,
                                                      COMMAND, CLOSE_DAY, AUDIT, MANAGE_USERS}),
    "district_officer": frozenset(_STAFF | _KEY | _ORDERS | {PASSES_ISSUE, PASSES_CHECK, ORDERS_SEND, CLOSE_DAY}),
    "street_officer": frozenset(_STAFF | _KEY | _ORDERS | {PASSES_ISSUE, PASSES_CHECK, PHONE_USE}),
    "community_worker": frozenset(_STAFF | {KEYPLACES_READ, KEYWORKERS_READ, KEYWORKERS_WRITE, PASSES_READ,
                                            ORDERS_RECEIVE, RESOURCES_READ, PHONE_USE}),
    "hotline_operator": frozenset({VIEW, CARE_READ, CARE_CREATE, HOTLINE_READ, HOTLINE_WRITE, HOTLINE_ROSTER,
                                   ORDERS_RECEIVE}),
    "medical_dispatcher": frozenset({VIEW, READ_PERSONAL, READ_HEALTH, CARE_READ, CARE_CREATE, CARE_DISPATCH,
                                     UNMASK, PASSES_READ, PASSES_ISSUE, ORDERS_RECEIVE, RESOURCES_READ}),
    "logistics_officer": frozenset({VIEW, SUPPLIES_READ, SUPPLIES_WRITE, SUPPLIES_DELIVER, PASSES_READ, PASSES_ISSUE,
                                    ORDERS_RECEIVE, RESOURCES_READ, RESOURCES_WRITE}),
    "keyplace_manager": frozenset({VIEW, KEYPLACES_READ, KEYPLACES_WRITE, ORDERS_RECEIVE}),
    "employer_contact": frozenset({KEYWORKERS_READ, KEYWORKERS_WRITE}),
    "checkpoint_officer": frozenset({PASSES_READ, PASSES_CHECK}),
    "volunteer": frozenset({PHONE_USE, SUPPLIES_DELIVER}),
    "auditor": frozenset({VIEW, READ_PERSONAL, READ_HEALTH, CARE_READ, HOTLINE_READ, SUPPLIES_READ, EXPORT,
                          AUDIT, KEYPLACES_READ, KEYWORKERS_READ, PASSES_READ, RESOURCES_READ}),
}

#: The name the table had before capabilities were split (kept for callers that read it).
ROLE_PERMS = ROLE_CAPS

#: ``write``: the older single write permission, kept as a name for code that still asks for it. A role
#: holds it when it holds every operational write (zones, cases, screening, places): jurisdiction staff.
WRITE = "write"
ALIASES: dict[str, frozenset[str]] = {WRITE: frozenset({ZONES_WRITE, CASES_WRITE, SCREENING_WRITE, PLACES_WRITE})}


def role_has(role: str, cap: str) -> bool:
    """Does ``role`` carry ``cap`` (or, for an alias, every capability it stands for)?"""
    caps = ROLE_CAPS.get(role, frozenset())
    if cap in ALIASES:
        return ALIASES[cap] <= caps
    return cap in caps


def check_role(role: str) -> str:
    """``role`` if it is a row of the table; ValueError naming the roles otherwise (createuser, actions)."""
    if role not in ROLE_CAPS:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLE_CAPS)}")
    return role


def caps_of(user) -> set[str]:
    """The capabilities the user holds somewhere (in any grant)."""
    return {c for g in grants_of(user) for c in ROLE_CAPS.get(g.role, ())}


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
        # core.models builds its scoped managers from this module, so the grant model is looked up by name
        cached = list(apps.get_model("core", "Grant").objects.filter(user=user).select_related("area"))
        user._cordon_grants = cached
    return cached


def roles_of(user) -> set[str]:
    return {g.role for g in grants_of(user)}


def has_perm(user, perm: str) -> bool:
    """Does the user hold ``perm`` (a capability) anywhere in their jurisdiction?"""
    if perm == SIGNED_IN:
        return bool(getattr(user, "is_authenticated", False) and user.is_active)
    if perm == PUBLIC:
        return True
    return any(role_has(g.role, perm) for g in grants_of(user))


def can(user, cap: str, record=None) -> bool:
    """May the user use ``cap`` at all, or, given ``record``, on this record (within the cap's scope)?

    Templates call this through ``{% can "read_health" inf %}`` / the ``can`` filter (web.templatetags), so a
    link is drawn only when its target would open for the viewer."""
    if record is None:
        return has_perm(user, cap)
    return scope_for(user, cap).contains(record)


def scope_for(user, perm: str = VIEW) -> Scope:
    """Where the user holds the capability ``perm``: the union of the grants whose role carries it."""
    return scope_of([g for g in grants_of(user) if role_has(g.role, perm)])


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


def access(model_or_qs, user, pk, *, write: bool = False, perm: str | None = None, read: str = VIEW):
    """Fetch one record the user may read under ``read`` (a capability, ``view`` by default); ``perm`` also
    demands that capability on it (``write=True``: the older general write).

    Raises NotFound (absent or out of scope) before Forbidden (in scope, not allowed), so a read-only
    user learns nothing more than an in-scope reader would. A model with the plain ``ScopedManager`` is read by
    its key and tested against the scope in Python (``_scoped_by_pk``: the same answer, no query built).
    """
    if isinstance(model_or_qs, type) and _read_by_key(model_or_qs):
        obj = _scoped_by_pk(model_or_qs, user, pk, read)
    else:
        qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs.objects.all()
        try:
            obj = qs.for_user(user, read).get(pk=pk)
        except (qs.model.DoesNotExist, ValueError, TypeError):
            raise NotFound from None
    need = perm or (WRITE if write else None)
    if need and not scope_for(user, need).contains(obj):
        raise Forbidden
    return obj


def _read_by_key(model) -> bool:
    """May ``model``'s records be read by key and tested with ``Scope.contains``? Its manager is the plain
    ``ScopedManager`` (no filtering of its own) and one table holds its rows (no parent, not a proxy)."""
    return type(getattr(model, "objects", None)) is ScopedManager and not model._meta.parents \
        and not model._meta.proxy


def _scoped_by_pk(model, user, pk, read: str):
    """``model.objects.for_user(user, read).get(pk=pk)`` for a model whose manager is the plain ``ScopedManager``:
    the row by its key (a statement compiled once, ``rows.by_pk``), then the scope's own test of its ancestor ids
    (``Scope.contains``, which keeps exactly the rows ``Scope.q`` selects). The API's one-record reads (a
    checkpoint's check reads its area every second) skip building and compiling a query."""
    from django.db import router

    from cordon.core import rows

    scope = scope_for(user, read)
    if scope.nothing:
        raise NotFound
    try:
        obj = rows.by_pk(model, pk, router.db_for_read(model))
    except (ValueError, TypeError, OverflowError):
        raise NotFound from None
    if obj is None or not scope.contains(obj):
        raise NotFound
    return obj


def scoped_by_pks(model, user, pks, read: str = VIEW) -> dict:
    """``{pk: record}`` of ``model.objects.for_user(user, read).filter(pk__in=pks)`` for a model with the plain
    ``ScopedManager``, read as ``_scoped_by_pk`` reads one: the rows by their keys (``rows.by_pks``, a statement
    compiled once per number of keys), kept when ``Scope.contains`` them. ValueError/TypeError for a key the
    field refuses."""
    from django.db import router

    from cordon.core import rows

    if not _read_by_key(model):
        raise TypeError(f"{model.__name__}: not read by key (its manager filters, or two tables hold a row)")
    scope = scope_for(user, read)
    if scope.nothing or not pks:
        return {}
    return {o.pk: o for o in rows.by_pks(model, pks, router.db_for_read(model)) if scope.contains(o)}


def require_in_scope(user, record, perm: str = WRITE) -> None:
    """Re-check, after a write inside the transaction, that the record is still within ``perm`` scope."""
    if not scope_for(user, perm).contains(record):
        raise Forbidden


# ------------------------------------------------------------------------------------------ declaring it

def require(cap: str):
    """Page decorator: the capability a page needs. Anonymous visitors go to the login page; a signed-in user
    without ``cap`` anywhere gets 403; NotFound raised inside answers 404 and Forbidden 403. The capability is
    kept on the view (``cordon_cap``) so a test can enumerate every URL against the table."""
    if cap not in CAPABILITIES and cap not in ALIASES and cap != SIGNED_IN:
        raise ValueError(f"unknown capability {cap!r}")

    def decorate(view):
        import functools

        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            from django.contrib.auth.views import redirect_to_login
            from django.core.exceptions import PermissionDenied
            from django.http import Http404

            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_perm(user, cap):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                raise Http404 from None
            except Forbidden:
                raise PermissionDenied from None

        wrapper.cordon_cap = cap
        return wrapper

    return decorate


def url_opens(user, url) -> bool:
    """Would the page at ``url`` (a path of this site, query ignored) open for ``user``, as far as the capability
    its view declares goes? Pages and reports that carry ready-made links (the situation sections, the daily
    report) drop the ones that would answer 403 (``drop_closed_links``). Records inside are already scoped."""
    from urllib.parse import urlsplit

    from django.urls import Resolver404, resolve

    if not url or not isinstance(url, str):
        return False
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return False
    cap = getattr(match.func, "cordon_cap", None)
    if cap is None or cap == PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return cap == SIGNED_IN or has_perm(user, cap)


def drop_closed_links(data, user, _memo=None):
    """``data`` (nested dicts and lists) with every link the user could not open set to None: a ``url`` value
    and every value of a ``links`` mapping. Works in place and returns ``data``."""
    memo = {} if _memo is None else _memo

    def opens(u):
        if u not in memo:
            memo[u] = url_opens(user, u)
        return memo[u]

    if isinstance(data, dict):
        for k, v in data.items():
            if k == "url" and isinstance(v, str):
                data[k] = v if opens(v) else None
            elif k == "links" and isinstance(v, dict):
                for lk, lv in v.items():
                    if isinstance(lv, str) and not opens(lv):
                        v[lk] = None
            else:
                drop_closed_links(v, user, memo)
    elif isinstance(data, list):
        for v in data:
            drop_closed_links(v, user, memo)
    return data


def public(view):
    """Page decorator: open to everyone (the public pages, the sign-in page)."""
    import functools

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    wrapper.cordon_cap = PUBLIC
    return wrapper


def declare_operations(router, caps: dict[str, str]) -> None:
    """The capability each API operation of ``router`` needs, by function name; call it at the end of the app's
    api module. Each operation then checks it right after authentication and before its input is read: 403
    when the signed-in user holds the capability nowhere (so a role without it learns nothing from validation
    answers either). An operation left out, or a name that is no operation, stops the start-up."""
    seen = set()
    for path_view in router.path_operations.values():
        for op in path_view.operations:
            name = op.view_func.__name__
            if name not in caps:
                raise LookupError(f"API operation {name} ({op.path}) declares no capability")
            cap = caps[name]
            if cap not in CAPABILITIES and cap not in ALIASES and cap != SIGNED_IN:
                raise ValueError(f"unknown capability {cap!r} for {name}")
            seen.add(name)
            if getattr(op.view_func, "cordon_cap", None) is not None:
                continue
            op.view_func.cordon_cap = cap
            deco = _operation_check(cap)
            # ninja's own way to decorate an operation's run (kept when a router is bound to the API)
            if not hasattr(op, "_run_decorators"):
                op._run_decorators = []
            op.run = deco(op.run)
            op._run_decorators.append(deco)
    unknown = set(caps) - seen
    if unknown:
        raise LookupError(f"capabilities declared for operations that do not exist: {sorted(unknown)}")


def _operation_check(cap: str):
    import functools

    def deco(run):
        @functools.wraps(run)
        def checked(request, *args, **kwargs):
            import inspect

            op = getattr(inspect.unwrap(run), "__self__", None)
            if op is None:
                raise RuntimeError("an API operation's capability check lost its operation")
            error = op._run_checks(request)  # authentication (401) and CSRF first
            if error:
                return error
            user = request.auth if getattr(request, "auth", None) is not None else request.user
            if not has_perm(user, cap):
                return op.api.on_exception(request, Forbidden())
            return run(request, *args, **kwargs)

        return checked

    return deco
