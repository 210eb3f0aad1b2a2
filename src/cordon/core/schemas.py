"""Schemas every app's API shares: the error body, the page of a list, the page and the day asked for. Imports no
app."""
from __future__ import annotations

from ninja import Schema
from pydantic import Field

from cordon.core.fields import MAX_PAGE, MAX_PAGE_SIZE, Day, PageNo, PageSize


class FieldError(Schema):
    field: str
    detail: str


class ErrorOut(Schema):
    """Every error answer: ``detail`` (in the request's language) and, for bad input, the ``field`` it
    concerns (dotted path into the body or the query parameter's name); ``rule`` names the guardrail that
    refused an action; ``errors`` lists every invalid field when there are several."""

    detail: str
    field: str = ""
    rule: str | None = None
    errors: list[FieldError] | None = None


class Page(Schema):
    """The page fields of every list answer (lists subclass it with ``items``)."""

    page: int = Field(ge=1, le=MAX_PAGE)
    page_size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    has_next: bool


class PageQuery(Schema):
    """The page asked for (list filters subclass it with their own fields)."""

    page: PageNo = 1
    page_size: PageSize = 50


class DayQuery(Schema):
    """The day a read is about (``on``); the caller's today when omitted."""

    on: Day | None = None
