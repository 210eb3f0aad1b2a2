"""Geometry of the synthetic city: pure (no Django), deterministic for the area tree it is given.

``layout(rows)`` takes the tree as ``(id, parent_id, kind, name, population)`` rows, parents before children
(``City.areas()`` order, or the Area table ordered by depth and id), and yields ``(id, (x0, y0, x1, y1))``
rectangles in WGS 84 degrees for every node from district to building (units have none: a unit is drawn as
its building):

- a district gets its real place (``data.DISTRICT_BOXES``); a district the table does not know (an imported
  tree) gets nothing, and neither do its descendants;
- a node's children tile its rectangle in rows of roughly square cells, in id order, the cells' areas growing
  with the children's populations (damped, so a small village is still visible); each child is its cell less a
  margin, so children lie strictly inside their parent and never touch each other;
- a building is a footprint inside its cell (45-75 % of the cell's sides, a hash of its id; at most ~90 m).

Coordinates are rounded to 6 decimals (~0.1 m), inward, so rounding never breaks containment. The same tree
gives the same rectangles on every machine (no random state, no floating sums that depend on order).
"""
from __future__ import annotations

import math
from typing import Iterable, Iterator

from . import data

KINDS = ("district", "street", "community", "compound", "building", "unit")
#: metres per degree of longitude over degrees of latitude at Lanzhou (cos 36 deg)
LON_SCALE = math.cos(math.radians(36.0))
MARGIN = {1: 0.04, 2: 0.05, 3: 0.06, 4: 0.10}  # of a cell's shorter side, by the child's kind index
DIGITS = 6
MAX_BUILDING = 0.0008  # degrees of latitude (~90 m): a footprint's longest side

Rect = tuple[float, float, float, float]


def _kind_index(kind) -> int:
    return kind if isinstance(kind, int) else KINDS.index(kind)


def layout(rows: Iterable[tuple]) -> Iterator[tuple[int, Rect]]:
    """``(id, rect)`` for each district..building of the tree, parents before children."""
    children: dict[int, list[tuple[int, int, int]]] = {}
    roots: list[tuple[int, str]] = []
    for aid, parent, kind, name, population in rows:
        k = _kind_index(kind)
        if k >= 5:
            continue
        if not parent:
            roots.append((aid, name))
        else:
            children.setdefault(parent, []).append((aid, k, int(population or 0)))
    stack: list[tuple[int, Rect]] = []
    for aid, name in sorted(roots):
        box = data.DISTRICT_BOXES.get(name)
        if box is not None:
            stack.append((aid, box))
    stack.reverse()
    while stack:
        aid, rect = stack.pop()
        yield aid, rect
        kids = children.get(aid)
        if not kids:
            continue
        kids.sort()
        cells = _grid(rect, [_weight(p) for _i, _k, p in kids])
        placed = []
        for (cid, k, _p), cell in zip(kids, cells):
            inner = _shrink(cell, MARGIN[k])
            if k == 4:
                inner = _footprint(inner, cid)
            placed.append((cid, _round_in(inner)))
        stack.extend(reversed(placed))


def _weight(population: int) -> float:
    return (max(population, 1)) ** 0.6


def _grid(rect: Rect, weights: list[float]) -> list[Rect]:
    """Cells tiling ``rect``: rows of consecutive children, row heights and cell widths by weight."""
    x0, y0, x1, y1 = rect
    n = len(weights)
    w_m, h_m = (x1 - x0) * LON_SCALE, (y1 - y0)
    rows = max(1, min(n, round(math.sqrt(n * h_m / w_m)) if w_m > 0 else n))
    total = sum(weights)
    groups: list[list[int]] = []
    acc, target, cur = 0.0, total / rows, []
    for i, w in enumerate(weights):
        cur.append(i)
        acc += w
        left_rows = rows - len(groups) - 1
        if left_rows > 0 and acc >= target * (len(groups) + 1) and n - i - 1 >= left_rows:
            groups.append(cur)
            cur = []
    if cur:
        groups.append(cur)
    cells: list[Rect] = [(0.0, 0.0, 0.0, 0.0)] * n
    y_top = y1
    for gi, g in enumerate(groups):
        gw = sum(weights[i] for i in g)
        y_bottom = y0 if gi == len(groups) - 1 else y_top - (y1 - y0) * gw / total
        x = x0
        for j, i in enumerate(g):
            x_next = x1 if j == len(g) - 1 else x + (x1 - x0) * weights[i] / gw
            cells[i] = (x, y_bottom, x_next, y_top)
            x = x_next
        y_top = y_bottom
    return cells


def _shrink(rect: Rect, share: float) -> Rect:
    x0, y0, x1, y1 = rect
    gap_y = min((x1 - x0) * LON_SCALE, y1 - y0) * share
    gap_x = gap_y / LON_SCALE
    return (x0 + gap_x, y0 + gap_y, x1 - gap_x, y1 - gap_y)


def _footprint(rect: Rect, aid: int) -> Rect:
    """A building inside its cell: 45-75 % of each side, centred, from a hash of the id."""
    h = (aid * 2654435761) & 0xFFFFFFFF
    fx = 0.45 + 0.30 * ((h & 0xFFFF) / 0xFFFF)
    fy = 0.45 + 0.30 * ((h >> 16) / 0xFFFF)
    x0, y0, x1, y1 = rect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = min((x1 - x0) * fx, MAX_BUILDING / LON_SCALE) / 2, min((y1 - y0) * fy, MAX_BUILDING) / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def _round_in(rect: Rect) -> Rect:
    s = 10 ** DIGITS
    x0, y0, x1, y1 = rect
    return (math.ceil(x0 * s) / s, math.ceil(y0 * s) / s, math.floor(x1 * s) / s, math.floor(y1 * s) / s)


def polygon(rect: Rect) -> dict:
    """The rectangle as a GeoJSON Polygon (RFC 7946: exterior ring counter-clockwise, closed)."""
    x0, y0, x1, y1 = rect
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
