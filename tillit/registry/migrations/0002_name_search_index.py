"""The name search index: pg_trgm GIN on PostgreSQL, an FTS5 trigram table on SQLite.

Beware on SQLite: a later migration that alters a field of registry_person makes Django
rebuild the table, which drops these triggers. Such a migration must end with
RunPython(forward, backward) from this module's `recreate_triggers`, and
tests/registry/test_search.py fails if the index stops following changes.
"""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE registry_person_fts USING fts5(search_name, content='registry_person', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER registry_person_fts_ai AFTER INSERT ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(rowid, search_name) VALUES (new.id, new.search_name); END",
    "CREATE TRIGGER registry_person_fts_ad AFTER DELETE ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(registry_person_fts, rowid, search_name) "
    "VALUES ('delete', old.id, old.search_name); END",
    "CREATE TRIGGER registry_person_fts_au AFTER UPDATE OF search_name ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(registry_person_fts, rowid, search_name) "
    "VALUES ('delete', old.id, old.search_name); "
    "INSERT INTO registry_person_fts(rowid, search_name) VALUES (new.id, new.search_name); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER registry_person_fts_au", "DROP TRIGGER registry_person_fts_ad",
    "DROP TRIGGER registry_person_fts_ai", "DROP TABLE registry_person_fts",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX registry_person_search_trgm ON registry_person USING gin (search_name gin_trgm_ops)",
]
POSTGRES_REVERSE = ["DROP INDEX registry_person_search_trgm"]


def recreate_triggers(apps, schema_editor):
    """Re-create the SQLite triggers after a table rebuild and re-index every name."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in SQLITE_REVERSE[:3]:
        schema_editor.execute(sql.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS"))
    for sql in SQLITE[1:]:
        schema_editor.execute(sql)
    schema_editor.execute("INSERT INTO registry_person_fts(registry_person_fts) VALUES ('rebuild')")


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
