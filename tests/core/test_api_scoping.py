"""Every API route is enumerated: out-of-scope users get 404 on objects, read-only users 403 on writes.

A new route that is not listed in ROUTES below fails ``test_every_route_is_covered``, so no route can skip
scoping.
"""
from __future__ import annotations

import json

from types import SimpleNamespace

import pytest

from cordon.config.api import api
from cordon.core.models import AuditEntry
from tests.keyplaces._kfixtures import keyplace_manager_a, keyplace_manager_b  # noqa: F401

# (method, path template) -> how to call it: path params from the city fixture, a body, and what it is.
#   "object": the route addresses one record of community A (404 for the outsider)
#   "write":  the route changes state (403 for the read-only auditor, on an in-scope object)
#   "own":    the route acts on the caller's own account (no jurisdiction)
ROUTES = {
    ("GET", "/api/me"): {"kind": "own"},
    ("POST", "/api/tokens"): {"kind": "own", "body": {"name": "t"}},
    ("GET", "/api/tokens"): {"kind": "own"},
    ("DELETE", "/api/tokens/{token_id}"): {"kind": "own", "params": {"token_id": "resident_a"}},
    # the phone app: the caller's own devices and slice (scoping, revocation and sync: tests/phone)
    ("POST", "/api/phone/devices"): {"kind": "own", "body": {"name": "t"}},
    ("DELETE", "/api/phone/devices"): {"kind": "own"},
    ("GET", "/api/phone/devices/{device_id}"): {"kind": "own", "params": {"device_id": "device_a"}},
    ("GET", "/api/phone/slice"): {"kind": "own"},
    ("POST", "/api/phone/sync"): {"kind": "own", "body": {"device": "00000000-0000-4000-8000-000000000000",
                                                        "batch": "00000000-0000-4000-8000-000000000001",
                                                        "scope_hash": "", "changes": []}},
    ("GET", "/api/areas"): {"kind": "list"},
    ("GET", "/api/areas/{area_id}"): {"kind": "object", "params": {"area_id": "unit_a"}},
    ("GET", "/api/areas/{area_id}/households"): {"kind": "object", "params": {"area_id": "unit_a"}},
    ("GET", "/api/residents"): {"kind": "list"},
    ("GET", "/api/residents/search"): {"kind": "list"},  # scoping: tests/places/test_search.py
    ("POST", "/api/residents"): {"kind": "write", "params": {}, "body": "new_resident"},
    ("GET", "/api/residents/{resident_id}"): {"kind": "object", "params": {"resident_id": "resident_a"}},
    ("PATCH", "/api/residents/{resident_id}"): {"kind": "write", "params": {"resident_id": "resident_a"},
                                                "body": {"phone": "13800000000", "reason": "moved"}},
    ("POST", "/api/residents/{resident_id}/unmask"): {"kind": "write", "params": {"resident_id": "resident_a"},
                                                       "body": {"field": "phone", "reason": "call"}},
    ("GET", "/api/audit"): {"kind": "audit"},
    # Risk areas. Zones actions may write more audit rows than their own (guardrail flags, level changes,
    # the designation a confirmed proposal creates): "action" names the one that must appear exactly once.
    ("GET", "/api/designations"): {"kind": "list"},
    ("POST", "/api/designations"): {"kind": "write", "params": {}, "body": "new_designation",
                                    "action": "designation.create"},
    ("GET", "/api/designations/{designation_id}"): {"kind": "object", "params": {"designation_id": "designation_a"}},
    ("POST", "/api/designations/{designation_id}/lift"): {
        "kind": "write", "params": {"designation_id": "designation_a"}, "body": {"reason": "assessed"},
        "action": "designation.lift"},
    ("POST", "/api/designations/{designation_id}/keep"): {
        "kind": "write", "params": {"designation_id": "designation_a"}, "body": {"reason": "review"},
        "action": "designation.keep"},
    ("POST", "/api/designations/{designation_id}/resume"): {
        "kind": "write", "params": {"designation_id": "designation_a"}, "body": {}, "action": "designation.resume"},
    ("POST", "/api/designations/{designation_id}/round"): {
        "kind": "write", "params": {"designation_id": "designation_a"}, "body": {"result": "negative"},
        "action": "designation.round"},
    ("POST", "/api/designations/{designation_id}/reseal"): {
        "kind": "write", "params": {"designation_id": "lifted_a"}, "body": {"reason": "new case", "level": "high"},
        "action": "designation.reseal"},
    ("POST", "/api/designations/{designation_id}/adjust"): {
        "kind": "write", "params": {"designation_id": "designation_a"}, "body": "adjust_a",
        "action": "designation.adjust"},
    ("GET", "/api/proposals"): {"kind": "list"},
    ("POST", "/api/proposals/{proposal_id}/confirm"): {
        "kind": "write", "params": {"proposal_id": "proposal_a"}, "body": {}, "action": "proposal.confirm"},
    ("POST", "/api/proposals/{proposal_id}/dismiss"): {
        "kind": "write", "params": {"proposal_id": "proposal_a"}, "body": {"reason": "moved away"},
        "action": "proposal.dismiss"},
    ("GET", "/api/flags"): {"kind": "list"},
    # cases: records of community A from tests/cases/_cfixtures.py; bodies given as functions of the city
    ("GET", "/api/infections"): {"kind": "list"},
    ("POST", "/api/infections"): {"kind": "write", "params": {}, "action": "infection.create",
                                  "body": lambda c: {"label": "S9", "home_id": c["unit_a3"].pk}},
    ("GET", "/api/infections/{infection_id}"): {"kind": "object", "params": {"infection_id": "infection_a"}},
    ("POST", "/api/infections/{infection_id}/reclassify"): {
        "kind": "write", "params": {"infection_id": "infection_a"}, "body": {"kind": "asymptomatic"},
        "action": "infection.reclassify"},
    ("POST", "/api/infections/{infection_id}/contacts"): {
        "kind": "write", "params": {"infection_id": "infection_a"}, "action": "order.create",
        "body": lambda c: {"person": "K9", "last_exposure": str(c["yesterday"])}},
    ("GET", "/api/tasks"): {"kind": "list"},
    ("POST", "/api/tasks/{task_id}/complete"): {"kind": "write", "params": {"task_id": "task_a"}, "body": {},
                                                "action": "task.done"},
    ("POST", "/api/tasks/{task_id}/note"): {"kind": "write", "params": {"task_id": "task_a"},
                                            "body": {"text": "bed confirmed", "check": 0}, "action": "task.note"},
    ("POST", "/api/tasks/{task_id}/playbook"): {"kind": "write", "params": {"task_id": "task_a"},
                                                "body": {"playbook": "seal_unit"}, "action": "task.playbook"},
    ("GET", "/api/playbooks"): {"kind": "list"},
    # the pack's library: no jurisdiction, no personal data
    ("GET", "/api/playbooks/{key}"): {"kind": "own", "params": {"key": "playbook_key"}},
    ("GET", "/api/orders"): {"kind": "list"},
    # resources: writes need resources.write (street and district officers, logistics; not community workers)
    ("GET", "/api/resources/people"): {"kind": "list"},
    ("POST", "/api/resources/people"): {"kind": "resources", "params": {}, "action": "resources_person.create",
                                        "body": lambda c: {"name": "吴志愿", "kind": "volunteer",
                                                           "area_id": c["community_a"].pk, "skills": ["delivery"]}},
    ("POST", "/api/resources/people/{person_id}/assign"): {
        "kind": "resources", "params": {"person_id": "volunteer_a"}, "action": "resources_person.assign",
        "body": {"team_id": None, "active": True}},
    ("GET", "/api/resources/teams"): {"kind": "list"},
    ("POST", "/api/resources/teams"): {"kind": "resources", "params": {}, "action": "resources_team.create",
                                       "body": lambda c: {"name": "五泉采样队", "kind": "sampling",
                                                          "area_id": c["community_a"].pk}},
    ("GET", "/api/resources/vans"): {"kind": "list"},
    ("POST", "/api/resources/vans"): {"kind": "resources", "params": {}, "action": "resources_van.create",
                                      "body": lambda c: {"plate": "甘A·V009", "area_id": c["community_a"].pk}},
    ("GET", "/api/resources/labs"): {"kind": "list"},
    ("POST", "/api/resources/labs"): {"kind": "resources", "params": {}, "action": "resources_lab.create",
                                      "body": lambda c: {"name": "五泉检测点", "area_id": c["community_a"].pk,
                                                         "tubes_per_day": 500}},
    ("POST", "/api/resources/labs/{lab_id}/capacity"): {
        "kind": "resources", "params": {"lab_id": "lab_compound_a"}, "action": "resources_lab.capacity",
        "body": {"tubes_per_day": 150}},
    ("GET", "/api/resources/shifts"): {"kind": "list"},
    ("POST", "/api/resources/shifts"): {"kind": "resources", "params": {}, "action": "resources_shift.create",
                                        "body": lambda c: {"area_id": c["unit_a2"].pk, "on": str(c["today"]),
                                                           "start": "08:00", "end": "12:00",
                                                           "person_ids": [c["volunteer_a"].pk]}},
    ("POST", "/api/resources/shifts/{shift_id}/cancel"): {
        "kind": "resources", "params": {"shift_id": "shift_a"}, "action": "resources_shift.cancel",
        "body": {"reason": "rain"}},
    ("GET", "/api/resources/gaps"): {"kind": "list"},
    ("POST", "/api/orders"): {"kind": "write", "params": {}, "action": "order.create",
                              "body": {"person": "C-K1", "category": "from_high_area", "reason": "manual"}},
    ("GET", "/api/orders/{order_id}"): {"kind": "object", "params": {"order_id": "order_a"}},
    ("POST", "/api/orders/{order_id}/checkins"): {"kind": "write", "params": {"order_id": "order_a"},
                                                  "body": {"temperature": "36.5"}, "action": "order.checkin"},
    ("POST", "/api/orders/{order_id}/extend"): {"kind": "write", "params": {"order_id": "order_positive_a"},
                                                "body": {"days": 3, "reason": "positive"}, "action": "order.extend"},
    ("POST", "/api/spillovers"): {
        "kind": "write", "params": {}, "action": "order.create",
        "body": lambda c: {"person": "SP1", "from_area_id": c["unit_a"].pk, "left_on": str(c["today"]),
                           "home_id": c["unit_a3"].pk}},
    ("GET", "/api/arrivals"): {"kind": "list"},
    ("POST", "/api/arrivals"): {
        "kind": "write", "params": {}, "action": "arrival.create",
        "body": lambda c: {"person": "AR1", "destination_id": c["unit_a"].pk, "arrived_on": str(c["today"]),
                           "from_level": "high"}},
    ("POST", "/api/arrivals/{arrival_id}/tests"): {"kind": "write", "params": {"arrival_id": "arrival_a"},
                                                   "body": {}, "action": "arrival.test"},
    ("GET", "/api/facilities"): {"kind": "list"},
    ("POST", "/api/facilities"): {
        "kind": "write", "params": {}, "action": "facility.create",
        "body": lambda c: {"name": "新隔离点", "kind": "quarantine_site", "area_id": c["community_a"].pk,
                           "capacity": 10}},
    ("POST", "/api/facilities/{facility_id}/place"): {"kind": "write", "params": {"facility_id": "facility_a"},
                                                      "body": lambda c: {"order_id": c["order_a"].pk},
                                                      "action": "facility.admit"},
    ("POST", "/api/placements/{placement_id}/discharge"): {
        "kind": "write", "params": {"placement_id": "placement_a"}, "body": {}, "action": "facility.discharge"},
    ("GET", "/api/outside-regions"): {"kind": "list"},
    # commanders only: tests/cases/test_api.py covers it (the community worker gets 403)
    ("POST", "/api/outside-regions"): {"kind": "commander", "body": {"name": "某地", "level": "high"}},
    # screening: round_a covers community A; recall_a is a person of its positive pool
    ("GET", "/api/screening/rounds"): {"kind": "list"},
    ("POST", "/api/screening/rounds"): {"kind": "write", "params": {}, "body": "new_round",
                                        "action": "screening.round_create"},
    ("GET", "/api/screening/rounds/{round_id}"): {"kind": "object", "params": {"round_id": "round_a"}},
    ("GET", "/api/screening/rounds/{round_id}/coverage"): {"kind": "object", "params": {"round_id": "round_a"}},
    ("GET", "/api/screening/rounds/{round_id}/missing"): {"kind": "object", "params": {"round_id": "round_a"}},
    ("GET", "/api/screening/rounds/{round_id}/recall"): {"kind": "object", "params": {"round_id": "round_a"}},
    ("POST", "/api/screening/rounds/{round_id}/refresh"): {
        "kind": "write", "params": {"round_id": "round_a"}, "body": {}, "action": "screening.round_refresh"},
    ("POST", "/api/screening/rounds/{round_id}/close"): {
        "kind": "write", "params": {"round_id": "round_a"}, "body": {}, "action": "screening.round_close"},
    ("POST", "/api/screening/rounds/{round_id}/reopen"): {
        "kind": "write", "params": {"round_id": "closed_round_a"}, "body": {"reason": "late registrations"},
        "action": "screening.round_reopen"},
    ("POST", "/api/screening/recall/{member_id}/retest"): {
        "kind": "write", "params": {"member_id": "recall_a"}, "body": {"result": "negative"},
        "action": "screening.retest"},
    ("POST", "/api/screening/samples"): {"kind": "write", "params": {}, "body": "samples_a",
                                         "action": "screening.import_samples"},
    ("POST", "/api/screening/results"): {"kind": "write", "params": {}, "body": "results_a",
                                         "action": "screening.import_results"},
    # people services: records of community A from tests/care/_fixtures.py
    ("GET", "/api/care/requests"): {"kind": "list"},
    ("POST", "/api/care/requests"): {"kind": "write", "params": {}, "action": "care_request.create",
                                     "body": lambda c: {"area_id": c["unit_a"].pk, "person": "赵敏", "need": "labour"}},
    ("GET", "/api/care/requests/{request_id}"): {"kind": "object", "params": {"request_id": "request_a"}},
    ("POST", "/api/care/requests/{request_id}/dispatch"): {
        "kind": "write", "params": {"request_id": "request_a"}, "action": "care_request.dispatch",
        "body": lambda c: {"vehicle_id": c["desk_vehicle"].pk, "hospital_id": c["desk_hospital"].pk}},
    ("POST", "/api/care/requests/{request_id}/advance"): {
        "kind": "write", "params": {"request_id": "dispatched_a"}, "body": {"to": "arrived"},
        "action": "care_request.arrived"},
    ("POST", "/api/care/requests/{request_id}/retriage"): {
        "kind": "write", "params": {"request_id": "request_a"}, "body": {"priority": "critical", "reason": "worse"},
        "action": "care_request.retriage"},
    ("POST", "/api/care/requests/{request_id}/close"): {
        "kind": "write", "params": {"request_id": "request_a"}, "action": "care_request.close",
        "body": {"outcome": "cancelled", "reason": "family drove", "confirmed_by": "daughter"}},
    ("POST", "/api/care/hospitals"): {"kind": "write", "params": {}, "action": "care_hospital.create",
                                      "body": lambda c: {"name": "五泉社区卫生院", "area_id": c["community_a"].pk}},
    ("POST", "/api/care/vehicles"): {"kind": "write", "params": {}, "action": "care_vehicle.create",
                                     "body": {"plate": "甘A·120Z9", "team": "城关120站"}},
    ("GET", "/api/care/kpis"): {"kind": "list"},
    ("GET", "/api/care/tasks"): {"kind": "list"},
    ("POST", "/api/care/tasks/{task_id}/done"): {"kind": "write", "params": {"task_id": "care_task_a"},
                                                 "body": {"reason": "oxygen delivered"}, "action": "care_task.done"},
    ("PUT", "/api/care/needs/{resident_id}"): {"kind": "write", "params": {"resident_id": "resident_a"},
                                               "body": {"dialysis_weekdays": [0, 3]}, "action": "care_need.record"},
    ("GET", "/api/hotline/tickets"): {"kind": "list"},
    ("POST", "/api/hotline/tickets"): {"kind": "write", "params": {}, "action": "ticket.create",
                                       "body": lambda c: {"phone": "13800000009", "category": "complaint",
                                                          "text": "noise", "area_id": c["unit_a"].pk}},
    ("GET", "/api/hotline/tickets/{ticket_id}"): {"kind": "object", "params": {"ticket_id": "ticket_a"}},
    ("POST", "/api/hotline/tickets/{ticket_id}/respond"): {"kind": "write", "params": {"ticket_id": "ticket_a"},
                                                           "body": {"note": "called back"}, "action": "ticket.respond"},
    ("POST", "/api/hotline/tickets/{ticket_id}/feedback"): {
        "kind": "write", "params": {"ticket_id": "ticket_a"}, "body": {"feedback": "delivered"},
        "action": "ticket.feedback"},
    ("POST", "/api/hotline/tickets/{ticket_id}/close"): {"kind": "write", "params": {"ticket_id": "answered_a"},
                                                         "body": {"satisfaction": 5}, "action": "ticket.close"},
    ("POST", "/api/hotline/tickets/{ticket_id}/assign"): {"kind": "write", "params": {"ticket_id": "ticket_a"},
                                                          "body": {"operator": "worker_a"}, "action": "ticket.assign"},
    ("GET", "/api/hotline/roster"): {"kind": "list"},
    ("GET", "/api/supplies/warehouses"): {"kind": "list"},
    ("POST", "/api/supplies/warehouses/{warehouse_id}/movements"): {
        "kind": "write", "params": {"warehouse_id": "warehouse_a"}, "action": "stock.in",
        "body": lambda c: {"item_id": c["desk_item"].pk, "direction": "in", "quantity": "5", "reason": "donation"}},
    ("POST", "/api/supplies/warehouses"): {"kind": "write", "params": {}, "action": "warehouse.create",
                                           "body": lambda c: {"name": "五泉社区二号物资点", "area_id": c["community_a"].pk}},
    ("POST", "/api/supplies/items"): {"kind": "write", "params": {}, "action": "item.create",
                                      "body": {"name": "婴儿奶粉", "kind": "other", "unit": "罐"}},
    ("POST", "/api/supplies/teams"): {"kind": "write", "params": {}, "action": "delivery_team.create",
                                      "body": lambda c: {"name": "五泉社区配送队", "area_id": c["community_a"].pk}},
    ("GET", "/api/supplies/deliveries"): {"kind": "list"},
    ("POST", "/api/supplies/deliveries/{delivery_id}/delivered"): {
        "kind": "write", "params": {"delivery_id": "delivery_a"}, "body": {}, "action": "delivery.delivered"},
    ("POST", "/api/supplies/deliveries/{delivery_id}/assign"): {
        "kind": "write", "params": {"delivery_id": "delivery_a"}, "body": lambda c: {"rider_id": c["resident_a2"].pk},
        "action": "delivery.assign"},
    ("POST", "/api/supplies/deliveries/{delivery_id}/failed"): {
        "kind": "write", "params": {"delivery_id": "delivery_a"}, "body": {"reason": "nobody home"},
        "action": "delivery.failed"},
    ("GET", "/api/supplies/prices"): {"kind": "list"},
    # key workers: keyworker_a lives in community A (an employer's records are the city's: commanders, districts
    # and streets set them up; tests/keyworkers/test_pages_api.py covers who may)
    ("GET", "/api/keyworkers/workers"): {"kind": "list"},
    ("GET", "/api/keyworkers/overdue"): {"kind": "list"},
    ("GET", "/api/keyworkers/employers"): {"kind": "list"},
    ("GET", "/api/keyworkers/workers/{worker_id}"): {"kind": "object", "params": {"worker_id": "keyworker_a"}},
    ("POST", "/api/keyworkers/workers"): {
        "kind": "write", "params": {}, "action": "keyworker.register",
        "body": lambda c: {"id_number": c["resident_a2"].id_number, "group": "delivery",
                           "employer_id": c["employer_a"].pk}},
    ("POST", "/api/keyworkers/workers/{worker_id}/samples"): {
        "kind": "write", "params": {"worker_id": "keyworker_a"}, "body": {"result": "negative"},
        "action": "keyworker.sample"},
    ("POST", "/api/keyworkers/employers"): {"kind": "commander", "body": {"name": "顺丰", "kind": "courier"}},
    ("POST", "/api/keyworkers/employers/{employer_id}/contacts"): {
        "kind": "commander", "params": {"employer_id": "employer_a"}, "body": {"username": "employer"}},
    # passes: reads scoped by passes.read; the writes need passes.issue / passes.check, which a community worker
    # does not hold (tests/passes/test_passes_api.py checks them as the roles that do)
    ("GET", "/api/passes"): {"kind": "list"},
    ("GET", "/api/passes/revocations"): {"kind": "list"},
    ("GET", "/api/passes/public-key"): {"kind": "list"},
    ("GET", "/api/passes/{pass_id}"): {"kind": "object", "params": {"pass_id": "pass_a"}},
    ("POST", "/api/passes"): {"kind": "passes", "body": lambda c: {
        "kind": "delivery", "area_ids": [c["community_a"].pk], "valid_from": str(c["today"]),
        "valid_to": str(c["today"]), "holder_id": c["resident_a2"].pk}},
    ("POST", "/api/passes/{pass_id}/revoke"): {"kind": "passes", "params": {"pass_id": "pass_a"},
                                               "body": {"reason": "lost"}},
    ("POST", "/api/passes/check"): {"kind": "passes", "body": lambda c: {"code": c["pass_a"].code,
                                                                         "area_id": c["unit_a"].pk}},
    # key places: a nursing home in compound A (tests/keyplaces/_kfixtures.py); writes need keyplaces.write,
    # which community workers lack: "as" names who writes (a key-place manager of compound A) and who is the
    # outsider holding the capability elsewhere (the manager of compound B)
    ("GET", "/api/keyplaces"): {"kind": "list"},
    ("GET", "/api/keyplaces/{place_id}"): {"kind": "object", "params": {"place_id": "keyplace_a"}},
    ("POST", "/api/keyplaces"): {"kind": "write", "params": {}, "action": "keyplace.register", "as": "keyplace",
                                 "body": lambda c: {"ref": "KP-NEW", "name": "五泉小学", "kind": "school",
                                                    "area_id": c["unit_a"].pk}},
    ("POST", "/api/keyplaces/{place_id}/status"): {
        "kind": "write", "params": {"place_id": "keyplace_a"}, "action": "keyplace.status", "as": "keyplace",
        "body": {"status": "closed_loop", "reason": "本区出现病例"}},
    ("POST", "/api/keyplaces/{place_id}/counts"): {
        "kind": "write", "params": {"place_id": "keyplace_a"}, "action": "keyplace.counts", "as": "keyplace",
        "body": {"counts": {"residents": 81}}},
    ("POST", "/api/keyplaces/{place_id}/people"): {
        "kind": "write", "params": {"place_id": "keyplace_a"}, "action": "keyplace_person.add", "as": "keyplace",
        "body": {"name": "护工丁", "role": "staff"}},
    ("POST", "/api/keyplaces/{place_id}/shift"): {
        "kind": "write", "params": {"place_id": "keyplace_a"}, "action": "keyplace.shift_change", "as": "keyplace",
        "body": lambda c: {"leaving": [c["keyplace_staff_a"].pk], "reason": "轮换"}},
    ("POST", "/api/keyplaces/people/{person_id}/movements"): {
        "kind": "write", "params": {"person_id": "keyplace_staff_a"}, "action": "keyplace_person.exit",
        "as": "keyplace", "body": {"direction": "exit", "reason": "medical"}},
    ("POST", "/api/keyplaces/people/{person_id}/tests"): {
        "kind": "write", "params": {"person_id": "keyplace_staff_a"}, "action": "keyplace_test.record",
        "as": "keyplace", "body": {"result": "negative"}},
    # situation: figures over the caller's jurisdiction; bulletins are the city's (city-wide commander only;
    # the id below only has to be a number: anonymous callers get 401 before any lookup)
    ("GET", "/api/situation"): {"kind": "list"},
    ("GET", "/api/situation/daily"): {"kind": "list"},
    ("GET", "/api/bulletins"): {"kind": "list"},
    ("POST", "/api/bulletins"): {"kind": "commander", "body": {"day": "2022-11-08"}},
    ("PATCH", "/api/bulletins/{bulletin_id}"): {"kind": "commander", "params": {"bulletin_id": "designation_a"},
                                                "body": {"text": "x"}},
    ("POST", "/api/bulletins/{bulletin_id}/approve"): {"kind": "commander", "params": {"bulletin_id": "designation_a"},
                                                       "body": {}},
    ("POST", "/api/bulletins/{bulletin_id}/publish"): {"kind": "commander", "params": {"bulletin_id": "designation_a"},
                                                       "body": {}},
    # the districts' sign-off (close_day: district officers and commanders): test_daily_close_api_scoping
    ("POST", "/api/situation/closes"): {"kind": "close_day", "body": lambda c: {
        "district_id": c["district"].pk, "day": str(c["today"]), "note": "all done"}},
    ("POST", "/api/situation/closes/{close_id}/reopen"): {"kind": "close_day", "params": {"close_id": "designation_a"},
                                                          "body": {"reason": "a late result"}},
    # Command orders: sending, revising, withdrawing and the matrix are a sender's (orders.send); a unit's
    # orders, acknowledgement, progress and completion are the unit's (orders.receive, recipient in scope).
    ("GET", "/api/commands"): {"kind": "commander"},
    ("POST", "/api/commands"): {"kind": "commander", "body": {"title": "t", "text": "x", "due": "2028-01-01T10:00:00",
                                                           "to": ["城关区"], "level": "community"}},
    ("GET", "/api/commands/{order_id}"): {"kind": "commander", "params": {"order_id": "command_a"}},
    ("GET", "/api/commands/{order_id}/matrix"): {"kind": "commander", "params": {"order_id": "command_a"}},
    ("POST", "/api/commands/{order_id}/revise"): {"kind": "commander", "params": {"order_id": "command_a"},
                                                "body": {"text": "y", "reason": "r"}},
    ("POST", "/api/commands/{order_id}/withdraw"): {"kind": "commander", "params": {"order_id": "command_a"},
                                                  "body": {"reason": "r"}},
    ("GET", "/api/command-inbox"): {"kind": "list"},
    # maps: each layer reads within the jurisdiction (tests/maps/test_layers.py checks what each user sees)
    ("GET", "/api/maps/layers/{name}"): {"kind": "list", "params": {"name": "=risk"}},
    ("GET", "/api/command-inbox/{recipient_id}"): {"kind": "object", "params": {"recipient_id": "recipient_a"}},
    ("POST", "/api/command-inbox/{recipient_id}/acknowledge"): {"kind": "write", "params": {"recipient_id": "recipient_a"},
                                                            "body": {}},
    ("POST", "/api/command-inbox/{recipient_id}/progress"): {"kind": "write", "params": {"recipient_id": "acked_a"},
                                                         "body": {"note": "half done"}},
    ("POST", "/api/command-inbox/{recipient_id}/complete"): {"kind": "write", "params": {"recipient_id": "acked_a"},
                                                         "body": {"evidence": "done", "numbers": {"sampled": 12}}},
    ("GET", "/api/notifications"): {"kind": "own"},
    ("POST", "/api/notifications/read"): {"kind": "own", "body": {}},
}

