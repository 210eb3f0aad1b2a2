"""What cases gives the pages of places (``places.hooks``): a resident's infections and orders on their page,
and the infections and orders of the global search. Health data: only for roles with ``read_health``, within
their jurisdiction."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.cases.models import Infection, PersonOrder
from cordon.core import access
from cordon.core.packs import active_pack
from cordon.places.hooks import Section
from cordon.web.pages import in_language

LATEST = 20


def _category(o) -> str:
    pack = active_pack(o.identified_on)
    cat = pack.category(o.category) if pack is not None else None
    return in_language(cat.title.zh, cat.title.en) if cat is not None else o.category


def _infections(user, rows, limit: int, empty: str) -> Section:
    s = Section(_("Infections"), [_("Case"), _("Kind"), _("Confirmed"), _("Home address")], empty=empty)
    for inf in rows[:limit]:
        s.add(reverse("cases_infection", args=[inf.pk]), inf.label, inf.get_kind_display(),
              inf.confirmed_on.isoformat(), inf.home.path)
    s.more = len(rows) > limit
    return s


def _orders(user, rows, limit: int, empty: str) -> Section:
    s = Section(_("Orders"), [_("Person"), _("Category"), _("Status"), _("Identified"), _("Free on")],
                empty=empty)
    for o in rows[:limit]:
        s.add(reverse("cases_order", args=[o.pk]), o.label, _category(o), o.get_status_display(),
              o.identified_on.isoformat(), o.free_on.isoformat() if o.free_on else "—")
    s.more = len(rows) > limit
    return s


def resident_infections(user, resident) -> Section | None:
    if not access.has_perm(user, access.READ_HEALTH):
        return None
    rows = list(Infection.objects.for_user(user, access.READ_HEALTH).filter(resident=resident)
                .select_related("home").order_by("-confirmed_on", "-id")[:LATEST + 1])
    return _infections(user, rows, LATEST, _("No infection recorded for this resident."))


def resident_orders(user, resident) -> Section | None:
    if not access.has_perm(user, access.READ_HEALTH):
        return None
    rows = list(PersonOrder.objects.for_user(user, access.READ_HEALTH).filter(resident=resident)
                .order_by("-identified_on", "-id")[:LATEST + 1])
    return _orders(user, rows, LATEST, _("No order for this resident."))


def search_infections(user, q: str, limit: int) -> Section | None:
    if not access.has_perm(user, access.READ_HEALTH):
        return None
    rows = list(Infection.objects.for_user(user, access.READ_HEALTH).filter(label__icontains=q)
                .select_related("home").order_by("-confirmed_on", "-id")[:limit + 1])
    return _infections(user, rows, limit, _("No infection you may read matches."))


def search_orders(user, q: str, limit: int) -> Section | None:
    if not access.has_perm(user, access.READ_HEALTH):
        return None
    rows = list(PersonOrder.objects.for_user(user, access.READ_HEALTH).filter(label__icontains=q)
                .order_by("-identified_on", "-id")[:limit + 1])
    return _orders(user, rows, limit, _("No order you may read matches."))
