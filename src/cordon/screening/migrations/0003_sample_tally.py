"""Registrations counted per unit and day as they are imported (coverage sums these instead of scanning
every registration); the rounds already in the database are counted once here."""

import datetime as dt

from django.db import migrations, models


def backfill(apps, schema_editor):
    from cordon.core import clock

    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        day, params = "(sampled_at AT TIME ZONE %s)::date", [str(clock.tz())]
    else:
        noon = dt.datetime(2022, 6, 1, 12, tzinfo=clock.tz())
        day, params = "date(sampled_at, %s)", [f"{noon.utcoffset().total_seconds() / 3600:+g} hours"]
    with conn.cursor() as c:
        c.execute(f"INSERT INTO screening_sampletally (round_id, unit_id, day, n) "
                  f"SELECT round_id, unit_id, {day}, count(*) FROM screening_sample "
                  f"GROUP BY round_id, unit_id, {day}", params + params)


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0002_sample_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='SampleTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('round_id', models.IntegerField()),
                ('unit_id', models.IntegerField(null=True)),
                ('day', models.DateField()),
                ('n', models.IntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['round_id'], name='screening_tally_round')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
