"""Desk records (care, hotline, supplies) in community A of the personas' city, for the page, API and
scoping tests. Everything is made through the actions."""
from __future__ import annotations


def desk_objects(city) -> dict:
    from cordon.care import actions as ca
    from cordon.cases.actions import do_create_facility
    from cordon.hotline import actions as ha
    from cordon.supplies import actions as sa
    from cordon.zones.models import Designation, Status

    hospital = ca.do_add_hospital("兰州市第一人民医院", area=city["district"], actor="test")
    vehicle = ca.do_add_vehicle("甘A·120A1", team="城关120站", actor="test")
    vehicle2 = ca.do_add_vehicle("甘A·120A2", team="城关120站", actor="test")
    facility = do_create_facility(name="肺科医院", kind="designated_hospital", area=city["district"], capacity=10,
                                  actor="test")
    request_a = ca.do_create_request(person="王秀英", area=city["unit_a"], need="elderly", actor="test")
    dispatched_a = ca.do_create_request(person="李建国", area=city["unit_a"], need="critical", actor="test")
    ca.do_dispatch_request(dispatched_a, vehicle=vehicle2, hospital=hospital, actor="test")
    ticket_a = ha.do_create_ticket(phone="13909310001", category="supplies", text="需要米面", area=city["unit_a"],
                                   actor="test")
    answered_a = ha.do_create_ticket(phone="13909310002", category="lift_question", text="何时解封",
                                     area=city["unit_a"], actor="test")
    ha.do_record_feedback(answered_a, feedback="预计三天后", actor="test")
    warehouse_a = sa.do_create_warehouse("五泉社区物资点", area=city["community_a"], actor="test")
    item = sa.do_create_item("蔬菜包", kind="vegetables", per_person_per_day="0.5", baseline_price="20", actor="test")
    sa.do_move_stock(warehouse_a, item, direction="in", quantity=100, reason="调拨", actor="test")
    out = {"desk_hospital": hospital, "desk_vehicle": vehicle, "desk_facility": facility, "request_a": request_a,
           "dispatched_a": dispatched_a, "ticket_a": ticket_a, "answered_a": answered_a,
           "warehouse_a": warehouse_a, "desk_item": item}
    d = Designation.objects.filter(area=city["unit_a"], status=Status.ACTIVE).first()
    if d is not None:
        a = sa.do_allocate(d, warehouse=warehouse_a, item=item, days=2, actor="test")
        orders = sa.do_issue_allocation(a, actor="test")
        out["delivery_a"] = orders[0]
        out["designation_for_tasks"] = d
        ca.do_record_needs(city["resident_a"], oxygen=True, actor="test")
        ca.do_sync_proactive_tasks(actor="test")
        from cordon.care.models import ProactiveTask

        out["care_task_a"] = ProactiveTask.objects.filter(resident=city["resident_a"]).first()
    return out
