"""`tillit serve` as operators run it: a real process, DEBUG off, serving its own static files."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.own_database


def _serve(tmp_path, *args, **env) -> tuple[subprocess.Popen, str]:
    """A migrated database of its own and `tillit serve` on a free port; (process, base URL) once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TILLIT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
           **env}
    subprocess.run([sys.executable, "-m", "tillit.cli", "migrate", "-v0"], env=env, check=True)
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), *args], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    return server, base


def _until(condition, seconds: float = 10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_serve_answers_health_and_static_files_with_debug_off(tmp_path):
    server, base = _serve(tmp_path, TILLIT_DEBUG="0")
    try:
        health = urllib.request.urlopen(f"{base}/healthz", timeout=2)
        assert health.status == 200 and b'"ok"' in health.read()
        css = urllib.request.urlopen(f"{base}/static/tillit/tillit.css", timeout=5)
        assert css.status == 200 and b"--accent" in css.read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/no-such-page/", timeout=5)
        assert missing.value.code == 404 and b"Traceback" not in missing.value.read()  # no debug page
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_with_worker_starts_the_worker_and_stops_it_too(tmp_path):
    server, _base = _serve(tmp_path, "--with-worker")
    try:
        assert _until(lambda: _workers(server.pid)), "no worker beside the server"
        workers = _workers(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _until(lambda: not any(_alive(pid) for pid in workers)), "the worker outlived the server"


def test_a_killed_server_leaves_no_worker_behind(tmp_path):
    server, _base = _serve(tmp_path, "--with-worker")
    try:
        assert _until(lambda: _workers(server.pid)), "no worker beside the server"
        workers = _workers(server.pid)
    finally:
        server.kill()  # SIGKILL: no handler of the server's runs
        server.wait(timeout=10)
    assert _until(lambda: not any(_alive(pid) for pid in workers), 15), "the worker outlived a killed server"


def test_serve_runs_a_process_per_core_and_replaces_one_that_dies(tmp_path):
    server, base = _serve(tmp_path, "--processes", "2")
    try:
        first = _children(server.pid)
        assert len(first) == 2, first
        os.kill(first[0], 9)
        assert _until(lambda: len(_children(server.pid)) == 2 and first[0] not in _children(server.pid))
        now = _children(server.pid)
        assert all(urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200 for _ in range(10))
    finally:
        server.kill()
        server.wait(timeout=10)
    assert _until(lambda: not any(_alive(pid) for pid in now)), "a server process outlived its supervisor"


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    return [int(p) for p in open(path).read().split()] if os.path.exists(path) else []


def _workers(pid: int) -> list[int]:
    return [child for child in _children(pid) if b"worker" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has stopped running)."""
    try:
        return open(f"/proc/{pid}/stat").read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
