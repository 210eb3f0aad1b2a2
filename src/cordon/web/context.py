"""Template context for every page: the viewer's roles and a navigation that fits them.

The navigation is data (NAV): each entry names its URL, label, the URL names that mark it current, and the
capability its page needs (``core.access``, the same table the pages check), so a role sees exactly the
entries it may open. The first few go in the bar; the rest under "More".
"""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cordon.core import access

#: (url name, label, url-name prefixes that mark it current, capability the page needs)
NAV = [
    ("situation", _("Situation"), ("situation",), access.VIEW),
    ("area_list", _("Jurisdiction"), ("area_", "resident_"), access.VIEW),
    ("zones_list", _("Risk areas"), ("zones_",), access.VIEW),
    ("maps_map", _("Map"), ("maps_",), access.VIEW),
    ("cases_infections", _("Infections"), ("cases_infection",), access.READ_HEALTH),
    ("cases_contacts", _("People under orders"), ("cases_contacts",), access.READ_HEALTH),
    ("care_board", _("Medical requests"), ("care_",), access.CARE_READ),
    ("hotline_list", _("Hotline"), ("hotline_",), access.HOTLINE_READ),
    ("supplies_dashboard", _("Supplies"), ("supplies_",), access.SUPPLIES_READ),
    ("passes_check", _("Checkpoint"), ("passes_check",), access.PASSES_CHECK),
    ("passes_list", _("Passes"), ("passes_list", "passes_new", "passes_detail", "passes_revoke", "passes_checkpoint",
                                   "passes_assign"), access.PASSES_READ),
    ("screening_list", _("Screening"), ("screening_",), access.VIEW),
    ("keyworkers_list", _("Key workers"), ("keyworkers_",), access.KEYWORKERS_READ),
    ("keyplaces_list", _("Key places"), ("keyplaces_",), access.KEYPLACES_READ),
    ("cases_facilities", _("Facilities"), ("cases_facilit",), access.VIEW),
    ("cases_arrivals", _("Arrivals"), ("cases_arrivals",), access.READ_HEALTH),
    ("resources_today", _("Resources"), ("resources_",), access.RESOURCES_READ),
    ("playbooks_list", _("Playbooks"), ("playbooks_",), access.SIGNED_IN),
    ("command_orders", _("Command orders"), ("command_order", "command_new", "command_matrix"), access.ORDERS_SEND),
    ("command_inbox", _("Orders to my unit"), ("command_inbox",), access.ORDERS_RECEIVE),
    ("command_screen", _("Command screen"), ("command_screen",), access.COMMAND),
    ("phone_app", _("Field app"), ("phone_",), access.PHONE_USE),
    ("notifications", _("Notifications"), ("notification",), access.SIGNED_IN),
    ("uploads", _("Files in"), ("upload",), access.UPLOAD),
    ("audit_list", _("Audit log"), ("audit_",), access.AUDIT),
    ("settings_pack", _("Policy pack"), ("settings_",), access.COMMAND),
    ("account_tokens", _("API tokens"), ("account_",), access.SIGNED_IN),
]
PUBLIC_NAV = [("public_hub", _("Public information"), ("public_",))]
IN_BAR = 4
#: Which entries lead the bar for a role whose work is on a desk (a layout choice, not a permission: the
#: entries shown are still exactly those whose capability the viewer holds). Other roles: NAV's order.
LEAD = {
    "community_worker": ("area_list", "zones_list", "cases_infections", "cases_contacts"),
    "hotline_operator": ("hotline_list", "care_board"),
    "medical_dispatcher": ("care_board", "cases_infections", "cases_facilities"),
    "logistics_officer": ("supplies_dashboard",),
    "employer_contact": ("keyworkers_list",),
    "checkpoint_officer": ("passes_check", "passes_list"),
    "volunteer": ("phone_app",),
    "keyplace_manager": ("keyplaces_list",),
}


def _ordered(roles) -> list:
    lead = [n for r in access.ROLE_CAPS if r in roles for n in LEAD.get(r, ())]
    if not lead or "commander" in roles:
        return NAV
    rank = {n: i for i, n in enumerate(dict.fromkeys(lead))}
    return sorted(NAV, key=lambda e: rank.get(e[0], len(rank)))


def navigation(request, caps: set[str], roles=()) -> tuple[list, list]:
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    items = []
    for name, label, prefixes, cap in _ordered(set(roles)):
        if cap in caps or (cap == access.SIGNED_IN and caps):
            items.append({"url": reverse(name), "label": label,
                          "current": any((current or "").startswith(p) for p in prefixes)})
    for name, label, prefixes in PUBLIC_NAV:
        items.append({"url": reverse(name), "label": label,
                      "current": any((current or "").startswith(p) for p in prefixes)})
    return items[:IN_BAR], items[IN_BAR:]


def cordon(request):
    user = getattr(request, "user", None)
    roles = set(access.roles_of(user)) if user is not None else set()
    caps = access.caps_of(user) if user is not None else set()
    bar, more = navigation(request, caps, roles)
    return {
        "cordon_roles": sorted(roles),
        "cordon_caps": caps,
        "can_audit": access.AUDIT in caps,
        "nav_bar": bar,
        "nav_more": more,
        "unread_notifications": _unread(user),
    }


def _unread(user) -> int:
    from cordon.core import notify

    return notify.unread_count(user) if user is not None else 0
