"""Who may change records of the people-service desks (care, hotline, supplies).

Reads go through ``for_user`` / ``access.access`` exactly as everywhere else. Writes are allowed where the
user holds the general write permission (commander, district/street/community staff) **or** holds a desk
role over the record's area: a medical dispatcher on care requests, a hotline operator on tickets (and on
creating care requests from a call), a logistics officer on supplies. Auditors and the other read-only
roles stay read-only. ``core.access.ROLE_PERMS`` is not changed: the desk roles are read-only everywhere
else.
"""
from __future__ import annotations

from cordon.core import access

CARE_ROLES = frozenset({"medical_dispatcher", "hotline_operator"})
DISPATCH_ROLES = frozenset({"medical_dispatcher"})
HOTLINE_ROLES = frozenset({"hotline_operator"})
SUPPLY_ROLES = frozenset({"logistics_officer"})


def desk_scope(user, roles) -> access.Scope:
    """Union of the user's write scope and the nodes where they hold one of ``roles``."""
    return access.scope_of([g for g in access.grants_of(user)
                            if g.role in roles or access.WRITE in access.ROLE_PERMS.get(g.role, ())])


def can_write(user, roles, record) -> bool:
    return desk_scope(user, roles).contains(record)


def has_desk_role(user, roles) -> bool:
    return access.has_perm(user, access.WRITE) or bool(access.roles_of(user) & set(roles))


def access_write(qs_or_model, user, pk, roles):
    """One record the user may see (NotFound otherwise) and may change as ``roles`` allow (Forbidden)."""
    obj = access.access(qs_or_model, user, pk)
    if not can_write(user, roles, obj):
        raise access.Forbidden
    return obj


def area_for_write(user, area_id: int, roles):
    """An area the user may see (NotFound) and create desk records in (Forbidden)."""
    from cordon.places.models import Area

    return access_write(Area, user, area_id, roles)


def area_by_path(user, value: str, roles):
    """The area a form names by path (or id) that the user may create desk records in; ActionError otherwise
    (so the page shows it on the field, and an area outside the jurisdiction is not told apart from none)."""
    from django.utils.translation import gettext as _

    from cordon.core.actions import ActionError
    from cordon.places.models import Area

    value = (value or "").strip().strip("/")
    a = Area.objects.for_user(user).filter(path=value).first() if not value.isdigit() else None
    if a is None and value.isdigit():
        a = Area.objects.for_user(user).filter(pk=int(value)).first()
    if a is None or not can_write(user, roles, a):
        raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": value}, field="area")
    return a
