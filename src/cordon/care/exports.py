"""The columns of the care lists as files (``web.exports``): the dispatcher board and the special-group
registry. Names, ID numbers and phones are masked unless revealed (audited)."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils.encoding import force_str

from cordon.care.models import WEEKDAYS
from cordon.core import access, ids
from cordon.places.models import SPECIAL_GROUP_LABELS, special_groups
from cordon.web.exports import Column, Listing, labels


def requests(priority_title, status_label) -> Listing:
    """Medical requests of one board tab."""
    priority_title, status_label = labels(priority_title), labels(status_label)
    return Listing("care-requests", "就医需求", "Medical requests", access.CARE_READ,
                   ("ref", "received_at", "priority_key", "status", "person", "phone", "area__path", "address_note",
                    "need_text", "sealed", "needs_designated", "deadline", "dispatched_at", "arrived_at", "closed_at",
                    "outcome"), (
        Column("编号", "Reference", "ref"),
        Column("受理时间", "Received", "received_at"),
        Column("优先级", "Priority", lambda r: priority_title(r["priority_key"])),
        Column("状态", "Status", lambda r: status_label(r["status"])),
        Column("患者", "Person", "person", ids.mask_name),
        Column("电话", "Phone", "phone", ids.mask_phone),
        Column("区域", "Area", "area__path"),
        Column("地址备注", "Address note", "address_note"),
        Column("需求", "Need", "need_text"),
        Column("封控区内", "Sealed", "sealed"),
        Column("需定点医院", "Needs a designated hospital", "needs_designated"),
        Column("派车时限", "Dispatch by", "deadline"),
        Column("派车时间", "Dispatched", "dispatched_at"),
        Column("到达时间", "Arrived", "arrived_at"),
        Column("结束时间", "Closed", "closed_at"),
        Column("结果", "Outcome", "outcome"),
    ))


def special(today: dt.date) -> Listing:
    """The special-group registry: who, where, which groups on ``today``, registered needs."""

    def prepare(row: dict) -> dict:
        row["age"] = today.year - row["birth_date"].year - (
            (today.month, today.day) < (row["birth_date"].month, row["birth_date"].day))
        row["groups"] = [force_str(SPECIAL_GROUP_LABELS[g]) for g in special_groups(SimpleNamespace(**row), today)]
        row["dialysis"] = [force_str(WEEKDAYS[d]) for d in (row["care_need__dialysis_weekdays"] or [])]
        return row

    return Listing("special-groups", "特殊人群", "Special groups", access.READ_PERSONAL,
                   ("name", "id_number", "phone", "birth_date", "lives_alone", "pregnant_due", "treatment",
                    "disability", "chronic_illness", "household__number", "unit__path",
                    "care_need__dialysis_weekdays", "care_need__due_date", "care_need__oxygen",
                    "care_need__medication", "care_need__notes"), (
        Column("姓名", "Name", "name", ids.mask_name),
        Column("身份证号", "ID number", "id_number", ids.mask_id_number),
        Column("电话", "Phone", "phone", ids.mask_phone),
        Column("年龄", "Age", "age"),
        Column("单元", "Unit", "unit__path"),
        Column("门牌", "Door", "household__number"),
        Column("类别", "Groups", "groups"),
        Column("透析日", "Dialysis days", "dialysis"),
        Column("预产期", "Due date", "care_need__due_date"),
        Column("吸氧", "Oxygen", "care_need__oxygen"),
        Column("用药", "Medication", "care_need__medication"),
        Column("备注", "Notes", "care_need__notes"),
    ), prepare=prepare)
