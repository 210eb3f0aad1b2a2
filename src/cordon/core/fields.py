"""Annotated types for API input, shared by every app's schemas so validation is the same on SQLite and
PostgreSQL (SQLite enforces neither ``max_length`` nor decimal precision, and 64-bit overflow, NUL bytes or
lone UTF-16 surrogates only fail once they reach the database). Each type states its range in the OpenAPI
document (``minimum``/``maximum``, ``maxLength``, ``enum``), and a value outside it answers 400 with the field
and a translated ``detail`` (see ``config.api``). Imports no app: models are passed in by the caller.

- ``Id`` (JSON bodies): a strict integer in 1..2^63-1 (``true`` is not 1, ``1.0`` and ``"1"`` are refused);
  ``QueryId``: the same range for query strings and paths (parsed from text);
- ``PageNo``/``PageSize``: bounded page numbers and sizes;
- ``text(max_length)`` / ``text_of(Model, "field")``: a string (``null`` refused), no NUL byte, no lone
  surrogate, within the model field's ``max_length``;
- ``decimal_of(Model, "field")``: finite, within the field's digits and decimal places;
  ``Finite``: a finite float;
- ``Day``/``Moment``: a date (or date-time) between 2000-01-01 and two years from today;
  ``BirthDate``: 1900-01-01 .. today;
- ``one_of(values)``: a ``Literal`` of allowed values (the models' ``TextChoices``).
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from annotated_types import Interval
from pydantic import AfterValidator, AllowInfNan, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError
from cordon.core import clock

MAX_ID = 2**63 - 1          # the largest value a 64-bit primary key holds (PostgreSQL bigint, SQLite integer)
MAX_INT = 2**31 - 1         # counts and sizes (a 32-bit integer column)
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200
DATE_MIN = dt.date(2000, 1, 1)
BIRTH_MIN = dt.date(1900, 1, 1)
HORIZON_DAYS = 731          # two years from today
REASON_MAX = 2000           # a reason or note given with an action
QUERY_TEXT_MAX = 200        # a search term in a query string

_SURROGATE = re.compile("[\ud800-\udfff]")
CUSTOM_ERRORS = frozenset({"not_bool", "text_nul", "text_surrogate", "date_window"})


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("not_bool", _("must be a number, not true or false"))
    return value


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("text_nul", _("must not contain NUL characters"))
    if _SURROGATE.search(value):
        raise PydanticCustomError("text_surrogate", _("must be valid Unicode text (a lone surrogate was sent)"))
    return value


# ------------------------------------------------------------------------------------------ integers

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
# The bounds come before the validator that wraps them, so the document states them as minimum/maximum.
QueryId = Annotated[int, Interval(ge=1, le=MAX_ID), BeforeValidator(_not_bool)]
PageNo = Annotated[int, Interval(ge=1, le=MAX_PAGE), BeforeValidator(_not_bool)]
PageSize = Annotated[int, Interval(ge=1, le=MAX_PAGE_SIZE), BeforeValidator(_not_bool)]


def integer(ge: int = 0, le: int = MAX_INT, *, strict: bool = True):
    """An integer in ``ge..le`` (strict in bodies: no booleans, floats or strings)."""
    if strict:
        return Annotated[int, Field(strict=True, ge=ge, le=le)]
    return Annotated[int, Interval(ge=ge, le=le), BeforeValidator(_not_bool)]


# ------------------------------------------------------------------------------------------ text

def text(max_length: int | None = None, *, min_length: int | None = None):
    """A string: ``null`` is refused (never stored as "None"), no NUL byte or lone surrogate, bounded."""
    return Annotated[str, Field(strict=True, max_length=max_length, min_length=min_length),
                     AfterValidator(_clean_text)]


def text_of(model, name: str, *, min_length: int | None = None):
    """Text bounded by the model field's ``max_length`` (a ``TextField`` gets ``REASON_MAX``)."""
    max_length = model._meta.get_field(name).max_length or REASON_MAX
    return text(max_length, min_length=min_length)


