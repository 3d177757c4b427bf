"""Documents benchmark: upload and download throughput through the production server against a plain
file copy on the same disk, the server's peak memory while a 1 GB file goes in and out, and
full-text search over N documents.

    python benchmarks/documents.py --database postgresql://postgres@127.0.0.1:5432/tillit_docs --documents 100000
    python benchmarks/documents.py --database sqlite:///var/bench-docs.sqlite3 --documents 100000

Search latencies are server time for the whole documents page (in-process, the whole Django stack).
Prints a table, writes JSON to benchmarks/results/.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.registry import setup, timed_requests  # noqa: E402

MB = 1024 * 1024
CHUNK = 10_000
SYLLABLES = ["lønn", "av", "tal", "møte", "ar", "beid", "ferie", "turn", "us", "vakt", "kon", "trakt", "sjuk",
             "per", "mis", "jon", "over", "tid", "for", "hand", "ling", "styr", "e", "refer", "at", "drøft", "ing",
             "ansätt", "ning", "lön", "sam", "tal", "ut", "bet", "al", "ning", "til", "legg", "plan", "bemann"]


def vocabulary(size: int, rng) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build_documents(count: int, seed: int, media: Path) -> float:
    """N documents with ~150 words of text each, half linked to a person, indexed for search."""
    from django.db import transaction
    from django.utils import timezone

    from tillit.core.bulk import insert_dicts, insert_rows
    from tillit.documents.models import Blob, Document, DocumentVersion
    from tillit.documents.search import index_documents
    from tillit.registry.models import OrgUnit, Person

    rng = random.Random(seed)
    words = vocabulary(5000, rng)
    units = list(OrgUnit.objects.filter(kind__in=["branch", "department"]).values_list("pk", flat=True))
    people = list(Person.objects.values_list("pk", flat=True)[:100_000])
    now = timezone.now()
    start = time.perf_counter()
    made = Document.objects.count()
    while made < count:
        n = min(CHUNK, count - made)
        with transaction.atomic():
            docs = insert_dicts(Document, [{
                "title": " ".join(rng.choice(words) for _ in range(3)).capitalize(),
                "description": " ".join(rng.choice(words) for _ in range(8)), "responsible_unit_id": rng.choice(units),
                "created_at": now, "updated_at": now, "version": 1} for _ in range(n)])
            blobs = []
            versions = []
            for doc in docs:
                text = " ".join(rng.choice(words) for _ in range(150))
                sha = hashlib.sha256(f"bench {doc['id']} {text}".encode()).hexdigest()
                blobs.append(Blob(sha256=sha, size=len(text), media_type="text/plain",
                                  stored_name=f"documents/{sha[:2]}/{sha}", created_at=now))
                versions.append({"document_id": doc["id"], "number": 1, "blob_id": sha, "filename": "tekst.txt",
                                 "created_at": now, "text": text, "text_status": "done"})
            insert_rows(Blob, blobs)
            insert_dicts(DocumentVersion, versions)
            _set_current(versions)
            insert_dicts(Document.persons.through, [{"document_id": d["id"], "person_id": rng.choice(people)}
                                                    for d in docs if rng.random() < 0.5])
            index_documents([d["id"] for d in docs])
        made += n
        print(f"  documents: {made}", end="\r", flush=True)
    print()
    return round(time.perf_counter() - start, 1)


def _set_current(versions):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("UPDATE documents_document d SET current_id = v.id FROM documents_documentversion v"
                           " WHERE v.document_id = d.id AND v.id = ANY(%s)", [[v["id"] for v in versions]])
        else:
            cursor.executemany("UPDATE documents_document SET current_id = %s WHERE id = %s",
                               [(v["id"], v["document_id"]) for v in versions])


def search_latency(queries: int, seed: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tillit.core.services import grant_access
    from tillit.documents.models import DocumentVersion
    from tillit.registry.models import OrgUnit

    rng = random.Random(seed + 1)
    texts = list(DocumentVersion.objects.order_by("?").values_list("text", flat=True)[:200])
    terms = []
    for _ in range(queries):
        text = rng.choice(texts).split()
        picked = rng.sample(text, 2) if rng.random() < 0.5 else [rng.choice(text)]
        terms.append(" ".join(w if rng.random() < 0.7 else w[:max(3, len(w) - 2)] for w in picked))
    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench-admin", "", "x")
    handler, created = User.objects.get_or_create(username="bench-doc-handler")
    if created:
        region = OrgUnit.objects.filter(kind="region").order_by("pk").first()
        grant_access(handler, "case_handler", "org", region, actor=None, channel="system")
    out = {}
    for label, user in (("admin", admin), ("handler, one region", handler)):
        client = Client()
        client.force_login(user)
        urls = [f"/documents/?q={term}" for term in terms]
        timed_requests(client, urls[:10])  # warm up
        out[label] = timed_requests(client, urls)
    return out


def _multipart(path: Path, name: str, token: str, port: int, fields: dict) -> tuple[float, dict]:
    boundary = uuid.uuid4().hex
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
             "Content-Type: text/plain\r\n\r\n")
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    def body():
        yield head.encode()
        with open(path, "rb") as fh:
            while chunk := fh.read(MB):
                yield chunk
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", "/api/v1/documents", body=body(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head.encode()) + size + len(tail))})
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    assert response.status == 201, (response.status, data[:300])
    return elapsed, json.loads(data)


def _download(path: str, token: str, port: int) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    assert response.status == 200, response.status
    total = 0
    while chunk := response.read(MB):
        total += len(chunk)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, total


def _text_file(path: Path, size: int, rng) -> Path:
    line = (" ".join(rng.choice(SYLLABLES) for _ in range(12)) + "\n").encode()
    block = (line * (MB // len(line) + 1))[:MB]
    with open(path, "wb") as fh:
        fh.write(f"{uuid.uuid4()}\n".encode())  # distinct content each run: no de-duplication
        written = 0
        while written < size:
            fh.write(block[:min(MB, size - written)])
            written += min(MB, size - written)
    return path


class Server:
    def __init__(self, database: str, port: int, media: Path):
        env = {**os.environ, "DATABASE_URL": database, "TILLIT_LOG_LEVEL": "WARNING", "TILLIT_MEDIA_ROOT": str(media),
               "TILLIT_DOCUMENT_MAX_BYTES": str(2 * 1024 * MB)}
        self.port = port
        self.log = open(media.parent / "bench-server.log", "ab")  # closed in stop()
        self.process = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port)], env=env,
                                        stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")

    def memory_mb(self, field: str) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def throughput(database: str, port: int, media: Path, work: Path, sizes_mb: list[int], rounds: int) -> dict:
    from django.contrib.auth import get_user_model

    from tillit.core.services import create_token
    from tillit.registry.models import OrgUnit

    rng = random.Random(7)
    admin = get_user_model().objects.filter(is_superuser=True).first()
    _token, raw = create_token(admin, "benchmark")
    unit = OrgUnit.objects.order_by("pk").first()
    server = Server(database, port, media)
    results = {}
    try:
        for size_mb in sizes_mb:
            ups, downs, copies = [], [], []
            for i in range(rounds):
                src = _text_file(work / f"up-{size_mb}-{i}.txt", size_mb * MB, rng)
                elapsed, doc = _upload_and_check(src, raw, port, unit.pk)
                ups.append(size_mb / elapsed)
                down, total = _download(doc["latest"]["download"], raw, port)
                assert total == src.stat().st_size
                downs.append(size_mb / down)
                start = time.perf_counter()
                shutil.copyfile(src, media / f"copy-{size_mb}-{i}")
                with open(media / f"copy-{size_mb}-{i}", "rb+") as fh:
                    os.fsync(fh.fileno())
                copies.append(size_mb / (time.perf_counter() - start))
                os.unlink(media / f"copy-{size_mb}-{i}")
                src.unlink()
            results[f"{size_mb} MB"] = {"upload_mb_s": round(sorted(ups)[len(ups) // 2], 1),
                                        "download_mb_s": round(sorted(downs)[len(downs) // 2], 1),
                                        "copy_mb_s": round(sorted(copies)[len(copies) // 2], 1), "rounds": rounds}
    finally:
        server.stop()
    return results


def _upload_and_check(src: Path, token: str, port: int, unit_id: int):
    return _multipart(src, src.name, token, port, {"unit_id": unit_id, "title": f"Benchmark {src.name}"})


def memory_1gb(database: str, port: int, media: Path, work: Path) -> dict:
    from django.contrib.auth import get_user_model

    from tillit.core.services import create_token
    from tillit.registry.models import OrgUnit

    admin = get_user_model().objects.filter(is_superuser=True).first()
    _token, raw = create_token(admin, "benchmark")
    unit = OrgUnit.objects.order_by("pk").first()
    src = _text_file(work / "one-gigabyte.txt", 1024 * MB, random.Random(9))
    server = Server(database, port, media)
    try:
        idle = server.memory_mb("VmRSS")
        up_s, doc = _upload_and_check(src, raw, port, unit.pk)
        upload_peak = server.memory_mb("VmHWM")
    finally:
        server.stop()
    src.unlink()
    server = Server(database, port, media)  # a fresh process, so the peak is the download's own
    try:
        idle_down = server.memory_mb("VmRSS")
        down_s, total = _download(doc["latest"]["download"], raw, port)
        download_peak = server.memory_mb("VmHWM")
    finally:
        server.stop()
    assert total > 1024 * MB - 1
    return {"upload_peak_mb": upload_peak, "upload_idle_mb": idle, "upload_s": round(up_s, 1),
            "download_peak_mb": download_peak, "download_idle_mb": idle_down, "download_s": round(down_s, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--media", default=str(ROOT / "var" / "bench-media"))
    parser.add_argument("--skip-http", action="store_true", help="search only; keeps earlier HTTP figures")
    args = parser.parse_args()
    media = Path(args.media)
    media.mkdir(parents=True, exist_ok=True)
    os.environ["TILLIT_MEDIA_ROOT"] = str(media)
    setup(args.database)
    from django.core.management import call_command

    from tillit.registry.models import Person

    call_command("migrate", verbosity=0)
    if not Person.objects.exists():
        from benchmarks.registry import build

        print(f"registry: {build(args.members, 1)} s")
    print(f"documents: {build_documents(args.documents, 1, media)} s")
    result = {"database": args.database.split(":")[0], "documents": args.documents,
              "search": search_latency(args.queries, 1)}
    if not args.skip_http:
        work = Path(tempfile.mkdtemp(dir=media.parent))
        try:
            result["throughput"] = throughput(args.database, args.port, media, work, [1, 100], args.rounds)
            result["memory_1gb"] = memory_1gb(args.database, args.port, media, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'measure':45} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for label, row in result["search"].items():
        print(f"{'search page (' + label + ')':45} {row['median_ms']:>10} {row['p95_ms']:>8} {row['max_ms']:>8}")
    for label, row in result.get("throughput", {}).items():
        print(f"{label}: upload {row['upload_mb_s']} MB/s, download {row['download_mb_s']} MB/s, "
              f"file copy {row['copy_mb_s']} MB/s")
    if "memory_1gb" in result:
        m = result["memory_1gb"]
        print(f"1 GB: server peak {m['upload_peak_mb']} MB uploading ({m['upload_s']} s), "
              f"{m['download_peak_mb']} MB downloading ({m['download_s']} s)")
    out = ROOT / "benchmarks" / "results" / f"documents-{result['database']}-{args.documents}.json"
    if args.skip_http and out.exists():  # keep the HTTP figures of the last full run
        earlier = json.loads(out.read_text())
        result |= {k: earlier[k] for k in ("throughput", "memory_1gb") if k in earlier}
    out.write_text(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
