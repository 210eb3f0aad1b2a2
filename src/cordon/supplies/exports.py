"""The columns of the deliveries to the door as a file (``web.exports``) and on the printed round."""
from __future__ import annotations

from cordon.core import access
from cordon.web.exports import Column, Listing, labels


def deliveries(status_label) -> Listing:
    status_label = labels(status_label)
    return Listing("deliveries", "配送到户", "Deliveries to the door", access.SUPPLIES_READ,
                   ("unit__path", "household__number", "item__name", "quantity", "item__unit", "team__name",
                    "due_on", "status", "done_at", "failed_reason"), (
        Column("单元", "Unit", "unit__path"),
        Column("门牌", "Door", "household__number"),
        Column("物资", "Item", "item__name"),
        Column("数量", "Quantity", "quantity"),
        Column("单位", "Unit of measure", "item__unit"),
        Column("配送队", "Team", "team__name"),
        Column("送达日", "Due on", "due_on"),
        Column("状态", "Status", lambda r: status_label(r["status"])),
        Column("完成时间", "Done at", "done_at"),
        Column("未送达原因", "Why it failed", "failed_reason"),
    ))
