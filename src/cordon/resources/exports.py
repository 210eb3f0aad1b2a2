"""The resources lists as files (``web.exports``; columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def people(kind_label) -> Listing:
    return declared(__package__, "people", kind=kind_label)


def shifts() -> Listing:
    return declared(__package__, "shifts")
