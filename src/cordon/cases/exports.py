"""The columns of the cases lists as files (``web.exports``): people under orders and arrivals."""
from __future__ import annotations

import datetime as dt
import re

from django.db.models import TextField
from django.db.models.functions import Cast

from cordon.cases import queries
from cordon.web.exports import Listing, declared

ONE = dt.timedelta(days=1)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def orders(today: dt.date, category_label, status_label) -> Listing:
    """People under orders as the contacts page lists them: status on ``today``, last day, next test. Each
    computed value is remembered per distinct argument (a day, a code, a list of test days), so half a million
    rows pay for a few thousand computations."""
    on = today.isoformat()

    def next_test(test_days_text):
        # the test days as the database writes the JSON list (ISO dates compare as text): no JSON decoding
        return next((d for d in _DAY.findall(test_days_text or "") if d >= on), None)

    return declared(__package__, "orders", computed={
        "category_label": (("category",), category_label),
        "today": (("status", "free_on", "centralized_until", "home_until"),
                  lambda *args: status_label(queries.status_on(*args, today))),
        "last_day": (("free_on",), lambda free_on: free_on - ONE if free_on else None),
        "next_test": (("test_days_text",), next_test),
    }, expressions={"test_days_text": Cast("test_days", TextField())})


def arrivals(category_label, kind_label) -> Listing:
    """Arrivals as their page lists them (newest first)."""
    return declared(__package__, "arrivals", kind=kind_label, category=category_label)
