"""The columns of the screening lists as files (``web.exports``) and on the printed round: who has not been
sampled in a round, and the recall list of the positive pools. Names, ID numbers and phones are masked
unless revealed (audited)."""
from __future__ import annotations

from cordon.core import access, ids
from cordon.web.exports import Column, Listing, labels

PERSON = (
    Column("姓名", "Name", "resident__name", ids.mask_name),
    Column("身份证号", "ID number", "resident__id_number", ids.mask_id_number),
    Column("电话", "Phone", "resident__phone", ids.mask_phone),
)


def missing() -> Listing:
    """Residents of an area with no registration in a round (one row per person, by unit and door)."""
    return Listing("screening-missing", "未采样人员", "Not sampled", access.READ_PERSONAL,
                   ("name", "id_number", "phone", "unit__path", "household__number"), (
        Column("单元", "Unit", "unit__path"),
        Column("门牌", "Door", "household__number"),
        Column("姓名", "Name", "name", ids.mask_name),
        Column("身份证号", "ID number", "id_number", ids.mask_id_number),
        Column("电话", "Phone", "phone", ids.mask_phone),
    ))


def recall(retest_label, status_label) -> Listing:
    """The people registered in a round's positive pools, by recall task."""
    retest_label, status_label = labels(retest_label), labels(status_label)
    return Listing("screening-recall", "混管阳性召回", "Recall of positive pools", access.READ_HEALTH,
                   ("task__area__path", "task__status", "resident__name", "resident__id_number", "resident__phone",
                    "barcode", "retest", "retested_at"), (
        Column("区域", "Area", "task__area__path"),
        Column("任务状态", "Task status", lambda r: status_label(r["task__status"])),
        *PERSON,
        Column("试管", "Tube", "barcode"),
        Column("复检结果", "Retest", lambda r: retest_label(r["retest"]) if r["retest"] else ""),
        Column("复检时间", "Retested at", "retested_at"),
    ))