ZONE_UNITS = {"unit_a2": "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元",
              "unit_a3": "城关区/皋兰路街道/五泉社区/五泉小区/2号楼/1单元",
              "unit_a4": "城关区/皋兰路街道/五泉社区/五泉小区/2号楼/2单元",
              "unit_a5": "城关区/皋兰路街道/五泉社区/五泉小区/3号楼/1单元"}


@pytest.fixture
def city(city):
    """The personas' city plus risk-area records in community A: an active designation, a lifted one,
    an open proposal (from an infection), and free units to designate or add."""
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock
    from cordon.places.actions import do_ensure_area
    from cordon.zones.actions import do_designate, do_lift

    units = {k: do_ensure_area(v, actor="test") for k, v in ZONE_UNITS.items()}
    today = clock.today()
    inf = do_record_infection(label="S1", home=city["unit_a"], found="community", confirmed_on=today, actor="test")
    designation = do_designate(city["unit_a"], "high", reason="S1", infections=[inf], actor="test")
    lifted = do_designate(units["unit_a2"], "high", reason="exposure", exposure_note="market", actor="test")
    do_lift(lifted, reason="assessed", actor="test")
    do_record_infection(label="S2", home=units["unit_a5"], found="community", confirmed_on=today, actor="test")
    from cordon.zones.models import Proposal

    return {**city, **units, "designation_a": designation, "lifted_a": lifted,
            "proposal_a": Proposal.objects.get(area=units["unit_a5"]), **_screening_records(city),
            **_cases_records(city), **_desk_records(city), **_keyworker_records(city), **_pass_records(city),
            **_keyplace_records(city), **_resources_records(city), **_command_records(city),
            "device_a": SimpleNamespace(pk="00000000-0000-4000-8000-000000000000")}


