"""Run the example shop on a real Redis and a real Celery worker, and measure what it stores.

Shared by tests/test_redis_e2e.py and bench/redis_saving.py. Every process started
here runs in its own process group and is stopped by group, and every wait has a
deadline, so a broken fix shows up as an error instead of a hang or a stray worker.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from celery import Celery

REPO_ROOT = Path(__file__).resolve().parents[1]
SHOP_EXAMPLE = REPO_ROOT / "examples" / "shop"
SHOP_APP_MODULE = "shop.celery_app"
RESULT_KEY_PATTERN = "celery-task-meta-*"
CELERY_QUEUE = "celery"
KOMBU_UNACKED_KEY = "unacked"  # messages a worker has fetched but not yet acknowledged

STARTUP_TIMEOUT_S = 30
STOP_TIMEOUT_S = 20
DRAIN_TIMEOUT_S = 120
LINT_TIMEOUT_S = 120


class HarnessError(RuntimeError):
    """Something in the harness (Redis, the worker, the workload, celery-lint) went wrong."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process_group(process, timeout=STOP_TIMEOUT_S):
    """SIGTERM the process's group (a worker has threads, celery -m has children), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


class RedisServer:
    """A throwaway redis-server on a free loopback port, without persistence."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.port = None
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self):
        return self.workdir / "redis.log"

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir), "--logfile", str(self.log_path),
        ]
        self.process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
        self._wait_until_up()
        return self

    def _wait_until_up(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"redis-server exited with {self.process.returncode}:\n{tail(self.log_path)}")
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise HarnessError(f"redis-server did not answer PING within {STARTUP_TIMEOUT_S} s")

    def stop(self):
        stop_process_group(self.process)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class CeleryWorker:
    """`celery worker` in a subprocess, as a project would run it, with its output in a log file."""

    def __init__(self, app_module, cwd, redis_url, log_path, env=None):
        self.app_module = app_module
        self.cwd = Path(cwd)
        self.redis_url = redis_url
        self.log_path = Path(log_path)
        self.env = {**os.environ, **(env or {})}
        self.process = None

    def start(self):
        command = [
            sys.executable, "-m", "celery", "-A", self.app_module,
            "worker", "--pool=threads", "--concurrency=4", "-l", "warning",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with control_app(self.redis_url) as app:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise HarnessError(f"worker exited with {self.process.returncode}:\n{tail(self.log_path)}")
                if app.control.ping(timeout=0.5):
                    return
        raise HarnessError(f"worker did not answer ping within {STARTUP_TIMEOUT_S} s:\n{tail(self.log_path)}")

    def stop(self):
        stop_process_group(self.process)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def control_app(redis_url):
    """A bare app for remote control (ping, inspect); it knows none of the shop's tasks."""
    return Celery("harness", broker=redis_url, set_as_current=False)


def worker_is_idle(app):
    inspect = app.control.inspect(timeout=1.0, limit=1)
    for replies in (inspect.active(), inspect.reserved(), inspect.scheduled()):
        if not replies or any(replies.values()):  # no reply, or some task listed
            return False
    return True


def broker_is_empty(client):
    return client.llen(CELERY_QUEUE) == 0 and client.hlen(KOMBU_UNACKED_KEY) == 0


def wait_until_drained(redis_url, client, timeout=DRAIN_TIMEOUT_S):
    """Wait until no message is queued or in flight and the worker runs nothing.

    Chains, chords and retries publish new messages from inside running tasks, so
    one idle look is not enough: ask until it is idle twice in a row.
    """
    deadline = time.monotonic() + timeout
    idle_looks = 0
    with control_app(redis_url) as app:
        while idle_looks < 2:
            if time.monotonic() > deadline:
                raise HarnessError(f"queue not drained after {timeout} s")
            idle = broker_is_empty(client) and worker_is_idle(app)
            idle_looks = idle_looks + 1 if idle else 0
            time.sleep(0.2)


def result_keys(client):
    return list(client.scan_iter(match=RESULT_KEY_PATTERN, count=1000))


def used_memory(client):
    return client.info("memory")["used_memory"]


def copy_shop(dest_dir):
    """Copy examples/shop into dest_dir (so a fix never touches the bundled example)."""
    destination = Path(dest_dir) / "shop"
    skipped = shutil.ignore_patterns("__pycache__", "*.pyc", ".celery_lint_cache")
    shutil.copytree(SHOP_EXAMPLE, destination, ignore=skipped)
    return destination


def run_workload(project_dir, redis_url, iterations):
    """Run the shop's run_workload.py against the worker; return its workflow values."""
    timeout = 60 + iterations * 0.2
    command = [sys.executable, "run_workload.py", "--iterations", str(iterations)]
    env = {**os.environ, "SHOP_REDIS_URL": redis_url}
    try:
        completed = subprocess.run(
            command, cwd=project_dir, env=env, capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"workload still running after {timeout:.0f} s") from exc
    if completed.returncode != 0:
        raise HarnessError(f"workload failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout)


@dataclass
class ShopMeasurement:
    result_keys: int  # celery-task-meta-* keys left in Redis by the run
    result_key_bytes: int  # their MEMORY USAGE, summed
    used_memory: int  # Redis INFO used_memory after the run, whole server
    used_memory_at_start: int  # the same, with the worker up and before the workload
    values: dict  # every workflow value the workload read
    workload_seconds: float


def measure_shop(project_dir, redis_server, iterations, log_dir):
    """Start a worker on project_dir, run the workload, wait for the queue to drain, measure.

    Redis is emptied afterwards, so the next measurement starts from nothing.
    """
    client = redis_server.client()
    client.flushall()
    log_path = Path(log_dir) / f"worker-{time.monotonic_ns()}.log"
    worker = CeleryWorker(SHOP_APP_MODULE, project_dir, redis_server.url, log_path,
                          env={"SHOP_REDIS_URL": redis_server.url})
    with worker:
        memory_at_start = used_memory(client)
        started = time.monotonic()
        values = run_workload(project_dir, redis_server.url, iterations)
        workload_seconds = time.monotonic() - started
        wait_until_drained(redis_server.url, client)
        keys = result_keys(client)
        measurement = ShopMeasurement(
            result_keys=len(keys),
            result_key_bytes=sum(client.memory_usage(key) or 0 for key in keys),
            used_memory=used_memory(client),
            used_memory_at_start=memory_at_start,
            values=values,
            workload_seconds=workload_seconds,
        )
    client.flushall()
    return measurement


def celery_lint_command():
    """The celery-lint of the interpreter running us, not whichever one is first on PATH."""
    beside_python = Path(sys.executable).with_name("celery-lint")
    if beside_python.exists():
        return [str(beside_python)]
    on_path = shutil.which("celery-lint")
    if on_path:
        return [on_path]
    return [sys.executable, "-m", "celery_lint"]


def run_celery_lint_fix(project_dir, *options):
    """Run `celery-lint --fix [options]` on project_dir; return its combined output."""
    command = [*celery_lint_command(), "--fix", *options, str(project_dir)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=LINT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"celery-lint still running after {LINT_TIMEOUT_S} s") from exc
    output = completed.stdout + completed.stderr
    if completed.returncode not in (0, 1):  # 1: findings reported (and fixed)
        raise HarnessError(f"{' '.join(command)} failed ({completed.returncode}):\n{output}")
    return output
