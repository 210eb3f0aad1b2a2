"""Risk-area pages: the command view, a designation's page with its actions, designating by hand, and the
public list (HTML and JSON, no login, no personal data).

Thin, as every page (``web.pages``): parse, authorize through ``core.access``, call ``zones.actions``, render.
Lists are scoped with ``for_user``; single objects come through ``access.access`` (NotFound -> 404,
Forbidden -> 403).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from cordon.cases.models import Infection
from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.places.models import Area
from cordon.places.queries import area_of
from cordon.web.pages import (BULK_PAGE, FORM_PAGE, MAX_BULK_ROWS, attempt, bulk_context, bulk_done, choice_label,
                              done, form_context, form_page, half_in_language, in_language, paginate, query_id, query_without_page,
                              reads_chinese, record_action, route, run_rows)
from cordon.web import exports as web_exports
from cordon.zones import actions, exports, forms, kpi, queries
from cordon.web.forms import BulkDecisionForm
from cordon.zones.models import Designation, Event, EventKind, Flag, Level, Notice, Proposal, ProposalStatus, Status

PAGE_SIZE = 50
TABS = (Status.ACTIVE, Status.OBSERVATION, Status.CLOSED)
PUBLIC_LIFTED_DAYS = 14
PUBLIC_NOTICES = 30
NOTICE_KINDS = [EventKind.DESIGNATE, EventKind.CHANGE, EventKind.LIFT, EventKind.RESEAL]


def level_label(level: str) -> str:
    try:
        return Level(level).label
    except ValueError:
        return level


#: the reasons the program itself writes on a history event (stored as keys: a closed round's events are found
#: by theirs), shown in the reader's language; a person's reason is shown as written
EVENT_REASONS = {"due under the pack": gettext_lazy("Due under the policy pack"),
                 "lifted by hand": gettext_lazy("Lifted by hand")}
_ROUND_REASON = re.compile(r"screening round (\d+)")


def event_reason(reason: str) -> str:
    if reason in EVENT_REASONS:
        return str(EVENT_REASONS[reason])
    found = _ROUND_REASON.fullmatch(reason)
    return _("Screening round %(n)s") % {"n": found.group(1)} if found else reason


def _is_commander(user) -> bool:
    return access.has_perm(user, access.COMMAND)


def _tree(rows: list[dict]) -> list[dict]:
    """Group rows (ordered by path) into district > street > community, from the path (no query)."""
    districts: OrderedDict = OrderedDict()
    for row in rows:
        parts = row["d"].area.path.split("/")
        dn, sn, cn = (parts + ["", "", ""])[:3]
        street = districts.setdefault(dn, OrderedDict()).setdefault(sn, OrderedDict())
        street.setdefault(cn, []).append(row)
    return [{"name": dn, "count": sum(len(c) for s in streets.values() for c in s.values()),
             "streets": [{"name": sn, "communities": [{"name": cn, "rows": rs} for cn, rs in comms.items()]}
                         for sn, comms in streets.items()]}
            for dn, streets in districts.items()]


def waiting_text(waiting: str) -> str:
    """The cached waiting text is "zh / en": the half in the page's language."""
    return half_in_language(waiting)


def _rows(designations, today) -> list[dict]:
    members = queries.members_of(designations)
    people = queries.people_inside(designations, members, today)
    rows = []
    for d in designations:
        flags = list(d.flags.all())
        seen, latest = set(), []
        for f in flags:  # newest first: one line per rule
            if f.rule not in seen:
                seen.add(f.rule)
                latest.append(f)
        for f in flags:
            f.text = in_language(f.message, f.message_en)
        rows.append({"d": d, "labels": sorted(i.label for i in d.infections.all()), "flags": latest,
                     "all_flags": flags, "waiting": waiting_text(d.waiting),
                     "members": members.get(d.pk, []), "residents": people[d.pk][0], "special": people[d.pk][1],
                     "kpi": kpi.of(d, today), "level_label": level_label(d.level),
                     "next_label": level_label(d.next_level) if d.next_level else ""})
    return rows


def _with_related(qs):
    return qs.select_related("area").prefetch_related(
        Prefetch("infections", queryset=Infection.objects.only("id", "label")),
        Prefetch("flags", queryset=Flag.objects.order_by("-on", "-id")))


# ---------------------------------------------------------------------------------------------- command view

