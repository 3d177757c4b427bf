"""Fewer indexes on people, each of which every insert pays for.

The last name is the first column of person_name_order, so its own index (and on PostgreSQL its pattern index)
goes. Email and phone are looked up whole: their indexes become plain named ones, without the pattern index.
The indexes are dropped by name rather than through AlterField, which on SQLite would rebuild the table and
lose the triggers that keep the full-text index.
"""

from django.db import migrations, models

AUTO = ["registry_person_last_name_1a984319", "registry_person_email_e33cebcc", "registry_person_phone_812471c7"]
COLUMNS = {"registry_person_last_name_1a984319": "last_name", "registry_person_email_e33cebcc": "email",
           "registry_person_phone_812471c7": "phone"}


def drop(apps, schema_editor):
    names = AUTO + ([f"{n}_like" for n in AUTO] if schema_editor.connection.vendor == "postgresql" else [])
    for name in names:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    for name in AUTO:
        column = COLUMNS[name]
        schema_editor.execute(f'CREATE INDEX "{name}" ON "registry_person" ("{column}")')
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'CREATE INDEX "{name}_like" ON "registry_person" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_type_translations")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField("person", "last_name", models.CharField(max_length=100,
                                                                              verbose_name="last name")),
                migrations.AlterField("person", "email", models.EmailField(blank=True, max_length=254,
                                                                           verbose_name="email")),
                migrations.AlterField("person", "phone", models.CharField(blank=True, max_length=20,
                                                                          verbose_name="phone")),
            ],
        ),
        migrations.AddIndex("person", models.Index(fields=["email"], name="person_email")),
        migrations.AddIndex("person", models.Index(fields=["phone"], name="person_phone")),
    ]
