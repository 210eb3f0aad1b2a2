"""Key-worker pages (phone-friendly): the list with its status on a day (current / overdue, who became overdue
that day), the overdue summary per employer and per community, a worker's page with the on-site sample form,
registration, employers and their contacts. An employer contact sees their own employer's staff only."""
from __future__ import annotations

from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy

from cordon.core import access
from cordon.core.actions import ActionError
from cordon.keyworkers import actions, exports, forms, queries
from cordon.places.models import Area, Resident
from cordon.policy.cadence import STATUSES, groups
from cordon.core.packs import active_pack
from cordon.web import exports as web_exports
from cordon.web.pages import (FORM_PAGE, done, form_context, form_page, paginate, query_day, query_id,
                              query_without_page, route)


def _filters(request) -> dict:
    status = request.GET.get("status") or ""
    area = query_id(request, "area")
    return {"status": status if status in STATUSES else None, "on": query_day(request),
            "employer": query_id(request, "employer"),
            "area": access.access(Area, request.user, area, read=access.KEYWORKERS_READ) if area else None,
            "became": request.GET.get("became") == "1"}


def _workers(request):
    """The list page's rows: its filters (shared with its export)."""
    return queries.filtered(request.user, **_filters(request))


@route("keyworkers/", "keyworkers_list")
@access.require(access.KEYWORKERS_READ)
def worker_list(request):
    user = request.user
    f = _filters(request)
    page = paginate(request, _workers(request), 50)
    labels = queries.group_labels()
    return render(request, "keyworkers/list.html", {
        "page": page, "rows": [queries.row(w, f["on"], labels) for w in page.object_list], "f": f,
        "statuses": STATUSES, "employers": list(queries.employers_for(user).order_by("name")[:200]),
        "querystring": query_without_page(request), "mine": queries.employer_of(user)
        if queries._employer_only(user, access.KEYWORKERS_READ) else None,
        "can_write": access.has_perm(user, access.KEYWORKERS_WRITE)})


@route("keyworkers/export/", "keyworkers_export")
@access.require(access.EXPORT)
def worker_export(request):
    """The key workers, with the list page's filters, as CSV or XLSX."""
    return web_exports.respond(request, exports.workers(), _workers(request))


@route("keyworkers/overdue/", "keyworkers_overdue")
@access.require(access.KEYWORKERS_READ)
def overdue(request):
    on = query_day(request)
    return render(request, "keyworkers/overdue.html", {"s": queries.overdue_counts(request.user, on)})


@route("keyworkers/<int:pk>/", "keyworkers_detail")
@access.require(access.KEYWORKERS_READ)
def detail(request, pk: int):
    user = request.user
    w = queries.access_worker(user, pk)
    may_write = access.has_perm(user, access.KEYWORKERS_WRITE) and \
        queries.workers_for(user, access.KEYWORKERS_WRITE).filter(pk=w.pk).exists()
    form = forms.SampleForm(request.POST or None) if may_write else None

    def act(c):
        s = actions.do_record_sample(w, result=c["result"], on=c["on"], actor=user, reason=c["reason"])
        return done(request, _("Sample recorded (positive: infection %(label)s recorded).")
                    % {"label": s.infection.label} if s.infection else _("Sample recorded."), "keyworkers_detail", pk)

    if request.method == "POST" and form is None:
        raise access.Forbidden
    samples = list(w.samples.order_by("-on", "-id")[:20])
    return form_page(request, form, "keyworkers/detail.html",
                     {"w": w, "r": queries.row(w), "samples": samples, "home": Area.objects.filter(pk=w.unit_id).first()},
                     act=act)


def _group_choices():
    return [(g, queries.group_label(g)) for g in groups(active_pack())]


@route("keyworkers/new/", "keyworkers_register")
@access.require(access.KEYWORKERS_WRITE)
def register(request):
    user = request.user
    form = forms.RegisterForm(request.POST or None)
    form.fields["group"].choices = _group_choices()
    form.fields["employer"].choices = [(e.pk, e.name) for e in
                                       queries.employers_for(user, access.KEYWORKERS_WRITE).order_by("name")[:300]]

    def act(c):
        person = Resident.objects.for_user(user, access.KEYWORKERS_WRITE).filter(
            id_number=c["id_number"].strip().upper()).first()
        if person is None:
            raise ActionError(_("no resident with this ID number"), field="id_number")
        workplace = None
        if c["workplace"]:
            workplace = Area.objects.for_user(user).filter(path=c["workplace"].strip().strip("/")).first()
            if workplace is None:
                raise ActionError(_("no such area in your jurisdiction"), field="workplace")
        employer = queries.access_employer(user, c["employer"], access.KEYWORKERS_WRITE)
        w = actions.do_register_key_worker(person, group=c["group"], employer=employer, workplace=workplace,
                                           registered_on=c["registered_on"], actor=user, reason=c["reason"])
        return done(request, _("Key worker registered."), "keyworkers_detail", w.pk)

    return form_page(request, form, FORM_PAGE, form_context(
        gettext_lazy("Register a key worker"), _("Register"), crumbs=[(reverse("keyworkers_list"), _("Key workers"))],
        cancel=reverse("keyworkers_list"), lead=_("Many at once: upload a CSV or XLSX file on the Files in page.")),
        act=act)


@route("keyworkers/employers/", "keyworkers_employers")
@access.require(access.KEYWORKERS_READ)
def employers(request):
    user = request.user
    rows = list(queries.employers_for(user).order_by("name")[:300])
    counts = queries.overdue_counts(user)
    overdue = {r["employer_id"]: r["n"] for r in counts["employers"]}
    staff = dict(queries.workers_for(user).order_by().values_list("employer_id").annotate(
        n=Count("id")))
    return render(request, "keyworkers/employers.html", {
        "rows": [{"e": e, "staff": staff.get(e.pk, 0), "overdue": overdue.get(e.pk, 0)} for e in rows],
        "can_manage": actions.may_manage(user)})


@route("keyworkers/employers/new/", "keyworkers_employer_new")
@access.require(access.KEYWORKERS_WRITE)
def employer_new(request):
    user = request.user

    def act(c):
        e = actions.do_create_employer(c["name"], kind=c["kind"], actor=user, reason=c["reason"])
        return done(request, _("%(name)s created.") % {"name": e.name}, "keyworkers_employers")

    return form_page(request, forms.EmployerForm(request.POST or None), FORM_PAGE, form_context(
        gettext_lazy("New employer"), _("Create"), crumbs=[(reverse("keyworkers_employers"), _("Employers"))],
        cancel=reverse("keyworkers_employers")), act=act)


@route("keyworkers/employers/<int:pk>/contact/", "keyworkers_employer_contact")
@access.require(access.KEYWORKERS_WRITE)
def employer_contact(request, pk: int):
    user = request.user
    e = queries.access_employer(user, pk, access.KEYWORKERS_WRITE)

    def act(c):
        actions.do_link_contact(e, username=c["username"], actor=user, reason=c["reason"])
        return done(request, _("Contact linked to %(name)s.") % {"name": e.name}, "keyworkers_employers")

    return form_page(request, forms.ContactForm(request.POST or None), FORM_PAGE, form_context(
        gettext_lazy("Link an employer contact"), _("Link"), heading=e.name,
        crumbs=[(reverse("keyworkers_employers"), _("Employers"))], cancel=reverse("keyworkers_employers"),
        lead=_("The user must hold the employer-contact role; they will see this employer's staff only.")), act=act)

