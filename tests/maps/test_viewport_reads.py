"""The building-zoom reads (``maps.queries.shapes_in``): the statement built once per jurisdiction and run with each
view's bounds finds exactly the shapes a plain reading of the rule finds, for every user in turn (one user's
statement is never run for another), and a view costs a bounded number of statements however many shapes it
draws."""
from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_statements():
    from cordon.maps import queries, tiles

    queries._SHAPES_SQL.clear()
    tiles.clear()
    yield
    queries._SHAPES_SQL.clear()
    tiles.clear()


def _expected(user, view, kinds=None) -> set[int]:
    """The rule read plainly: the user's shapes of ``kinds`` whose bounding box meets the view."""
    from cordon.core import access
    from cordon.maps.models import Shape

    out = set()
    for s in Shape.objects.for_user(user, access.VIEW):
        if kinds is not None and s.kind not in kinds:
            continue
        if s.x0 <= view.east and s.x1 >= view.west and s.y0 <= view.north and s.y1 >= view.south:
            out.add(s.area_id)
    return out


def _views(n=25, seed=7):
    """Views around the city's shapes, from building size to a whole district, and a few off the map."""
    from cordon.maps.models import Shape
    from cordon.maps.queries import View

    rng = random.Random(seed)
    shapes = list(Shape.objects.all())
    out = [View(0.0, 0.0, 1.0, 1.0, 17), View(-180.0, -90.0, 180.0, 90.0, 17)]
    for _ in range(n):
        s = rng.choice(shapes)
        w = rng.choice([0.0005, 0.002, 0.004, 0.02, 0.2])
        x, y = rng.uniform(s.x0, s.x1), rng.uniform(s.y0, s.y1)
        out.append(View(x - w, y - w * 0.6, x + w, y + w * 0.6, 17))
    return out


def test_shapes_in_finds_what_the_rule_says_for_each_jurisdiction(mapped, commander, worker, outsider):
    from cordon.maps.queries import shapes_in

    views = _views()
    for _round in range(2):  # the second round runs the statements kept by the first
        for view in views:
            for user in (worker, outsider, commander):
                for kinds in (None, ["compound", "building"], ["district", "street"]):
                    got = [row[0] for row in shapes_in(user, view, kinds)]
                    assert len(got) == len(set(got))
                    assert set(got) == _expected(user, view, kinds), (user.username, view, kinds)


def test_a_wide_building_is_found_by_its_box_wherever_its_label_point_lies(mapped, commander, worker):
    """An imported building wider than ``BUILDING_REACH`` meets a view far from its label point: it is drawn
    (found through the partial index of wide buildings), once, and only where its box meets the view; the
    synthetic city's buildings are all narrower."""
    from cordon.maps import queries
    from cordon.maps.models import BUILDING_REACH as r
    from cordon.maps.models import WIDE, Shape
    from cordon.maps.queries import View, shapes_in

    assert not Shape.objects.filter(WIDE).exists() and not queries.wide_buildings()
    s = Shape.objects.get(area_id=mapped["unit_a"].building_id)
    Shape.objects.filter(pk=s.pk).update(x1=s.x0 + 10 * r, cx=s.x0 + r / 10)  # 10 reaches wide, labelled at the west
    queries.forget_wide()  # as an import of shapes does in its process (other processes within WIDE_TTL)
    east_end = View(s.x0 + 9 * r, s.y0, s.x0 + 9.5 * r, s.y1, 17)  # the east end only: the label point 8 reaches off
    beyond = View(s.x0 + 11 * r, s.y0, s.x0 + 12 * r, s.y1, 17)  # past the east edge
    for user in (worker, commander):
        for kinds in (None, ["building"]):
            got = [row[0] for row in shapes_in(user, east_end, kinds)]
            assert got.count(s.area_id) == 1, (user.username, kinds)
            assert s.area_id not in {row[0] for row in shapes_in(user, beyond, kinds)}
            assert set(got) == _expected(user, east_end, kinds)
    Shape.objects.filter(pk=s.pk).update(cx=s.x0 + 9.2 * r)  # the label point in the view: found once still
    assert [row[0] for row in shapes_in(worker, east_end)].count(s.area_id) == 1


