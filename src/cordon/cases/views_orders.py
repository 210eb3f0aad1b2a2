"""Pages of the cases writes that have a form of their own: recording an infection (by hand, or prefilled from a
positive result: a person under an order, an arrival, a recalled resident), a manual order, an extension, a
spill-over, and the check-ins of many people at once.

Each calls the same action as the API (``cases.actions``); a refusal shows on the form, on the field it names.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cordon.cases import actions, forms, queries
from cordon.cases.models import Arrival, CheckIn, Found, Infection, OrderStatus, PersonOrder
from cordon.cases.views import STATUS_LABELS, _back, _first_problem, _not_done, category_label
from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.core.packs import active_pack
from cordon.places.models import Area, Resident
from cordon.places.queries import area_of
from cordon.web.pages import (BULK_PAGE, FORM_PAGE, bulk_context, bulk_done, done, form_context, form_page, paginate, parse_id, posted,
                              query_id, query_without_page, route, run_rows)

MAX_VISITED = 50


def _area(user, value: str, field: str, perm: str = access.CASES_WRITE):
    """The area a form names by address path (or id) in the user's jurisdiction: a form error otherwise."""
    try:
        return area_of(user, value, perm=perm)
    except (access.NotFound, access.Forbidden):
        raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": value}, field=field) from None


def _visited(value: str) -> list:
    """The places of the trace, one address path per line; any area of the city (exposure places are public
    once designated), each line checked."""
    lines = [x.strip().strip("/") for x in (value or "").splitlines() if x.strip()]
    if len(lines) > MAX_VISITED:
        raise ActionError(_("At most %(n)s places.") % {"n": MAX_VISITED}, field="visited")
    found = {a.path: a for a in Area.objects.filter(path__in=lines)}
    for n, line in enumerate(lines, 1):
        if line not in found:
            raise ActionError(_("line %(n)s: no such address %(a)s") % {"n": n, "a": line}, field="visited")
    return [found[x] for x in dict.fromkeys(lines)]


def suggested_label(today: dt.date) -> str:
    """A free case reference of the day (``2022-1108-03``): the next number after the day's references."""
    prefix = f"{today:%Y-%m%d}-"
    taken = set(Infection.objects.filter(label__startswith=prefix).values_list("label", flat=True))
    n = len(taken) + 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


def _prefill(request, user, today: dt.date) -> tuple[dict, Resident | None, str]:
    """The form's initial values from the positive result the page was opened from (``order``, ``arrival`` or
    ``resident``, each read within the user's jurisdiction), the resident it names, and a line saying where
    the values come from."""
    initial = {"label": suggested_label(today), "confirmed_on": today, "kind": "confirmed", "found": Found.COMMUNITY}
    resident, source = None, ""
    if (pk := query_id(request, "order")) is not None:
        o = access.access(PersonOrder.objects.select_related("home"), user, pk, read=access.READ_HEALTH)
        placed = o.placements.filter(discharged_on__isnull=True).exists()
        initial.update(label=o.label, home=o.home.path if o.home_id else "", home_isolating=not placed,
                       found=Found.QUARANTINE_SITE if placed else Found.CONTROLLED_AREA,
                       reason=_("positive result under order %(c)s") % {"c": o.category})
        resident = o.resident
        source = _("From the positive result of %(p)s, under an order.") % {"p": o.label}
    elif (pk := query_id(request, "arrival")) is not None:
        a = access.access(Arrival.objects.select_related("destination"), user, pk, read=access.READ_HEALTH)
        initial.update(label=a.label, home=a.destination.path, reason=_("positive arrival test"))
        resident = a.resident
        source = _("From the positive test of the arrival %(p)s.") % {"p": a.label}
    elif (pk := query_id(request, "resident")) is not None:
        resident = access.access(Resident, user, pk, read=access.READ_PERSONAL)
        unit = Area.objects.filter(pk=resident.unit_id).first()
        initial.update(home=unit.path if unit else "")
        source = _("For the resident of the record you came from.")
    return initial, resident, source


