"""The screening lists as files and printed (``web.exports``; columns in exports.yaml): who has not been sampled
in a round, and the recall list of the positive pools. Names, ID numbers and phones are masked unless revealed
(audited)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared


def missing() -> Listing:
    """Residents of an area with no registration in a round (one row per person, by unit and door)."""
    return declared(__package__, "screening-missing")


def recall(retest_label, status_label) -> Listing:
    """The people registered in a round's positive pools, by recall task."""
    return declared(__package__, "screening-recall", retest=retest_label, status=status_label)