def test_without_wide_buildings_a_view_reads_no_wide_part_and_looks_again_after_a_while(mapped, worker, monkeypatch):
    """The city has no wide building: the view's statement leaves that part out (its condition would make the
    planner start parallel workers for every view); a process looks again after ``WIDE_TTL``."""
    from cordon.maps import queries
    from cordon.maps.models import BUILDING_REACH as r
    from cordon.maps.models import Shape

    s = Shape.objects.get(area_id=mapped["unit_a"].building_id)
    view = queries.View(s.x0 + 4 * r, s.y0, s.x0 + 5 * r, s.y1, 17)
    assert s.area_id not in {row[0] for row in queries.shapes_in(worker, view)}
    (sql, _p, _s), = queries._SHAPES_SQL.values()
    assert sql.count("SELECT") == 3  # buildings near, the larger kinds and their ids: no wide part
    Shape.objects.filter(pk=s.pk).update(x1=s.x0 + 10 * r)
    now = [1000.0]
    monkeypatch.setattr(queries, "_clock", lambda: now[0])
    queries.forget_wide()
    queries._WIDE_SEEN[:] = [now[0], False]  # looked just before the change
    assert s.area_id not in {row[0] for row in queries.shapes_in(worker, view)}
    now[0] += queries.WIDE_TTL + 1
    assert s.area_id in {row[0] for row in queries.shapes_in(worker, view)}


def test_the_other_jurisdictions_shapes_are_never_read(mapped, worker, outsider):
    from cordon.maps.models import Shape
    from cordon.maps.queries import View, shapes_in

    s = Shape.objects.get(area_id=mapped["unit_a"].building_id)
    view = View(s.x0 - 0.001, s.y0 - 0.001, s.x1 + 0.001, s.y1 + 0.001, 17)
    assert s.area_id in {row[0] for row in shapes_in(worker, view)}
    assert s.area_id not in {row[0] for row in shapes_in(outsider, view)}
    assert s.area_id in {row[0] for row in shapes_in(worker, view)}


def test_a_shape_change_is_read_by_the_kept_statement(mapped, worker):
    from cordon.maps.models import Shape
    from cordon.maps.queries import View, shapes_in

    s = Shape.objects.get(area_id=mapped["unit_a"].building_id)
    view = View(s.x0 - 0.001, s.y0 - 0.001, s.x1 + 0.001, s.y1 + 0.001, 17)
    assert s.area_id in {row[0] for row in shapes_in(worker, view)}
    Shape.objects.filter(pk=s.pk).update(x0=s.x0 + 1, x1=s.x1 + 1, cx=s.cx + 1)
    assert s.area_id not in {row[0] for row in shapes_in(worker, view)}


@pytest.mark.parametrize("name, most", [("risk", 2), ("basemap", 3), ("observation", 2)])
def test_a_building_zoom_view_costs_a_bounded_number_of_statements(mapped, commander, worker, name, most):
    """The shapes (one statement), the designations or the units of the buildings drawn (one) and, for the
    basemap of a user granted below district level, the outlines above the grant (one), whatever the number of
    buildings in the view; nothing per feature."""
    from cordon.core import access
    from cordon.maps import queries
    from cordon.maps.models import Shape

    access.grants_of(worker)  # the grants come with the user's request (its session or token statement)
    access.grants_of(commander)
    queries.wide_buildings()  # a process looks at most once a minute
    district = Shape.objects.get(area_id=mapped["district"].pk)
    small = Shape.objects.get(area_id=mapped["unit_a"].building_id)
    for user in (worker, commander):
        for s in (small, district):
            view = queries.View(s.x0, s.y0, s.x1, s.y1, 17)
            with CaptureQueriesContext(connection) as q:
                queries.layer(user, name, view)
            assert len(q.captured_queries) <= most, [x["sql"] for x in q.captured_queries]
