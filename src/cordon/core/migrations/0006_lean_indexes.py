"""Fewer indexes on the audit table (the table every bulk action writes a row per record to): one (district,
street, community, at) index for scoping at every level instead of six, no LIKE twins, the actor index only
for rows with a user. SQLite rebuilds the table for these changes, so the append-only trigger is installed
again at the end (as 0005)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQLITE = """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"""


def reinstall(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_audit_trigger_again'),
        ('places', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(max_length=80),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='building',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='community',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='compound',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='district',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_type',
            field=models.CharField(max_length=40),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='street',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='unit',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['district', 'street', 'community', 'at'], name='audit_scope'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['action'], name='audit_action'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['object_id', 'object_type'], name='audit_object'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='audit_actor'),
        ),
        migrations.RunPython(reinstall, migrations.RunPython.noop),
    ]