def _keyworker_records(city) -> dict:
    from cordon.keyworkers.actions import do_create_employer, do_register_key_worker

    e = do_create_employer("美团", kind="delivery_platform", actor="test")
    return {"employer_a": e,
            "keyworker_a": do_register_key_worker(city["resident_a"], group="delivery", employer=e, actor="test")}


def _pass_records(city) -> dict:
    from cordon.core import clock
    from cordon.passes.actions import do_issue_pass

    return {"pass_a": do_issue_pass(kind="delivery", areas=[city["community_a"]], valid_from=clock.today(),
                                    valid_to=clock.today(), holder=city["resident_a2"], actor="test")}


def _keyplace_records(city) -> dict:
    from tests.keyplaces._kfixtures import keyplace_records

    return keyplace_records(city)


#: who makes the writes and who is the outsider, for routes whose spec names "as"
AS = {"keyplace": ("keyplace_manager_a", "keyplace_manager_b")}


def _persona(request, spec, which: int, default):
    if "as" not in spec:
        return default
    return request.getfixturevalue(AS[spec["as"]][which])


def _resources_records(city) -> dict:
    from tests.resources._rfixtures import resources_records

    from types import SimpleNamespace

    records = resources_records(city)
    records.pop("today")
    return {**records, "playbook_key": SimpleNamespace(pk="seal_unit")}  # _fill puts a record's pk in the path


