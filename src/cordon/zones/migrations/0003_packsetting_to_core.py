"""The pack setting now belongs to core (``core.0009``); zones forgets the model. State only: the table and
its rows stay."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('zones', '0002_one_open_designation_per_area'),
        ('core', '0009_packsetting_from_zones'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='PackSetting')],
            database_operations=[],
        ),
    ]
