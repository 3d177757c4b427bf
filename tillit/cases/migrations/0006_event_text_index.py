"""An index on the text of timeline entries, for the one search: PostgreSQL a trigram GIN index (ILIKE uses it);
SQLite an FTS5 trigram table kept by a trigger (entries are only ever inserted: the timeline is append-only)."""

from django.db import migrations


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute("CREATE INDEX cases_event_body_trgm ON cases_caseevent USING gin (body gin_trgm_ops)")
    elif vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE cases_event_fts USING fts5(body, content='cases_caseevent', "
                              "content_rowid='id', tokenize='trigram')")
        schema_editor.execute("INSERT INTO cases_event_fts(rowid, body) SELECT id, body FROM cases_caseevent "
                              "WHERE body != ''")
        schema_editor.execute("CREATE TRIGGER cases_event_fts_insert AFTER INSERT ON cases_caseevent "
                              "WHEN new.body != '' BEGIN INSERT INTO cases_event_fts(rowid, body) "
                              "VALUES (new.id, new.body); END")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS cases_event_body_trgm")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS cases_event_fts_insert")
        schema_editor.execute("DROP TABLE IF EXISTS cases_event_fts")


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_translations")]
    operations = [migrations.RunPython(forward, backward)]
