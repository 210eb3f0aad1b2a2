"""The columns of the risk-area list as a file (``web.exports``)."""
from __future__ import annotations

from cordon.core import access
from cordon.web.exports import Column, Listing, labels


def designations(level_label, status_label, waiting_text) -> Listing:
    """Risk areas as the command view lists them (one tab, level and area text)."""
    level_label, status_label = labels(level_label), labels(status_label)
    return Listing("risk-areas", "风险区域", "Risk areas", access.VIEW,
                   ("area__path", "level", "status", "designated_on", "since", "next_level", "next_on", "waiting",
                    "kept", "lifted_on", "observation_until", "public_reason"), (
        Column("区域", "Area", "area__path"),
        Column("等级", "Level", lambda r: level_label(r["level"])),
        Column("状态", "Status", lambda r: status_label(r["status"])),
        Column("划定日", "Designated on", "designated_on"),
        Column("本级起始", "At this level since", "since"),
        Column("下一等级", "Next level", lambda r: level_label(r["next_level"]) if r["next_level"] else ""),
        Column("变更日", "Changes on", "next_on"),
        Column("等待", "Waiting for", lambda r: waiting_text(r["waiting"])),
        Column("延期保持", "Kept", "kept"),
        Column("解除日", "Lifted on", "lifted_on"),
        Column("观察至", "Observation until", "observation_until"),
        Column("公告理由", "Public reason", "public_reason"),
    ))
