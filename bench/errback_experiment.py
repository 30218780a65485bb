"""What an errback sees when the failed task ignores its result, on a real Redis and a real worker.

    python bench/errback_experiment.py

A generated module defines three tasks `finish` that raise ValueError, bound (bind=True):
(a) default (stores results), (b) ignore_result=True, (c) ignore_result=True with
store_errors_even_if_ignored=True. Each is called in two forms,
`finish.apply_async(link_error=eb)` and as a chord body
`chord([add.s(1, 1)], finish.si(1).on_error(eb)).apply_async()`, once with each errback:
- old style `@app.task(bind=True) def on_err(self, task_id, *args, **kwargs)`, which Celery
  enqueues as a task with the failed task's id and which reads `self.app.AsyncResult(task_id)`;
- new style `@app.task def on_err2(request, exc, traceback)`, which Celery calls in the worker.
Each errback pushes what it saw onto a Redis list, read back here with a plain redis client.
The script also checks whether the failed task's celery-task-meta-<id> key exists afterwards.
Starts its own redis-server and `celery -A bench_errbacks worker --pool=threads`; every wait has
a deadline and processes are stopped by process group (tests/redis_helpers.py). Prints markdown.
"""
import gc
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import celery
import kombu
from celery import chord

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import redis_helpers as harness  # noqa: E402  (the harness is shared with the e2e test)

MODULE = "bench_errbacks"
RECORDS = "bench:errback-records"
RECORDS_TIMEOUT_S = 60
MODULE_SOURCE = f'''\
import json, os
import redis
from celery import Celery

URL = os.environ["BENCH_REDIS_URL"]
app = Celery("{MODULE}", broker=URL, backend=URL)
records = redis.Redis.from_url(URL)


def record(**fields):
    records.rpush("{RECORDS}", json.dumps(fields))


@app.task
def add(x, y):
    return x + y


@app.task(bind=True)
def finish_stored(self, x=None):
    raise ValueError("finish failed")


@app.task(bind=True, ignore_result=True)
def finish_ignored(self, x=None):
    raise ValueError("finish failed")


@app.task(bind=True, ignore_result=True, store_errors_even_if_ignored=True)
def finish_ignored_store_errors(self, x=None):
    raise ValueError("finish failed")


@app.task(bind=True)
def on_err(self, task_id, *args, **kwargs):
    res = self.app.AsyncResult(task_id)
    record(style="old", failed_id=task_id, state=res.state, result=repr(res.result),
           traceback=bool(res.traceback), extra_args=repr(args), kwargs=repr(kwargs),
           ran_as_task=self.request.id is not None)


@app.task
def on_err2(request, exc, traceback):
    record(style="new", failed_id=request.id, task=request.task, exc=repr(exc),
           traceback=f"{{type(traceback).__name__}}, {{len(traceback or '')}} chars",
           state_in_backend=app.AsyncResult(request.id).state,
           ran_as_task=on_err2.request.id is not None)
'''
CONFIGS = {
    "a": ("finish_stored", "default (stores results)"),
    "b": ("finish_ignored", "ignore_result=True"),
    "c": ("finish_ignored_store_errors", "ignore_result=True, store_errors_even_if_ignored=True"),
}
FORMS = ("apply_async(link_error=...)", "chord body .on_error(...)")


def call(mod, task_name, form, errback):
    """Start one failing run; return its AsyncResult (for a chord: the body's, whose .parent is the header)."""
    finish = getattr(mod, task_name)
    if form == FORMS[0]:
        return finish.apply_async(link_error=errback.s())
    return chord([mod.add.s(1, 1)], finish.si(1).on_error(errback.s())).apply_async()


