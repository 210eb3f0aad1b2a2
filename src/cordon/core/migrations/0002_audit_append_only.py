"""Database-level guarantee that audit rows are never changed.

PostgreSQL refuses UPDATE and DELETE on audit rows (TRUNCATE, used only by test flushes and a deliberate
retention purge, is not row-level). SQLite refuses UPDATE; a DELETE trigger there would also stop the test
runner's flush, so deletes are refused by the model and its queryset instead.
"""
from django.db import migrations

PG = [
    """CREATE OR REPLACE FUNCTION cordon_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE OR DELETE ON core_auditentry
       FOR EACH ROW EXECUTE FUNCTION cordon_audit_append_only()""",
]
PG_DOWN = ["DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry",
           "DROP FUNCTION IF EXISTS cordon_audit_append_only()"]
SQLITE = [
    """CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS core_auditentry_no_update", "DROP TRIGGER IF EXISTS core_auditentry_no_delete"]


def forwards(apps, schema_editor):
    stmts = PG if schema_editor.connection.vendor == "postgresql" else SQLITE
    for s in stmts:
        schema_editor.execute(s)


def backwards(apps, schema_editor):
    stmts = PG_DOWN if schema_editor.connection.vendor == "postgresql" else SQLITE_DOWN
    for s in stmts:
        schema_editor.execute(s)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
