"""Server-rendered pages. Thin: parse, authorize through ``core.access``, call actions, render.

Every page needs a login except the public ones (``PUBLIC``); single objects come through
``core.access.access`` (NotFound -> 404, Forbidden -> 403); lists through ``Model.objects.for_user``.
"""
from __future__ import annotations

import datetime as dt
import functools

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.db.models.functions import Length
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from cordon.core import access, clock, ids, stamps
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry, Role
from cordon.places.models import SPECIAL_GROUP_LABELS, Area, Household, Resident, special_groups
from cordon.web.forms import MAX_DAY, MAX_ID, MIN_DAY, AuditFilterForm, UnmaskForm

PAGE_SIZE = 50
HOME_TILES = 12


def scoped(view):
    """Map the access layer's exceptions to HTTP answers: NotFound -> 404, Forbidden -> 403 (``access.require``
    does this too; kept for pages that stack it)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except access.NotFound:
            raise Http404 from None
        except access.Forbidden:
            raise PermissionDenied from None

    return wrapper


def parse_id(value) -> int | None:
    """A positive 64-bit id written in ASCII digits, or None (absent, not a number, zero, beyond 64 bits)."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    n = int(value)
    return n if 0 < n <= MAX_ID else None


def query_id(request, name: str) -> int | None:
    """The positive id in ``request.GET[name]``, or None when absent or not a positive 64-bit integer."""
    return parse_id(request.GET.get(name))


