"""Care pages: the dispatcher board (priority, deadline, KPIs), a request with its timeline and actions,
a new request, the special-group registry with the proactive tasks of sealed areas, a resident's needs.

Thin: parse, authorize (``for_user`` / ``access.access`` / ``care.perms``), call ``care.actions``, render.
"""
from __future__ import annotations

import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from cordon.care import actions, exports, forms, perms, queries, triage
from cordon.care.models import (OPEN_STATUSES, WEEKDAYS, CareNeed, CareRequest, Hospital, Outcome, ProactiveTask,
                                Status, Vehicle)
from cordon.cases.models import Facility, FacilityKind
from cordon.core import access, clock, ids
from cordon.places.models import SPECIAL_GROUP_LABELS, Area, Resident
from cordon.web.pages import (FORM_PAGE, attempt, cached_part, choice_label, create_page, desk_page, done, form_context, form_page, paginate,
                              posted_text, query_without_page, refused_box, route, search_text, submit)
from cordon.web import exports as web_exports
from cordon.zones.models import Designation, Status as ZStatus

RELATED = ("area", "facility", "hospital", "vehicle")
#: the people-services desks' page frame (their stylesheet and navigation) for ``web.pages.form_context``
DESK = {"base": "care/desk_base.html", "nav": "care/_desk_nav.html"}


def _lang() -> str:
    return "en" if (translation.get_language() or "zh").startswith("en") else "zh"


def priority_title(key: str) -> str:
    p = triage.table().get(key)
    return p.title(_lang()) if p else key


_status_label = choice_label(CareRequest, "status")
#: the note triage writes on its event (``triage.rule``: the rule applied, in English as the audit row has it)
_TRIAGE_NOTE = re.compile(r"care-triage: (\w+) \(rank \d+, dispatch within (\d+) min; .*\)")


#: the note closing writes (``actions.do_close_request``): the outcome, the reason as written, who confirmed a
#: cancellation
_CLOSE_NOTE = re.compile(r"(done|cancelled): (.*?)(?: \(confirmed by (.*)\))?", re.S)
#: the note of a request triaged when it is dispatched (``actions.do_dispatch``)
_DISPATCH_TRIAGE_NOTE = "triaged at dispatch"


def event_note(note: str, status: str = "") -> str:
    """An event's note for the page: the notes Cordon writes (triage's rule, the closing outcome and who confirmed
    a cancellation) in the reader's language, what people wrote as written."""
    found = _TRIAGE_NOTE.fullmatch(note)
    if found:
        return _("%(priority)s: dispatch within %(m)s min") % {"priority": priority_title(found.group(1)),
                                                                "m": found.group(2)}
    if note == _DISPATCH_TRIAGE_NOTE and status == Status.TRIAGED:
        return _("triaged at dispatch")
    found = _CLOSE_NOTE.fullmatch(note) if status == Status.CLOSED else None
    if not found:
        return note
    outcome, reason, who = found.groups()
    shown = f"{Outcome(outcome).label}: {reason}" if reason else str(Outcome(outcome).label)
    return _("%(outcome)s (confirmed by %(who)s)") % {"outcome": shown, "who": who} if who else shown