def _list_filters(request) -> tuple[str, str, str]:
    """The command view's filters: status tab, level, area text (shared by the page and its export)."""
    tab = request.GET.get("tab") or Status.ACTIVE
    if tab not in TABS:
        tab = Status.ACTIVE
    level = request.GET.get("level") or ""
    if level not in Level.values:
        level = ""
    return tab, level, (request.GET.get("q") or "").strip()[:100]


@route("zones/", "zones_list")
@access.require(access.VIEW)
def zone_list(request):
    user = request.user
    today = clock.today()
    tab, level, q = _list_filters(request)
    scoped_qs = Designation.objects.for_user(user)
    counts = dict(scoped_qs.order_by().values_list("status").annotate(n=Count("id")))
    qs = queries.designation_list(scoped_qs, tab, level, q)
    page = paginate(request, _with_related(qs), PAGE_SIZE)
    rows = _rows(list(page.object_list), today)
    write_scope = access.scope_for(user, access.ZONES_WRITE)
    for row in rows:
        row["can_write"] = write_scope.contains(row["d"])
    proposals = list(Proposal.objects.for_user(user).filter(status=ProposalStatus.OPEN)
                     .select_related("area").order_by("-proposed_on", "-id")[:50])
    for p in proposals:
        p.can_write = write_scope.contains(p)
        p.level_label = level_label(p.level)
    commander = _is_commander(user)
    context = {
        "tab": tab, "tabs": [(t, Status(t).label, counts.get(t, 0)) for t in TABS], "level": level, "q": q,
        "levels": [(lv, level_label(lv)) for lv in ("high", "medium")],
        "page": page, "tree": _tree(rows), "querystring": query_without_page(request),
        "proposals": proposals, "kpis": kpi.summary(scoped_qs),
        "can_write": access.has_perm(user, access.ZONES_WRITE), "is_commander": commander,
        "unpublished": Event.objects.filter(notice__isnull=True, kind__in=NOTICE_KINDS).count() if commander else 0,
        "last_notice": Notice.objects.order_by("-number").first() if commander else None,
        "dismiss_form": forms.DismissForm(),
    }
    return render(request, "zones/list.html", context)


# ---------------------------------------------------------------------------------------------- detail

def _adjust(d, c, user):
    add, remove = [], []
    if c.get("add"):
        try:
            add = [area_of(user, c["add"], perm=access.ZONES_WRITE)]
        except (access.NotFound, access.Forbidden):
            raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": c["add"]}, field="add") from None
    if c.get("remove"):
        remove = list(Area.objects.filter(pk=c["remove"]))
    if not add and not remove:
        raise ActionError(_("Choose an area to add or remove."), field="add")
    actions.do_adjust_extent(d, add=add, remove=remove, reason=c["reason"], actor=user)


#: What a designation's page may do (``record_action``): slug -> (its form, the action run with the designation, the
#: form's fields and the user, the message when done).
ACTION_STEPS = {
    "round": (forms.RoundForm,
              lambda d, c, user: actions.do_record_round(d, result="" if c["result"] == "pending" else c["result"],
                                                         reason=c["reason"], actor=user),
              gettext_lazy("Round result recorded.")),
    "keep": (forms.ReasonForm, lambda d, c, user: actions.do_keep(d, reason=c["reason"], actor=user),
             gettext_lazy("The area is kept at its level; this is flagged every day it holds.")),
    "resume": (forms.ReasonForm, lambda d, c, user: actions.do_resume(d, reason=c["reason"], actor=user),
               gettext_lazy("The keep ended: the pack's clock decides again.")),
    "lift": (forms.LiftForm,
             lambda d, c, user: actions.do_lift(d, reason=c["reason"], level=c["level"] or None, actor=user),
             gettext_lazy("The area was lifted.")),
    "reseal": (forms.ResealForm,
               lambda d, c, user: actions.do_reseal(d, level=c["level"], reason=c["reason"], actor=user),
               gettext_lazy("The area was re-sealed.")),
    "adjust": (forms.AdjustForm, _adjust, gettext_lazy("The extent was adjusted.")),
}


