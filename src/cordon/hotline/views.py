"""Hotline pages: the ticket list (with the roster warning), a ticket with its timeline and actions, the
operator entry form, the roster with its gaps; and the public form and status lookup (no login, rate
limited per client, CSRF protected, showing only the caller's own ticket)."""
from __future__ import annotations

import datetime as dt
import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils import translation
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cordon.care import perms
from cordon.care.models import CareRequest
from cordon.care.views import DESK
from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.hotline import actions, config, exports, forms, queries
from cordon.hotline.queries import overdue
from cordon.web import exports as web_exports
from cordon.hotline.models import OPEN_STATUSES, Category, Shift, Source, Status, Ticket
from cordon.web.forms import BulkDecisionForm
from cordon.web.pages import (BULK_PAGE, FORM_PAGE, bulk_context, bulk_done, cached_part, choice_label, desk_page,
                              done, form_context, form_page, half_in_language, paginate, query_without_page,
                              record_action, route, run_rows)

TABS = [("open", "Open"), ("overdue", "Overdue"), ("closed", "Closed"), ("all", "All")]


def _gaps():
    return [{"starts": a, "ends": b, "hours": round((b - a).total_seconds() / 3600, 1)}
            for a, b in queries.roster_gaps()]


_category_label, _status_label = choice_label(Ticket, "category"), choice_label(Ticket, "status")


def _row(t: Ticket, now) -> dict:
    """One list row, its texts prepared here (cheaper than per-row template tags on a busy list)."""
    if t.responded_at:
        due = _("resolve by %(d)s") % {"d": f"{timezone.localtime(t.resolve_by):%m-%d %H:%M}"}
    else:
        due = _("respond by %(d)s") % {"d": f"{timezone.localtime(t.respond_by):%m-%d %H:%M}"}
    caller, phone = ids.mask_name(t.caller), ids.mask_phone(t.phone)
    return {"t": t, "caller": caller, "phone": phone, "overdue": overdue(t, now),
            "meta": f"{caller or '—'} · {phone} · {half_in_language(t.unit_name)} · {due}"
                    + (f" · → {t.assignee}" if t.assignee else ""),
            "category": _category_label(t.category), "status": _status_label(t.status),
            "text": t.text if len(t.text) <= 100 else t.text[:99] + "…",
            "escalated": _("Escalated L%(n)s") % {"n": t.escalation} if t.escalation else ""}


def _list_filters(request) -> tuple[str, str]:
    """The list's tab and category (shared by the page and its export)."""
    tab = request.GET.get("tab") or "open"
    if tab not in dict(TABS):
        tab = "open"
    category = request.GET.get("category") or ""
    return tab, category if category in Category.values else ""


@route("hotline/", "hotline_list")
@access.require(access.HOTLINE_READ)
def ticket_list(request):
    user = request.user
    now = clock.now()
    tab, category = _list_filters(request)

    def build() -> dict:
        page = paginate(request, queries.ticket_list(user, tab, category, now), 50)
        # The first call's ticket only when it is in the viewer's jurisdiction too (it may be elsewhere).
        originals = dict(Ticket.objects.for_user(user, access.HOTLINE_READ).filter(pk__in={t.duplicate_of_id for t in page.object_list
                                                                      if t.duplicate_of_id})
                         .values_list("id", "number"))
        for t in page.object_list:
            t.original_number = originals.get(t.duplicate_of_id, "")
        body = render_to_string("hotline/_list_body.html", {
            "rows": [_row(t, now) for t in page.object_list], "page": page,
            "querystring": query_without_page(request)})
        return {"body": mark_safe(body), "gaps": _gaps()}  # noqa: S308 - our own template's output

    # Rendered once per change of any ticket or shift (or minute) per jurisdiction and query, then reused
    # (core.stamps): the whole desk reloads this list.
    part = cached_part(request, ("hotline",), "tickets", build, cap=access.HOTLINE_READ)
    tabs = [(k, {"open": _("Open"), "overdue": _("Overdue"), "closed": _("Closed"), "all": _("All")}[k])
            for k, _label in TABS]
    can_create = perms.has_desk_role(user, perms.HOTLINE)
    return desk_page(request, "hotline/list.html", {
        "body": part["body"], "gaps": part["gaps"], "tab": tab, "tabs": tabs, "category": category,
        "categories": Category.choices, "can_create": can_create},
        (part["body"], part["gaps"], tab, category, can_create))