def _command_records(city) -> dict:
    from tests.command.test_api import command_records

    return command_records(city)


def _desk_records(city) -> dict:
    from tests.care._fixtures import desk_objects

    return desk_objects(city)


def _cases_records(city) -> dict:
    import datetime as dt

    from cordon.core import clock
    from tests.cases._cfixtures import cases_records

    return {**cases_records(city), "today": clock.today(), "yesterday": clock.today() - dt.timedelta(days=1)}


def _screening_records(city) -> dict:
    """A round over community A with one positive pool (resident A), refreshed: a recall member."""
    from cordon.core import clock
    from cordon.screening.actions import do_close_round, do_create_round, do_refresh_round
    from cordon.screening.ingest import import_rows
    from cordon.screening.models import RecallMember

    r = do_create_round(name="五泉社区", on=clock.today(), areas=[city["community_a"]], actor="test")
    import_rows("samples", "fixture", [{"id_number": city["resident_a"].id_number, "barcode": "LZF0001",
                                        "sampled_at": f"{clock.today()} 09:00"}], round=r, actor="test")
    import_rows("results", "fixture", [{"barcode": "LZF0001", "result": "positive",
                                        "reported_at": f"{clock.today()} 18:00"}], round=None, actor="test")
    do_refresh_round(r, actor="test")
    closed = do_create_round(name="五泉社区 closed", on=clock.today(), areas=[city["community_a"]], actor="test")
    do_close_round(closed, actor="test")
    return {"round_a": r, "recall_a": RecallMember.objects.get(task__round=r), "closed_round_a": closed}


