"""Resident search (places.queries.search_residents): an index on the ID number's last four characters (both
databases), and for substrings of a name or phone a trigram index: pg_trgm GIN indexes on PostgreSQL, an FTS5
trigram table over the resident table on SQLite (external content, kept in step by triggers; the bulk load
drops the triggers and rebuilds the table once, ``places.bulk``). Existing rows are indexed here."""
from django.db import migrations, models
from django.db.models.functions import Substr

FTS = "places_resident_fts"
SQLITE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(name, phone, content='places_resident', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS places_resident_fts_ai AFTER INSERT ON places_resident BEGIN "
    f"INSERT INTO {FTS}(rowid, name, phone) VALUES (new.id, new.name, new.phone); END",
    f"CREATE TRIGGER IF NOT EXISTS places_resident_fts_ad AFTER DELETE ON places_resident BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, name, phone) VALUES ('delete', old.id, old.name, old.phone); END",
    f"CREATE TRIGGER IF NOT EXISTS places_resident_fts_au AFTER UPDATE OF name, phone ON places_resident BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, name, phone) VALUES ('delete', old.id, old.name, old.phone); "
    f"INSERT INTO {FTS}(rowid, name, phone) VALUES (new.id, new.name, new.phone); END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_UNDO = [f"DROP TRIGGER IF EXISTS places_resident_fts_{t}" for t in ("ai", "ad", "au")] + [
    f"DROP TABLE IF EXISTS {FTS}"]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS resident_name_trgm ON places_resident USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS resident_phone_trgm ON places_resident USING gin (phone gin_trgm_ops)",
]
POSTGRES_UNDO = ["DROP INDEX IF EXISTS resident_name_trgm", "DROP INDEX IF EXISTS resident_phone_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, ()):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0002_area_name_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(Substr("id_number", 15), name="resident_id_tail"),
        ),
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRES}),
                             _run({"sqlite": SQLITE_UNDO, "postgresql": POSTGRES_UNDO})),
    ]
