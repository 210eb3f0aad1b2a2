"""The move from one registration row per person to one per tube (screening 0007) keeps every registration:
the people of a tube (same round, batch, barcode, site and time) become one row, and the rounds' bitmaps
say who is registered."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("screening", "0006_lean_writes")]


@pytest.mark.django_db(transaction=True)
def test_per_person_registrations_become_tubes():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Round, Old = old.get_model("screening", "Round"), old.get_model("screening", "Sample")
        at = dt.datetime(2022, 11, 8, 8, 0, tzinfo=dt.timezone.utc)
        r = Round.objects.create(name="r", coverage="city", on=at.date(), created=at, created_by="t")
        rows = [(5, "T1", at), (7, "T1", at), (70_000, "T1", at),      # one tube, people in two blocks
                (9, "T1", at + dt.timedelta(minutes=5)),                # the same tube five minutes later
                (11, "T2", at)]
        Old.objects.bulk_create([Old(round_id=r.pk, resident_id=p, barcode=bc, site="s", sampled_at=t, batch_id=3,
                                     unit_id=1) for p, bc, t in rows])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    from cordon.screening.models import BLOCK, Registered, Sample

    got = sorted((t.barcode, t.sampled_at, t.batch_id, sorted(t.people)) for t in Sample.objects.filter(round_id=r.pk))
    assert got == [("T1", at, 3, [5, 7, 70_000]), ("T1", at + dt.timedelta(minutes=5), 3, [9]), ("T2", at, 3, [11])]
    registered = set()
    for g in Registered.objects.filter(round_id=r.pk):
        bits = bytes(g.bits)
        registered |= {g.block * BLOCK + i for i in range(BLOCK) if bits[i // 8] >> (i % 8) & 1}
    assert registered == {5, 7, 9, 11, 70_000}
