"""No longer does anything: the indexes this made on other apps' tables are made by the apps that own
them (places 0002, same names, ``IF NOT EXISTS``). Kept so the migration history stays whole.

What it did: An index on the address tree's names for the public lookup (``situation.public.resolve``): the lookup
finds the places whose name begins what a resident typed with ``name IN (prefixes)``, which the existing
(parent, name) index cannot serve. Created here, with the lookup it serves, as plain SQL on both databases."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_initial"),
        ("situation", "0001_initial"),
    ]

    operations = []
