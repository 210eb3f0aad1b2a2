"""The release day of an order is no longer indexed (cases 0004: releasing an order must not touch an index);
the situation pages count a day's releases by a scan of the scoped orders. SQLite rebuilt the orders table in
cases 0004, which drops indexes made by plain SQL: make the identified-day index again."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_lean_indexes"),
        ("situation", "0003_situation_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS situation_order_released",
            "CREATE INDEX IF NOT EXISTS situation_order_released ON cases_personorder (released_on)",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS situation_order_identified ON cases_personorder (identified_on)",
            migrations.RunSQL.noop,
        ),
    ]
