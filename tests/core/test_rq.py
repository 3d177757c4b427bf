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


def test_on_redis_a_message_whose_task_was_lost_is_queued_again_by_the_sweep(tmp_path):
    """On Redis a task is queued after the commit: a process killed in between leaves a message `queued` with no
    task. The sweep round finds it past the stall time and queues its delivery again."""
    client = _redis()
    client.flushdb()
    env = {**os.environ, "TILLIT_TASK_BACKEND": "rq", "TILLIT_REDIS_URL": REDIS_URL, "TILLIT_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'rq.sqlite3'}"}
    _tillit(env, "migrate", "-v0")
    made = ("import datetime; from django.utils import timezone; from tillit.messaging.models import Message; "
            "m = Message.objects.create(direction='out', status='queued', address='a@example.no', subject='s', "
            "body='b', created_at=timezone.now() - datetime.timedelta(minutes=30)); print(m.pk)")
    _tillit(env, "shell", "-c", made)
    assert not client.keys("rq:job:*")  # the lost task
    swept = _tillit(env, "shell", "-c", "from tillit.messaging.outbox import requeue_stalled_round; "
                                        "print(requeue_stalled_round.call())")
    assert swept.splitlines()[-1] == "1" and client.keys("rq:job:*")
    client.flushdb()