def api_routes():
    schema = api.get_openapi_schema()
    out = set()
    for path, ops in schema["paths"].items():
        for method in ops:
            out.add((method.upper(), path))
    return out


def test_every_route_is_covered():
    missing = api_routes() - set(ROUTES)
    assert not missing, f"routes without a scoping case: {sorted(missing)}"
    assert set(ROUTES) <= api_routes()


def _fill(template, params, city):
    path = template
    for name, key in params.items():
        value = key[1:] if key.startswith("=") else city[key].pk  # "=text": the text itself (a layer's name)
        path = path.replace("{" + name + "}", str(value))
    return path


def _body(spec, city):
    body = spec.get("body")
    if callable(body):
        return body(city)
    if body == "new_designation":
        return {"area_id": city["unit_a3"].pk, "level": "high", "reason": "S3 lives here",
                "exposure_note": "home of S3"}
    if body in ("new_round", "samples_a", "results_a"):
        from cordon.core import clock

        return {"new_round": {"name": "单元核酸", "on": str(clock.today()), "area_ids": [city["unit_a"].pk]},
                "samples_a": {"round_id": city["round_a"].pk, "batch_key": "t1", "rows": [
                    {"id_number": city["resident_a2"].id_number, "barcode": "LZF0002",
                     "sampled_at": f"{clock.today()} 10:00"}]},
                "results_a": {"batch_key": "t1", "rows": [{"barcode": "LZF0002", "result": "negative",
                                                           "reported_at": f"{clock.today()} 20:00"}]}}[body]
    if body == "adjust_a":
        return {"add": [city["unit_a4"].pk], "reason": "same stairwell"}
    if body == "new_resident":
        return {"unit_id": city["unit_a"].pk, "household": "102", "name": "赵敏",
                "id_number": "620102199001010012" if False else _new_id()}
    return body