def _detail_context(user, d: Designation, bound: dict | None = None) -> dict:
    today = clock.today()
    row = _rows([d], today)[0]
    events = list(d.events.select_related("infection").order_by("-on", "-id"))
    results = dict(forms.RoundForm.base_fields["result"].choices)
    for e in events:
        e.level_label = level_label(e.level) if e.level else ""
        e.result_label = results.get(e.result, e.result)
        e.reason_label = event_reason(e.reason)
    all_members = list(d.members.select_related("area").order_by("removed_on", "area__path"))
    can_write = access.scope_for(user, access.ZONES_WRITE).contains(d)
    neighbours = []
    if can_write and d.status == Status.ACTIVE and d.area.parent_id:
        current = {m.area_id for m in row["members"]}
        neighbours = [a for a in Area.objects.for_user(user, access.ZONES_WRITE).filter(parent_id=d.area.parent_id)
                      .order_by("id")[:60] if a.pk not in current]
    fs = {k: (bound or {}).get(k) or cls(prefix=k) for k, (cls, _run, _message) in ACTION_STEPS.items()}
    if d.level != "high":  # only a high-risk area may be lifted to medium
        fs["lift"].fields.pop("level", None)
    return {
        "d": d, "row": row, "events": events, "members": all_members, "can_write": can_write,
        "neighbours": neighbours, "forms": fs, "today": today,
        "proposals": list(d.proposals.filter(status=ProposalStatus.OPEN)),
        "kpi_goal_hours": kpi.DESIGNATE_GOAL_HOURS, "public_reason": waiting_text(d.public_reason),
    }


@route("zones/export/", "zones_export")
@access.require(access.EXPORT)
def zone_export(request):
    """The command view's risk areas, with its filters, as CSV or XLSX."""
    tab, level, q = _list_filters(request)
    qs = queries.designation_list(Designation.objects.for_user(request.user), tab, level, q)
    listing = exports.designations(level_label, choice_label(Designation, "status"), waiting_text)
    return web_exports.respond(request, listing, qs)


@route("zones/<int:pk>/", "zones_detail")
@access.require(access.VIEW)
def zone_detail(request, pk: int):
    user = request.user
    d = access.access(_with_related(Designation.objects.all()), user, pk)
    return render(request, "zones/detail.html", _detail_context(user, d))


@route("zones/<int:pk>/<slug:action>/", "zones_action")
@access.require(access.ZONES_WRITE)
@require_POST
def zone_action(request, pk: int, action: str):
    user = request.user
    d = access.access(_with_related(Designation.objects.all()), user, pk, perm=access.ZONES_WRITE)

    def context(bound):
        fresh = access.access(_with_related(Designation.objects.all()), user, pk)
        return _detail_context(user, fresh, bound)

    return record_action(request, action, ACTION_STEPS, d, to="zones_detail", template="zones/detail.html",
                         context=context, errors=_labelled_errors)


def _labelled_errors(form) -> str:
    """An invalid action form's errors in one line, each after its field's label."""
    return "; ".join(f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".lstrip(": ")
                     for f, e in form.errors.items())


# ---------------------------------------------------------------------------------------------- designate

def linked_infections(user, text: str) -> list:
    """The infections named in ``text`` (case references separated by commas or spaces) within the user's
    jurisdiction; ActionError on the field "infections" naming those not found (the designate forms)."""
    labels = [x for x in re.split(r"[,，;；\s]+", text or "") if x]
    found = {i.label: i for i in Infection.objects.for_user(user).filter(label__in=labels)}
    missing = [x for x in labels if x not in found]
    if missing:
        raise ActionError(_("No infection %(l)s in your jurisdiction") % {"l": ", ".join(missing)},
                          field="infections")
    return [found[x] for x in labels]


@route("zones/new/", "zones_new")
@access.require(access.ZONES_WRITE)
def zone_new(request):
    user = request.user
    initial = {}
    if request.method == "GET" and query_id(request, "area") is not None:
        initial["area"] = access.access(Area, user, query_id(request, "area")).path

    def act(c):
        try:
            area = area_of(user, c["area"], perm=access.ZONES_WRITE)
        except (access.NotFound, access.Forbidden):
            raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": c["area"]}, field="area") from None
        d = actions.do_designate(area, c["level"], reason=c["reason"], infections=linked_infections(user, c["infections"]),
                                 exposure_note=c["exposure_note"], actor=user)
        return done(request, _("Designated: %(a)s") % {"a": d.area.path}, "zones_detail", pk=d.pk)

    page = form_context(_("Designate an area"), _("Designate"), crumbs=[(reverse("zones_list"), _("Risk areas"))],
                        form_class="designate-form", submit_class="warn", novalidate=True)
    return form_page(request, forms.DesignateForm(request.POST or None, initial=initial), FORM_PAGE, page, act=act)


