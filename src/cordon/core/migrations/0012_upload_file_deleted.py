"""When an upload's stored file was deleted, its retention over (``core.actions.do_delete_upload_files``)."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0011_roles_for_key_workers_and_passes")]
    operations = [migrations.AddField("upload", "file_deleted", models.DateTimeField(blank=True, null=True))]
