"""End to end on a real redis-server and a real Celery worker (see redis_helpers.py).

1. The product's claim: `celery-lint --fix` on the example shop stores far fewer
   results and every workflow value stays the same.
2. The fact behind the rule "never add ignore_result to a task whose result is
   read": `.delay().get()` on such a task silently returns None.
"""
import importlib.util
import shutil
import sys
import time
from pathlib import Path

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult

sys.path.insert(0, str(Path(__file__).resolve().parent))
import redis_helpers as harness  # noqa: E402

pytestmark = [pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (apt-get install redis-server); CI installs it",
), pytest.mark.slow]  # a real worker runs the shop's workload

ITERATIONS = 100
# What run_workload.py does in 100 iterations, one stored key per task run:
# 100 page views (track_event); 25 checkouts, each compute_tax + 4 fire-and-forget
# tasks + 1 shipping notice; 2 chord quotes (3 price_item + summarise);
# 2 exports; 1 nightly report (build_nightly_report + a chain of 3); 10 stock refreshes
# and 2 stock checks (stock_level: discarded at the refreshes, read at the checks).
RUNS = 100 + 25 * (1 + 4 + 1) + 2 * (3 + 1) + 2 + 1 * (1 + 3) + 10 + 2
# Only the tasks whose results are read keep storing: compute_tax, the chords, the exports,
# stock_level (every run: CEL001's fix is per task; CEL003, off by default, is per call).
# Counting them exactly also catches a fix that ignores chord headers, which the
# workflow values cannot: on Redis such a chord still works (not on other backends).
READ_RUNS = 25 + 2 * (3 + 1) + 2 + 10 + 2


@pytest.fixture
def redis_server(tmp_path):
    with harness.RedisServer(tmp_path / "redis") as server:
        yield server


def test_fix_stores_five_times_fewer_results_with_identical_workflow_values(redis_server, tmp_path):
    project = harness.copy_shop(tmp_path)

    before = harness.measure_shop(project, redis_server, ITERATIONS, tmp_path)
    lint_output = harness.run_celery_lint_fix(project)
    after = harness.measure_shop(project, redis_server, ITERATIONS, tmp_path)

    keys_before, keys_after = before.result_keys, after.result_keys
    assert keys_before == RUNS, "the workload did not run to the end, or the count missed keys"
    assert after.values == before.values, f"a workflow value changed after the fix:\n{lint_output}"
    assert keys_after == READ_RUNS, f"expected only the read tasks to store after the fix:\n{lint_output}"
    assert keys_before >= 5 * keys_after


def test_cel003_fix_stops_the_discarding_calls_storing_and_the_readers_still_get_their_values(redis_server, tmp_path):
    """CEL003 (opt-in) on top of CEL001: ``refresh_stock``'s ``stock_level.delay(sku)`` passes ignore_result=True;
    its 10 runs store nothing, while ``stock_check``'s ``.get()`` on the same task still returns the stock."""
    project = harness.copy_shop(tmp_path)
    before = harness.measure_shop(project, redis_server, ITERATIONS, tmp_path)
    lint_output = harness.run_celery_lint_fix(project, "--extend-select", "CEL003")
    assert "stock_level.apply_async((sku,), ignore_result=True)" in (project / "shop" / "views.py").read_text()
    after = harness.measure_shop(project, redis_server, ITERATIONS, tmp_path)
    assert after.values == before.values and after.values["stock"], f"a workflow value changed:\n{lint_output}"
    assert after.result_keys == READ_RUNS - 10, lint_output


PROBE_TASKS = '''
import os

import redis
from celery import Celery

REDIS_URL = os.environ["PROBE_REDIS_URL"]
app = Celery("probe_tasks", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
app.conf.broker_connection_retry_on_startup = True
store = redis.Redis.from_url(REDIS_URL)


@app.task
def add(x, y):
    return x + y


@app.task(ignore_result=True)
def add_ignoring_result(x, y):
    store.set(f"probe:sum:{x}+{y}", x + y)  # proof that it ran, and of what it computed
    return x + y
'''


@pytest.fixture
def probe_tasks(tmp_path, redis_server, monkeypatch):
    """The module above, imported here as the client; a worker started on tmp_path runs it."""
    monkeypatch.setenv("PROBE_REDIS_URL", redis_server.url)
    path = tmp_path / "probe_tasks.py"
    path.write_text(PROBE_TASKS)
    spec = importlib.util.spec_from_file_location("probe_tasks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    module.app.close()


def wait_for_key(client, key, timeout=10):
    deadline = time.monotonic() + timeout
    while (value := client.get(key)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_get_on_a_task_that_ignores_results_returns_none_silently(probe_tasks, redis_server, tmp_path):
    client = redis_server.client()
    worker = harness.CeleryWorker("probe_tasks", tmp_path, redis_server.url, tmp_path / "worker.log",
                                  env={"PROBE_REDIS_URL": redis_server.url})
    with worker:
        assert probe_tasks.add.delay(2, 3).get(timeout=10) == 5  # control: this worker stores results

        handle = probe_tasks.add_ignoring_result.delay(2, 3)
        # No error and no wait: the handle knows the task ignores results and answers None.
        assert handle.get(timeout=10) is None
        # Yet the task ran and computed 5; only its result was never stored.
        assert wait_for_key(client, "probe:sum:2+3") == b"5"
        assert not client.exists(f"celery-task-meta-{handle.id}")

        # A handle rebuilt from the id (a polling view) sees PENDING and waits in vain.
        polled = AsyncResult(handle.id, app=probe_tasks.app)
        try:
            assert polled.state == "PENDING"
            with pytest.raises(CeleryTimeoutError):
                polled.get(timeout=2)
        finally:
            # Unsubscribe now: left to the garbage collector, it would retry a stopped Redis for ~20 s.
            polled.backend.remove_pending_result(polled)
