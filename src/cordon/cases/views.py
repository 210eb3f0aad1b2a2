"""Pages for finding one and extinguishing one: infections and their response, a community's people under
orders with the daily check-in, facilities, arrivals.

Thin, as every page (``web.pages``): parse, authorize through ``core.access``, call ``cases.actions``, render.
Lists are scoped with ``for_user``; single objects come through ``access.access`` (NotFound -> 404,
Forbidden -> 403). Every list is paginated and reads a page in a fixed number of queries.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cordon.cases import actions, exports, forms, queries
from cordon.cases.models import (Arrival, CheckIn, Facility, Infection, InfectionKind, OrderStatus,
                                 OutsideRegion, PersonOrder, Placement, ResponseTask, TaskNote, TaskStatus)
from cordon.cases.queries import arrival_rows, infection_rows, order_list_qs
from cordon.core import access, clock
from cordon.core.models import AuditEntry
from cordon.core.packs import active_pack
from cordon.core.actions import ActionError
from cordon.places.models import Area
from cordon.places.queries import area_of
from cordon.places.views import scope_roots
from cordon.playbooks import queries as playbook_queries
from cordon.playbooks.models import Subject
from cordon.policy.pack import task_playbook_key
from cordon.web import exports as web_exports
from cordon.web.pages import (attempt, choice_label, half_in_language, in_language, paginate, posted, posted_text,
                              query_id, query_without_page, reads_chinese, route)

PAGE_SIZE = 50

STATUS_LABELS = {"centralized": gettext_lazy("Centralized quarantine"), "home": gettext_lazy("At home"),
                 "free": gettext_lazy("Order ended"), "released": gettext_lazy("Released"),
                 "void": gettext_lazy("No order")}


def category_label(pack, key: str) -> str:
    cat = pack.category(key) if pack is not None else None
    return in_language(cat.title.zh, cat.title.en) if cat is not None else key


def _back(request, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


def _first_problem(form) -> str:
    """The first problem of an invalid form, as a message naming the field."""
    field, errs = next(iter(form.errors.items()))
    label = form.fields[field].label if field in form.fields else ""
    return _("Not done: %(reason)s") % {"reason": f"{label}: {errs[0]}" if label else errs[0]}


def _not_done(exc: ActionError) -> str:
    """A refused action as the message these pages show: the reason, and the pack's rule when it names one."""
    msg = str(exc)
    if exc.rule:
        msg = f"{msg} ({exc.rule})"
    return _("Not done: %(reason)s") % {"reason": msg}


# ---------------------------------------------------------------------------------------------- infections

def _checklist(t, runs, lang_zh: bool) -> tuple[list[dict], object]:
    """The task's checklist: its playbook's steps (who checked each, when) or, for a task following none,
    its own list. On the task's default playbook an item ticked on the list counts as checked."""
    pb = playbook_queries.get(t.playbook)
    if pb is None:
        return [{"i": i, "text": c["zh"] if lang_zh else c["en"], "done": c.get("done")}
                for i, c in enumerate(t.checklist)], None
    own = t.playbook == task_playbook_key(t.step)
    items = playbook_queries.checklist(pb, runs.get((t.pk, t.playbook)), "zh" if lang_zh else "en")
    for i, c in enumerate(items):
        c["done"] = bool(c["check"]) or (own and i < len(t.checklist) and bool(t.checklist[i].get("done")))
    return items, pb


def _task_rows(tasks, now, lang_zh: bool) -> list[dict]:
    rows = []
    runs = playbook_queries.runs_for(Subject.TASK, [t.pk for t in tasks])
    for t in tasks:
        st = queries.task_state(t, now)
        checklist, pb = _checklist(t, runs, lang_zh)
        # the title and a team's owner are kept "中文 / English" (a community's owner is its path)
        rows.append({"t": t, "title": half_in_language(t.title), "owner": half_in_language(t.owner), **st,
                     "checklist": checklist, "playbook": pb,
                     "playbook_title": pb.title.get("zh" if lang_zh else "en") if pb else ""})
    return rows


