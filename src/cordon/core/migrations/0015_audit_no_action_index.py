"""No index on the audit log's ``action`` (see ``AuditEntry``): the log's action filter is a prefix match, which
a plain index serves only under the C collation, and every audit row entered it (the day-start release writes
one per released order). SQLite drops an index without rebuilding the table; the append-only trigger is
installed again all the same (0005)."""
from importlib import import_module

from django.db import migrations

reinstall = import_module("cordon.core.migrations.0005_audit_trigger_again").reinstall


class Migration(migrations.Migration):
    dependencies = [("core", "0014_audit_occurred_at")]
    operations = [
        migrations.RemoveIndex(model_name="auditentry", name="audit_action"),
        migrations.RunPython(reinstall, migrations.RunPython.noop),
    ]
