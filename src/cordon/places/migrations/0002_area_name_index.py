"""An index on the address tree's names for the public lookup (``situation.public.resolve``): it finds the
places whose name begins what a resident typed with ``name IN (prefixes)``, which the (parent, name) index
cannot serve. Plain SQL on both databases. It was made by situation 0002 on this app's table; it belongs here
(the name is kept, so a database that has it already is left as it is)."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS situation_area_name ON places_area (name)",
            "DROP INDEX IF EXISTS situation_area_name",
        ),
    ]
