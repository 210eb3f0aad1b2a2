"""Every write the JSON API offers has a page whose form makes the same write, open to every role the
operation is open to; or it is listed here as deliberately API-only, with why.

The writes are read from the assembled API (``config.api``: every router's POST, PUT, PATCH and DELETE
operations, with the capability ``access.declare_operations`` gave each); the pages from the URL conf (each
view's ``cordon_cap``, from ``access.require``). A new write with neither a page nor a reason fails here.
"""
from __future__ import annotations

import pytest

from cordon.core import access

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: "METHOD path" of the operation -> the URL name of the page whose form makes that write
PAGES = {
    "POST /tokens": "account_tokens",
    "POST /notifications/read": "notifications",
    # command orders
    "POST /commands": "command_new",
    "POST /commands/{order_id}/revise": "command_order_action",
    "POST /commands/{order_id}/withdraw": "command_order_action",
    "POST /command-inbox/{recipient_id}/acknowledge": "command_inbox_action",
    "POST /command-inbox/{recipient_id}/progress": "command_inbox_action",
    "POST /command-inbox/{recipient_id}/complete": "command_inbox_action",
    "DELETE /tokens/{token_id}": "account_token_revoke",
    # places
    "POST /residents": "resident_new",
    "PATCH /residents/{resident_id}": "resident_edit",
    "POST /residents/{resident_id}/unmask": "resident_detail",
    # zones
    "POST /designations": "zones_new",
    "POST /designations/{designation_id}/lift": "zones_action",
    "POST /designations/{designation_id}/keep": "zones_action",
    "POST /designations/{designation_id}/resume": "zones_action",
    "POST /designations/{designation_id}/round": "zones_action",
    "POST /designations/{designation_id}/reseal": "zones_action",
    "POST /designations/{designation_id}/adjust": "zones_action",
    "POST /proposals/{proposal_id}/confirm": "zones_proposal_confirm",
    "POST /proposals/{proposal_id}/dismiss": "zones_proposal_dismiss",
    # screening
    "POST /screening/rounds": "screening_new",
    "POST /screening/rounds/{round_id}/refresh": "screening_refresh",
    "POST /screening/rounds/{round_id}/close": "screening_close",
    "POST /screening/rounds/{round_id}/reopen": "screening_close",
    "POST /screening/recall/{member_id}/retest": "screening_retest",
    # cases
    "POST /infections": "cases_infection_new",
    "POST /infections/{infection_id}/reclassify": "cases_infection_action",
    "POST /infections/{infection_id}/contacts": "cases_infection_action",
    "POST /tasks/{task_id}/complete": "cases_task_action",
    "POST /tasks/{task_id}/note": "cases_task_action",
    "POST /tasks/{task_id}/playbook": "cases_task_action",
    "POST /orders": "cases_order_new",
    "POST /orders/{order_id}/checkins": "cases_checkin",
    "POST /orders/{order_id}/extend": "cases_order_extend",
    "POST /spillovers": "cases_spillover_new",
    "POST /arrivals": "cases_arrival_new",
    "POST /arrivals/{arrival_id}/tests": "cases_arrival_test",
    "POST /facilities": "cases_facility_new",
    "POST /facilities/{facility_id}/place": "cases_facility_admit",
    "POST /placements/{placement_id}/discharge": "cases_discharge",
    "POST /outside-regions": "cases_region_upsert",
    # key workers
    "POST /keyworkers/workers": "keyworkers_register",
    "POST /keyworkers/workers/{worker_id}/samples": "keyworkers_detail",
    "POST /keyworkers/employers": "keyworkers_employer_new",
    "POST /keyworkers/employers/{employer_id}/contacts": "keyworkers_employer_contact",
    # resources
    "POST /resources/people": "resources_person_new",
    "POST /resources/people/{person_id}/assign": "resources_person_assign",
    "POST /resources/teams": "resources_team_new",
    "POST /resources/vans": "resources_van_new",
    "POST /resources/labs": "resources_lab_new",
    "POST /resources/labs/{lab_id}/capacity": "resources_lab_capacity",
    "POST /resources/shifts": "resources_shift_new",
    "POST /resources/shifts/{shift_id}/cancel": "resources_shift_cancel",
    # care
    "POST /care/requests": "care_new",
    "POST /care/requests/{request_id}/dispatch": "care_request_action",
    "POST /care/requests/{request_id}/advance": "care_request_action",
    "POST /care/requests/{request_id}/retriage": "care_request_action",
    "POST /care/requests/{request_id}/close": "care_request_action",
    "POST /care/tasks/{task_id}/done": "care_task_done",
    "PUT /care/needs/{resident_id}": "care_needs",
    "POST /care/hospitals": "care_new_reference",
    "POST /care/vehicles": "care_new_reference",
    # hotline
    "POST /hotline/tickets": "hotline_new",
    "POST /hotline/tickets/{ticket_id}/respond": "hotline_ticket_action",
    "POST /hotline/tickets/{ticket_id}/feedback": "hotline_ticket_action",
    "POST /hotline/tickets/{ticket_id}/close": "hotline_ticket_action",
    "POST /hotline/tickets/{ticket_id}/assign": "hotline_assign_bulk",
    # supplies
    "POST /supplies/warehouses": "supplies_new",
    "POST /supplies/items": "supplies_new",
    "POST /supplies/teams": "supplies_new",
    "POST /supplies/warehouses/{warehouse_id}/movements": "supplies_action",
    "POST /supplies/deliveries/{delivery_id}/delivered": "supplies_delivery_action",
    "POST /supplies/deliveries/{delivery_id}/failed": "supplies_delivery_action",
    "POST /supplies/deliveries/{delivery_id}/assign": "passes_assign",
    # passes
    "POST /passes": "passes_new",
    "POST /passes/{pass_id}/revoke": "passes_revoke",
    "POST /passes/check": "passes_check",
    # key places
    "POST /keyplaces": "keyplaces_new",
    "POST /keyplaces/{place_id}/status": "keyplaces_action",
    "POST /keyplaces/{place_id}/counts": "keyplaces_action",
    "POST /keyplaces/{place_id}/people": "keyplaces_action",
    "POST /keyplaces/{place_id}/shift": "keyplaces_action",
    "POST /keyplaces/people/{person_id}/movements": "keyplaces_action",
    "POST /keyplaces/people/{person_id}/tests": "keyplaces_action",
    # situation
    "POST /bulletins": "situation_bulletin_draft",
    "PATCH /bulletins/{bulletin_id}": "situation_bulletin",
    "POST /bulletins/{bulletin_id}/approve": "situation_bulletin",
    "POST /bulletins/{bulletin_id}/publish": "situation_bulletin",
    "POST /situation/closes": "situation_day_close",
    "POST /situation/closes/{close_id}/reopen": "situation_day_close",
}