@route("cases/infections/new/", "cases_infection_new")
@access.require(access.CASES_WRITE)
def infection_new(request):
    """Record an infection: by hand, with the places visited, or opened from a positive result (prefilled)."""
    user, today = request.user, clock.today()
    initial, resident, source = _prefill(request, user, today)
    form = forms.InfectionForm(request.POST or None, initial=initial)

    def act(c):
        home = _area(user, c["home"], "home")
        inf = actions.do_record_infection(label=c["label"], home=home, found=c["found"], kind=c["kind"],
                                          confirmed_on=c["confirmed_on"], visited=_visited(c["visited"]),
                                          resident=resident, home_isolating=c["home_isolating"], actor=user,
                                          reason=c["reason"])
        return done(request, _("Infection %(l)s recorded: its response tasks are open.") % {"l": inf.label},
                    "cases_infection", inf.pk)

    page = form_context(_("Record an infection"), _("Record"), crumbs=[(reverse("cases_infections"), _("Infections"))],
                        lead=source or _("The area clocks start from it and its response tasks open."),
                        novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)


def _categories(today):
    pack = active_pack(today)
    return [(k, category_label(pack, k)) for k in pack.persons] if pack is not None else []


@route("cases/orders/new/", "cases_order_new")
@access.require(access.CASES_WRITE)
def order_new(request):
    """Put a person under a category's measures by hand (a reason and a recorded link are required)."""
    user, today = request.user, clock.today()
    initial = {"person": (request.GET.get("person") or "").strip()[:40]}
    form = forms.ManualOrderForm(request.POST or None, initial=initial, categories=_categories(today))

    def act(c):
        home = _area(user, c["home"], "home") if c["home"].strip() else None
        actions.check_manual_order_home(user, c["person"], home)
        o = actions.do_manual_order(label=c["person"], category=c["category"], reason=c["reason"], home=home,
                                    actor=user)
        if o is None:
            return done(request, _("No order: identified after it would have ended (the clock never restarts)."),
                        "cases_contacts")
        return done(request, _("%(p)s is under an order until %(d)s.") % {
            "p": o.label, "d": o.free_on - dt.timedelta(days=1) if o.free_on else "—"}, "cases_contacts")

    page = form_context(_("Manual order"), _("Put under the measures"),
                        crumbs=[(reverse("cases_contacts"), _("People under orders"))],
                        lead=_("The category's measures from the pack in force, from the person's recorded link."),
                        novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)


@route("cases/orders/<int:pk>/extend/", "cases_order_extend")
@access.require(access.CASES_WRITE)
def order_extend(request, pk: int):
    """Extend one order (only a positive result of the person is a reason: nine prohibitions #5)."""
    user = request.user
    o = access.access(PersonOrder, user, pk, perm=access.CASES_WRITE, read=access.READ_HEALTH)
    form = forms.ExtendForm(request.POST or None)

    def act(c):
        actions.do_extend_order(o, days=c["days"], reason=c["reason"], actor=user)
        return done(request, _("The order of %(p)s was extended.") % {"p": o.label},
                    reverse("cases_contacts") + f"?q={o.label}")

    last = o.free_on - dt.timedelta(days=1) if o.free_on else None
    page = form_context(_("Extend the order of %(p)s") % {"p": o.label}, _("Extend"),
                        crumbs=[(reverse("cases_contacts"), _("People under orders"))],
                        lead=_("Status today: %(s)s; last day %(d)s.") % {
                            "s": STATUS_LABELS.get(queries.status_today(o, clock.today()), o.status),
                            "d": last or "—"}, novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)


