"""Key-place pages: the command view (every place in the jurisdiction with its status, overdue items and
breaches; filters and exports), a place's page (the manager runs it from a phone: status, people inside,
today's tests, entries and exits, shift changes, test results; and its dated history), a new place.

Thin: parse, authorize (``for_user`` / ``access.access``), call ``keyplaces.actions``, render."""
from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from cordon.core import access, clock, ids
from cordon.keyplaces import actions, exports, forms, queries
from cordon.keyplaces.models import Category, Kind, KeyPlace, Person, PlaceStatus, Role
from cordon.care.perms import area_by_path
from cordon.web import exports as web_exports
from cordon.web.pages import (FORM_PAGE, choice_label, done, form_context, form_page, refused_box, route,
                              search_text, submit)
from cordon.core.actions import ActionError

READ, WRITE = access.KEYPLACES_READ, access.KEYPLACES_WRITE
HISTORY_LABELS = {"status": gettext_lazy("Status"), "entry": gettext_lazy("Entry"), "exit": gettext_lazy("Exit"),
                  "test": gettext_lazy("On-site test"), "breach": gettext_lazy("Breach")}


def _filters(request) -> dict:
    kind = request.GET.get("kind") or ""
    status = request.GET.get("status") or ""
    return {"kind": kind if kind in Kind.values else "", "status": status if status in PlaceStatus.values else "",
            "q": search_text(request), "problems": request.GET.get("problems") == "1"}


def _filtered(request, today):
    f = _filters(request)
    qs = KeyPlace.objects.for_user(request.user, READ)
    return f, qs, queries.place_list(qs, on=today, **f)


@route("keyplaces/", "keyplaces_list")
@access.require(READ)
def place_list(request):
    """Every place in the viewer's jurisdiction: status, people inside, tests due and overdue, staff past
    their rotation, breaches today and this week; filters by kind, status, text and "with problems"."""
    today = clock.today()
    f, qs, rows = _filtered(request, today)
    totals = {"places": len(rows), "closed_loop": sum(r["place"].status == PlaceStatus.CLOSED_LOOP for r in rows),
              "overdue": sum(r["overdue_tests"] for r in rows), "breaches": sum(r["breaches_today"] for r in rows)}
    return render(request, "keyplaces/list.html", {
        "rows": rows, "totals": totals, "today": today, **f, "kinds": Kind.choices, "statuses": PlaceStatus.choices,
        "can_create": access.has_perm(request.user, WRITE)})


@route("keyplaces/export/", "keyplaces_export")
@access.require(access.EXPORT)
def place_export(request):
    today = clock.today()
    f, qs, rows = _filtered(request, today)
    qs = qs.filter(pk__in=[r["place"].pk for r in rows])
    return web_exports.respond(request, exports.places(rows, choice_label(KeyPlace, "kind"),
                                                      choice_label(KeyPlace, "status")), qs)


def _person_rows(place, today, named: bool) -> list[dict]:
    loop = place.status == PlaceStatus.CLOSED_LOOP
    role = choice_label(Person, "role")
    rows = []
    for d in queries.dues(place, today):
        p = d.person
        rows.append({"p": p, "name": p.name if named else ids.mask_name(p.name), "role": role(p.role),
                     "phone": ids.mask_phone(p.phone), "due": d.due if loop else None, "last": d.last,
                     "overdue": loop and d.overdue_on(today), "due_today": loop and d.due == today,
                     "past_rotation": p.role == Role.STAFF and p.rotate_on is not None and p.rotate_on < today})
    return rows


def _forms(place, bound=None) -> dict:
    bound = bound or {}
    people = list(place.people.order_by("name", "id"))
    inside = [(p.pk, f"{p.name} ({p.get_role_display()})") for p in people if p.inside]
    every = [(p.pk, f"{p.name} ({p.get_role_display()}, {_('inside') if p.inside else _('outside')})")
             for p in people]
    out = {
        "status": forms.StatusForm(prefix="status", initial={"on": clock.today()}),
        "move": forms.MoveForm(prefix="move"),
        "test": forms.ResultForm(prefix="test"),
        "shift": forms.ShiftForm(prefix="shift"),
        "person": forms.PersonForm(prefix="person"),
        "counts": forms.CountsForm(prefix="counts", initial={"capacity": place.capacity, **place.counts}),
    }
    out.update(bound)
    out["move"].fields["person"].choices = every
    out["test"].fields["person"].choices = inside
    out["shift"].fields["leaving"].choices = [(p.pk, p.name) for p in people if p.inside and p.role == Role.STAFF]
    out["shift"].fields["coming"].choices = [(p.pk, p.name) for p in people if not p.inside and p.role == Role.STAFF]
    return out


