import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test's documents in a folder of its own."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"