def _new_id():
    import datetime as dt

    from cordon.core import ids

    return ids.make_id_number("620102", dt.date(1990, 1, 1), 77, "F")


def _call(client, method, path, body=None):
    kw = {}
    if body is not None:
        kw = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method.lower())(path, **kw)


@pytest.mark.parametrize("route", sorted(r for r, s in ROUTES.items() if s["kind"] in ("object", "write")
                                         and s.get("params")))
def test_outsider_gets_404(route, city, outsider, as_user, request):
    method, template = route
    spec = ROUTES[route]
    path = _fill(template, spec["params"], city)
    c = as_user(_persona(request, spec, 1, outsider))
    before = AuditEntry.objects.count()
    r = _call(c, method, path, _body(spec, city))
    assert r.status_code == 404, (route, r.status_code, r.content)
    assert AuditEntry.objects.count() == before


def test_outsider_cannot_create_in_other_community(city, outsider, as_user):
    r = _call(as_user(outsider), "POST", "/api/residents", _body(ROUTES[("POST", "/api/residents")], city))
    assert r.status_code == 404
    c = as_user(outsider)
    before = AuditEntry.objects.count()
    r = _call(c, "POST", "/api/designations", _body(ROUTES[("POST", "/api/designations")], city))
    assert r.status_code == 404
    r = _call(c, "POST", f"/api/designations/{city['designation_a'].pk}/adjust",
              {"add": [city["unit_b"].pk], "reason": "x"})
    assert r.status_code == 404
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("route", sorted(r for r, s in ROUTES.items() if s["kind"] in ("write", "resources")))
def test_read_only_gets_403_on_writes(route, city, auditor, as_user):
    method, template = route
    spec = ROUTES[route]
    path = _fill(template, spec.get("params", {}), city)
    c = as_user(auditor)
    before = AuditEntry.objects.count()
    r = _call(c, method, path, _body(spec, city))
    assert r.status_code == 403, (route, r.status_code, r.content)
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("route", sorted(r for r, s in ROUTES.items() if s["kind"] == "write"))
def test_write_succeeds_with_one_audit_row(route, city, worker, as_user, request):
    method, template = route
    spec = ROUTES[route]
    path = _fill(template, spec.get("params", {}), city)
    worker = _persona(request, spec, 0, worker)
    c = as_user(worker)
    before = AuditEntry.objects.count()
    r = _call(c, method, path, _body(spec, city))
    assert r.status_code in (200, 201), (route, r.status_code, r.content)
    new = list(AuditEntry.objects.order_by("-id")[: AuditEntry.objects.count() - before])
    if "action" in spec:
        main = [e for e in new if e.action == spec["action"]]
        assert len(main) == 1, [e.action for e in new]
        assert main[0].actor_name == worker.username
        assert all(e.actor_name == worker.username for e in new), [(e.action, e.actor_name) for e in new]
        return
    actions = [e.action for e in new if not e.action.startswith("household.")]
    assert len(actions) == 1, actions
    assert new[0].actor_name == worker.username


