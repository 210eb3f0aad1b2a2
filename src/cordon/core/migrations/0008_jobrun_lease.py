from django.db import migrations, models


def mark_old_runs(apps, schema_editor):
    """Runs from before leases: finished ones are done; an unfinished one was a lost claim (its worker was
    killed or its job failed) and is marked failed with that said, not re-run long after its period."""
    JobRun = apps.get_model("core", "JobRun")
    JobRun.objects.filter(finished__isnull=False).update(status="done")
    JobRun.objects.filter(finished__isnull=True).update(
        status="failed", error="left unfinished before runs had leases (its worker stopped or its job failed)")


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_stamp'),
    ]

    operations = [
        migrations.AddField(
            model_name='jobrun',
            name='attempts',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='jobrun',
            name='error',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='jobrun',
            name='heartbeat',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='jobrun',
            name='lease_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='jobrun',
            name='owner',
            field=models.CharField(blank=True, default='', max_length=120),
        ),
        migrations.AddField(
            model_name='jobrun',
            name='status',
            field=models.CharField(choices=[('running', 'running'), ('retry', 'waiting to retry'), ('done', 'done'), ('failed', 'failed')], default='running', max_length=10),
        ),
        migrations.AddIndex(
            model_name='jobrun',
            index=models.Index(fields=['status'], name='jobrun_status'),
        ),
        migrations.RunPython(mark_old_runs, migrations.RunPython.noop),
    ]
