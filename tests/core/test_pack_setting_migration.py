"""The deployment's pack setting moved from zones to core (state only: the table ``zones_packsetting`` and its
rows stay), and the indexes situation once made on places' and cases' tables are made by those apps. The
test database is migrated from an empty one, so its schema is what a new deployment gets."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("core", "0008_jobrun_lease"), ("zones", "0002_one_open_designation_per_area")]


def _indexes() -> set[str]:
    with connection.cursor() as c:
        return {name for t in ("places_area", "cases_infection", "cases_responsetask", "cases_personorder")
                for name in connection.introspection.get_constraints(c, t)}


@pytest.mark.django_db
def test_schema_from_scratch_has_the_moved_table_and_indexes():
    from cordon.core.models import PackSetting

    assert PackSetting._meta.db_table == "zones_packsetting"
    with connection.cursor() as c:
        assert "zones_packsetting" in connection.introspection.table_names(c)
    idx = _indexes()
    assert {"situation_area_name", "situation_infection_day_found", "situation_task_done_at",
            "situation_order_identified"} <= idx
    assert "situation_order_released" not in idx


@pytest.mark.django_db(transaction=True)
def test_pack_settings_made_before_the_move_are_kept():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Old = old.get_model("zones", "PackSetting")
        Old.objects.create(pack="twenty-measures", effective_from=dt.date(2022, 11, 11), created_by="t", reason="r")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    from cordon.core.packs import active_pack_name

    assert active_pack_name(dt.date(2022, 11, 10)) == "ninth-edition"
    assert active_pack_name(dt.date(2022, 11, 11)) == "twenty-measures"
    assert "situation_infection_day_found" in _indexes()
