"""The hotline ticket list as a file (``web.exports``; its columns in exports.yaml): callers' names and phones
masked unless revealed."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def tickets(category_label, status_label) -> Listing:
    return declared(__package__, "tickets", category=category_label, status=status_label)
