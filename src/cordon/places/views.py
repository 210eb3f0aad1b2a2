"""The jurisdiction's pages: the home page (the viewer's grants and the top of their jurisdiction), the area
list and an area's page (children, search below it, households of a unit), and a resident's page with the
audited reveal of an ID number or phone.

Thin: parse, authorize through ``core.access``, call ``places.actions``, render.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Prefetch, Q
from django.db.models.functions import Length
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.core.models import Role
from cordon.places import exports, hooks
from cordon.places.actions import do_read_resident_name, do_search_residents, do_unmask_resident
from cordon.places.queries import SEARCH_LIMIT, birth_shown
from cordon.places.forms import UnmaskForm
from cordon.places.models import SPECIAL_GROUP_LABELS, Area, Household, Resident, special_groups
from cordon.web import exports as web_exports
from cordon.web.pages import paginate, query_without_page, route, search_text, submit

HOME_TILES = 12
#: Records per section of the global search (one section alone, ``?in=``, shows up to SEARCH_LIMIT).
SECTION_LIMIT = 10


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
    Role.VOLUNTEER: "volunteer",
    Role.AUDITOR: "auditor",
}


# ---------------------------------------------------------------------------------------------- pages


@route("", "home")
@access.public
def home(request):
    if not request.user.is_authenticated:
        return render(request, "places/landing.html")
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
        "can_view": access.has_perm(user, access.VIEW),  # a checkpoint officer or employer contact reads no area
    }
    return render(request, "places/home.html", context)


@route("areas/", "area_list")
@access.require(access.VIEW)
def area_list(request):
    user = request.user
    q = search_text(request)
    context = {"q": q, "roots": scope_roots(user)}
    if q:
        qs = (Area.objects.for_user(user)
              .filter(Q(name__icontains=q) | Q(path__icontains=q))
              .order_by("depth", "path"))
        context["results"] = paginate(request, qs)
        context["querystring"] = query_without_page(request)
    return render(request, "places/area_list.html", context)


@route("areas/<int:pk>/", "area_detail")
@access.require(access.VIEW)
def area_detail(request, pk: int):
    user = request.user
    area = access.access(Area, user, pk)
    context = {
        "area": area,
        "crumbs": breadcrumb(user, area),
        "querystring": query_without_page(request),
    }
    context["personal"] = access.can(user, access.READ_PERSONAL, area)
    context["sections"] = hooks.sections(hooks.AREA_SECTIONS, user, area)
    context["sections_empty"] = hooks.empty(context["sections"])
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
        q = search_text(request)
        context["q"] = q
        if q:
            # Search below this node (the node is in scope, so everything under it is too).
            below = (Area.objects.for_user(user).filter(**access.within(area)).exclude(pk=area.pk)
                     .filter(Q(name__icontains=q) | Q(path__icontains=q)).order_by("depth", "path"))
            context["results"] = paginate(request, below)
        else:
            children = Area.objects.for_user(user).filter(parent=area).order_by("id")
            context["children"] = paginate(request, children)
    return render(request, "places/area_detail.html", context)


@route("areas/<int:pk>/print/visit/", "places_print_visit")
@access.require(access.READ_PERSONAL)
def print_visit(request, pk: int):
    """The households of a building or unit to visit, printed on A4 with boxes to tick at each door."""
    area = access.access(Area, request.user, pk, read=access.READ_PERSONAL)
    if area.kind not in ("building", "unit"):
        raise access.NotFound
    return web_exports.print_page(
        request, exports.households_listing(), exports.household_rows(request.user, area, clock.today()),
        title=_("Households to visit"), address=area.path, checks=(_("Visited"), _("No answer"), _("Note")))


@route("residents/<int:pk>/", "resident_detail")
@access.require(access.READ_PERSONAL)
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
            raise access.Forbidden
        form = UnmaskForm(request.POST)

        def act(c):
            revealed[c["field"]] = do_unmask_resident(resident, c["field"], actor=user, reason=c["reason"])
            return UnmaskForm(initial={"reason": c["reason"]})

        def fail(exc):
            nonlocal status
            status = 400
            if exc is not None:
                form.add_error(None, str(exc))
            return form

        form = submit(form, act, fail)
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
    context["sections"] = hooks.sections(hooks.RESIDENT_SECTIONS, user, resident)
    context["sections_empty"] = hooks.empty(context["sections"])
    response = render(request, "places/resident_detail.html", context, status=status)
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------- search


def area_section(user, q: str, limit: int) -> hooks.Section:
    s = hooks.Section(_("Addresses"), [_("Address"), _("Kind"), _("Residents")],
                      empty=_("No area in your jurisdiction matches."))
    found = list(Area.objects.for_user(user).filter(Q(name__icontains=q) | Q(path__icontains=q))
                 .order_by("depth", "path")[:limit + 1])
    for a in found[:limit]:
        s.add(reverse("area_detail", args=[a.pk]), a.path, a.get_kind_display(), a.population)
    s.more = len(found) > limit
    return s


def people_section(user, q: str, limit: int) -> hooks.Section | None:
    """Residents by name, ID number, its last digits or phone (masked as lists mask; audited)."""
    if not access.has_perm(user, access.READ_PERSONAL):
        return None
    s = hooks.Section(_("Residents"), [_("Name (masked)"), _("ID number"), _("Phone"), _("Flat")],
                      empty=_("No resident in your jurisdiction matches."))
    try:
        found = do_search_residents(q, actor=user)
    except ActionError as exc:
        s.empty = str(exc)
        return s
    for r in found.residents[:limit]:
        s.add(reverse("resident_detail", args=[r.pk]), ids.mask_name(r.name), ids.mask_id_number(r.id_number),
              ids.mask_phone(r.phone), r.household.number)
    s.more = found.more or len(found.residents) > limit
    return s


def search_sections(user, q: str, only: str, limit: int) -> list[tuple[str, hooks.Section]]:
    """``(key, section)`` of every search the user's roles may run (``only``: that one alone)."""
    providers = [("areas", area_section), ("people", people_section), *hooks.SEARCH]
    out = []
    for key, fn in providers:
        if only and key != only:
            continue
        section = fn(user, q, limit)
        if section is not None:
            out.append((key, section))
    return out


@route("search/", "search")
@access.require(access.VIEW)
def search(request):
    """The search box of every page: addresses, people, infections, orders, tickets, each within the user's
    jurisdiction and only for the roles that may read them."""
    user = request.user
    q = search_text(request)
    only = request.GET.get("in", "")
    sections = []
    if q:
        limit = SEARCH_LIMIT if only else SECTION_LIMIT
        for key, section in search_sections(user, q, only, limit):
            if section.more and not only:
                section.more_url = reverse("search") + "?" + urlencode({"q": q, "in": key})
            sections.append(section)
    return render(request, "places/search.html", {"q": q, "only": only, "sections": sections,
                                                  "sections_empty": hooks.empty(sections)})