def test_anonymous_gets_401_everywhere(city, client):
    for method, template in ROUTES:
        spec = ROUTES[(method, template)]
        path = _fill(template, spec.get("params", {}), city)
        r = _call(client, method, path, _body(spec, city))
        assert r.status_code == 401, (method, path, r.status_code)


def test_lists_are_scoped(city, worker, outsider, as_user):
    ids_a = {x["id"] for x in as_user(worker).get("/api/residents").json()["items"]}
    assert ids_a == {city["resident_a"].pk, city["resident_a2"].pk}
    ids_b = {x["id"] for x in as_user(outsider).get("/api/residents").json()["items"]}
    assert ids_b == {city["resident_b"].pk}
    roots = as_user(worker).get("/api/areas").json()["items"]
    assert [a["path"] for a in roots] == ["城关区/皋兰路街道/五泉社区"]


def test_list_is_masked(city, commander, auditor, as_user):
    for item in as_user(commander).get("/api/residents").json()["items"]:
        assert "*" in item["id_number"] and "*" in item["name"] and "birth_date" not in item
    item = as_user(auditor).get(f"/api/residents/{city['resident_a'].pk}").json()
    assert "*" in item["id_number"] and item["id_number"] != city["resident_a"].id_number
    assert item["phone"] == "139****0001"
    assert item["name"] == "王**" and item["birth_year"] == 1938
    assert not AuditEntry.objects.filter(action="resident.read").exists()
    # The resident's own record names them in full for a role that may unmask here, and that read is audited.
    item = as_user(commander).get(f"/api/residents/{city['resident_a'].pk}").json()
    assert item["name"] == "王秀英" and "*" in item["id_number"]
    e = AuditEntry.objects.get(action="resident.read")
    assert e.object_id == str(city["resident_a"].pk) and "王秀英" not in e.object_repr


def test_unmask_reveals_and_audits(city, worker, as_user):
    r = as_user(worker).post(f"/api/residents/{city['resident_a'].pk}/unmask",
                             data=json.dumps({"field": "id_number", "reason": "hotline callback"}),
                             content_type="application/json")
    assert r.json()["value"] == city["resident_a"].id_number
    e = AuditEntry.objects.filter(action="resident.unmask").get()
    assert e.object_id == str(city["resident_a"].pk) and e.reason == "hotline callback"
    assert e.community_id == city["community_a"].pk