# ---------------------------------------------------------------------------------------------- proposals, notices

@route("zones/proposals/<int:pk>/confirm/", "zones_proposal_confirm")
@access.require(access.ZONES_WRITE)
@require_POST
def proposal_confirm(request, pk: int):
    user = request.user
    p = access.access(Proposal.objects.select_related("area", "designation"), user, pk, perm=access.ZONES_WRITE)
    attempt(request, lambda: actions.do_confirm_proposal(p, actor=user),
            ok=lambda d: _("Confirmed: %(a)s is designated %(l)s.") % {"a": d.area.path, "l": level_label(d.level)})
    return redirect("zones_list")


@route("zones/proposals/<int:pk>/dismiss/", "zones_proposal_dismiss")
@access.require(access.ZONES_WRITE)
@require_POST
def proposal_dismiss(request, pk: int):
    user = request.user
    p = access.access(Proposal.objects.select_related("area"), user, pk, perm=access.ZONES_WRITE)
    form = forms.DismissForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    attempt(request, lambda: actions.do_dismiss_proposal(p, reason=reason, actor=user),
            ok=_("Proposal for %(a)s dismissed.") % {"a": p.area.path},
            refused=lambda exc: _("Not dismissed: %(e)s") % {"e": exc})
    return redirect("zones_list")


@route("zones/proposals/", "zones_proposals_bulk")
@access.require(access.ZONES_WRITE)
def proposals_bulk(request):
    """Decide many open proposals at once: a check box per proposal the user may decide, one reason and one
    button (confirm, or dismiss); each ticked proposal is one audited action, a refused one (decided by
    someone else meanwhile, a guardrail) is reported with its reason and the others are kept."""
    user = request.user
    mine = Proposal.objects.for_user(user, access.ZONES_WRITE)  # a decided one is refused by the action, with why
    writable = mine.filter(status=ProposalStatus.OPEN)
    form = BulkDecisionForm(request.POST or None, choices=[("confirm", _("Confirm")), ("dismiss", _("Dismiss"))],
                            needs_reason=("dismiss",))
    report = None
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        if c["decision"] == "confirm":
            def act(p, _values):
                actions.do_confirm_proposal(p, actor=user, reason=c["reason"])
        else:
            def act(p, _values):
                actions.do_dismiss_proposal(p, reason=c["reason"], actor=user)
        report = run_rows(request, mine.select_related("area", "designation"), "row", act,
                          label=lambda p: p.area.path)
        answer = bulk_done(request, report, "zones_list")
        if answer is not None:
            return answer
    proposals = list(writable.select_related("area").order_by("-proposed_on", "-id")[:MAX_BULK_ROWS])
    for p in proposals:
        p.level_label = level_label(p.level)
    status = 400 if request.method == "POST" and (report is None or not report["ok"]) else 200
    return render(request, BULK_PAGE, {
        "proposals": proposals, "form": form, "report": report,
        **bulk_context(_("Decide proposals"), _("Tick the proposals, choose the decision and submit once: each "
                                                "ticked proposal is decided and audited on its own."),
                       _("Decide the ticked proposals"), "zones/_proposal_rows.html", proposals)}, status=status)


@route("zones/notices/publish/", "zones_publish")
@access.require(access.COMMAND)
@require_POST
def notice_publish(request):
    user = request.user
    n = actions.do_publish_notice(actor=user)
    if n is None:
        messages.info(request, _("Nothing new to publish."))
    else:
        messages.success(request, _("Notice No. %(n)s published with %(k)s items.") % {"n": n.number,
                                                                                       "k": len(n.items)})
    return redirect("zones_list")


# ---------------------------------------------------------------------------------------------- public