#: "METHOD path" -> why the write has no form of its own
API_ONLY = {
    "POST /phone/devices": "the installed phone app (/app/) registers its own device and keeps the slice key it is "
                           "given in the browser; no form types a key",
    "POST /phone/sync": "the installed phone app sends its queued offline changes; each goes through the same action "
                        "as the page for that record (tube, delivery, check-in, visit, care request, pass check)",
    "DELETE /phone/devices": "a lost phone's devices are revoked by signing out on any browser (the logout page "
                             "revokes them all), by locking or by deactivating the account; this is the phone app's own "
                             "button for it",
    "POST /screening/samples": "batches of tube scans posted by the sampling points' scanners, thousands of "
                                    "rows at a time; people bring such batches as files (the round's uploads)",
    "POST /screening/results": "batches of pooled-tube results posted by the laboratories' systems; people "
                                    "bring such batches as files (the round's uploads)",
}

#: Bulk pages: one submit, each checked row one audited action (the single-row write is in PAGES too)
BULK_PAGES = {
    "POST /proposals/{proposal_id}/confirm": "zones_proposals_bulk",
    "POST /orders/{order_id}/checkins": "cases_checkins_bulk",
    "POST /supplies/deliveries/{delivery_id}/delivered": "supplies_deliveries_bulk",
    "POST /supplies/deliveries/{delivery_id}/failed": "supplies_deliveries_bulk",
    "POST /hotline/tickets/{ticket_id}/assign": "hotline_assign_bulk",
}


def api_writes() -> dict[str, str]:
    """"METHOD path" -> capability of every write operation of the assembled API."""
    from cordon.config.api import api

    writes = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                for method in WRITE_METHODS & set(op.methods):
                    writes[f"{method} {op.path}"] = op.view_func.cordon_cap
    return writes


def page_caps() -> dict[str, str]:
    """URL name -> capability of every page of the URL conf."""
    from django.urls import URLPattern, URLResolver, get_resolver

    caps = {}

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                caps[p.name] = getattr(p.callback, "cordon_cap", None)

    walk(get_resolver().url_patterns)
    return caps


def roles_with(cap: str) -> set[str]:
    if cap == access.SIGNED_IN:
        return set(access.ROLE_CAPS)
    return {role for role in access.ROLE_CAPS if access.role_has(role, cap)}


def test_every_write_has_a_page_or_a_reason():
    writes = api_writes()
    assert len(writes) > 50  # the enumeration reads the real API
    missing = sorted(w for w in writes if w not in PAGES and w not in API_ONLY)
    assert not missing, f"API writes with no page and no reason to be API-only: {missing}"
    assert not set(PAGES) & set(API_ONLY)
    stale = sorted((set(PAGES) | set(API_ONLY) | set(BULK_PAGES)) - set(writes))
    assert not stale, f"listed writes the API no longer has: {stale}"
    assert all(len(why) > 40 for why in API_ONLY.values())


@pytest.mark.parametrize("table", [PAGES, BULK_PAGES], ids=["pages", "bulk"])
def test_each_page_is_open_to_every_role_the_write_is_open_to(table):
    writes, pages = api_writes(), page_caps()
    problems = []
    for write, name in sorted(table.items()):
        if name not in pages:
            problems.append(f"{write}: no page named {name}")
            continue
        page_cap = pages[name]
        if page_cap is None:
            problems.append(f"{write}: page {name} declares no capability")
            continue
        lacking = roles_with(writes[write]) - roles_with(page_cap)
        if lacking:
            problems.append(f"{write} ({writes[write]}): page {name} ({page_cap}) is closed to {sorted(lacking)}")
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_new_write():
    """A write added to a router is caught: the same enumeration with one more operation finds it missing."""
    from ninja import Router

    from cordon.config.api import api

    extra = Router()

    @extra.post("/made-up-write")
    def made_up(request):
        return {}

    access.declare_operations(extra, {"made_up": access.CASES_WRITE})
    api._routers.append(("/", extra))
    try:
        writes = api_writes()
    finally:
        api._routers.pop()
    assert "POST /made-up-write" in writes
    assert "POST /made-up-write" not in PAGES and "POST /made-up-write" not in API_ONLY
