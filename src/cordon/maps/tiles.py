"""Building-zoom tiles: the views from ``DETAIL_ZOOM`` on, snapped to a fixed grid, answered once per change.

A layer at building zoom draws the same features for every zoom level from ``DETAIL_ZOOM`` on, so the map page
asks for it by tile: column ``tx`` and row ``ty`` of a grid of ``TILE_DEG``-degree squares (longitude from
-180, latitude from -90), each tile the layer over the tile's box at ``DETAIL_ZOOM`` (``queries.layer``, the
same text as a viewport request for that box). The page requests the tiles it does not have yet, so panning
costs only the new ones, and everyone of one jurisdiction looking at the same streets asks for the same tiles.

The layers that change only with designations, shapes and areas (``CACHED``) keep each tile's encoded answer in
the process's memory under (layer, jurisdiction, their change stamps, tile, language): a designation, a shape
or an area changing bumps a stamp (``core.stamps``: signals, and the bulk paths bump it themselves), so the
next request renders afresh; the jurisdiction in the key keeps one user's tile from ever being served to a
user who sees other records. Reading the stamps is the one statement a kept tile costs. The other layers
(counts, records whose freshness is not stamped) are rendered for each tile request.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

from django.utils.translation import get_language

from cordon.core import access, stamps
from cordon.maps import queries

#: The grid's square (degrees): 2^16 columns round the world, ~500 m x 610 m at Lanzhou's latitude.
TILE_DEG = 360 / 2 ** 16
MAX_TX = 2 ** 16 - 1
MAX_TY = 2 ** 15 - 1
#: The change stamps each kept layer's tiles depend on (everything else they draw comes from these records).
CACHED: dict[str, tuple[str, ...]] = {
    "risk": ("risk_areas", "shapes", "areas"),
    "observation": ("risk_areas", "shapes", "areas"),
    "basemap": ("shapes", "areas"),
}
#: Bytes of tiles a process keeps (least recently used dropped first).
MAX_BYTES = 64 * 1024 * 1024

_KEPT: OrderedDict[tuple, bytes] = OrderedDict()
_SIZE = [0]
_LOCK = threading.Lock()
#: One thread renders a key at a time (the others wait and take its answer), as ``core.stamps.cached`` does.
_RENDER_LOCKS = tuple(threading.Lock() for _ in range(32))


def view_of(tx: int, ty: int) -> queries.View:
    """The tile's box at ``DETAIL_ZOOM``."""
    west, south = -180.0 + tx * TILE_DEG, -90.0 + ty * TILE_DEG
    return queries.View(west, south, west + TILE_DEG, south + TILE_DEG, queries.DETAIL_ZOOM)


def covering(west: float, south: float, east: float, north: float) -> list[tuple[int, int]]:
    """The tiles (tx, ty) a viewport meets, as the map page computes them."""
    x0, x1 = math.floor((west + 180) / TILE_DEG), math.floor((east + 180) / TILE_DEG)
    y0, y1 = math.floor((south + 90) / TILE_DEG), math.floor((north + 90) / TILE_DEG)
    return [(x, y) for y in range(max(0, y0), min(MAX_TY, y1) + 1) for x in range(max(0, x0), min(MAX_TX, x1) + 1)]


def _jurisdiction(user, cap: str) -> str:
    """What decides which records a tile shows: the scope of the layer's capability, and the nodes of every
    grant (the basemap outlines the nodes above them)."""
    return access.scope_key(access.scope_for(user, cap)) + "|" + ",".join(
        map(str, sorted({g.area_id for g in access.grants_of(user) if g.area_id})))


def tile(user, name: str, tx: int, ty: int) -> bytes:
    """The encoded answer of layer ``name`` for tile (tx, ty) within the user's jurisdiction (NotFound when the
    layer is unknown or not allowed): kept for the ``CACHED`` layers, rendered for the others."""
    ly = queries.LAYERS.get(name)
    if ly is None or not access.has_perm(user, ly.cap):
        raise access.NotFound
    names = CACHED.get(name)
    if names is None:
        return ly.read(user, view_of(tx, ty)).encode()
    key = (stamps.PREFIX, name, _jurisdiction(user, ly.cap), stamps.read(*names), tx, ty, get_language())
    body = _get(key)
    if body is not None:
        return body
    with _RENDER_LOCKS[hash(key) % len(_RENDER_LOCKS)]:
        body = _get(key)  # rendered by another thread meanwhile
        if body is None:
            body = ly.read(user, view_of(tx, ty)).encode()
            _put(key, body)
    return body


def _get(key: tuple) -> bytes | None:
    with _LOCK:
        body = _KEPT.get(key)
        if body is not None:
            _KEPT.move_to_end(key)
        return body


def _put(key: tuple, body: bytes) -> None:
    with _LOCK:
        old = _KEPT.pop(key, None)
        if old is not None:
            _SIZE[0] -= len(old)
        _KEPT[key] = body
        _SIZE[0] += len(body)
        while _SIZE[0] > MAX_BYTES and len(_KEPT) > 1:
            _k, dropped = _KEPT.popitem(last=False)
            _SIZE[0] -= len(dropped)


def clear() -> None:
    """Forget every kept tile (tests: their database rolls back, so stamps repeat)."""
    with _LOCK:
        _KEPT.clear()
        _SIZE[0] = 0