@route("hotline/export/", "hotline_export")
@access.require(access.EXPORT)
def ticket_export(request):
    """The ticket list, with its tab and category, as CSV or XLSX (callers' names and phones masked)."""
    tab, category = _list_filters(request)
    listing = exports.tickets(_category_label, _status_label)
    return web_exports.respond(request, listing, queries.ticket_list(request.user, tab, category, clock.now()))


@route("hotline/assign/", "hotline_assign_bulk")
@access.require(access.HOTLINE_WRITE)
def assign_bulk(request):
    """Give many open tickets to one operator: a check box per open ticket the user may write (the longest
    waiting first), the operator, one submit; each ticked ticket is one audited assignment, a refused one
    (closed meanwhile, outside the operator's jurisdiction) is reported with why and the others kept."""
    user = request.user
    mine = Ticket.objects.for_user(user, access.HOTLINE_WRITE)
    people = {u.username: u for u in queries.operators()}
    form = BulkDecisionForm(request.POST or None, choices=[(n, n) for n in people] or [("", "—")],
                            decision_label=_("Operator"), select=True)
    report = None
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        operator = people[c["decision"]]
        report = run_rows(request, mine, "row", lambda t, _v: actions.do_assign_ticket(
            t, operator, actor=user, reason=c["reason"]), label=lambda t: t.number)
        answer = bulk_done(request, report, "hotline_list")
        if answer is not None:
            return answer
    now = clock.now()
    page = paginate(request, mine.filter(status__in=OPEN_STATUSES).order_by("-escalation", "resolve_by", "id"), 100)
    status = 400 if request.method == "POST" and (report is None or not report["ok"]) else 200
    rows = [_row(t, now) for t in page.object_list]
    return render(request, BULK_PAGE, {
        "rows": rows, "page": page, "form": form, "report": report, "querystring": query_without_page(request),
        **bulk_context(_("Assign tickets"), _("Tick the tickets, choose the operator and submit once: each ticked "
                                              "ticket is assigned and audited on its own."),
                       _("Assign the ticked tickets"), "hotline/_assign_rows.html", rows, desk=True)}, status=status)


@route("hotline/new/", "hotline_new")
@access.require(access.HOTLINE_WRITE)
def ticket_new(request):
    user = request.user

    def act(c):
        area = queries.resolve_location(c["location"])
        if area is not None and not perms.can_write(user, perms.HOTLINE, area):
            raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": c["location"]}, field="location")
        try:
            t = actions.do_create_ticket(phone=c["phone"], category=c["category"], text=c["text"],
                                         caller=c["caller"], location=c["location"], area=area,
                                         raise_care=c["raise_care"], actor=user)
        except access.Forbidden:
            raise ActionError(_("Give a location inside your jurisdiction."), field="location") from None
        if t.status == Status.DUPLICATE and Ticket.objects.for_user(user, access.HOTLINE_READ).filter(
                pk=t.duplicate_of_id).exists():
            messages.warning(request, _("Ticket %(n)s linked as a duplicate of %(o)s.") % {
                "n": t.number, "o": t.duplicate_of.number})
        elif t.status == Status.DUPLICATE:  # the first call's ticket is outside your jurisdiction
            messages.warning(request, _("Ticket %(n)s linked as a duplicate of an earlier call.") % {
                "n": t.number})
        else:
            messages.success(request, _("Ticket %(n)s created, routed to %(u)s.") % {"n": t.number,
                                                                                    "u": half_in_language(t.unit_name)})
        return redirect("hotline_ticket", pk=t.pk)

    page = form_context(_("New ticket"), _("Create ticket"), heading=_("New ticket from a call"), **DESK,
                        form_class="desk-form",
                        lead=_("Routed by location and category; first-response and resolution deadlines by "
                               "category. The same number asking the same thing within 24 hours is linked as a "
                               "duplicate."))
    return form_page(request, forms.TicketForm(request.POST or None), FORM_PAGE, page, act=act)


