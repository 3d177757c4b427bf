"""The full-text index: GIN over the tsvector column on PostgreSQL, an FTS5 table on SQLite.

The SQLite table stands alone (no triggers): tillit.documents.search.index_documents writes it.
"""

from django.db import migrations

SQLITE = ["CREATE VIRTUAL TABLE documents_fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 0')"]
SQLITE_REVERSE = ["DROP TABLE documents_fts"]
POSTGRES = ["CREATE INDEX documents_search_gin ON documents_document USING gin (search_vector)"]
POSTGRES_REVERSE = ["DROP INDEX documents_search_gin"]


def forward(apps, schema_editor):
    for sql in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    for sql in {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
