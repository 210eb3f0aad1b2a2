"""Reads of places: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

from cordon.core import access
from cordon.places.models import Resident


def may_read_name(user, resident: Resident) -> bool:
    """Whether ``user`` sees the resident's full name on the resident's own page and API record: the roles
    that may reveal personal data there (the unmask permission over the resident). Lists always mask."""
    return access.scope_for(user, access.UNMASK).contains(resident)


def birth_shown(resident: Resident, *, id_revealed: bool = False) -> str:
    """The birth date as pages and API may show it next to a masked ID number: the year only (the full date
    with the masked number's first and last characters and the address gives the whole number back). The
    full date only once the ID number itself was revealed (``do_unmask_resident``, audited)."""
    return resident.birth_date.isoformat() if id_revealed else f"{resident.birth_date.year}"
