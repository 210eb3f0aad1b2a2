"""The pass list and the check log as files (``web.exports``; columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def passes(kind_label, status_label) -> Listing:
    def prepare(row: dict) -> dict:
        row["areas"] = "; ".join(a["path"] for a in row["areas"] or [])
        return row

    return declared(__package__, "passes", kind=kind_label, status=status_label, prepare=prepare)


def checks(result_label) -> Listing:
    return declared(__package__, "checks", result=result_label)
