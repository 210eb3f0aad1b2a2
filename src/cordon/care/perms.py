"""Who may change records of the people-service desks (care, hotline, supplies): thin helpers over the one
role x capability table in ``core.access`` (there is no second table here).

Reads go through ``for_user`` / ``access.access`` exactly as everywhere else. A desk write needs the desk's
capability over the record's area: ``care.create`` to receive a medical request (hotline operators from a
call, dispatchers, jurisdiction staff), ``care.dispatch`` to retriage, dispatch, advance or close one,
``hotline.write`` for tickets, ``supplies.write`` for stock and deliveries.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from cordon.core import access
from cordon.core.actions import ActionError
from cordon.places.queries import area_of

CREATE = access.CARE_CREATE
DISPATCH = access.CARE_DISPATCH
HOTLINE = access.HOTLINE_WRITE
SUPPLY = access.SUPPLIES_WRITE
#: The names these had when they were role sets (each is a capability now).
CARE_ROLES, DISPATCH_ROLES, HOTLINE_ROLES, SUPPLY_ROLES = CREATE, DISPATCH, HOTLINE, SUPPLY


def can_write(user, cap: str, record) -> bool:
    return access.can(user, cap, record)


def has_desk_role(user, cap: str) -> bool:
    return access.has_perm(user, cap)


def access_write(qs_or_model, user, pk, cap: str, *, read: str = access.VIEW):
    """One record the user may see (NotFound otherwise) and may change under ``cap`` (Forbidden)."""
    return access.access(qs_or_model, user, pk, perm=cap, read=read)


def area_for_write(user, area_id: int, cap: str):
    """An area the user may see (NotFound) and create desk records in (Forbidden)."""
    return area_of(user, area_id, perm=cap)


def area_by_path(user, value: str, cap: str):
    """The area a form names by path (or id) that the user may create desk records in; ActionError otherwise
    (so the page shows it on the field, and an area outside the jurisdiction is not told apart from none)."""
    try:
        return area_of(user, value or "", perm=cap)
    except (access.NotFound, access.Forbidden):
        raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": (value or "").strip().strip("/")},
                          field="area") from None