def _row(r: CareRequest, now) -> dict:
    """One board row, its texts prepared here (cheaper than per-row template tags on a busy board)."""
    overdue = r.dispatched_at is None and r.is_open and now > r.deadline
    left = int((r.deadline - now).total_seconds() // 60)
    if r.status == Status.CLOSED:
        meta = f"{r.outcome_label} · {timezone.localtime(r.closed_at):%m-%d %H:%M}" if r.closed_at else ""
    elif r.dispatched_at:
        meta = _("%(v)s to %(h)s") % {"v": r.vehicle.plate if r.vehicle_id else "", "h": r.hospital_name}
    else:
        meta = _("dispatch by %(d)s") % {"d": f"{timezone.localtime(r.deadline):%H:%M}"}
        if not overdue:
            meta += " (" + _("%(m)s min left") % {"m": left} + ")"
    need = r.need_text if len(r.need_text) <= 60 else r.need_text[:59] + "…"
    return {"r": r, "person": ids.mask_name(r.person), "priority": priority_title(r.priority_key),
            "overdue": overdue, "minutes_left": left, "meta": f"{meta} · {need}",
            "status": _status_label(r.status)}


def _board_tab(request) -> str:
    return "closed" if request.GET.get("tab") == "closed" else "open"


@route("care/", "care_board")
@access.require(access.CARE_READ)
def board(request):
    """Most urgent first, with the KPIs. The list part is rendered once per change of any care record (or
    minute) per jurisdiction, tab and page and reused (``core.stamps``): 200 staff reload this page."""
    user = request.user
    tab = _board_tab(request)

    def build() -> dict:
        now = clock.now()
        scoped_qs = CareRequest.objects.for_user(user, access.CARE_READ)
        page = paginate(request, queries.request_list(scoped_qs, tab).select_related(*RELATED), 50)
        kpis = queries.kpis(scoped_qs)
        for k in kpis:
            k["title"] = priority_title(k["priority"])
        body = render_to_string("care/_board_body.html", {
            "page": page, "rows": [_row(r, now) for r in page.object_list], "kpis": kpis,
            "querystring": query_without_page(request)})
        return {"body": mark_safe(body),  # noqa: S308 - our own template's output, escaped there
                "open_count": scoped_qs.filter(status__in=OPEN_STATUSES).count()}

    part = cached_part(request, ("care",), "board", build, cap=access.CARE_READ)
    context = {"tab": tab, "body": part["body"], "open_count": part["open_count"],
               "can_create": perms.has_desk_role(user, perms.CREATE),
               "can_register": perms.has_desk_role(user, perms.DISPATCH)}
    return desk_page(request, "care/board.html", context, tuple(context.values()))


@route("care/new/", "care_new")
@access.require(access.CARE_CREATE)
def new_request(request):
    user = request.user

    def act(c):
        area = perms.area_by_path(user, c["area"], perms.CREATE)
        r = actions.do_create_request(person=c["person"], area=area, need=c["need"],
                                      urgency="critical" if c["urgent"] else "", source=c["source"],
                                      phone=c["phone"], address_note=c["address_note"],
                                      need_text=c["need_text"], actor=user)
        return done(request, _("Request %(ref)s received and triaged.") % {"ref": r.ref}, "care_request", pk=r.pk)

    page = form_context(_("New medical request"), _("Receive request"), **DESK, form_class="desk-form",
                        lead=_("Triage is automatic from the need (critical first; then labour, infants, scheduled "
                               "treatment, elderly, other); the dispatcher can change it with a reason."))
    return form_page(request, forms.RequestForm(request.POST or None), FORM_PAGE, page, act=act)


def _dispatch_form(r: CareRequest, data=None):
    f = forms.DispatchForm(data, prefix="dispatch")
    f.fields["vehicle"].choices = [(str(v.pk), f"{v.plate} {v.team}") for v in
                                   Vehicle.objects.filter(active=True, closed_loop=True).order_by("plate")]
    if r.needs_designated:
        f.fields["destination"].choices = [(f"f{x.pk}", x.name) for x in Facility.objects.filter(
            kind=FacilityKind.DESIGNATED_HOSPITAL).order_by("name")]
    else:
        f.fields["destination"].choices = [(f"h{x.pk}", x.name) for x in Hospital.objects.filter(active=True)
                                           .order_by("name")]
    return f


def _context(user, r: CareRequest, bound=None) -> dict:
    now = clock.now()
    bound = bound or {}
    events = list(r.events.all())
    for e in events:
        e.note_shown = event_note(e.note, e.status)
    return {"row": _row(r, now), "r": r, "events": events,
            "can_write": perms.can_write(user, perms.DISPATCH, r),
            "phone": ids.mask_phone(r.phone), "next": sorted(actions.TRANSITIONS[r.status]),
            "retriage_form": bound.get("retriage") or forms.RetriageForm(prefix="retriage",
                                                                        initial={"priority": r.priority_key}),
            "dispatch_form": bound.get("dispatch") or _dispatch_form(r),
            "advance_form": bound.get("advance") or forms.AdvanceForm(prefix="advance"),
            "close_form": bound.get("close") or forms.CloseForm(prefix="close"),
            "goal": triage.table()[r.priority_key].dispatch_minutes}


@route("care/requests/<int:pk>/", "care_request")
@access.require(access.CARE_READ)
def request_detail(request, pk: int):
    r = access.access(CareRequest.objects.select_related(*RELATED), request.user, pk, read=access.CARE_READ)
    return render(request, "care/request.html", _context(request.user, r))


@route("care/requests/<int:pk>/<slug:action>/", "care_request_action")
@access.require(access.CARE_DISPATCH)
@require_POST
def request_action(request, pk: int, action: str):
    user = request.user
    if action not in ("retriage", "dispatch", "advance", "close"):
        raise access.NotFound
    r = perms.access_write(CareRequest.objects.select_related(*RELATED), user, pk, perms.DISPATCH,
                           read=access.CARE_READ)
    if action == "dispatch":
        form = _dispatch_form(r, request.POST)
    else:
        form = {"retriage": forms.RetriageForm, "advance": forms.AdvanceForm,
                "close": forms.CloseForm}[action](request.POST, prefix=action)

    def act(c):
        if action == "retriage":
            actions.do_retriage_request(r, priority=c["priority"], actor=user, reason=c["reason"])
            message = _("Priority changed.")
        elif action == "dispatch":
            dest = c["destination"]
            facility = Facility.objects.filter(pk=int(dest[1:])).first() if dest.startswith("f") else None
            hospital = Hospital.objects.filter(pk=int(dest[1:])).first() if dest.startswith("h") else None
            actions.do_dispatch_request(r, vehicle=Vehicle.objects.get(pk=int(c["vehicle"])), facility=facility,
                                        hospital=hospital, actor=user, reason=c["reason"])
            message = _("Dispatched.")
        elif action == "advance":
            actions.do_advance_request(r, to=c["to"], actor=user, reason=c["reason"])
            message = _("Status updated.")
        else:
            actions.do_close_request(r, outcome=c["outcome"], reason=c["reason"], confirmed_by=c["confirmed_by"],
                                     confirmation=c["confirmation"], actor=user)
            message = _("Request closed.")
        return done(request, message, "care_request", pk=r.pk)

    def fail(exc):
        fresh = CareRequest.objects.select_related(*RELATED).get(pk=r.pk)
        return refused_box(request, "care/request.html", _context(user, fresh, {action: form}), action, form, exc)

    return submit(form, act, fail)


# ------------------------------------------------------------------------------------ special groups

@route("care/special/", "care_special")
@access.require(access.READ_PERSONAL)
def special(request):
    """The community registry of special-group residents with their needs, and the proactive tasks of the
    sealed areas in the user's jurisdiction (what they will need, when)."""
    user = request.user
    today = clock.today()
    tasks = list(ProactiveTask.objects.for_user(user, access.READ_PERSONAL).filter(done_at__isnull=True)
                 .select_related("resident", "designation__area").order_by("due_on", "designation_id", "id")[:200])
    groups: dict[int, dict] = {}
    for t in tasks:
        g = groups.setdefault(t.designation_id, {"designation": t.designation, "tasks": []})
        g["tasks"].append({"t": t, "name": ids.mask_name(t.resident.name), "overdue": t.due_on < today,
                           "today": t.due_on == today})
    q = search_text(request)
    qs = queries.special_list(Resident.objects.for_user(user, access.READ_PERSONAL), today, q)
    page = paginate(request, qs.select_related("care_need"), 50)
    units = Area.objects.in_bulk({r.unit_id for r in page.object_list if r.unit_id})
    rows = []
    for r in page.object_list:
        need = getattr(r, "care_need", None)
        rows.append({"r": r, "name": ids.mask_name(r.name), "age": r.age_on(today),
                     "unit": units.get(r.unit_id), "need": need,
                     "dialysis": ", ".join(str(WEEKDAYS[d]) for d in (need.dialysis_weekdays if need else [])),
                     "groups": [(g, SPECIAL_GROUP_LABELS[g]) for g in r.special_groups(today)]})
    return render(request, "care/special.html", {
        "groups": list(groups.values()), "rows": rows, "page": page, "q": q,
        "querystring": query_without_page(request), "can_sync": access.has_perm(user, access.CARE_SPECIAL),
        "can_done": access.has_perm(user, access.CARE_DISPATCH), "today": today})


@route("care/export/", "care_export")
@access.require(access.EXPORT)
def board_export(request):
    """The board's requests of one tab as CSV or XLSX (names and phones masked)."""
    qs = queries.request_list(CareRequest.objects.for_user(request.user, access.CARE_READ), _board_tab(request))
    return web_exports.respond(request, exports.requests(priority_title, _status_label), qs)


@route("care/special/export/", "care_special_export")
@access.require(access.EXPORT)
def special_export(request):
    """The special-group registry, with its search, as CSV or XLSX (names, ID numbers and phones masked)."""
    today = clock.today()
    qs = queries.special_list(Resident.objects.for_user(request.user, access.READ_PERSONAL), today,
                              search_text(request))
    return web_exports.respond(request, exports.special(today), qs)


@route("care/special/sync/", "care_sync")
@access.require(access.CARE_SPECIAL)
@require_POST
def sync_tasks(request):
    user = request.user
    ds = list(Designation.objects.for_user(user, access.CARE_SPECIAL).filter(status=ZStatus.ACTIVE)[:5000])
    out = actions.do_sync_proactive_tasks(clock.today(), actor=user, designations=ds)
    messages.success(request, _("%(n)s new tasks for %(d)s sealed areas.") % {"n": out["created"],
                                                                           "d": out["designations"]})
    return redirect("care_special")


@route("care/special/<int:pk>/", "care_needs")
@access.require(access.READ_PERSONAL)
def needs_edit(request, pk: int):
    user = request.user
    r = access.access(Resident, user, pk, read=access.READ_PERSONAL)
    can_write = access.can(user, access.CARE_SPECIAL, r)
    need = CareNeed.objects.filter(resident=r).first()
    initial = {}
    if need:
        initial = {"dialysis_weekdays": [str(d) for d in need.dialysis_weekdays], "due_date": need.due_date,
                   "oxygen": need.oxygen, "medication": need.medication, "notes": need.notes}
    elif r.pregnant_due:
        initial = {"due_date": r.pregnant_due}
    if request.method == "POST" and not can_write:
        raise access.Forbidden

    def act(c):
        actions.do_record_needs(r, dialysis_weekdays=[int(x) for x in c["dialysis_weekdays"]],
                                due_date=c["due_date"], oxygen=c["oxygen"], medication=c["medication"],
                                notes=c["notes"], actor=user)
        return done(request, _("Needs recorded."), "care_special")

    today = clock.today()
    return form_page(request, forms.NeedsForm(request.POST or None, initial=initial), "care/needs.html", {
        "resident": r, "name": ids.mask_name(r.name), "can_write": can_write,
        "groups": [(g, SPECIAL_GROUP_LABELS[g]) for g in r.special_groups(today)]}, act=act)


@route("care/tasks/<int:pk>/done/", "care_task_done")
@access.require(access.CARE_DISPATCH)
@require_POST
def task_done(request, pk: int):
    user = request.user
    t = perms.access_write(ProactiveTask, user, pk, perms.DISPATCH, read=access.READ_PERSONAL)
    attempt(request, lambda: actions.do_complete_task(t, actor=user, reason=posted_text(request, "note", 300) or ""),
            ok=_("Task done."))
    return redirect("care_special")


NEW_REFERENCE = {"hospital": (forms.HospitalForm, gettext_lazy("New hospital")),
                 "vehicle": (forms.VehicleForm, gettext_lazy("New closed-loop vehicle"))}


@route("care/setup/<slug:what>/", "care_new_reference")
@access.require(access.CARE_DISPATCH)
def new_reference(request, what: str):
    """Register a hospital (in an area of the user's jurisdiction) or a green-channel vehicle: medical
    dispatchers and staff with write access."""
    user = request.user

    def create(what, c):
        if what == "hospital":
            area = perms.area_by_path(user, c["area"], perms.DISPATCH)
            return actions.do_add_hospital(c["name"], area=area, phone=c["phone"], actor=user)
        return actions.do_add_vehicle(c["plate"], team=c["team"], closed_loop=c["closed_loop"], actor=user)

    return create_page(request, NEW_REFERENCE, what, create, back="care_board", created=_("%(name)s registered."),
                       **DESK, form_class="desk-form")