def public_data(q: str = "") -> dict:
    """What the public may see: current high/medium areas, recent lifts, the notices. No personal data:
    address path, level, dates and the public reason only. Four queries whatever the size."""
    today = clock.today()
    q = (q or "").strip()[:100]
    current = queries.public_current()
    lifted = (Designation.objects.exclude(status=Status.ACTIVE)
              .filter(lifted_on__gte=today - dt.timedelta(days=PUBLIC_LIFTED_DAYS), lifted_on__lte=today)
              .select_related("area").only("id", "lifted_on", "area__path").order_by("-lifted_on", "area__path"))
    if q:
        current = current.filter(area__path__icontains=q)
        lifted = lifted.filter(area__path__icontains=q)
    current = list(current)
    extents = queries.members_of(current) if current else {}
    areas = []
    for d in current:
        extent = [m.area.path for m in extents.get(d.pk, [])]
        areas.append({
            "area": d.area.path, "level": d.level, "since": d.since.isoformat(),
            "expected_change": ({"level": d.next_level, "on": d.next_on.isoformat()}
                                if d.next_on and d.next_level else None),
            "reason": d.public_reason, "extent": extent if extent != [d.area.path] else [],
        })
    return {
        "updated": clock.now().isoformat(timespec="seconds"),
        "areas": areas,
        "lifted": [{"area": d.area.path, "lifted_on": d.lifted_on.isoformat()} for d in lifted[:200]],
        "notices": [{"number": n.number, "effective": n.effective.isoformat(), "items": notice_items(n.items)}
                    for n in Notice.objects.only("number", "effective", "items").order_by("-number")[:PUBLIC_NOTICES]],
    }


def notice_items(items: list[dict]) -> list[dict]:
    """A notice's items for the public: one line per area, date and resulting level (a lift by hand and the
    level change it causes are one announcement)."""
    out, seen = [], set()
    for it in items:
        key = (it.get("area"), it.get("on"), it.get("level"))
        if key in seen:
            continue
        seen.add(key)
        out.append({k: it.get(k) for k in ("change", "area", "level", "on", "reason")})
    return out


CHANGE_LABELS = {"designate": EventKind.DESIGNATE.label, "change": EventKind.CHANGE.label,
                 "lift": EventKind.LIFT.label, "reseal": EventKind.RESEAL.label}


@route("public/risk-areas", "public_risk_areas")
@access.public
@require_GET
@cache_control(public=True, max_age=60)
def public_risk_areas(request):
    q = (request.GET.get("q") or "").strip()[:100]
    data = public_data(q)
    groups: OrderedDict = OrderedDict()
    for a in data["areas"]:
        a["level_label"] = level_label(a["level"])
        a["reason"] = waiting_text(a["reason"])
        if a["expected_change"]:
            a["next_label"] = level_label(a["expected_change"]["level"])
        groups.setdefault(a["area"].split("/")[0], []).append(a)
    for n in data["notices"]:
        for it in n["items"]:
            it["change_label"] = CHANGE_LABELS.get(it["change"], it["change"])
            it["level_label"] = level_label(it["level"])
    context = {"q": q, "groups": [{"name": k, "areas": v, "high": sum(1 for a in v if a["level"] == "high"),
                                   "medium": sum(1 for a in v if a["level"] == "medium")}
                                  for k, v in groups.items()],
               "total": len(data["areas"]), "lifted": data["lifted"], "notices": data["notices"],
               "updated": clock.now(), "lifted_days": PUBLIC_LIFTED_DAYS,
               "json_url": reverse("public_risk_areas_json") + ("?" + urlencode({"q": q}) if q else "")}
    return render(request, "zones/public.html", context)


@route("public/risk-areas.json", "public_risk_areas_json")
@access.public
@require_GET
@cache_control(public=True, max_age=60)
def public_risk_areas_json(request):
    resp = JsonResponse(public_data(request.GET.get("q") or ""), json_dumps_params={"ensure_ascii": False})
    resp["Access-Control-Allow-Origin"] = "*"
    return resp


BOARD_DAYS = 3


@route("zones/release/", "zones_release")
@access.require(access.VIEW)
def release_board(request):
    """Areas due to step down or lift today and in the next days, and those waiting on a round, with the
    evidence (days without a counted infection, the rounds that count, what is missing)."""
    today = clock.today()
    rows = queries.release_board(Designation.objects.for_user(request.user), today, BOARD_DAYS,
                                 lang="zh" if reads_chinese() else "en")
    for r in rows:
        r["level_label"], r["to_label"] = level_label(r["level"]), level_label(r["to"]) if r["to"] else ""
    return render(request, "zones/release.html", {
        "rows": rows, "today": today, "days": BOARD_DAYS,
        "missing": sum(r["waiting_kind"] == "round_missing" for r in rows)})
