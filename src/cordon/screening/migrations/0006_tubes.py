"""A round's tubes with their people, collected as registrations are written (the recall reads a positive
tube's people from its row), instead of an index on every registration's barcode. Tubes of the rounds
already in the database are collected once here."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    conn = schema_editor.connection
    agg = ("string_agg(resident_id::text, ',' ORDER BY resident_id)" if conn.vendor == "postgresql"
           else "group_concat(resident_id, ',')")
    with conn.cursor() as c:
        c.execute(f"INSERT INTO screening_tube (round_id, barcode, people, members) "
                  f"SELECT round_id, barcode, count(*), {agg} FROM screening_sample GROUP BY round_id, barcode")


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0005_sample_unit_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='Tube',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('round_id', models.IntegerField()),
                ('barcode', models.CharField(max_length=32)),
                ('people', models.IntegerField()),
                ('members', models.TextField(help_text='resident ids, comma-separated')),
            ],
        ),
        migrations.RemoveIndex(
            model_name='sample',
            name='screening_sample_barcode',
        ),
        migrations.AddConstraint(
            model_name='tube',
            constraint=models.UniqueConstraint(fields=('round_id', 'barcode'), name='tube_round_barcode'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