@route("cases/", "cases_infections")
@access.require(access.READ_HEALTH)
def infection_list(request):
    user = request.user
    now, today = clock.now(), clock.today()
    q = (request.GET.get("q") or "").strip()[:40]
    kind = request.GET.get("kind") or ""
    qs = Infection.objects.for_user(user, access.READ_HEALTH)
    scoped_qs = qs
    if kind in InfectionKind.values:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(label__icontains=q)
    page = paginate(request, qs.select_related("home").order_by("-confirmed_on", "-id"), PAGE_SIZE)
    rows = infection_rows(list(page.object_list), now)
    by_id = {i.pk: i for i in page.object_list}
    for r in rows:
        r["inf"] = by_id[r["id"]]
    overdue = (ResponseTask.objects.for_user(user, access.READ_HEALTH)
               .filter(status=TaskStatus.OPEN, deadline__lt=now).select_related("infection").order_by("deadline", "id"))
    overdue_rows = _task_rows(list(overdue[:20]), now, reads_chinese())
    context = {"rows": rows, "page": page, "q": q, "kind": kind, "kinds": InfectionKind.choices,
               "querystring": query_without_page(request), "daily": queries.daily_kpis(scoped_qs, 14, today),
               "overdue": overdue_rows, "can_write": access.has_perm(user, access.CASES_WRITE), "overdue_count": overdue.count() if len(overdue_rows) >= 20
               else len(overdue_rows)}
    return render(request, "cases/infections.html", context)


def _chain_labels(node, pack):
    node["category_label"] = category_label(pack, node["category"]) if node.get("category") else ""
    if node.get("status"):
        node["status_label"] = OrderStatus(node["status"]).label if node["status"] in OrderStatus.values \
            else node["status"]
    if node.get("infection"):
        _chain_labels(node["infection"], pack)
    for c in node.get("children", []):
        _chain_labels(c, pack)
    return node


@route("cases/infections/<int:pk>/", "cases_infection")
@access.require(access.READ_HEALTH)
def infection_detail(request, pk: int):
    user = request.user
    inf = access.access(Infection.objects.select_related("home"), user, pk, read=access.READ_HEALTH)
    now, today = clock.now(), clock.today()
    pack = active_pack(today)
    tasks = list(inf.tasks.prefetch_related(Prefetch("notes", queryset=TaskNote.objects.order_by("at", "id")))
                 .order_by("deadline", "id"))
    kpi = queries.kpis_for([inf])[inf.pk]
    # Only the contacts whose home is in the viewer's jurisdiction: a contact living elsewhere is another
    # jurisdiction's record (the KPIs above still count every contact of this infection, without names).
    contacts = list(PersonOrder.objects.for_user(user, access.READ_HEALTH).filter(infection=inf).select_related("home")
                    .order_by("identified_on", "id")[:500])
    for o in contacts:
        o.today = queries.status_today(o, today)
        o.today_label = STATUS_LABELS.get(o.today, o.today)
        o.category_label = category_label(pack, o.category)
        o.next_test = queries.next_test(o, today)
        o.late = o.identified_on > inf.confirmed_on + dt.timedelta(days=1)  # traced after the first day
    can_write = access.scope_for(user, access.CASES_WRITE).contains(inf)
    context = {
        "inf": inf, "tasks": _task_rows(tasks, now, reads_chinese()), "kpi": kpi, "contacts": contacts,
        "chain": _chain_labels(queries.chain(inf, user), pack), "can_write": can_write,
        "visited": list(inf.visited.all()), "designations": list(inf.designations.select_related("area")),
        "contact_form": forms.ContactForm(initial={"last_exposure": inf.confirmed_on - dt.timedelta(days=1)}),
        "reclassify_form": forms.ReclassifyForm(initial={"kind": "confirmed" if inf.kind == "asymptomatic"
                                                         else "asymptomatic"}),
        "status_labels": STATUS_LABELS,
        "library": [(p.key, p.title.get("zh" if reads_chinese() else "en")) for p in playbook_queries.library(today)],
    }
    return render(request, "cases/infection.html", context)


@route("cases/tasks/<int:pk>/<slug:action>/", "cases_task_action")
@access.require(access.CASES_WRITE)
@require_POST
def task_action(request, pk: int, action: str):
    user = request.user
    t = access.access(ResponseTask, user, pk, perm=access.CASES_WRITE)
    back = _back(request, reverse("cases_infection", args=[t.infection_id]) + f"#task-{t.pk}")
    f = forms.NoteForm(request.POST)

    def act():
        if action == "complete":
            actions.do_complete_task(t, actor=user, note=f.cleaned_data["text"])
            messages.success(request, _("Task done."))
        elif action == "check" and f.cleaned_data["step"]:
            actions.do_check_task_step(t, f.cleaned_data["step"], actor=user, note=f.cleaned_data["text"].strip())
            messages.success(request, _("Step checked."))
        elif action == "playbook":
            actions.do_set_task_playbook(t, f.cleaned_data["playbook"], actor=user)
            messages.success(request, _("The task follows another playbook."))
        elif action == "check":
            if f.cleaned_data["check"] is None:
                raise ActionError(_("no such checklist item"), field="check")
            actions.do_note_task(t, f.cleaned_data["text"] or "✓", actor=user, check=f.cleaned_data["check"])
        elif action == "note":
            if not f.cleaned_data["text"].strip():
                raise ActionError(_("write a note"), field="text")
            actions.do_note_task(t, f.cleaned_data["text"].strip(), actor=user)
        else:
            raise access.NotFound

    return posted(request, f, act, back, refused=_not_done, invalid=_("Not done: check the form."))