#: the notes the desk itself writes on a ticket's timeline (``actions._event``), stored in English, by event kind;
#: shown in the reader's language (what people write, responses and feedback, is shown as written)
_NOTES = {"duplicate": gettext_lazy("Duplicate of an earlier call (same number and category)"),
          "duplicate_call": gettext_lazy("The caller asked again")}
_NOTE_FORMS = {"care_request": [(re.compile(r"emergency medical request (\S+)"),
                                 gettext_lazy("Emergency medical request %(x)s"))],
               "closed": [(re.compile(r"satisfaction ([1-5])"), gettext_lazy("Satisfaction %(x)s of 5")),
                          (re.compile(r"closed with (\S+)"), gettext_lazy("Closed with %(x)s"))]}


def _source_label(text: str) -> str | None:
    """A ticket source's label in the reader's language, from its label as written (in either language)."""
    for _value, label in Source.choices:
        written = set()
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                written.add(str(label))
        if text in written:
            return str(label)
    return None


def event_note(kind: str, note: str) -> str:
    """A timeline event's note for the page: the desk's own notes in the reader's language, others as written."""
    if kind in _NOTES and note:
        return str(_NOTES[kind])
    if kind == "escalated":
        return half_in_language(note)
    if kind == "created":
        source, sep, where = note.partition(" · ")
        label = _source_label(source) if sep else None
        return f"{label} · {half_in_language(where)}" if label else note
    for pattern, shown in _NOTE_FORMS.get(kind, ()):
        found = pattern.fullmatch(note)
        if found:
            return str(shown) % {"x": found.group(1)}
    return note


def _context(user, t: Ticket, bound=None) -> dict:
    now = clock.now()
    bound = bound or {}
    # Linked calls (the first call, repeat calls) only within the viewer's jurisdiction.
    visible = Ticket.objects.for_user(user, access.HOTLINE_READ)
    events = list(t.events.all())
    for e in events:
        e.note_shown = event_note(e.kind, e.note)
    return {"row": _row(t, now), "t": t, "events": events, "unit": half_in_language(t.unit_name),
            "original": visible.filter(pk=t.duplicate_of_id).first() if t.duplicate_of_id else None,
            "duplicates": list(visible.filter(duplicate_of=t).order_by("id")),
            "can_write": perms.can_write(user, perms.HOTLINE, t),
            "care_link": bool(t.care_request) and CareRequest.objects.for_user(user, access.CARE_READ).filter(
                pk=t.care_request).exists(),
            "note_form": bound.get("respond") or forms.NoteForm(prefix="respond"),
            "feedback_form": bound.get("feedback") or forms.FeedbackForm(prefix="feedback"),
            "close_form": bound.get("close") or forms.CloseForm(prefix="close")}


@route("hotline/tickets/<int:pk>/", "hotline_ticket")
@access.require(access.HOTLINE_READ)
def ticket_detail(request, pk: int):
    t = access.access(Ticket.objects.select_related("duplicate_of"), request.user, pk, read=access.HOTLINE_READ)
    return render(request, "hotline/ticket.html", _context(request.user, t))


#: What a ticket's page may do (``record_action``): slug -> (form, the action run with the ticket, its fields and
#: the user, the message when done).
TICKET_STEPS = {
    "respond": (forms.NoteForm, lambda t, c, user: actions.do_respond_ticket(t, note=c["note"], actor=user),
                gettext_lazy("Response recorded.")),
    "feedback": (forms.FeedbackForm,
                 lambda t, c, user: actions.do_record_feedback(t, feedback=c["feedback"], actor=user),
                 gettext_lazy("Feedback recorded.")),
    "close": (forms.CloseForm, lambda t, c, user: actions.do_close_ticket(
        t, satisfaction=int(c["satisfaction"]) if c["satisfaction"] else None, actor=user),
        gettext_lazy("Ticket closed.")),
}


