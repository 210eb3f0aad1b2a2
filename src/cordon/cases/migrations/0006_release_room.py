"""Room on every page of orders and placements for a new version of each of its rows (fillfactor 45 on
PostgreSQL, was 60 / 70 in 0004). A city writes orders day by day, so the orders that end on one day lie
together, often filling whole pages; the day-start release rewrites them all, and an in-place (HOT) update
needs room for the new version on the row's own page: with less than half a page free, the rest became ordinary
updates that add an entry to each of the orders' indexes. Measured by ``cordon bench contacts``."""

from django.db import migrations

FILLFACTOR = {"cases_personorder": 45, "cases_placement": 45}
BEFORE = {"cases_personorder": 60, "cases_placement": 70}


def _set(values):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table, ff in values.items():
                schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {ff})")
    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_day_indexes")]

    operations = [migrations.RunPython(_set(FILLFACTOR), _set(BEFORE))]
