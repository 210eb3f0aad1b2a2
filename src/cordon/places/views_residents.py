"""Pages that write residents' records: registering a resident in a unit's flat, and editing a record (moving
to another flat of the unit included). The same actions as the API (``places.actions``); identifying fields
are written, never shown back (the resident's page masks them; revealing one is the audited unmask)."""
from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.core import access
from cordon.places import actions
from cordon.places.forms import ResidentForm
from cordon.places.models import Area, Household, Resident
from cordon.web.pages import FORM_PAGE, done, form_context, form_page, route

#: the record's fields a form carries besides the flat and the reason
FIELDS = ("name", "id_number", "phone", "lives_alone", "treatment", "disability", "chronic_illness", "pregnant_due")
IDENTIFYING = ("name", "id_number", "phone")


def _household(user, unit: Area, number: str) -> Household:
    return actions.do_get_or_create_household(unit, number, actor=user)


@route("areas/<int:pk>/residents/new/", "resident_new")
@access.require(access.PLACES_WRITE)
def resident_new(request, pk: int):
    user = request.user
    unit = access.access(Area, user, pk, perm=access.PLACES_WRITE)
    if unit.kind != "unit":
        raise Http404
    form = ResidentForm(request.POST or None, initial={"household": request.GET.get("flat", "")[:20]})

    def act(c):
        data = {k: c[k] for k in FIELDS if c[k] not in (None, "")}
        r = actions.do_create_resident(_household(user, unit, c["household"]), data, actor=user, reason=c["reason"])
        return done(request, _("Resident registered."), "resident_detail", r.pk)

    page = form_context(_("Register a resident"), _("Register"), crumbs=[(reverse("area_detail", args=[unit.pk]),
                                                                          unit.name)],
                        lead=unit.path, novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)


@route("residents/<int:pk>/edit/", "resident_edit")
@access.require(access.PLACES_WRITE)
def resident_edit(request, pk: int):
    user = request.user
    r = access.access(Resident.objects.select_related("household"), user, pk, perm=access.PLACES_WRITE,
                      read=access.READ_PERSONAL)
    initial = {k: getattr(r, k) for k in FIELDS if k not in IDENTIFYING}
    form = ResidentForm(request.POST or None, initial=initial, editing=True)

    def act(c):
        changes = {k: c[k] for k in FIELDS if k not in IDENTIFYING}
        changes.update({k: c[k] for k in IDENTIFYING if c[k]})
        actions.do_update_resident(r, changes, actor=user, reason=c["reason"])
        number = c["household"].strip()
        if number and number != r.household.number:
            unit = Area.objects.get(pk=r.unit_id)
            actions.do_move_resident(r, _household(user, unit, number), actor=user, reason=c["reason"])
        return done(request, _("Record saved."), "resident_detail", r.pk)

    page = form_context(_("Edit the record"), _("Save"), crumbs=[(reverse("resident_detail", args=[r.pk]),
                                                                   _("Resident"))],
                        lead=_("Flat %(n)s. The name, ID number and phone are not shown: type a new value to "
                               "change one.") % {"n": r.household.number}, novalidate=True)
    return form_page(request, form, FORM_PAGE, page, act=act)
