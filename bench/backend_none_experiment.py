"""Does a result backend set to None store anything? A real Redis and a real worker say.

    python bench/backend_none_experiment.py

For each way of writing "no backend" (`Celery(..., backend=None)`, `result_backend = None` in a
config object, `CELERY_RESULT_BACKEND = None` read with `config_from_object(obj, namespace="CELERY")`),
plus a control with a Redis backend and one row where the environment variable
CELERY_RESULT_BACKEND points at Redis while the code says None, a generated module is run by
`celery -A <module> worker --pool=threads`. Its task returns 42 after pushing the name of its
backend class onto a Redis list (a plain redis client). The script calls `task.delay()`, waits for
that marker, counts the celery-task-meta-* keys, and tries `.get(timeout=5)` and `.state` on the
client. Starts its own redis-server; every wait has a deadline; processes are stopped by process
group (tests/redis_helpers.py). Prints a markdown table.
"""
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

import celery
import kombu

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import redis_helpers as harness  # noqa: E402  (the harness is shared with the e2e test)

MARKERS = "bench:backend-markers"
MARKER_TIMEOUT_S = 30
COMMON = '''\
import os
import redis
from celery import Celery

URL = os.environ["BENCH_REDIS_URL"]
'''
TASK = f'''

@app.task
def touch():
    redis.Redis.from_url(URL).rpush("{MARKERS}", type(touch.backend).__name__)
    return 42
'''
VARIANTS = {  # module name -> (label, app setup, environment variables set to the Redis URL)
    "bn_control": ('control: `Celery(..., backend=URL)`',
                   'app = Celery("bn", broker=URL, backend=URL)', ()),
    "bn_kwarg": ('`Celery(..., backend=None)`',
                 'app = Celery("bn", broker=URL, backend=None)', ()),
    "bn_config": ('`result_backend = None` in `config_from_object(Config)`',
                  ('class Config:\n    broker_url = URL\n    result_backend = None\n\n'
                   'app = Celery("bn")\napp.config_from_object(Config)'), ()),
    "bn_namespace": ('`CELERY_RESULT_BACKEND = None`, `config_from_object(Config, namespace="CELERY")`',
                     ('class Config:\n    CELERY_BROKER_URL = URL\n    CELERY_RESULT_BACKEND = None\n\n'
                      'app = Celery("bn")\napp.config_from_object(Config, namespace="CELERY")'), ()),
    "bn_env": ('`Celery(..., backend=None)`, env `CELERY_RESULT_BACKEND=<redis url>`',
               'app = Celery("bn", broker=URL, backend=None)', ("CELERY_RESULT_BACKEND",)),
}


def outcome(read):
    """What a read returns or raises, and how long it took."""
    started = time.monotonic()
    try:
        value = f"returns {read()!r}"
    except Exception as exc:  # noqa: BLE001  (the exception is the measurement)
        value = f"raises {type(exc).__name__}: {str(exc).splitlines()[0][:70]}"
    return f"{value} ({time.monotonic() - started:.1f} s)"


def run_variant(server, workdir, name):
    _, setup, url_variables = VARIANTS[name]
    (Path(workdir) / f"{name}.py").write_text(COMMON + setup + TASK)
    env = {"BENCH_REDIS_URL": server.url, **{key: server.url for key in url_variables}}
    client = server.client()
    client.flushall()  # no worker is running here, so the broker's bindings may go too
    saved_env = dict(os.environ)
    os.environ.update(env)  # the client reads the same environment as the worker
    try:
        mod = importlib.import_module(name)
        with harness.CeleryWorker(name, workdir, server.url, Path(workdir) / f"{name}.log", env=env):
            result = mod.touch.delay()
            deadline = time.monotonic() + MARKER_TIMEOUT_S
            while client.llen(MARKERS) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            worker_backend = (client.lpop(MARKERS) or b"(task never ran)").decode()
            harness.wait_until_drained(server.url, client)
            keys = len(harness.result_keys(client))
            get = outcome(lambda: result.get(timeout=5))
            state = outcome(lambda: result.state)
            row = (keys, worker_backend, type(mod.app.backend).__name__, get, state)
            mod.app.close()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    return row


def main():
    rows = {}
    with tempfile.TemporaryDirectory(prefix="celery-lint-nobackend-") as workdir:
        sys.path.insert(0, workdir)
        try:
            with harness.RedisServer(Path(workdir) / "redis") as server:
                version = server.client().info("server")["redis_version"]
                print(f"Celery {celery.__version__}, kombu {kombu.__version__}, redis-server {version}, "
                      f"worker --pool=threads --concurrency=4\n")
                for name in VARIANTS:
                    rows[name] = run_variant(server, workdir, name)
        except harness.HarnessError as exc:
            print(f"ERROR: {exc}")
            return 2
    print("| configuration | celery-task-meta-* keys | worker backend | client backend "
          "| `res.get(timeout=5)` | `res.state` |")
    print("| --- | ---: | --- | --- | --- | --- |")
    for name, (keys, worker_backend, client_backend, get, state) in rows.items():
        print(f"| {VARIANTS[name][0]} | {keys} | {worker_backend} | {client_backend} | {get} | {state} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
