"""PostgreSQL: a GIN index on the words of the name, for the one-typo variants of the name search."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX registry_person_words ON registry_person "
                              "USING gin ((string_to_array(search_name, ' ')))")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX registry_person_words")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_name_search_index")]
    operations = [migrations.RunPython(forward, backward)]
