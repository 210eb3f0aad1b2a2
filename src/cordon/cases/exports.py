"""The columns of the cases lists as files (``web.exports``): people under orders and arrivals."""
from __future__ import annotations

import datetime as dt
import re

from django.db.models import TextField
from django.db.models.functions import Cast

from cordon.cases import queries
from cordon.core import access
from cordon.web.exports import Column, Listing, labels

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

    return Listing("orders", "管控人员", "People under orders", access.READ_HEALTH,
                   ("label", "category", "status", "identified_on", "centralized_until", "home_until", "free_on",
                    "extended_by", "home__path", "infection__label"), (
        Column("编号", "Reference", "label"),
        Column("类别", "Category", "category_label"),
        Column("今日状态", "Status today", "today"),
        Column("住址", "Lives at", "home__path"),
        Column("判定日", "Identified on", "identified_on"),
        Column("集中隔离至", "Centralized until", "centralized_until"),
        Column("居家至", "At home until", "home_until"),
        Column("最后一天", "Last day", "last_day"),
        Column("解除日", "Free on", "free_on"),
        Column("下次检测", "Next test", "next_test"),
        Column("延长天数", "Extended by (days)", "extended_by"),
        Column("关联病例", "Linked to", "infection__label"),
    ), prepare=prepare, expressions={"test_days_text": Cast("test_days", TextField())})


def arrivals(category_label, kind_label) -> Listing:
    """Arrivals as their page lists them (newest first)."""
    category_label, kind_label = labels(category_label), labels(kind_label)
    return Listing("arrivals", "来返人员", "Arrivals", access.READ_HEALTH,
                   ("label", "destination__path", "region__name", "from_level", "kind", "arrived_on", "category",
                    "tests_done"), (
        Column("编号", "Reference", "label"),
        Column("到达日", "Arrived on", "arrived_on"),
        Column("来自", "From", "region__name"),
        Column("来源风险等级", "Origin level", "from_level"),
        Column("方式", "Kind", lambda r: kind_label(r["kind"])),
        Column("类别", "Category", lambda r: category_label(r["category"])),
        Column("目的地", "Destination", "destination__path"),
        Column("已做检测", "Tests done", "tests_done"),
    ))