@route("hotline/tickets/<int:pk>/<slug:action>/", "hotline_ticket_action")
@access.require(access.HOTLINE_WRITE)
@require_POST
def ticket_action(request, pk: int, action: str):
    user = request.user
    t = perms.access_write(Ticket.objects.select_related("duplicate_of"), user, pk, perms.HOTLINE,
                           read=access.HOTLINE_READ)
    return record_action(request, action, TICKET_STEPS, t, to="hotline_ticket", template="hotline/ticket.html",
                         context=lambda bound: _context(user, t, bound))


@route("hotline/roster/", "hotline_roster")
@access.require(access.HOTLINE_READ)
def roster(request):
    user = request.user
    can_edit = queries.may_edit_roster(user)
    if request.method == "POST" and not can_edit:
        raise access.Forbidden

    def act(c):
        actions.do_add_shift(operator_name=c["operator_name"], starts=c["starts"], ends=c["ends"], actor=user)
        return done(request, _("Shift added."), "hotline_roster")

    now = clock.now()
    shifts = list(Shift.objects.filter(ends__gt=now, starts__lt=now + dt.timedelta(days=7)).order_by("starts"))
    return form_page(request, forms.ShiftForm(request.POST or None), "hotline/roster.html",
                     {"shifts": shifts, "gaps": _gaps(), "can_edit": can_edit, "now": now}, act=act)


@route("hotline/roster/<int:pk>/remove/", "hotline_shift_remove")
@access.require(access.HOTLINE_ROSTER)
@require_POST
def shift_remove(request, pk: int):
    user = request.user
    if not queries.may_edit_roster(user):
        raise access.Forbidden
    s = Shift.objects.filter(pk=pk).first()
    if s is not None:
        actions.do_remove_shift(s, actor=user)
        messages.success(request, _("Shift removed."))
    return redirect("hotline_roster")


# ---------------------------------------------------------------------------------------------- public

def _limits() -> dict:
    return config.desk()["public_limits"]


@route("public/hotline", "public_hotline")
@access.public
@never_cache
@require_http_methods(["GET", "POST"])
def public_form(request):
    form = forms.PublicForm(request.POST or None)
    client = queries.client_key(request) if request.method == "POST" else None
    if client is not None and not actions.do_count_hit("submit", client, _limits()["submit_per_hour"], 3600):
        return render(request, "hotline/public_form.html", {"form": form, "limited": True}, status=429)

    def act(c):
        t = actions.do_create_ticket(phone=c["phone"], category=c["category"], text=c["text"], caller=c["caller"],
                                     location=c["location"], source="web", client=client, actor="public")
        return render(request, "hotline/public_thanks.html", {"number": t.number, "last4": t.phone[-4:],
                                                              "category": t.get_category_display(),
                                                              "respond_by": t.respond_by}, status=201)

    return form_page(request, form, "hotline/public_form.html", act=act)


@route("public/hotline/status", "public_hotline_status")
@access.public
@never_cache
@require_http_methods(["GET", "POST"])
def public_status(request):
    form = forms.LookupForm(request.POST or None)
    ticket = None
    status = 200
    if request.method == "POST":
        if not actions.do_count_hit("lookup", queries.client_key(request), _limits()["lookup_per_10min"], 600):
            return render(request, "hotline/public_status.html", {"form": form, "limited": True}, status=429)
        status = 404
        if form.is_valid():
            t = queries.public_lookup(form.cleaned_data["number"], form.cleaned_data["last4"])
            if t is not None:
                status = 200
                main = t.duplicate_of if t.duplicate_of_id else t
                ticket = {"number": t.number, "category": t.get_category_display(), "created_at": t.created_at,
                          "status": main.get_status_display(), "status_key": main.status,
                          "merged": t.duplicate_of_id is not None, "responded": main.responded_at is not None,
                          "feedback": main.feedback if main.feedback_at else "",
                          "closed": main.closed_at is not None, "unit": half_in_language(main.unit_name)}
    # A miss answers 200 with a message (not 404): nothing tells a number that exists from one that does not.
    return render(request, "hotline/public_status.html", {"form": form, "ticket": ticket,
                                                          "not_found": status == 404})
