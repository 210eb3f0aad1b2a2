# Registrations stored per tube (one row per pooled tube run, its people as a list) and who is registered
# per round as bitmaps, instead of one row per person with a (round, person) key and a barcode index.

import django.db.models.deletion
from django.db import migrations, models

import cordon.screening.models

BLOCK = 1 << 16


def per_tube(apps, schema_editor):
    """Existing per-person registrations -> tube rows (consecutive people of one batch, tube, site and minute)
    and the rounds' bitmaps."""
    Old = apps.get_model("screening", "PersonSample")
    New = apps.get_model("screening", "Sample")
    Registered = apps.get_model("screening", "Registered")
    db = schema_editor.connection.alias
    bits: dict[tuple[int, int], bytearray] = {}
    group, rows = None, []

    def flush():
        if group is not None:
            rows.append(New(round_id=group[0], batch_id=group[1], barcode=group[2], site=group[3],
                            sampled_at=group[4], people=people))

    people: list[int] = []
    qs = Old.objects.using(db).order_by("round_id", "batch_id", "barcode", "site", "sampled_at", "resident_id")
    for r in qs.values_list("round_id", "batch_id", "barcode", "site", "sampled_at", "resident_id").iterator(
            chunk_size=20_000):
        key = r[:5]
        if key != group:
            flush()
            group, people = key, []
        people.append(r[5])
        b = bits.setdefault((r[0], r[5] // BLOCK), bytearray(BLOCK // 8))
        i = r[5] % BLOCK
        b[i // 8] |= 1 << (i % 8)
        if len(rows) >= 5000:
            New.objects.using(db).bulk_create(rows)
            rows.clear()
    flush()
    New.objects.using(db).bulk_create(rows)
    Registered.objects.using(db).bulk_create(
        [Registered(round_id=rnd, block=blk, bits=bytes(b)) for (rnd, blk), b in sorted(bits.items())],
        batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0006_lean_writes'),
    ]

    operations = [
        migrations.RenameModel('Sample', 'PersonSample'),
        migrations.CreateModel(
            name='Sample',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('batch_id', models.IntegerField()),
                ('barcode', models.CharField(max_length=32)),
                ('site', models.CharField(blank=True, max_length=80)),
                ('sampled_at', models.DateTimeField()),
                ('people', cordon.screening.models.IdList()),
                ('round', models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.DO_NOTHING, related_name='+',
                                            to='screening.round')),
            ],
            options={
                'indexes': [models.Index(fields=['round', 'barcode'], name='screening_sample_tube',
                                         opclasses=['int8_ops', 'varchar_pattern_ops'])],
            },
        ),
        migrations.CreateModel(
            name='Registered',
            fields=[
                ('pk', models.CompositePrimaryKey('round_id', 'block', blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ('block', models.IntegerField()),
                ('bits', models.BinaryField()),
                ('round', models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                            to='screening.round')),
            ],
        ),
        migrations.RunPython(per_tube, migrations.RunPython.noop),
        migrations.DeleteModel('PersonSample'),
    ]