def test_hotline_operator_cannot_unmask(city, as_user):
    from cordon.core.actions import do_create_user

    op, _ = do_create_user("op", "test-pass-2022", role="hotline_operator", area=None)
    r = as_user(op).post(f"/api/residents/{city['resident_a'].pk}/unmask",
                         data=json.dumps({"field": "phone"}), content_type="application/json")
    assert r.status_code == 403


def test_daily_close_api_scoping(city, district_officer, worker, auditor, as_user):
    """The daily close sign-off and reopen (close_day): the district's officer signs off and reopens (one audit
    row each); a community worker and the auditor, in scope without close_day, get 403; an officer of another
    district gets 404 on this district and its close, and nothing is written."""
    from cordon.core.actions import do_create_user
    from cordon.places.actions import do_ensure_area
    from cordon.places.models import Area

    other = do_ensure_area("七里河区/敦煌路街道/西湖社区", actor="test")
    officer_b, _ = do_create_user("district_b", "test-pass-2022", role="district_officer",
                                  area=Area.objects.get(pk=other.district_id), actor="test")
    sign = ROUTES[("POST", "/api/situation/closes")]
    body = _body(sign, city)
    officer = as_user(district_officer)
    refused = [(as_user(worker), 403), (as_user(auditor), 403), (as_user(officer_b), 404)]

    def written(since: int) -> list:
        return list(AuditEntry.objects.order_by("id").values_list("action", "actor_name")[since:])

    before = AuditEntry.objects.count()
    for client, status in refused:
        r = _call(client, "POST", "/api/situation/closes", body)
        assert r.status_code == status, (status, r.status_code, r.content)
    assert written(before) == []
    r = _call(officer, "POST", "/api/situation/closes", body)
    assert r.status_code == 201, r.content
    got = r.json()
    assert (got["district"]["id"], got["day"], got["status"], got["signed_by"], got["note"], got["reopened_at"]) \
        == (city["district"].pk, str(city["today"]), "signed", "district_a", "all done", None)
    assert written(before) == [("dayclose.sign_off", "district_a")]
    again = _call(officer, "POST", "/api/situation/closes", body)
    assert again.status_code == 409 and again.json()["field"] == "day"
    path = f"/api/situation/closes/{got['id']}/reopen"
    before = AuditEntry.objects.count()
    for client, status in refused:
        assert _call(client, "POST", path, {"reason": "x"}).status_code == status
    empty = _call(officer, "POST", path, {"reason": ""})
    assert empty.status_code in (400, 422) and "reason" in empty.content.decode()
    assert written(before) == []
    r = _call(officer, "POST", path, {"reason": "a late result"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["reopen_reason"]) == ("reopened", "a late result")
    assert written(before) == [("dayclose.reopen", "district_a")]


def test_bad_input_is_400_with_field(city, worker, as_user):
    r = as_user(worker).patch(f"/api/residents/{city['resident_a'].pk}", data=json.dumps({"phone": "12345"}),
                              content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "phone"
    r = as_user(worker).post("/api/residents", data=json.dumps({"unit_id": city["unit_a"].pk, "household": "1"}),
                             content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] in ("name", "id_number")


def test_token_auth(city, worker, client):
    from cordon.core.actions import do_create_token

    _, secret = do_create_token(worker, "script")
    r = client.get("/api/residents", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 200 and len(r.json()["items"]) == 2
    assert client.get("/api/residents", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_session_writes_need_csrf(city, worker):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(worker)
    r = c.patch(f"/api/residents/{city['resident_a'].pk}", data=json.dumps({"phone": "13800000000"}),
                content_type="application/json")
    assert r.status_code == 403


def test_audit_api_for_auditor_only(city, auditor, worker, as_user):
    assert as_user(auditor).get("/api/audit").status_code == 200
    assert as_user(worker).get("/api/audit").status_code == 403


def test_openapi_schema_public_shape(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and "/api/residents" in r.json()["paths"]


def test_list_query_budget(city, commander, as_user, django_assert_max_num_queries):
    c = as_user(commander)
    with django_assert_max_num_queries(6):
        c.get(f"/api/areas/{city['unit_a'].pk}/households")
    with django_assert_max_num_queries(6):
        c.get("/api/residents")


RESOURCE_WRITES = sorted(r for r, s in ROUTES.items() if s["kind"] == "resources")


@pytest.mark.parametrize("route", RESOURCE_WRITES)
def test_resources_write_by_a_street_officer_with_one_audit_row(route, city, as_user):
    from tests.conftest import _user

    officer = _user("street_a", "street_officer", city["street"])
    method, template = route
    spec = ROUTES[route]
    c = as_user(officer)
    before = AuditEntry.objects.count()
    r = _call(c, method, _fill(template, spec.get("params", {}), city), _body(spec, city))
    assert r.status_code in (200, 201), (route, r.status_code, r.content)
    new = list(AuditEntry.objects.order_by("-id")[: AuditEntry.objects.count() - before])
    assert [e.action for e in new] == [spec["action"]] and new[0].actor_name == "street_a"


@pytest.mark.parametrize("route", RESOURCE_WRITES)
def test_resources_write_outside_the_jurisdiction_is_404(route, city, worker, as_user):
    """A logistics officer of community B writes nothing in community A; a community worker (resources.read
    only) is refused outright."""
    from tests.conftest import _user

    other = _user("logistics_b", "logistics_officer", city["community_b"])
    method, template = route
    spec = ROUTES[route]
    path = _fill(template, spec.get("params", {}), city)
    c_other, c_worker = as_user(other), as_user(worker)
    before = AuditEntry.objects.count()
    assert _call(c_other, method, path, _body(spec, city)).status_code == 404, route
    assert _call(c_worker, method, path, _body(spec, city)).status_code == 403, route
    assert AuditEntry.objects.count() == before
