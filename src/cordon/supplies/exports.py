"""The deliveries to the door as a file and on the printed round (``web.exports``; columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def deliveries(status_label) -> Listing:
    return declared(__package__, "deliveries", status=status_label)
