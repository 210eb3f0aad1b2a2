"""Reads of the city model shared by every app's pages and API."""
from __future__ import annotations

from cordon.core import access
from cordon.core.fields import MAX_ID
from cordon.places.models import Area


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