def wait_for_records(client, expected, timeout=RECORDS_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while client.llen(RECORDS) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return [json.loads(item) for item in client.lrange(RECORDS, 0, -1)]


def run(server, workdir):
    os.environ["BENCH_REDIS_URL"] = server.url
    sys.path.insert(0, workdir)
    mod = importlib.import_module(MODULE)
    client = server.client()
    runs = {}  # failed task id -> (config, form, errback style)
    headers = []  # the chords' header GroupResults
    log_path = Path(workdir) / "worker.log"
    with harness.CeleryWorker(MODULE, workdir, server.url, log_path, env={"BENCH_REDIS_URL": server.url}):
        for config, (task_name, _) in CONFIGS.items():
            for form in FORMS:
                for style, errback in (("old", mod.on_err), ("new", mod.on_err2)):
                    result = call(mod, task_name, form, errback)
                    runs[result.id] = (config, form, style)
                    if result.parent is not None:
                        headers.append(result.parent)
        records = wait_for_records(client, len(runs))
        # Celery keeps each chord header result in the backend until it is read; read it now, while
        # Redis is up, or its __del__ tries to unsubscribe at interpreter exit.
        header_values = {repr(header.get(timeout=RECORDS_TIMEOUT_S)) for header in headers}
        del headers, result
        gc.collect()
        harness.wait_until_drained(server.url, client)
    seen = {}
    for rec in records:
        if rec["failed_id"] not in runs:
            raise harness.HarnessError(f"errback saw an id that was never sent: {rec}")
        seen[runs[rec["failed_id"]]] = rec
    stored = {runs[task_id]: bool(client.exists(f"celery-task-meta-{task_id}")) for task_id in runs}
    if header_values != {"[2]"}:
        raise harness.HarnessError(f"chord headers returned {header_values}, expected [2]")
    mod.app.close()
    return seen, stored


def print_report(seen, stored):
    missing = {"state": "(errback never ran)"}
    print("\nEach errback record is matched to its run by the id the errback received "
          "(`task_id`, or `request.id`).")
    print("\n### Old-style errback `on_err(self, task_id, *args, **kwargs)` reading `AsyncResult(task_id)`\n")
    print("| finish | call form | FAILURE key stored | errback ran as a task | "
          "res.state | repr(res.result) | bool(res.traceback) | extra args |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for config, (_, label) in CONFIGS.items():
        for form in FORMS:
            rec = seen.get((config, form, "old"), missing)
            print(f"| ({config}) {label} | `{form}` | {stored[(config, form, 'old')]} | {rec.get('ran_as_task')} "
                  f"| {rec['state']} | `{rec.get('result')}` | {rec.get('traceback')} | `{rec.get('extra_args')}` |")
    print("\n### New-style errback `on_err2(request, exc, traceback)`\n")
    print("| finish | call form | FAILURE key stored | errback ran as a task "
          "| request.task | exc | traceback | state in backend then |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for config, (_, label) in CONFIGS.items():
        for form in FORMS:
            rec = seen.get((config, form, "new"), missing)
            print(f"| ({config}) {label} | `{form}` | {stored[(config, form, 'new')]} | {rec.get('ran_as_task')} "
                  f"| `{rec.get('task')}` | `{rec.get('exc')}` | {rec.get('traceback')} "
                  f"| {rec.get('state_in_backend', rec.get('state'))} |")


def main():
    with tempfile.TemporaryDirectory(prefix="celery-lint-errback-") as workdir:
        (Path(workdir) / f"{MODULE}.py").write_text(MODULE_SOURCE)
        try:
            with harness.RedisServer(Path(workdir) / "redis") as server:
                version = server.client().info("server")["redis_version"]
                print(f"Celery {celery.__version__}, kombu {kombu.__version__}, redis-server {version}, "
                      f"worker --pool=threads --concurrency=4")
                seen, stored = run(server, workdir)
        except harness.HarnessError as exc:
            print(f"ERROR: {exc}")
            return 2
    print_report(seen, stored)
    return 0 if len(seen) == 2 * len(CONFIGS) * len(FORMS) else 1


if __name__ == "__main__":
    sys.exit(main())
