"""Resources pages: who is on duty where on a day (with the gaps: sealed buildings without a volunteer, labs
over capacity for the next round), staff and volunteers, teams, vehicles, labs, and what each area has and
uses. Phone-first lists; thin: parse, authorize (``for_user`` / ``access.access``), call the actions, render."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.care import perms
from cordon.core import access, clock, ids
from cordon.places.models import Area
from cordon.places.queries import area_of
from cordon.resources import actions, exports, forms, queries
from cordon.resources.models import Lab, Person, PersonKind, Shift, Skill, Team, Van
from cordon.web import exports as web_exports
from cordon.web.pages import (FORM_PAGE, attempt, choice_label, done, form_context, form_page, paginate, posted,
                              posted_text, query_day, query_id, query_without_page, route, search_text)

W = access.RESOURCES_WRITE
R = access.RESOURCES_READ
_kind_label = choice_label(Person, "kind")
_skill_label = dict(Skill.choices)
CHOICES_MAX = 300  # a form's choice list of teams, people or vans


def _area_filter(request) -> Area | None:
    value = (request.GET.get("area") or "").strip()
    if not value:
        return None
    try:
        return area_of(request.user, value, perm=R)
    except (access.NotFound, access.Forbidden):
        raise access.NotFound from None


def _write_area(user, value):
    return perms.area_by_path(user, value, W)


def _pick(model, user, pk):
    """The record a form's choice names, within the user's write jurisdiction; None for no choice."""
    return access.access(model, user, pk, perm=W, read=R) if pk is not None else None


def _choices(qs, label, blank=True):
    out = [(o.pk, label(o)) for o in qs[:CHOICES_MAX]]
    return ([("", "—")] if blank else []) + out


def _shifts(request):
    """The shifts of the day page's filters (the page and its export). Its area box takes an area (id or address
    path) or, as the other lists' search boxes, any part of a path ("五泉", "6号楼"): the shifts of the areas whose
    path holds it, none when none does."""
    qs = Shift.objects.for_user(request.user, R)
    try:
        area = _area_filter(request)
    except access.NotFound:
        area, qs = None, qs.filter(area__path__icontains=(request.GET.get("area") or "").strip().strip("/")[:200])
    return queries.shift_list(qs, query_day(request), area=area)


@route("resources/", "resources_today")
@access.require(R)
def today(request):
    user, on = request.user, query_day(request)
    within = queries.Within.of(user)
    rows = [{"s": s, "people": [ids.mask_name(p.name) for p in queries.on_duty(s)]} for s in _shifts(request)[:300]]
    load = [x for x in queries.lab_load(within, on) if x["over"] or x["near"]]
    uncovered = queries.uncovered_sealed_buildings(within, on)
    return render(request, "resources/today.html", {
        "on": on, "rows": rows, "uncovered": uncovered, "load": load, "gaps": len(uncovered) + len(load),
        "area": request.GET.get("area") or "", "can_write": access.has_perm(user, W),
        "cancel_form": forms.CancelForm()})


@route("resources/shifts/export/", "resources_shifts_export")
@access.require(access.EXPORT)
def shifts_export(request):
    return web_exports.respond(request, exports.shifts(), _shifts(request))


def _shift_form(user, data=None):
    f = forms.ShiftForm(data, initial={"on": clock.today()})
    f.fields["team"].choices = _choices(Team.objects.for_user(user, W).filter(active=True).order_by("name"), str)
    f.fields["people"].choices = _choices(Person.objects.for_user(user, W).filter(active=True).order_by("name"),
                                          lambda p: f"{ids.mask_name(p.name)} · {p.get_kind_display()}", blank=False)
    f.fields["van"].choices = _choices(Van.objects.for_user(user, W).filter(active=True).order_by("plate"), str)
    return f


@route("resources/shifts/new/", "resources_shift_new")
@access.require(W)
def shift_new(request):
    user = request.user

    def act(c):
        s = actions.do_plan_shift(area=_write_area(user, c["area"]), on=c["on"], start=c["start"], end=c["end"],
                                  team=_pick(Team, user, c["team"]),
                                  people=[_pick(Person, user, pk) for pk in c["people"]],
                                  van=_pick(Van, user, c["van"]), note=c["note"], actor=user)
        return done(request, _("Shift planned."), reverse("resources_today") + f"?on={s.on.isoformat()}")

    page = form_context(_("Plan a shift"), _("Plan"), crumbs=[(reverse("resources_today"), _("Resources"))],
                        lead=_("A team, named people, or both, on duty in one area (a building for the sealed ones)."))
    return form_page(request, _shift_form(user, request.POST or None), FORM_PAGE, page, act=act)


@route("resources/shifts/<int:pk>/cancel/", "resources_shift_cancel")
@access.require(W)
@require_POST
def shift_cancel(request, pk: int):
    user = request.user
    s = access.access(Shift, user, pk, perm=W, read=R)
    attempt(request, lambda: actions.do_cancel_shift(s, actor=user, reason=posted_text(request, "reason", 500)),
            ok=_("Shift cancelled."))
    return redirect(reverse("resources_today") + f"?on={s.on.isoformat()}")


# ------------------------------------------------------------------------------------------ people

def _people(request):
    kind = request.GET.get("kind") or ""
    skill = request.GET.get("skill") or ""
    return queries.people_list(Person.objects.for_user(request.user, R),
                               kind=kind if kind in PersonKind.values else "",
                               team=query_id(request, "team"), skill=skill if skill in Skill.values else "",
                               q=search_text(request, 40))


@route("resources/people/", "resources_people")
@access.require(R)
def people(request):
    page = paginate(request, _people(request), 50)
    rows = [{"p": p, "name": ids.mask_name(p.name), "phone": ids.mask_phone(p.phone),
             "skills": [_skill_label.get(s, s) for s in p.skills]} for p in page.object_list]
    return render(request, "resources/people.html", {
        "rows": rows, "page": page, "querystring": query_without_page(request), "kinds": PersonKind.choices,
        "skills": Skill.choices, "kind": request.GET.get("kind") or "", "skill": request.GET.get("skill") or "",
        "q": search_text(request, 40), "can_write": access.has_perm(request.user, W)})


@route("resources/people/export/", "resources_people_export")
@access.require(access.EXPORT)
def people_export(request):
    return web_exports.respond(request, exports.people(_kind_label), _people(request))


def _team_choices(user):
    return _choices(Team.objects.for_user(user, W).filter(active=True).order_by("name"), str)


def _new_page(request, form, title, submit, crumbs, create, *, lead=""):
    """A page registering one record: ``create(cleaned_data, user)`` runs the action and answers (name, where
    to go: a URL name and its arguments)."""
    user = request.user
    if "team" in form.fields:
        form.fields["team"].choices = _team_choices(user)

    def act(c):
        name, to = create(c, user)
        return done(request, _("%(name)s registered.") % {"name": name}, *to)

    return form_page(request, form, FORM_PAGE, form_context(title, submit, crumbs=crumbs, lead=lead), act=act)


def _person_created(c, user):
    p = actions.do_register_person(c["name"], kind=c["kind"], area=_write_area(user, c["area"]), phone=c["phone"],
                                   skills=c["skills"], team=_pick(Team, user, c["team"]), actor=user)
    return ids.mask_name(p.name), ("resources_person", p.pk)


@route("resources/people/new/", "resources_person_new")
@access.require(W)
def person_new(request):
    return _new_page(request, forms.PersonForm(request.POST or None), _("Register staff or a volunteer"),
                     _("Register"), [(reverse("resources_people"), _("Staff and volunteers"))], _person_created)


@route("resources/people/<int:pk>/", "resources_person")
@access.require(R)
def person(request, pk: int):
    user = request.user
    p = access.access(Person.objects.select_related("team", "area"), user, pk, read=R)
    f = forms.AssignForm(initial={"team": p.team_id, "active": p.active})
    f.fields["team"].choices = _team_choices(user)
    shifts = list(p.shifts.filter(on__gte=clock.today()).select_related("area").order_by("on", "start")[:20])
    return render(request, "resources/person.html", {
        "p": p, "name": ids.mask_name(p.name), "phone": ids.mask_phone(p.phone), "form": f,
        "can_write": access.scope_for(user, W).contains(p), "skills": [_skill_label.get(s, s) for s in p.skills],
        "shifts": shifts})


@route("resources/people/<int:pk>/assign/", "resources_person_assign")
@access.require(W)
@require_POST
def person_assign(request, pk: int):
    user = request.user
    p = access.access(Person, user, pk, perm=W, read=R)
    f = forms.AssignForm(request.POST)
    f.fields["team"].choices = _team_choices(user)

    def act():
        c = f.cleaned_data
        actions.do_assign_person(p, team=_pick(Team, user, c["team"]), active=c["active"], actor=user,
                                 reason=c["reason"])
        messages.success(request, _("Saved."))

    return posted(request, f, act, reverse("resources_person", args=[p.pk]))


# ------------------------------------------------------------------------------------------ teams, vehicles, labs

@route("resources/teams/", "resources_teams")
@access.require(R)
def teams(request):
    return render(request, "resources/teams.html", {
        "teams": queries.team_list(Team.objects.for_user(request.user, R))[:300],
        "can_write": access.has_perm(request.user, W)})


def _team_created(c, user):
    t = actions.do_create_team(c["name"], kind=c["kind"], area=_write_area(user, c["area"]), actor=user)
    return t.name, ("resources_teams",)


@route("resources/teams/new/", "resources_team_new")
@access.require(W)
def team_new(request):
    return _new_page(request, forms.TeamForm(request.POST or None), _("New team"), _("Create"),
                     [(reverse("resources_teams"), _("Teams"))], _team_created)


@route("resources/vehicles/", "resources_vehicles")
@access.require(R)
def vehicles(request):
    on = query_day(request)
    return render(request, "resources/vehicles.html", {
        "on": on, "ambulances": queries.ambulances_today(on),
        "vans": queries.vans(Van.objects.for_user(request.user, R))[:300],
        "can_write": access.has_perm(request.user, W)})


def _van_created(c, user):
    v = actions.do_add_van(c["plate"], area=_write_area(user, c["area"]), team=_pick(Team, user, c["team"]),
                           closed_loop=c["closed_loop"], actor=user)
    return v.plate, ("resources_vehicles",)


@route("resources/vans/new/", "resources_van_new")
@access.require(W)
def van_new(request):
    return _new_page(request, forms.VanForm(request.POST or None), _("New delivery van"), _("Register"),
                     [(reverse("resources_vehicles"), _("Vehicles"))], _van_created)


@route("resources/labs/", "resources_labs")
@access.require(R)
def labs(request):
    user, on = request.user, query_day(request)
    return render(request, "resources/labs.html", {
        "on": on, "labs": queries.labs(Lab.objects.for_user(user, R))[:300],
        "load": queries.lab_load(queries.Within.of(user), on), "can_write": access.has_perm(user, W),
        "near": int(queries.NEAR * 100)})


def _lab_created(c, user):
    lab = actions.do_register_lab(c["name"], area=_write_area(user, c["area"]), tubes_per_day=c["tubes_per_day"],
                                  actor=user)
    return lab.name, ("resources_labs",)


@route("resources/labs/new/", "resources_lab_new")
@access.require(W)
def lab_new(request):
    return _new_page(request, forms.LabForm(request.POST or None), _("New lab"), _("Register"),
                     [(reverse("resources_labs"), _("Labs"))], _lab_created,
                     lead=_("Rounds of areas inside the catchment send their tubes to it."))


@route("resources/labs/<int:pk>/capacity/", "resources_lab_capacity")
@access.require(W)
def lab_capacity(request, pk: int):
    user = request.user
    lab = access.access(Lab, user, pk, perm=W, read=R)

    def act(c):
        actions.do_set_lab_capacity(lab, c["tubes_per_day"], actor=user, reason=c["reason"])
        return done(request, _("Saved."), "resources_labs")

    page = form_context(_("Capacity of %(lab)s") % {"lab": lab.name}, _("Save"),
                        crumbs=[(reverse("resources_labs"), _("Labs"))])
    return form_page(request, forms.CapacityForm(request.POST or None, initial={"tubes_per_day": lab.tubes_per_day}),
                     FORM_PAGE, page, act=act)


@route("resources/areas/", "resources_areas")
@access.require(R)
def areas(request):
    """What each area has (people, teams, vans) and uses on a day (shifts, people on duty, ambulance trips)."""
    user, on = request.user, query_day(request)
    parent = _area_filter(request)
    return render(request, "resources/areas.html", {
        "on": on, "parent": parent, "rows": queries.area_summary(queries.Within.of(user), parent, on)})


