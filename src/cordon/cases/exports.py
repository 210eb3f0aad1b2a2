"""The columns of the cases lists as files (``web.exports``): people under orders and arrivals."""
from __future__ import annotations

import datetime as dt
import re

from django.db.models import TextField
from django.db.models.functions import Cast

from cordon.cases import queries
from cordon.web.exports import Listing, declared, labels

ONE = dt.timedelta(days=1)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Row(dict):
    """A row mapping read as the record it stands for (``queries.status_today`` reads attributes)."""

    __getattr__ = dict.__getitem__


def orders(today: dt.date, category_label, status_label) -> Listing:
    """People under orders as the contacts page lists them: status on ``today``, last day, next test."""
    category_label, status_label = labels(category_label), labels(status_label)
    on = today.isoformat()

    def prepare(row: dict) -> dict:
        row["category_label"] = category_label(row["category"])
        row["today"] = status_label(queries.status_today(_Row(row), today))
        # the test days as the database writes the JSON list (ISO dates compare as text): no JSON decoding
        row["next_test"] = next((d for d in _DAY.findall(row["test_days_text"] or "") if d >= on), None)
        row["last_day"] = row["free_on"] - ONE if row["free_on"] else None
        return row

    return declared(__package__, "orders", computed=("category_label", "today", "last_day", "next_test"),
                    reads=("category", "status"), prepare=prepare,
                    expressions={"test_days_text": Cast("test_days", TextField())})


def arrivals(category_label, kind_label) -> Listing:
    """Arrivals as their page lists them (newest first)."""
    return declared(__package__, "arrivals", kind=kind_label, category=category_label)