Reason = text(REASON_MAX)
QueryText = text(QUERY_TEXT_MAX)


def one_of(values, *extra: str):
    """A ``Literal`` of the given values (e.g. a ``TextChoices``'s ``.values``) plus ``extra`` ones."""
    allowed = tuple(dict.fromkeys([*values, *extra]))
    return Literal[allowed]  # type: ignore[valid-type]


# ------------------------------------------------------------------------------------------ numbers

Finite = Annotated[float, AllowInfNan(False), BeforeValidator(_not_bool)]


def finite(ge: float | None = None, le: float | None = None):
    return Annotated[float, AllowInfNan(False), Interval(ge=ge, le=le), BeforeValidator(_not_bool)]


def decimal(max_digits: int, decimal_places: int, *, ge: Decimal | int | None = None,
            le: Decimal | int | None = None):
    """A finite decimal within ``max_digits``/``decimal_places`` (and ``ge``/``le``). The document states what
    is accepted: a number within the range the digits allow (``ge``/``le`` where tighter), or its text form
    (a pattern with as many digits before and after the point), not pydantic's "a number or any string"."""
    whole = max_digits - decimal_places
    top = Decimal(10) ** whole - Decimal(10) ** -decimal_places
    hi = top if le is None else min(Decimal(le), top)
    lo = -top if ge is None else max(Decimal(ge), -top)
    digits = rf"\d{{1,{whole}}}" if whole else "0"
    sign = "[+-]?" if lo < 0 else r"\+?"
    pattern = (rf"^{sign}(?:{digits}(?:\.\d{{0,{decimal_places}}})?|\.\d{{1,{decimal_places}}})$" if decimal_places
               else rf"^{sign}{digits}$")
    schema = {"anyOf": [{"type": "number", "minimum": float(lo), "maximum": float(hi)},
                        {"type": "string", "pattern": pattern}],
              "description": f"a decimal number with at most {whole} digits before the point and {decimal_places} "
                             f"after it, between {lo} and {hi}"}
    return Annotated[Decimal, Field(allow_inf_nan=False, max_digits=max_digits, decimal_places=decimal_places, ge=ge,
                                    le=le), BeforeValidator(_not_bool), WithJsonSchema(schema)]


def decimal_of(model, name: str, *, ge: Decimal | int | None = None, le: Decimal | int | None = None):
    """A decimal within the model field's precision."""
    f = model._meta.get_field(name)
    return decimal(f.max_digits, f.decimal_places, ge=ge, le=le)


# ------------------------------------------------------------------------------------------ dates

def _today() -> dt.date:
    return clock.today()


def _horizon() -> dt.date:
    return _today() + dt.timedelta(days=HORIZON_DAYS)


def _in_window(value: dt.date, lo: dt.date, hi: dt.date) -> None:
    if not lo <= value <= hi:
        raise PydanticCustomError("date_window", _("must be between {lo} and {hi}"),
                                  {"lo": lo.isoformat(), "hi": hi.isoformat()})


def _day(value: dt.date) -> dt.date:
    _in_window(value, DATE_MIN, _horizon())
    return value


def _moment(value: dt.datetime) -> dt.datetime:
    _in_window(value.date(), DATE_MIN, _horizon())
    return value


def _birth(value: dt.date) -> dt.date:
    _in_window(value, BIRTH_MIN, _today())
    return value


_WINDOW = "between 2000-01-01 and two years from today"
Day = Annotated[dt.date, AfterValidator(_day), Field(description=f"a date {_WINDOW}")]
Moment = Annotated[dt.datetime, AfterValidator(_moment), Field(description=f"a date and time {_WINDOW}")]
BirthDate = Annotated[dt.date, AfterValidator(_birth), Field(description="a date between 1900-01-01 and today")]
