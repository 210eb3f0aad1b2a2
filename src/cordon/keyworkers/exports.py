"""The key-worker lists as files (``web.exports``; columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def workers() -> Listing:
    return declared(__package__, "keyworkers")
