"""Template context for every page: the viewer's roles and a navigation that fits them.

The navigation is data (NAV): each entry names its URL, label, the URL names that mark it current, and the
roles that use it. The first few entries a user may see go in the bar; the rest under "More".
"""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cordon.core import access

STAFF = None  # any signed-in user with a grant
OPS = {"commander", "district_officer", "street_officer", "community_worker", "auditor"}

#: (url name, label, url-name prefixes that mark it current, roles or STAFF, public?)
NAV = [
    ("situation", _("Situation"), ("situation",), {"commander", "district_officer", "street_officer", "auditor"}),
    ("area_list", _("Jurisdiction"), ("area_", "resident_"), STAFF),
    ("zones_list", _("Risk areas"), ("zones_",), STAFF),
    ("cases_infections", _("Infections"), ("cases_infection",), OPS | {"medical_dispatcher"}),
    ("cases_contacts", _("People under orders"), ("cases_contacts",), OPS),
    ("care_board", _("Medical requests"), ("care_",), OPS | {"medical_dispatcher", "hotline_operator"}),
    ("hotline_list", _("Hotline"), ("hotline_",), {"commander", "district_officer", "hotline_operator", "auditor"}),
    ("supplies_dashboard", _("Supplies"), ("supplies_",), OPS | {"logistics_officer"}),
    ("screening_list", _("Screening"), ("screening_",), OPS),
    ("cases_facilities", _("Facilities"), ("cases_facilit",), OPS | {"medical_dispatcher"}),
    ("cases_arrivals", _("Arrivals"), ("cases_arrivals",), OPS),
    ("audit_list", _("Audit log"), ("audit_",), "audit"),
]
PUBLIC_NAV = [("public_hub", _("Public information"), ("public_",))]
IN_BAR = 4


def navigation(request, roles: set[str], can_audit: bool) -> tuple[list, list]:
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    items = []
    for name, label, prefixes, who in NAV:
        if who == "audit":
            allowed = can_audit
        elif who is STAFF:
            allowed = bool(roles)
        else:
            allowed = bool(roles & who)
        if allowed:
            items.append({"url": reverse(name), "label": label,
                          "current": any((current or "").startswith(p) for p in prefixes)})
    for name, label, prefixes in PUBLIC_NAV:
        items.append({"url": reverse(name), "label": label,
                      "current": any((current or "").startswith(p) for p in prefixes)})
    return items[:IN_BAR], items[IN_BAR:]


def cordon(request):
    user = getattr(request, "user", None)
    roles = set(access.roles_of(user)) if user is not None else set()
    can_audit = bool(user is not None and access.has_perm(user, access.AUDIT))
    bar, more = navigation(request, roles, can_audit)
    return {
        "cordon_roles": sorted(roles),
        "can_audit": can_audit,
        "nav_bar": bar,
        "nav_more": more,
    }
