"""Screening pages: the round list, a round's page (coverage drillable by level, recall tasks, the missing
list, ingestion progress) and the form to create a round. Thin: parse, authorize, call actions, render."""
from __future__ import annotations

import re

from django.contrib import messages
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _, gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.places.models import Area
from cordon.places.queries import area_of
from cordon.web import exports as web_exports
from cordon.web.pages import (FORM_PAGE, attempt, choice_label, done, form_context, form_page, paginate, posted_text,
                              query_id, route)
from cordon.zones.models import Designation, Event, EventKind

from . import actions, exports, queries
from .forms import RetestForm, RoundForm
from .models import CoverageDay, ImportBatch, RecallMember, RecallTask, Round

LEVEL_ORDER = ("district", "street", "community", "compound", "building", "unit")


@route("screening/", "screening_list")
@access.require(access.VIEW)
def round_list(request):
    user = request.user
    rounds = paginate(request, Round.objects.for_user(user))
    return render(request, "screening/list.html", {"rounds": rounds,
                                                   "can_create": access.has_perm(user, access.SCREENING_WRITE)})


def _areas_from(text: str, user) -> list[Area]:
    out = []
    for p in [x.strip().strip("/") for x in (text or "").splitlines() if x.strip()]:
        try:
            out.append(area_of(user, p))
        except access.NotFound:
            raise ActionError(_("No area %(path)s in your jurisdiction.") % {"path": p}, field="areas") from None
    return out


@route("screening/new/", "screening_new")
@access.require(access.SCREENING_WRITE)
def round_new(request):
    user = request.user
    form = RoundForm(request.POST or None, initial={"on": clock.today(), "pool_size": 10, "coverage": "areas"})

    def act(d):
        try:
            designations = [access.access(Designation, user, tok)
                            for tok in re.split(r"[\s,，]+", d["designations"].strip()) if tok]
            r = actions.do_create_round(name=d["name"], on=d["on"], pool_size=d["pool_size"],
                                        coverage=d["coverage"], areas=_areas_from(d["areas"], user),
                                        designations=designations, actor=user)
        except access.NotFound:
            raise ActionError(_("An area or designation is not in your jurisdiction.")) from None
        return done(request, _("Round created."), "screening_detail", r.pk)

    # (a refused or invalid form answers 200 here, as it always has)
    page = form_context(_("New round"), _("Create round"), crumbs=[(reverse("screening_list"), _("Mass screening"))],
                        novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act, refused_status=200)


@route("screening/<int:pk>/", "screening_detail")
@access.require(access.VIEW)
def round_detail(request, pk: int):
    user = request.user
    r = queries.access_round(user, pk)
    parent = request.GET.get("area")
    if parent and query_id(request, "area") is None:
        raise Http404
    current = access.access(Area, user, query_id(request, "area")) if parent else None
    # stored rows down to compounds, buildings and units counted for this one node (queries.coverage_children)
    rows = paginate(request, queries.coverage_children(r, user, current), per_page=100)
    names = dict(Area.objects.filter(pk__in=[c.area_id for c in rows]).values_list("id", "name"))
    table = [{"row": c, "name": names.get(c.area_id, "")} for c in rows]
    crumbs = []
    if current is not None:
        scope = access.scope_for(user)
        crumbs = [a for a in current.ancestors() if a.pk != current.pk and scope.contains(a)]
    show_recall = access.has_perm(user, access.READ_HEALTH)
    tasks = list(queries.positives_of(r, user)[:100]) if show_recall else []
    members: dict[int, list] = {}
    for m in RecallMember.objects.for_user(user, access.READ_HEALTH).filter(task__in=tasks).select_related("resident"):
        members.setdefault(m.task_id, []).append({
            "m": m, "name": ids.mask_name(m.resident.name), "id_number": ids.mask_id_number(m.resident.id_number),
            "phone": ids.mask_phone(m.resident.phone)})
    days = (CoverageDay.objects.filter(round=r).values("day").annotate(n=Sum("sampled")).order_by("day"))
    scope = access.scope_for(user)
    batches = list(ImportBatch.objects.filter(round=r)[:20]) if scope.everything or not r.coverage == "city" else []
    return render(request, "screening/detail.html", {
        "round": r, "table": table, "page": rows, "current": current, "crumbs": crumbs, "tasks": [
            {"t": t, "members": members.get(t.pk, [])} for t in tasks],
        "days": list(days), "batches": batches, "can_write": access.has_perm(user, access.SCREENING_WRITE),
        "retest_form": RetestForm(), "show_recall": show_recall,
        "can_record": access.has_perm(user, access.CASES_WRITE),
        "can_missing": access.has_perm(user, access.READ_PERSONAL),
        "counted": Event.objects.filter(kind=EventKind.ROUND, reason=f"screening round {r.pk}").filter(
            designation__in=Designation.objects.for_user(user)).select_related("designation__area")[:50],
    })