@route("cases/spillovers/new/", "cases_spillover_new")
@access.require(access.CASES_WRITE)
def spillover_new(request):
    """Someone who left a high- or medium-risk area: the category follows the area's level on that day."""
    user = request.user
    form = forms.SpilloverForm(request.POST or None, initial={"left_on": clock.today()})

    def act(c):
        home = _area(user, c["home"], "home")
        path = c["from_area"].strip().strip("/")
        from_area = Area.objects.filter(pk=parse_id(path)).first() if parse_id(path) else \
            Area.objects.filter(path=path).first()
        if from_area is None:
            raise ActionError(_("No such area: %(a)s") % {"a": c["from_area"]}, field="from_area")
        o = actions.do_register_spillover(label=c["person"], from_area=from_area, left_on=c["left_on"], home=home,
                                          actor=user, reason=c["reason"])
        if o is None:
            return done(request, _("No order: identified after it would have ended (the clock never restarts)."),
                        "cases_contacts")
        return done(request, _("%(p)s registered and under an order.") % {"p": o.label}, "cases_contacts")

    page = form_context(_("Register a spill-over"), _("Register"),
                        crumbs=[(reverse("cases_contacts"), _("People under orders"))],
                        lead=_("A person who left a high- or medium-risk area (risk areas are public: any area of "
                               "the city); their home must be in your jurisdiction."), novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)


# ---------------------------------------------------------------------------------------------- bulk check-ins

@route("cases/checkins/", "cases_checkins_bulk")
@access.require(access.CASES_WRITE)
def checkins_bulk(request):
    """Today's check-ins of many people at once: a row per active order the user may write (a community's,
    with ``community``), a check box, a temperature and a result each, and one submit; each ticked row is one
    audited check-in, a refused row is reported with its reason and the other rows are kept."""
    user, today = request.user, clock.today()
    mine = PersonOrder.objects.for_user(user, access.CASES_WRITE)
    community = None
    if (cid := query_id(request, "community")) is not None:
        community = access.access(Area, user, cid)
        mine = mine.filter(**access.within(community))
    writable = mine.filter(status=OrderStatus.ACTIVE)  # an ended order takes no check-in
    report = None
    if request.method == "POST":
        report = run_rows(request, writable, "row", lambda o, c: actions.do_record_checkin(
            o, temperature=c["temperature"], symptoms=c["symptoms"], test_result=c["test_result"], actor=user),
            label=lambda o: o.label, form=forms.CheckInForm, fields=("temperature", "symptoms", "test_result"))
        answer = bulk_done(request, report, request.get_full_path())
        if answer is not None:
            return answer
    page = paginate(request, writable.select_related("home").order_by("free_on", "id"), 100)
    orders = list(page.object_list)
    checked = set(CheckIn.objects.filter(order_id__in=[o.pk for o in orders], on=today)
                  .values_list("order_id", flat=True))
    rows = [{"o": o, "done": o.pk in checked, "today_label": STATUS_LABELS.get(queries.status_today(o, today), ""),
             "test_today": queries.next_test(o, today) == today} for o in orders]
    lead = _("Check-ins of %(d)s") % {"d": today} + (f" · {community.path}" if community else "")
    return render(request, BULK_PAGE, {
        "rows": rows, "page": page, "report": report, "results": forms.RESULT_CHOICES,
        "querystring": query_without_page(request),
        **bulk_context(_("Check-ins of many people"), _("Tick the people seen, fill in what was measured, and save "
                                                        "once: each ticked row is one check-in."),
                       _("Save the ticked check-ins"), "cases/_checkin_rows.html", rows, lead=lead)},
        status=400 if report and not report["ok"] else 200)


@route("cases/arrivals/<int:pk>/test/", "cases_arrival_test")
@access.require(access.CASES_WRITE)
@require_POST
def arrival_test(request, pk: int):
    """A test of an arrival (negative or positive, on a day); a positive one offers the infection's form."""
    a = access.access(Arrival, request.user, pk, perm=access.CASES_WRITE)
    f = forms.ArrivalTestForm(request.POST)

    def act():
        actions.do_record_arrival_test(a, actor=request.user, **f.cleaned_data)
        messages.success(request, _("Test of %(p)s recorded.") % {"p": a.label})

    return posted(request, f, act, _back(request, reverse("cases_arrivals")), refused=_not_done,
                  invalid=_first_problem)