@route("cases/infections/<int:pk>/<slug:action>/", "cases_infection_action")
@access.require(access.CASES_WRITE)
@require_POST
def infection_action(request, pk: int, action: str):
    user = request.user
    inf = access.access(Infection.objects.select_related("home"), user, pk, read=access.READ_HEALTH)
    back = reverse("cases_infection", args=[inf.pk])

    def act():
        if action == "reclassify":
            access.access(Infection, user, pk, perm=access.CASES_WRITE)
            f = forms.ReclassifyForm(request.POST)
            if not f.is_valid():
                raise ActionError(_("choose a classification"), field="kind")
            actions.do_reclassify_infection(inf, f.cleaned_data["kind"], actor=user, reason=f.cleaned_data["reason"])
            messages.success(request, _("Reclassified."))
        elif action == "contact":
            f = forms.ContactForm(request.POST)
            if not f.is_valid():
                field, errs = next(iter(f.errors.items()))
                raise ActionError(f"{field}: {errs[0]}", field=field)
            home = area_of(user, f.cleaned_data["home"], perm=access.CASES_WRITE) if f.cleaned_data["home"] else None
            if home is None:
                access.access(Infection, user, pk, perm=access.CASES_WRITE)
                home = inf.home
            via = None
            if f.cleaned_data["via"]:
                via = (PersonOrder.objects.for_user(user, access.READ_HEALTH)
                       .filter(label=f.cleaned_data["via"].strip(), infection=inf)
                       .order_by("-id").first())
                if via is None:
                    raise ActionError(_("no close contact %(p)s of this infection") % {"p": f.cleaned_data["via"]},
                                      field="via")
            o = actions.do_register_contact(inf, label=f.cleaned_data["person"], category=f.cleaned_data["category"],
                                            last_exposure=f.cleaned_data["last_exposure"], home=home, via=via,
                                            actor=user, id_number=f.cleaned_data["id_number"])
            if o is None:
                messages.warning(request, _("No order: identified after it would have ended (the clock never "
                                            "restarts)."))
            else:
                messages.success(request, _("%(p)s is under an order until %(d)s.") % {
                    "p": o.label, "d": o.free_on - dt.timedelta(days=1) if o.free_on else "—"})
            return "#contacts"
        else:
            raise access.NotFound
        return ""

    anchor = attempt(request, act, refused=_not_done)
    return redirect(back + (anchor or ""))


# ---------------------------------------------------------------------------------------------- contacts

def _order_filters(request, today):
    """The contacts page's filters (one community, status today, category, reference) and its orders: shared
    by the page and its export."""
    community = None
    cid = query_id(request, "community")
    if cid is not None:
        community = access.access(Area, request.user, cid)
    tab = request.GET.get("today") or ""
    if tab not in ("centralized", "home"):
        tab = ""
    category = request.GET.get("category") or ""
    q = (request.GET.get("q") or "").strip()[:40]
    qs = order_list_qs(request.user, community=community.pk if community else None, status=OrderStatus.ACTIVE,
                       category=category or None, today_status=tab or None, q=q or None, today=today)
    return community, tab, category, q, qs