@route("screening/<int:pk>/refresh/", "screening_refresh")
@access.require(access.SCREENING_WRITE)
@require_POST
def round_refresh(request, pk: int):
    r = queries.access_round(request.user, pk, write=True)
    actions.do_refresh_round(r, actor=request.user)
    messages.success(request, _("Coverage, tubes and recall tasks recomputed."))
    return redirect("screening_detail", r.pk)


@route("screening/<int:pk>/close/", "screening_close")
@access.require(access.SCREENING_WRITE)
@require_POST
def round_close(request, pk: int):
    """Close (or, with a reason, reopen) the round from its page."""
    user = request.user
    r = queries.access_round(user, pk, write=True)
    reason = posted_text(request, "reason", 300)
    if request.POST.get("action") == "reopen":
        attempt(request, lambda: actions.do_reopen_round(r, actor=user, reason=reason), ok=_("Round reopened."))
    else:
        attempt(request, lambda: actions.do_close_round(r, actor=user, reason=reason),
                ok=_("Round closed: its outcome counts for the risk areas it covers."))
    return redirect("screening_detail", r.pk)


@route("screening/<int:pk>/missing/<int:area_id>/", "screening_missing")
@access.require(access.READ_PERSONAL)
def round_missing(request, pk: int, area_id: int):
    r, area, qs = _missing_of(request, pk, area_id)
    page = paginate(request, qs.select_related("household"))
    people = [{"r": x, "name": ids.mask_name(x.name), "id_number": ids.mask_id_number(x.id_number),
               "phone": ids.mask_phone(x.phone)} for x in page]
    return render(request, "screening/missing.html", {"round": r, "area": area, "page": page, "people": people})


# ---------------------------------------------------------------------------------------------- files out

def _missing_of(request, pk: int, area_id: int):
    """The round, the area and its missing residents as the missing list shows them (page, export, print)."""
    r = queries.access_round(request.user, pk)
    area = access.access(Area, request.user, area_id, read=access.READ_PERSONAL)
    return r, area, queries.missing_residents(r, request.user, area)


@route("screening/<int:pk>/missing/<int:area_id>/export/", "screening_missing_export")
@access.require(access.EXPORT)
def missing_export(request, pk: int, area_id: int):
    _r, area, qs = _missing_of(request, pk, area_id)
    return web_exports.respond(request, exports.missing(), qs, scope=area)


@route("screening/<int:pk>/missing/<int:area_id>/print/", "screening_missing_print")
@access.require(access.READ_PERSONAL)
def missing_print(request, pk: int, area_id: int):
    """The people of a building (or unit) still to sample in a round, to print and tick at the door."""
    r, area, qs = _missing_of(request, pk, area_id)
    listing = exports.missing()
    return web_exports.print_page(
        request, listing, qs.values(*listing.fields)[:web_exports.PRINT_ROWS + 1],
        title=format_lazy("{} · {} ({:%Y-%m-%d})", _lazy("To test"), r.name, r.on), address=area.path,
        checks=(_lazy("Sampled"), _lazy("Not at home"), _lazy("Note")))


@route("screening/print/<int:area_id>/", "screening_print_latest")
@access.require(access.READ_PERSONAL)
def latest_missing_print(request, area_id: int):
    """From a building's page: the list to test of the latest round covering the building."""
    area = access.access(Area, request.user, area_id, read=access.READ_PERSONAL)
    r = queries.latest_round_over(request.user, area)
    if r is None:
        return web_exports.print_page(request, exports.missing(), (), title=_lazy("To test"), address=area.path,
                                      note=_lazy("No screening round covers this place yet."))
    return redirect("screening_missing_print", r.pk, area.pk)


@route("screening/<int:pk>/recall/export/", "screening_recall_export")
@access.require(access.EXPORT)
def recall_export(request, pk: int):
    """Everyone in the round's positive pools (the recall list), as CSV or XLSX."""
    r = queries.access_round(request.user, pk)
    listing = exports.recall(choice_label(RecallMember, "retest"), choice_label(RecallTask, "status"))
    return web_exports.respond(request, listing, queries.recall_members(r, request.user))


@route("screening/retest/<int:member_id>/", "screening_retest")
@access.require(access.SCREENING_WRITE)
@require_POST
def retest(request, member_id: int):
    user = request.user
    m = access.access(RecallMember, user, member_id, perm=access.SCREENING_WRITE, read=access.READ_HEALTH)
    form = RetestForm(request.POST)
    if form.is_valid():
        attempt(request, lambda: actions.do_record_retest(m, result=form.cleaned_data["result"], actor=user),
                ok=_("Retest recorded."))
    return redirect("screening_detail", m.task.round_id)
