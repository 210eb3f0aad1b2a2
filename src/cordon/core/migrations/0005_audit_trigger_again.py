"""SQLite rebuilds a table to alter a column (0004 widened ``rule``), and the rebuild drops its triggers:
install the append-only trigger again. Any later migration that alters core_auditentry on SQLite must end
with ``reinstall`` too; tests/core/test_audit_security.py checks that the database still refuses updates."""
from django.db import migrations

SQLITE = """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"""


def reinstall(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_alter_auditentry_rule")]
    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