def parse_day(value) -> dt.date | None:
    """A date from a query string within ``MIN_DAY`` .. ``MAX_DAY``; None when absent, malformed or outside."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return day if MIN_DAY <= day <= MAX_DAY else None


def posted_text(request, name: str, max_length: int, default: str = "") -> str:
    """Free text from a posted field read without a form: ``ActionError`` (the page shows it as a form
    error) for a NUL byte, a lone surrogate or more than ``max_length`` characters."""
    from django.utils.translation import gettext as _

    value = request.POST.get(name, default)
    if value is None:
        return value
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        raise ActionError(_("The text holds a character that is not valid Unicode."), field=name)
    if len(value) > max_length:
        raise ActionError(_("At most %(n)s characters.") % {"n": max_length}, field=name)
    return value


def paginate(request, qs, per_page: int = PAGE_SIZE):
    """The requested page of ``qs``; a page number that is not a number gives the first page, one beyond
    the last (however large) the last page."""
    paginator = Paginator(qs, per_page)
    number = (request.GET.get("page") or "").strip()
    if not (number.isascii() and number.isdigit()):
        return paginator.get_page(1)
    return paginator.get_page(min(int(number), MAX_ID))


def cached_part(request, domains: tuple[str, ...], name: str, build, cap: str = access.VIEW):
    """``build()``'s result for this page as this user sees it (their jurisdiction under ``cap``, the query, the
    language), reused until a change stamp of ``domains`` or the minute moves (``core.stamps``). For the list
    parts of pages a whole desk reloads."""
    key = (name, cap, access.scope_key(access.scope_for(request.user, cap)), request.GET.urlencode(),
           translation.get_language())
    return stamps.cached(domains, key, build)


def query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# ---------------------------------------------------------------------------------------------- helpers


def scope_roots(user) -> list[Area]:
    """The top nodes of the user's jurisdiction: districts for a city-wide grant, else the granted nodes
    that do not lie under another granted node."""
    scope = access.scope_for(user, access.VIEW)
    if scope.everything:
        return list(Area.objects.filter(kind="district").order_by("id"))
    granted = {}
    for g in access.grants_of(user):
        if g.area_id is not None and access.VIEW in access.ROLE_PERMS.get(g.role, ()):
            granted[g.area_id] = g.area
    roots = []
    for area in granted.values():
        ancestors = [getattr(area, f"{lv}_id") for lv in access.LEVELS[: area.depth]]
        if not any(a in granted for a in ancestors if a and a != area.pk):
            roots.append(area)
    return sorted(roots, key=lambda a: (a.depth, a.path))


def breadcrumb(user, area: Area) -> list[dict]:
    """Ancestors of ``area`` (excluding itself); only those in scope get a link."""
    scope = access.scope_for(user, access.VIEW)
    return [{"area": a, "link": scope.contains(a)} for a in area.ancestors() if a.pk != area.pk]


def resident_row(r: Resident, today) -> dict:
    groups = special_groups(r, today)
    return {
        "resident": r,
        "name": ids.mask_name(r.name),
        "id_number": ids.mask_id_number(r.id_number),
        "phone": ids.mask_phone(r.phone),
        "age": r.age_on(today),
        "groups": [(g, SPECIAL_GROUP_LABELS[g]) for g in groups],
    }


ROLE_BLURBS = {
    Role.COMMANDER: "commander",
    Role.DISTRICT_OFFICER: "officer",
    Role.STREET_OFFICER: "officer",
    Role.COMMUNITY_WORKER: "worker",
    Role.HOTLINE_OPERATOR: "hotline",
    Role.MEDICAL_DISPATCHER: "medical",
    Role.LOGISTICS_OFFICER: "logistics",
    Role.KEYPLACE_MANAGER: "keyplace",
    Role.AUDITOR: "auditor",
}


# ---------------------------------------------------------------------------------------------- pages


@access.public
def home(request):
    if not request.user.is_authenticated:
        return render(request, "web/landing.html")
    user = request.user
    grants = sorted(access.grants_of(user), key=lambda g: (g.area.depth if g.area_id else -1, g.role))
    roots = scope_roots(user)
    roles = {g.role for g in grants}
    root_children = []
    if len(roots) == 1 and roots[0].kind != "unit":
        root_children = list(Area.objects.for_user(user).filter(parent=roots[0]).order_by("id")[:HOME_TILES + 1])
    context = {
        "grants": [{"role": Role(g.role).label if g.role in Role.values else g.role,
                    "area": g.area} for g in grants],
        "roots": roots,
        "total_population": sum(a.population for a in roots),
        "root_children": root_children[:HOME_TILES],
        "root_children_more": len(root_children) > HOME_TILES,
        "blurbs": sorted({ROLE_BLURBS[r] for r in roles if r in ROLE_BLURBS}),
        "can_unmask": access.has_perm(user, access.UNMASK),
        "can_write": access.has_perm(user, access.WRITE),
        "can_read_personal": access.has_perm(user, access.READ_PERSONAL),
    }
    return render(request, "web/home.html", context)


@access.require(access.VIEW)
def area_list(request):
    user = request.user
    q = (request.GET.get("q") or "").strip()[:100]
    context = {"q": q, "roots": scope_roots(user)}
    if q:
        qs = (Area.objects.for_user(user)
              .filter(Q(name__icontains=q) | Q(path__icontains=q))
              .order_by("depth", "path"))
        context["results"] = paginate(request, qs)
        context["querystring"] = query_without_page(request)
    return render(request, "web/area_list.html", context)


@access.require(access.VIEW)
@scoped
def area_detail(request, pk: int):
    user = request.user
    area = access.access(Area, user, pk)
    context = {
        "area": area,
        "crumbs": breadcrumb(user, area),
        "querystring": query_without_page(request),
    }
    context["personal"] = access.can(user, access.READ_PERSONAL, area)
    if area.kind == "unit" and context["personal"]:
        today = clock.today()
        households = (Household.objects.for_user(user, access.READ_PERSONAL).filter(unit=area)
                      .order_by(Length("number"), "number")
                      .prefetch_related(Prefetch("residents", queryset=Resident.objects.order_by("birth_date", "id"))))
        page = paginate(request, households, 20)
        context["households"] = page
        context["household_rows"] = [
            {"household": hh, "residents": [resident_row(r, today) for r in hh.residents.all()]}
            for hh in page.object_list
        ]
    elif area.kind != "unit":
        q = (request.GET.get("q") or "").strip()[:100]
        context["q"] = q
        if q:
            # Search below this node (the node is in scope, so everything under it is too).
            below = (Area.objects.for_user(user).filter(**access.within(area)).exclude(pk=area.pk)
                     .filter(Q(name__icontains=q) | Q(path__icontains=q)).order_by("depth", "path"))
            context["results"] = paginate(request, below)
        else:
            children = Area.objects.for_user(user).filter(parent=area).order_by("id")
            context["children"] = paginate(request, children)
    return render(request, "web/area_detail.html", context)


@access.require(access.READ_PERSONAL)
@scoped
@require_http_methods(["GET", "POST"])
def resident_detail(request, pk: int):
    user = request.user
    resident = access.access(Resident.objects.select_related("household"), user, pk, read=access.READ_PERSONAL)
    can_unmask = access.scope_for(user, access.UNMASK).contains(resident)
    revealed = {}
    form = UnmaskForm()
    status = 200
    if request.method == "POST":
        if not can_unmask:
            raise PermissionDenied
        form = UnmaskForm(request.POST)
        if form.is_valid():
            field = form.cleaned_data["field"]
            try:
                revealed[field] = do_unmask(resident, field, user, form.cleaned_data["reason"])
            except ActionError as exc:
                form.add_error(None, str(exc))
                status = 400
            form = UnmaskForm(initial={"reason": form.cleaned_data["reason"]}) if revealed else form
        else:
            status = 400
    from cordon.places.actions import do_read_resident_name
    from cordon.places.queries import birth_shown

    today = clock.today()
    unit = Area.objects.filter(pk=resident.unit_id).first()
    context = {
        "resident": resident,
        "row": resident_row(resident, today),
        # The full name for users who may read personal data here (audited), the masked name otherwise;
        # the birth year only, unless the ID number itself was revealed (see places.queries.birth_shown).
        # (after a reveal, that audit row already records this view of the resident: no second row)
        "name": resident.name if revealed else do_read_resident_name(resident, actor=user),
        "unit": unit,
        "crumbs": breadcrumb(user, unit) + [{"area": unit, "link": True}] if unit else [],
        "birth": birth_shown(resident, id_revealed="id_number" in revealed),
        "can_unmask": can_unmask,
        "form": form,
        "revealed": revealed,
    }
    response = render(request, "web/resident_detail.html", context, status=status)
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


def do_unmask(resident, field, user, reason):
    from cordon.places.actions import do_unmask_resident

    return do_unmask_resident(resident, field, actor=user, reason=reason)


@access.require(access.AUDIT)
def audit_list(request):
    user = request.user
    qs = AuditEntry.objects.for_user(user, access.AUDIT)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        if d.get("actor"):
            qs = qs.filter(actor_name__icontains=d["actor"])
        if d.get("action"):
            qs = qs.filter(action__startswith=d["action"])
        if d.get("object_type"):
            qs = qs.filter(object_type=d["object_type"])
        if d.get("date_from"):
            qs = qs.filter(at__date__gte=d["date_from"])
        if d.get("date_to"):
            qs = qs.filter(at__date__lte=d["date_to"])
        if d.get("text"):
            t = d["text"]
            qs = qs.filter(Q(object_repr__icontains=t) | Q(reason__icontains=t) | Q(object_id=t)
                           | Q(rule__icontains=t))
    page = paginate(request, qs.order_by("-at", "-id"))
    return render(request, "web/audit_list.html", {
        "form": form, "entries": page, "querystring": query_without_page(request),
    })

