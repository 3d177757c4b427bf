from django.db import migrations

# Hovedavtalen LO–NHO § 5-3: how many reps a workplace may elect, by its number of organised employees. The
# organisation edits the table on the coverage page's settings; this is only where it starts.
BANDS = [(1, 1), (5, 2), (26, 3), (51, 4), (151, 6), (301, 8), (501, 10), (751, 12), (1001, 14)]


def seed(apps, schema_editor):
    band = apps.get_model("reps", "EntitlementBand")
    if not band.objects.exists():
        band.objects.bulk_create([band(min_members=m, reps=r) for m, r in BANDS])


class Migration(migrations.Migration):
    dependencies = [("reps", "0003_corrections_saved_filters_entitlement")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
