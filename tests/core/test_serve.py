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


class _Proxy:
    """A reverse proxy on 127.0.0.1 as a TLS-terminating one behaves: it forwards each request to the server,
    naming the client (X-Forwarded-For, from the X-Client header the test sends it) and the scheme (https)."""

    def __init__(self, backend: str):
        import http.client
        import http.server
        import threading
        from urllib.parse import urlsplit

        target = urlsplit(backend)

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("x-client", "connection")}
                headers.update({"X-Forwarded-For": self.headers.get("X-Client", "198.51.100.1"),
                                "X-Forwarded-Proto": "https"})
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward  # http.server's names

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def open(self, path: str, data: bytes | None = None, client: str = "198.51.100.1", cookie: str = ""):
        request = urllib.request.Request(self.url + path, data=data, headers={
            "X-Client": client, "Host": "tillit.example.org", "Referer": "https://tillit.example.org/login/",
            **({"Cookie": cookie} if cookie else {})})

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        try:
            return urllib.request.build_opener(NoRedirect).open(request, timeout=10)
        except urllib.error.HTTPError as answer:
            return answer

    def close(self):
        self.server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_behind_the_trusted_proxy_pages_answer_and_each_client_is_counted_on_its_own(tmp_path):
    """Behind the documented TLS proxy `tillit serve` answered every request with a 301 to itself (waitress dropped
    X-Forwarded-Proto); and a per-client limit must count the client the proxy names, not the proxy."""
    import re

    env = {"TILLIT_HTTPS": "1", "TILLIT_BEHIND_PROXY": "1", "TILLIT_ALLOWED_HOSTS": "tillit.example.org",
           "TILLIT_CSRF_TRUSTED_ORIGINS": "https://tillit.example.org", "TILLIT_LOGIN_CLIENT_LIMIT": "3"}
    server, base = _serve(tmp_path, **env)
    proxy = _Proxy(base)
    try:
        page = proxy.open("/login/")
        assert page.status == 200, page.status
        html = page.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        cookie = "; ".join(c.split(";")[0] for c in page.headers.get_all("Set-Cookie"))

        def attempt(client):
            body = f"csrfmiddlewaretoken={token}&username=nobody{client[-1]}&password=wrong".encode()
            return proxy.open("/login/", data=body, client=client, cookie=cookie).status

        spraying = [attempt("203.0.113.7") for _ in range(4)]
        assert spraying[:3] == [200, 200, 200] and spraying[3] == 429  # held back after three failures
        assert attempt("203.0.113.8") == 200  # another client behind the same proxy is not
    finally:
        proxy.close()
        server.terminate()
        server.wait(timeout=10)
