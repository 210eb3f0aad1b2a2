"""The deployment's pack setting moves from zones to core (every app reads it; cases no longer needs zones).
State only: the table ``zones_packsetting`` stays where it is, with its rows (``db_table`` keeps the name)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0008_jobrun_lease'),
        ('zones', '0001_initial'),  # where the table is created
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PackSetting',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name='ID')),
                        ('pack', models.CharField(max_length=80)),
                        ('effective_from', models.DateField()),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('created_by', models.CharField(max_length=150)),
                        ('reason', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'zones_packsetting',
                        'ordering': ['-effective_from', '-id'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
