"""An index on case titles for finding a case by words of its title (the one search, the queue's search):
PostgreSQL a trigram GIN index (ILIKE uses it); SQLite an FTS5 trigram table kept by triggers."""

from django.db import migrations


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute("CREATE INDEX cases_case_title_trgm ON cases_case USING gin (title gin_trgm_ops)")
    elif vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE cases_case_fts USING fts5(title, content='cases_case', "
                              "content_rowid='id', tokenize='trigram')")
        schema_editor.execute("INSERT INTO cases_case_fts(rowid, title) SELECT id, title FROM cases_case")
        schema_editor.execute("CREATE TRIGGER cases_case_fts_insert AFTER INSERT ON cases_case BEGIN "
                              "INSERT INTO cases_case_fts(rowid, title) VALUES (new.id, new.title); END")
        schema_editor.execute("CREATE TRIGGER cases_case_fts_update AFTER UPDATE OF title ON cases_case BEGIN "
                              "INSERT INTO cases_case_fts(cases_case_fts, rowid, title) VALUES ('delete', old.id, "
                              "old.title); INSERT INTO cases_case_fts(rowid, title) VALUES (new.id, new.title); END")
        schema_editor.execute("CREATE TRIGGER cases_case_fts_delete AFTER DELETE ON cases_case BEGIN "
                              "INSERT INTO cases_case_fts(cases_case_fts, rowid, title) VALUES ('delete', old.id, "
                              "old.title); END")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS cases_case_title_trgm")
    elif vendor == "sqlite":
        for trigger in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS cases_case_fts_{trigger}")
        schema_editor.execute("DROP TABLE IF EXISTS cases_case_fts")


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_event_text_index")]
    operations = [migrations.RunPython(forward, backward)]
