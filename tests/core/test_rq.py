"""The Redis-backed queue (TILLIT_TASK_BACKEND=rq), against the Redis on this machine: a task queued by
one process is run by `tillit worker` in another, and its result read back by a third."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.own_database

REDIS_URL = os.environ.get("TILLIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("TILLIT_REQUIRE_REDIS") == "1":
            raise
        pytest.skip("Redis is not running on this machine")
    return client


def _tillit(env, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "tillit.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_a_task_goes_through_redis_to_the_worker_and_its_result_comes_back(tmp_path):
    client = _redis()
    client.flushdb()
    env = {**os.environ, "TILLIT_TASK_BACKEND": "rq", "TILLIT_REDIS_URL": REDIS_URL, "TILLIT_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'rq.sqlite3'}"}
    _tillit(env, "migrate", "-v0")
    result_id = _tillit(env, "shell", "-c", "from tillit.documents.text import extract_text; "
                                            "print(extract_text.enqueue(987654).id)").splitlines()[-1]
    assert client.keys("rq:job:*"), "nothing reached Redis"
    _tillit(env, "worker", "--batch", "--no-schedule")
    answer = _tillit(env, "shell", "-c", "from tillit.documents.text import extract_text; "
                                         f"r = extract_text.get_result('{result_id}'); print(r.status, r.return_value)")
    assert answer.splitlines()[-1] == "SUCCESSFUL gone"
    client.flushdb()