@route("cases/contacts/", "cases_contacts")
@access.require(access.READ_HEALTH)
def contact_list(request):
    """People under orders in the user's jurisdiction (or one community of it): status today, free day,
    next test day and the check-in form. Reads a page from the (community, status) index: a count and
    three queries whatever the size of the city."""
    user = request.user
    today = clock.today()
    pack = active_pack(today)
    community, tab, category, q, qs = _order_filters(request, today)
    qs = qs.select_related("home", "infection").only(
        "id", "label", "category", "status", "anchor", "identified_on", "centralized_until", "home_until",
        "free_on", "test_days", "extended_by", "manual", "placed_at", "community_id", "home_id", "home__path",
        "home__name", "resident_id", "infection_id", "infection__label", *[f"{lv}_id" for lv in access.LEVELS],
        *[f"infection__{lv}_id" for lv in access.LEVELS])
    page = paginate(request, qs, PAGE_SIZE)
    orders = list(page.object_list)
    checked = {c.order_id: c for c in CheckIn.objects.filter(order_id__in=[o.pk for o in orders], on=today)}
    write = access.scope_for(user, access.CASES_WRITE)
    personal = access.scope_for(user, access.READ_PERSONAL)
    if community is not None:
        cut = len(community.path) + 1
    else:
        roots = scope_roots(user)
        cut = len(roots[0].path) + 1 if len(roots) == 1 and roots[0].kind != "district" else 0
    for o in orders:
        o.today = queries.status_today(o, today)
        o.today_label = STATUS_LABELS.get(o.today, o.today)
        o.next_test = queries.next_test(o, today)
        o.test_today = o.next_test == today
        o.last_day = o.free_on - dt.timedelta(days=1) if o.free_on else None
        o.category_label = category_label(pack, o.category)
        o.checkin = checked.get(o.pk)
        o.can_write = write.contains(o)
        o.resident_link = personal.contains(o)
        o.where = (o.home.path[cut:] if o.home_id else "") or "—"
    categories = [(k, category_label(pack, k)) for k in pack.persons] if pack is not None else []
    context = {"orders": orders, "page": page, "today": today, "tab": tab, "category": category, "q": q,
               "community": community, "categories": categories, "querystring": query_without_page(request),
               "checkin_form": forms.CheckInForm(), "next": request.get_full_path(),
               "can_write": access.has_perm(user, access.CASES_WRITE),
               "tabs": [("", _("Everyone")), ("centralized", STATUS_LABELS["centralized"]),
                        ("home", STATUS_LABELS["home"])]}
    return render(request, "cases/contacts.html", context)


@route("cases/orders/<int:pk>/", "cases_order")
@access.require(access.READ_HEALTH)
def order_detail(request, pk: int):
    """One person under an order: its days, the infection it came from, the resident record it is linked to,
    its placements, check-ins and its history (the order's audit rows)."""
    user = request.user
    o = access.access(PersonOrder.objects.select_related("home", "infection", "via", "resident"), user, pk,
                      read=access.READ_HEALTH)
    today = clock.today()
    o.today = queries.status_today(o, today)
    o.today_label = STATUS_LABELS.get(o.today, o.today)
    o.next_test = queries.next_test(o, today)
    results = dict(forms.CheckInForm.base_fields["test_result"].choices)
    checkins = list(o.checkins.order_by("-on", "-id")[:60])
    for c in checkins:
        c.result_label = results.get(c.test_result, c.test_result) if c.test_result else ""
    history = (AuditEntry.objects.filter(object_type__in=("order", "personorder"), object_id=str(o.pk))
               .order_by("at", "id")[:200])
    context = {
        "o": o, "category": category_label(active_pack(o.identified_on), o.category),
        "infection_link": o.infection_id and access.can(user, access.READ_HEALTH, o.infection),
        "resident_link": o.resident_id and access.can(user, access.READ_PERSONAL, o.resident),
        "placements": list(o.placements.select_related("facility").order_by("admitted_on", "id")),
        "checkins": checkins,
        "history": list(history),
        "can_write": access.scope_for(user, access.CASES_WRITE).contains(o),
        "checkin_form": forms.CheckInForm(), "next": request.get_full_path(),
    }
    return render(request, "cases/order.html", context)


@route("cases/orders/<int:pk>/checkin/", "cases_checkin")
@access.require(access.CASES_WRITE)
@require_POST
def order_checkin(request, pk: int):
    user = request.user
    o = access.access(PersonOrder, user, pk, perm=access.CASES_WRITE)
    back = _back(request, reverse("cases_contacts"))
    f = forms.CheckInForm(request.POST)

    def act():
        actions.do_record_checkin(o, temperature=f.cleaned_data["temperature"],
                                  symptoms=f.cleaned_data["symptoms"], test_result=f.cleaned_data["test_result"],
                                  actor=user)
        messages.success(request, _("Check-in of %(p)s recorded.") % {"p": o.label})

    return posted(request, f, act, back, refused=_not_done, invalid=_first_problem)


# ---------------------------------------------------------------------------------------------- facilities

