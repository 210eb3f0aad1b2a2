"""The risk-area list as a file (``web.exports``; its columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def designations(level_label, status_label, waiting_text) -> Listing:
    """Risk areas as the command view lists them (one tab, level and area text)."""
    return declared(__package__, "risk-areas", level=level_label, status=status_label, waiting=waiting_text)
