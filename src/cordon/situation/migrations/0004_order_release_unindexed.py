"""No longer does anything: the indexes this made on other apps' tables are made by the apps that own
them (cases 0005, same names, ``IF NOT EXISTS``). Kept so the migration history stays whole.

What it did: The release day of an order is no longer indexed (cases 0004: releasing an order must not touch an index);
the situation pages count a day's releases by a scan of the scoped orders. SQLite rebuilt the orders table in
cases 0004, which drops indexes made by plain SQL: make the identified-day index again."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_lean_indexes"),
        ("situation", "0003_situation_indexes"),
    ]

    operations = []