@route("cases/facilities/", "cases_facilities")
@access.require(access.VIEW)
def facility_list(request):
    user = request.user
    today = clock.today()
    qs = Facility.objects.for_user(user).select_related("area").order_by("kind", "name")
    page = paginate(request, qs, PAGE_SIZE)
    facilities = list(page.object_list)
    look = queries.outlooks(facilities, today)
    write = access.scope_for(user, access.CASES_WRITE)
    rows = [{"f": f, **look[f.pk], "can_write": write.contains(f),
             "pct": min(100, round(100 * f.occupied / f.capacity)) if f.capacity else 0} for f in facilities]
    for r in rows:
        r["pct10"] = min(100, int(round(r["pct"] / 10)) * 10)
    totals = {k: sum(r[k] for r in rows) for k in ("capacity", "occupied", "free")}
    intake = sum(r["intake_per_day"] for r in rows)
    totals["intake_per_day"] = round(intake, 1)
    totals["days_left"] = round(totals["free"] / intake, 1) if intake > 0 else None
    context = {"rows": rows, "page": page, "totals": totals, "admit_form": forms.AdmitForm(),
               "facility_form": forms.FacilityForm(), "can_create": access.has_perm(user, access.CASES_WRITE),
               "querystring": query_without_page(request)}
    return render(request, "cases/facilities.html", context)


@route("cases/facilities/<int:pk>/", "cases_facility")
@access.require(access.READ_HEALTH)
def facility_detail(request, pk: int):
    user = request.user
    f = access.access(Facility.objects.select_related("area"), user, pk, read=access.READ_HEALTH)
    today = clock.today()
    current = (Placement.objects.filter(facility=f, discharged_on__isnull=True)
               .select_related("order", "infection").order_by("admitted_on", "id"))
    page = paginate(request, current, PAGE_SIZE)
    context = {"f": f, "o": queries.outlooks([f], today)[f.pk], "page": page, "placements": list(page.object_list),
               "can_write": access.scope_for(user, access.CASES_WRITE).contains(f), "admit_form": forms.AdmitForm(),
               "today": today, "querystring": query_without_page(request),
               "recent": list(Placement.objects.filter(facility=f, discharged_on__isnull=False)
                              .select_related("order", "infection").order_by("-discharged_on", "-id")[:20])}
    return render(request, "cases/facility.html", context)


@route("cases/facilities/new/", "cases_facility_new")
@access.require(access.CASES_WRITE)
@require_POST
def facility_create(request):
    user = request.user
    f = forms.FacilityForm(request.POST)
    back = reverse("cases_facilities")

    def act():
        area = area_of(user, f.cleaned_data["area"], perm=access.CASES_WRITE)
        fac = actions.do_create_facility(name=f.cleaned_data["name"].strip(), kind=f.cleaned_data["kind"],
                                         area=area, capacity=f.cleaned_data["capacity"], actor=user)
        messages.success(request, _("%(name)s added.") % {"name": fac.name})

    return posted(request, f, act, back, refused=_not_done, invalid=_first_problem)


@route("cases/facilities/<int:pk>/admit/", "cases_facility_admit")
@access.require(access.CASES_WRITE)
@require_POST
def facility_admit(request, pk: int):
    user = request.user
    fac = access.access(Facility, user, pk, perm=access.CASES_WRITE)
    back = _back(request, reverse("cases_facility", args=[fac.pk]))
    f = forms.AdmitForm(request.POST)

    def act():
        label = f.cleaned_data["person"].strip()
        order = (PersonOrder.objects.for_user(user, access.CASES_WRITE)
                 .filter(label=label, status=OrderStatus.ACTIVE)
                 .order_by("-id").first())
        inf = None
        if order is None:
            inf = Infection.objects.for_user(user, access.CASES_WRITE).filter(label=label).first()
            if inf is None:
                raise ActionError(_("nobody under an order or infected with the reference %(p)s in your "
                                    "jurisdiction") % {"p": label}, field="person")
        actions.do_place(fac, order=order, infection=inf, actor=user, note=f.cleaned_data["note"].strip())
        messages.success(request, _("%(p)s admitted to %(f)s.") % {"p": label, "f": fac.name})

    return posted(request, f, act, back, refused=_not_done, invalid=_("Not done: give the person's reference."))


@route("cases/placements/<int:pk>/discharge/", "cases_discharge")
@access.require(access.CASES_WRITE)
@require_POST
def placement_discharge(request, pk: int):
    user = request.user
    p = Placement.objects.filter(pk=pk).first()
    if p is None:
        raise access.NotFound
    fac = access.access(Facility, user, p.facility_id, perm=access.CASES_WRITE)

    def act():
        actions.do_discharge(p, actor=user, reason=posted_text(request, "reason", 500))
        messages.success(request, _("Discharged."))

    attempt(request, act, refused=_not_done)
    return redirect(_back(request, reverse("cases_facility", args=[fac.pk])))


