"""The storage is chosen by setting: a local folder by default, S3-compatible storage on request."""

import json
import os
import subprocess
import sys

CODE = "import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.STORAGES))"


def _storages(**env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TILLIT_S3")} | {
        "DJANGO_SETTINGS_MODULE": "tillit.settings"} | env
    out = subprocess.run([sys.executable, "-c", CODE], env=environ, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["default"]


def test_documents_live_in_the_media_folder_by_default(tmp_path):
    default = _storages(TILLIT_STORAGE="local", TILLIT_MEDIA_ROOT=str(tmp_path))
    assert default["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert default["OPTIONS"]["location"] == str(tmp_path)


def test_s3_compatible_storage_is_configured_from_the_environment():
    s3 = _storages(TILLIT_STORAGE="s3", TILLIT_S3_BUCKET="tillit-docs", TILLIT_S3_ENDPOINT_URL="https://minio.local:9000",
                   TILLIT_S3_ACCESS_KEY_ID="key", TILLIT_S3_SECRET_ACCESS_KEY="secret", TILLIT_S3_PREFIX="prod")
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] | {"secret_key": "…"} == {
        "bucket_name": "tillit-docs", "endpoint_url": "https://minio.local:9000", "region_name": None,
        "access_key": "key", "secret_key": "…", "location": "prod", "default_acl": None,
        "querystring_auth": True, "file_overwrite": True}