def _context(user, place, bound=None) -> dict:
    today = clock.today()
    can_write = access.can(user, WRITE, place)
    people = _person_rows(place, today, named=can_write)
    counts = [(label, place.counts.get(key, 0)) for key, label in Category.choices if place.counts.get(key)]
    return {"place": place, "today": today, "people": people, "counts": counts, "can_write": can_write,
            "due_today": [r for r in people if r["due_today"] or r["overdue"]],
            "overdue": [r for r in people if r["overdue"]], "rotation": [r for r in people if r["past_rotation"]],
            "breaches": list(place.breaches.select_related("person").order_by("-on", "-id")[:30]),
            "history": [{**h, "label": HISTORY_LABELS[h["kind"]]} for h in queries.history(place, 100)],
            "forms": _forms(place, bound) if can_write else {},
            "monitoring": [{"name": p.name if can_write else ids.mask_name(p.name), "until": p.monitor_until}
                           for p in place.people.filter(inside=False, role=Role.STAFF, monitor_until__gte=today)
                           .order_by("monitor_until", "id")]}


@route("keyplaces/<int:pk>/", "keyplaces_place")
@access.require(READ)
def place_detail(request, pk: int):
    place = access.access(KeyPlace.objects.select_related("area"), request.user, pk, read=READ)
    return render(request, "keyplaces/place.html", _context(request.user, place))


ACTIONS = {"status": forms.StatusForm, "move": forms.MoveForm, "test": forms.ResultForm, "shift": forms.ShiftForm,
           "person": forms.PersonForm, "counts": forms.CountsForm}


def _person(place, pk) -> Person:
    p = place.people.filter(pk=pk).first()
    if p is None:
        raise ActionError(_("not on this place's list"), field="person")
    return p


def _staff(place, pks) -> list[Person]:
    return [_person(place, pk) for pk in pks]


@route("keyplaces/<int:pk>/do/<slug:action>/", "keyplaces_action")
@access.require(WRITE)
@require_POST
def place_action(request, pk: int, action: str):
    user = request.user
    if action not in ACTIONS:
        raise access.NotFound
    place = access.access(KeyPlace.objects.select_related("area"), user, pk, perm=WRITE, read=READ)
    form = _forms(place, {action: ACTIONS[action](request.POST, prefix=action)})[action]

    def act(c):
        today = clock.today()
        if action == "status":
            ch = actions.do_set_place_status(place, status=c["status"], reason=c["reason"], on=c["on"] or today,
                                             actor=user)
            message = _("Status changed; recorded as a possible violation (nine prohibitions #9).") if ch.flagged \
                else _("Status changed.")
        elif action == "move":
            m = actions.do_record_movement(_person(place, c["person"]), direction=c["direction"], reason=c["reason"],
                                           note=c["note"], rotate_on=c["rotate_on"], on=today, actor=user)
            message = _("Recorded; this exit is a breach of the closed loop.") if m.breach else _("Recorded.")
        elif action == "test":
            actions.do_record_test(_person(place, c["person"]), result=c["result"], on=today, actor=user)
            message = _("Test result recorded.")
        elif action == "shift":
            actions.do_change_shift(place, leaving=_staff(place, c["leaving"]), coming=_staff(place, c["coming"]),
                                    rotate_on=c["rotate_on"], on=today, reason=c["reason"], actor=user)
            message = _("Shift change recorded.")
        elif action == "person":
            actions.do_add_person(place, name=c["name"], role=c["role"], phone=c["phone"], inside=c["inside"],
                                  rotate_on=c["rotate_on"], on=today, actor=user)
            message = _("Person added.")
        else:
            counts = {k: c[k] for k in Category.values if c.get(k)}
            actions.do_set_place_counts(place, counts=counts, capacity=c["capacity"], actor=user)
            message = _("People inside updated.")
        return done(request, message, "keyplaces_place", pk=place.pk)

    def fail(exc):
        fresh = KeyPlace.objects.select_related("area").get(pk=place.pk)
        return refused_box(request, "keyplaces/place.html", _context(user, fresh, {action: form}), action, form, exc)

    return submit(form, act, fail)


@route("keyplaces/new/", "keyplaces_new")
@access.require(WRITE)
def place_new(request):
    user = request.user

    def act(c):
        area = area_by_path(user, c["area"], WRITE)
        p = actions.do_register_place(ref=c["ref"], name=c["name"], kind=c["kind"], area=area,
                                      capacity=c["capacity"], test_every_days=c["test_every_days"],
                                      monitor_days=c["monitor_days"], actor=user)
        return done(request, _("%(name)s registered.") % {"name": p.name}, "keyplaces_place", pk=p.pk)

    page = form_context(gettext_lazy("New key place"), _("Register"), cancel=reverse("keyplaces_list"),
                        crumbs=[(reverse("keyplaces_list"), _("Key places"))])
    return form_page(request, forms.PlaceForm(request.POST or None), FORM_PAGE, page, act=act)
