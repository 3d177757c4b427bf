from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from tillit.documents import files
from tillit.documents.models import Blob


class Command(BaseCommand):
    help = "Documents maintenance. `verify`: re-hash every stored file and report missing or corrupt ones."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        checked, bad = 0, []
        for blob in Blob.objects.order_by("sha256").iterator(chunk_size=500):
            status = files.verify_blob(blob)
            checked += 1
            if status != "ok":
                versions = list(blob.versions.values_list("document_id", "number"))
                where = ", ".join(f"document {d} version {n}" for d, n in versions) or "no document"
                bad.append(status)
                self.stdout.write(f"{status}: {blob.stored_name} ({where})")
        known = set(Blob.objects.values_list("stored_name", flat=True))
        stray = [name for name in _stored_names("documents") if name not in known]
        for name in stray:
            self.stdout.write(f"unreferenced: {name}")
        self.stdout.write(f"{checked} files checked: {checked - len(bad)} ok, {bad.count('missing')} missing, "
                          f"{bad.count('corrupt')} corrupt, {len(stray)} unreferenced.")
        if bad:
            raise CommandError(f"{len(bad)} stored files are missing or corrupt.")


def _stored_names(folder: str):
    """Every file under `folder` in storage (two levels: documents/ab/<sha256>)."""
    try:
        subfolders, _files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for sub in subfolders:
        _dirs, names = default_storage.listdir(f"{folder}/{sub}")
        for name in names:
            yield f"{folder}/{sub}/{name}"