# ---------------------------------------------------------------------------------------------- arrivals

@route("cases/arrivals/", "cases_arrivals")
@access.require(access.READ_HEALTH)
def arrival_list(request):
    user = request.user
    today = clock.today()
    pack = active_pack(today)
    regions = list(OutsideRegion.objects.order_by("-updated_on", "name")[:300])
    qs = queries.arrival_list_qs(user).select_related("destination", "region")
    page = paginate(request, qs, PAGE_SIZE)
    rows = arrival_rows(list(page.object_list), today, user)
    write = access.scope_for(user, access.CASES_WRITE)
    for r in rows:
        r["category_label"] = category_label(pack, r["category"])
        r["can_write"] = write.contains(r["arrival_obj"])
        r["positive"] = any(t.get("result") == "positive" for t in r["tests"])
        o = r["order"]
        if o is not None:
            r["today_label"] = STATUS_LABELS.get(o["today"], o["today"])
            r["last_day"] = o["free_on"] - dt.timedelta(days=1) if o["free_on"] else None
    is_commander = access.has_perm(user, access.COMMAND)
    form = forms.ArrivalForm(regions=regions, initial={"arrived_on": today})
    context = {"rows": rows, "page": page, "form": form, "regions": regions, "is_commander": is_commander,
               "test_form": forms.ArrivalTestForm(),
               "can_write": access.has_perm(user, access.CASES_WRITE), "querystring": query_without_page(request),
               "levels": forms.LEVEL_CHOICES}
    return render(request, "cases/arrivals.html", context)


@route("cases/arrivals/new/", "cases_arrival_new")
@access.require(access.CASES_WRITE)
@require_POST
def arrival_create(request):
    user = request.user
    regions = list(OutsideRegion.objects.all())
    f = forms.ArrivalForm(request.POST, regions=regions)
    back = reverse("cases_arrivals")

    def act():
        dest = area_of(user, f.cleaned_data["destination"], perm=access.CASES_WRITE)
        region = next((r for r in regions if str(r.pk) == f.cleaned_data["region"]), None)
        level = region.level if region else f.cleaned_data["from_level"]
        if not level:
            raise ActionError(_("choose where the person came from"), field="region")
        a, o = actions.do_register_arrival(label=f.cleaned_data["person"], from_level=level,
                                           kind=f.cleaned_data["kind"], arrived_on=f.cleaned_data["arrived_on"],
                                           destination=dest, region=region, actor=user)
        if o is None:
            messages.success(request, _("%(p)s registered: no quarantine, the pack's tests only.") % {"p": a.label})
        else:
            messages.success(request, _("%(p)s registered and under an order.") % {"p": a.label})

    return posted(request, f, act, back, refused=_not_done, invalid=_first_problem)


@route("cases/regions/", "cases_region_upsert")
@access.require(access.COMMAND)
@require_POST
def region_upsert(request):
    user = request.user

    def act():
        r = actions.do_upsert_outside_region(name=posted_text(request, "name", 120),
                                             level=posted_text(request, "level", 8),
                                             source=posted_text(request, "source", 200), actor=user)
        messages.success(request, _("%(name)s saved.") % {"name": r.name})

    attempt(request, act, refused=_not_done)
    return redirect(reverse("cases_arrivals") + "#regions")


# ---------------------------------------------------------------------------------------------- files out

@route("cases/contacts/export/", "cases_contacts_export")
@access.require(access.EXPORT)
def contact_export(request):
    """The people under orders of the contacts page, with its filters, as CSV or XLSX."""
    today = clock.today()
    pack = active_pack(today)
    community, _tab, _category, _q, qs = _order_filters(request, today)
    listing = exports.orders(today, lambda k: category_label(pack, k), lambda k: str(STATUS_LABELS.get(k, k)))
    return web_exports.respond(request, listing, qs, scope=community)


@route("cases/arrivals/export/", "cases_arrivals_export")
@access.require(access.EXPORT)
def arrival_export(request):
    pack = active_pack(clock.today())
    listing = exports.arrivals(lambda k: category_label(pack, k), choice_label(Arrival, "kind"))
    return web_exports.respond(request, listing, queries.arrival_list_qs(request.user))
