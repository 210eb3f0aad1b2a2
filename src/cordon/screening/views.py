"""Screening pages: the round list, a round's page (coverage drillable by level, recall tasks, the missing
list, ingestion progress) and the form to create a round. Thin: parse, authorize, call actions, render."""
from __future__ import annotations

import re

from django.contrib import messages
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.places.models import Area
from cordon.places.queries import area_of
from cordon.web.pages import (FORM_PAGE, attempt, done, form_context, form_page, paginate, posted_text, query_id,
                              route)
from cordon.zones.models import Designation, Event, EventKind

from . import actions, queries
from .forms import RetestForm, RoundForm
from .models import CoverageDay, ImportBatch, RecallMember, Round

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
    user = request.user
    r = queries.access_round(user, pk)
    area = access.access(Area, user, area_id, read=access.READ_PERSONAL)
    page = paginate(request, queries.missing_residents(r, user, area).select_related("household"))
    people = [{"r": x, "name": ids.mask_name(x.name), "id_number": ids.mask_id_number(x.id_number),
               "phone": ids.mask_phone(x.phone)} for x in page]
    return render(request, "screening/missing.html", {"round": r, "area": area, "page": page, "people": people})


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
