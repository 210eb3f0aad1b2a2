# Tube results are looked up by barcode equality only (primary key): the second, pattern-operator index that
# Django adds beside a varchar primary key on PostgreSQL is dropped (a third of a results import's write
# cost). Nothing queries barcodes with LIKE or a prefix.

from django.db import migrations


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as c:
        c.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'screening_tuberesult' "
                  "AND indexname LIKE 'screening_tuberesult_barcode%%_like'")
        for (name,) in c.fetchall():
            c.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0008_coverage_on_demand'),
    ]

    operations = [
        migrations.RunPython(drop_like_index, migrations.RunPython.noop),
    ]
