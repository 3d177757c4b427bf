"""`tillit serve` as operators run it: a real process, DEBUG off, serving its own static files."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.own_database


@pytest.mark.django_db(transaction=True)
def test_serve_answers_health_and_static_files_with_debug_off(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TILLIT_VAR_DIR": str(tmp_path), "TILLIT_DEBUG": "0",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    subprocess.run([sys.executable, "-m", "tillit.cli", "migrate", "-v0"], env=env, check=True)
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                health = urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TILLIT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}"}
    subprocess.run([sys.executable, "-m", "tillit.cli", "migrate", "-v0"], env=env, check=True)
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), "--with-worker"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        children = _children(server.pid)
        assert any(b"worker" in _cmdline(pid) for pid in children), "no worker beside the server"
    finally:
        server.terminate()
        server.wait(timeout=30)
    time.sleep(0.5)
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}")], "the worker outlived the server"


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    return [int(p) for p in open(path).read().split()] if os.path.exists(path) else []


def _cmdline(pid: int) -> bytes:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return b""


def test_a_killed_server_leaves_no_worker_behind(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TILLIT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
    subprocess.run([sys.executable, "-m", "tillit.cli", "migrate", "-v0"], env=env, check=True)
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), "--with-worker"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers = []
        for _ in range(100):
            workers = [pid for pid in _children(server.pid) if b"worker" in _cmdline(pid)]
            if workers:
                break
            time.sleep(0.1)
        assert workers, "no worker beside the server"
    finally:
        server.kill()  # SIGKILL: no handler of the server's runs
        server.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "the worker outlived a killed server"


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has stopped running)."""
    try:
        return open(f"/proc/{pid}/stat").read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_serve_runs_a_process_per_core_and_replaces_one_that_dies(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TILLIT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"}
    subprocess.run([sys.executable, "-m", "tillit.cli", "migrate", "-v0"], env=env, check=True)
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), "--processes", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        first = _children(server.pid)
        assert len(first) == 2, first
        os.kill(first[0], 9)
        for _ in range(100):
            now = _children(server.pid)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.1)
        assert len(now) == 2 and first[0] not in now, now
        assert all(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
                   for _ in range(10))
    finally:
        server.kill()
        server.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in now):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in now), "a server process outlived its supervisor"
