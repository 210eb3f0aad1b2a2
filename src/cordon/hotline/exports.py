"""The columns of the hotline ticket list as a file (``web.exports``): callers' names and phones masked."""
from __future__ import annotations

from cordon.core import access, ids
from cordon.web.exports import Column, Listing, labels


def tickets(category_label, status_label) -> Listing:
    category_label, status_label = labels(category_label), labels(status_label)
    return Listing("tickets", "热线工单", "Hotline tickets", access.HOTLINE_READ,
                   ("number", "created_at", "source", "category", "status", "caller", "phone", "unit_name",
                    "location", "text", "respond_by", "resolve_by", "responded_at", "closed_at", "escalation",
                    "satisfaction"), (
        Column("工单号", "Number", "number"),
        Column("受理时间", "Received", "created_at"),
        Column("类别", "Category", lambda r: category_label(r["category"])),
        Column("状态", "Status", lambda r: status_label(r["status"])),
        Column("来电人", "Caller", "caller", ids.mask_name),
        Column("电话", "Phone", "phone", ids.mask_phone),
        Column("承办单位", "Unit", "unit_name"),
        Column("地点", "Location", "location"),
        Column("内容", "Text", "text"),
        Column("响应时限", "Respond by", "respond_by"),
        Column("办结时限", "Resolve by", "resolve_by"),
        Column("响应时间", "Responded", "responded_at"),
        Column("办结时间", "Closed", "closed_at"),
        Column("升级", "Escalation", "escalation"),
        Column("满意度", "Satisfaction", "satisfaction"),
    ))
