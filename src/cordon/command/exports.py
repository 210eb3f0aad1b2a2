"""The command orders' lists as files (``web.exports``; columns in exports.yaml): an order's status matrix."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def matrix(status_label) -> Listing:
    return declared(__package__, "order-matrix", status=status_label)
