"""The pass list and the check log as files (``web.exports``; columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def passes(kind_label, status_label) -> Listing:
    def area_paths(areas) -> str:
        return "; ".join(a["path"] for a in areas or [])

    return declared(__package__, "passes", kind=kind_label, status=status_label,
                    computed={"area_paths": (("areas",), area_paths)})


def checks(result_label) -> Listing:
    return declared(__package__, "checks", result=result_label)
