"""A real Celery worker on a real Redis, for the tests that run a job the way production does.

The test process stays eager (the test settings have no ``REDIS_URL``): it publishes
the task to Redis with a small sender app of its own, and a worker subprocess,
pointed at this run's test database, consumes it from a queue no one else uses.
Redis comes from ``CUSTOS_TEST_REDIS_URL`` (default database 15 on localhost).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from jobs.models import JobOutcome, JobRun

REDIS_URL = os.environ.get("CUSTOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TASK = "jobs.tasks.run_periodic_job"
# Generous for a cold worker start on a loaded CI machine; a healthy run takes a few seconds.
JOB_TIMEOUT_S = 60


@dataclass
class Worker:
    queue: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _worker_database_url() -> str:
    """A DATABASE_URL naming this run's *test* database, so the worker writes where the test reads."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"  # an absolute path: sqlite:////…
    if connection.vendor == "postgresql":
        auth = quote(params["USER"] or "", safe="")
        if params["PASSWORD"]:
            auth += ":" + quote(params["PASSWORD"], safe="")
        host = quote(params["HOST"] or "", safe="")
        port = f":{params['PORT']}" if params["PORT"] else ""
        return f"postgres://{auth}@{host}{port}/{quote(params['NAME'], safe='')}"
    pytest.fail(f"the worker test knows SQLite and PostgreSQL, not {connection.vendor}")


@pytest.fixture
def broker():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({exc}); start it or set CUSTOS_TEST_REDIS_URL")
    yield client
    client.close()


@pytest.fixture
def worker(broker, transactional_db, tmp_path):
    """A worker subprocess on a queue of its own; always stopped, its log printed (shown on failure)."""
    queue = f"custos-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "CUSTOS_ENV": "test",
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": _worker_database_url(),
        "PYTHONUNBUFFERED": "1",  # the log is read while the worker runs
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "lawfirm", "worker", "--pool=solo", "--loglevel=INFO"),
        *("-Q", queue, "-n", f"{queue}@%h", "--without-heartbeat", "--without-mingle", "--without-gossip"),
    ]
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 — our own interpreter and fixed arguments
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Worker(queue, process, log_path)
    try:
        yield running
    finally:
        _stop(process)
        print(f"--- celery worker log ({' '.join(command)}) ---\n{running.log()}")
        _forget_queue(broker, queue)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the worker and anything it started
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _forget_queue(broker: redis.Redis, queue: str) -> None:
    """Leave the Redis database as found: the queue, its binding and the worker's control binding."""
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    pidbox = "_kombu.binding.celery.pidbox"
    stale = [member for member in broker.smembers(pidbox) if queue.encode() in member]
    if stale:
        broker.srem(pidbox, *stale)


def send_job(worker: Worker, job: str) -> None:
    """Publish ``job`` to the worker's queue, leaving the test process's own (eager) Celery app untouched."""
    sender = Celery("custos-test-sender", broker=REDIS_URL, set_as_current=False)
    sender.conf.update(task_serializer="json", accept_content=["json"])
    try:
        sender.send_task(TASK, args=[job], queue=worker.queue)
    finally:
        sender.close()


def wait_for_run(worker: Worker, job: str) -> JobRun:
    """The finished run of ``job``, once the worker has recorded it."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        run = JobRun.objects.filter(job=job).exclude(outcome=JobOutcome.RUNNING).first()
        if run is not None:
            return run
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode}:\n{worker.log()}")
        time.sleep(0.25)
    pytest.fail(f"no finished {job} run after {JOB_TIMEOUT_S} s; worker log:\n{worker.log()}")
