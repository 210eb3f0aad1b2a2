"""Reads of places: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

from cordon.core import access
from cordon.core.fields import MAX_ID
from cordon.places.models import Area, Resident


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
