"""Reads of places: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from cordon.core import access, ids
from cordon.core.actions import ActionError
from cordon.core.fields import MAX_ID
from cordon.places.models import ID_TAIL_FROM, Area, Resident

#: The SQLite FTS5 trigram table over residents' names and phones (migration 0003).
FTS_TABLE = "places_resident_fts"


_NUMBER = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """A sort key that orders the numbers inside names as numbers: 2号楼 before 10号楼, 1单元 before 3单元."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_NUMBER.split(text)))


def area_of(user, value: int | str | None, *, perm: str | None = None) -> Area | None:
    """The area a page or an API call names, by id (a number, or a string of ASCII digits) or by address path
    (``城关区/皋兰路街道/...``, surrounding slashes ignored), within the user's jurisdiction: NotFound when it is
    absent or out of scope (the same answer), Forbidden when ``perm`` is given and not held there. ``None``
    names no area (None comes back)."""
    if value is None:
        return None
    if isinstance(value, int):
        return access.access(Area, user, value, perm=perm)
    value = value.strip().strip("/")
    if value.isascii() and value.isdigit():
        pk = int(value) if len(value) <= 19 else 0
        if not 0 < pk <= MAX_ID:
            raise access.NotFound
        return access.access(Area, user, pk, perm=perm)
    a = Area.objects.for_user(user).filter(path=value).first() if value else None
    if a is None:
        raise access.NotFound
    return access.access(Area, user, a.pk, perm=perm)


def may_read_name(user, resident: Resident) -> bool:
    """Whether ``user`` sees the resident's full name on the resident's own page and API record: the roles
    that may reveal personal data there (the unmask permission over the resident). Lists always mask."""
    return access.scope_for(user, access.UNMASK).contains(resident)


def birth_shown(resident: Resident, *, id_revealed: bool = False) -> str:
    """The birth date as pages and API may show it next to a masked ID number: the year only (the full date
    with the masked number's first and last characters and the address gives the whole number back). The
    full date only once the ID number itself was revealed (``do_unmask_resident``, audited)."""
    return resident.birth_date.isoformat() if id_revealed else f"{resident.birth_date.year}"


# ---------------------------------------------------------------------------------------------- resident search

#: At most this many residents come back from a search (one more is read to tell that there are more).
SEARCH_LIMIT = 50
#: The fewest digits a search by the end of an ID number or a part of a phone number accepts.
MIN_DIGITS = 4
_FULL_ID = re.compile(r"^\d{17}[\dX]$")
_DIGITS = re.compile(r"^\d+X?$")


@dataclass
class ResidentSearch:
    """What a resident search found: ``kind`` is ``id`` (a full ID number), ``digits`` (the end of an ID
    number or a part of a phone number) or ``name`` (a part of a name); ``residents`` at most SEARCH_LIMIT,
    ``more`` when there were more."""

    kind: str
    term: str
    residents: list = field(default_factory=list)
    more: bool = False

    def masked_term(self) -> str:
        """The term as the audit log keeps it: a name, a full ID or phone number masked as lists mask them."""
        if self.kind == "name":
            return ids.mask_name(self.term)
        if len(self.term) > 7:
            return self.term[:3] + "*" * (len(self.term) - 7) + self.term[-4:]
        return self.term


def search_term(q: str) -> tuple[str, str]:
    """``(kind, term)`` for what a user typed; ActionError (field ``q``) for what cannot be searched."""
    q = (q or "").strip()
    digits = re.sub(r"[\s-]", "", q).upper()
    if _FULL_ID.match(digits):
        return "id", digits
    if digits and _DIGITS.match(digits):
        if len(digits) < MIN_DIGITS:
            raise ActionError(_("Type at least %(n)s digits of an ID number or phone number.") % {"n": MIN_DIGITS},
                              field="q")
        if len(digits) > 18:
            raise ActionError(_("An ID number has 18 characters and a phone number 11 digits."), field="q")
        return "digits", digits
    if not q:
        raise ActionError(_("Type a name, an ID number, its last digits or a phone number."), field="q")
    if len(q) > 40 or "\x00" in q:
        raise ActionError(_("A name has at most 40 characters."), field="q")
    return "name", q


def _substring(qs, column: str, term: str):
    """Rows of ``qs`` whose ``column`` (name or phone) holds ``term``: through the trigram index of the database
    (migration 0003: pg_trgm on PostgreSQL, the FTS5 table on SQLite, which answers terms of 3 characters or
    more; shorter ones are read from the table itself, within the scope)."""
    if connection.vendor == "sqlite" and len(term) >= 3:
        phrase = '"' + term.replace('"', '""') + '"'
        return qs.filter(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                                       [f"{column} : {phrase}"]))
    return qs.filter(**{f"{column}__contains": term})


def search_residents(user, q: str, *, limit: int = SEARCH_LIMIT) -> ResidentSearch:
    """Residents the user may read personal data of (``READ_PERSONAL``) whose name holds ``q``, whose ID number
    is ``q`` or ends with it (4 to 17 digits), or whose phone holds it; in id order. Each way has its index:
    the ID number's unique index, its last four characters (``resident_id_tail``), the trigram indexes."""
    kind, term = search_term(q)
    base = Resident.objects.for_user(user, access.READ_PERSONAL).select_related("household")
    if kind == "id":
        found = list(base.filter(id_number=term)[:1])
    elif kind == "name":
        found = list(_substring(base, "name", term)[:limit + 1])
    else:
        found = []
        if len(term) <= 18:
            tail = (base.annotate(id_tail=Substr("id_number", ID_TAIL_FROM))
                    .filter(id_tail=term[-4:], id_number__endswith=term))
            found += list(tail[:limit + 1])
        if not term.endswith("X") and len(term) <= 11:
            seen = {r.pk for r in found}
            found += [r for r in _substring(base, "phone", term)[:limit + 1] if r.pk not in seen]
    found.sort(key=lambda r: r.pk)
    return ResidentSearch(kind, term, found[:limit], len(found) > limit)
