"""What Flower still shows for a task with ignore_result=True, measured on a real Flower, worker and Redis.

    pip install 'celery[redis]' flower requests     # flower is not a celery-lint dependency
    python bench/flower_views.py                    # about 40 s; prints a markdown table

One worry about `celery-lint --fix` (it adds ignore_result=True to tasks whose results are never
read) is that it "makes Flower useless". Flower builds its task views from worker *events*
(task-sent/-received/-started/-succeeded/-failed), not from the result backend, so this script
measures it instead of guessing. The generated app has four tasks that differ only in
ignore_result and in whether they raise:

    store_ok      returns a small dict               (result stored)
    ignore_ok     the same, ignore_result=True
    store_fail    raises ValueError                  (failure stored)
    ignore_fail   the same, ignore_result=True       (store_errors_even_if_ignored left at False)

It starts its own redis-server (free loopback port, no persistence), a `celery worker --pool=threads`
with task events on (worker_send_task_events, task_send_sent_event), and `celery flower` (with
FLOWER_UNAUTHENTICATED_API=true: Flower 2 answers /api/* with 401 otherwise), enqueues a few runs
of each task with .delay() and reads, for each task, every Flower view that shows tasks:
/api/tasks, /api/task/info/<id>, /api/task/result/<id> (reads the result backend), the /task/<id>
page, /tasks/datatable (what the /tasks page loads), /api/workers, the workers dashboard
(/?json=1; Flower 2 has no /dashboard any more, the script records its 404) and /metrics.
Scenarios, in this order, on one worker:

    live        Flower was running while the tasks ran (it saw their events)
    late        a fresh Flower started after the tasks ran (it missed their events)
    restarted   the live Flower stopped and started again with --persistent on the same --db
    apply       POST /api/task/apply/<name> (Flower sends the task and waits for its result)

then all of it again with result_extended=True, printing only the rows that differ.

Every process runs in its own process group and is stopped by group; every wait has a deadline
and the whole run has one (--deadline), so it never hangs nor leaves a worker or Flower behind.
"""
import argparse
import html
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import celery
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import redis_helpers as harness  # noqa: E402  (Redis, worker and process-group helpers)

APP_MODULE = "flowerbench_app"
APP_SOURCE = '''\
import os
import time

from celery import Celery

app = Celery("flowerbench", broker=os.environ["FLOWERBENCH_REDIS_URL"],
             backend=os.environ["FLOWERBENCH_REDIS_URL"])
app.conf.update(
    worker_send_task_events=True,    # what `celery worker -E` turns on
    task_send_sent_event=True,       # the producer sends task-sent too
    result_extended=os.environ.get("FLOWERBENCH_RESULT_EXTENDED") == "1",
    worker_hijack_root_logger=False,
)


def order_summary(n):
    time.sleep(0.1)
    return {"order": n, "status": "shipped"}


def declined(n):
    time.sleep(0.1)
    raise ValueError(f"payment {n} declined")


@app.task
def store_ok(n):
    return order_summary(n)


@app.task(ignore_result=True)
def ignore_ok(n):
    return order_summary(n)


@app.task
def store_fail(n):
    declined(n)


@app.task(ignore_result=True)
def ignore_fail(n):
    declined(n)
'''

TASKS = ["store_ok", "ignore_ok", "store_fail", "ignore_fail"]
COLUMNS = {
    "store_ok": "storing, succeeds",
    "ignore_ok": "ignore_result=True, succeeds",
    "store_fail": "storing, raises",
    "ignore_fail": "ignore_result=True, raises",
}
HTTP_TIMEOUT_S = 10
WAIT_TIMEOUT_S = 60


class Deadline(Exception):
    pass


# --- processes --------------------------------------------------------------------------------


class Flower:
    """`celery -A flowerbench_app flower` on a free loopback port, in its own process group."""

    def __init__(self, workdir, env, log_path, persistent_db=None):
        self.workdir, self.env, self.log_path = workdir, env, Path(log_path)
        self.persistent_db = persistent_db
        self.port = harness.free_port()
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        command = [sys.executable, "-m", "celery", "-A", APP_MODULE, "flower",
                   f"--port={self.port}", "--address=127.0.0.1"]
        if self.persistent_db:
            command += ["--persistent=True", f"--db={self.persistent_db}"]
        # Flower 2 answers /api/* with 401 unless auth is set up or this is set (pages need neither)
        env = {**self.env, "FLOWER_UNAUTHENTICATED_API": "true"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=env, start_new_session=True,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(self._sees_a_worker, "Flower up and receiving worker events", self)
        except BaseException:
            self.stop()
            raise
        return self

    def _sees_a_worker(self):
        if self.process.poll() is not None:
            raise harness.HarnessError(f"flower exited with {self.process.returncode}:\n{harness.tail(self.log_path)}")
        try:
            workers = self.get_json("/", params={"json": 1})["data"]
        except (requests.RequestException, harness.HarnessError, ValueError, KeyError):
            return False
        # a worker is listed once a worker event (heartbeat) arrived: the event receiver is live
        return any(worker.get("status") for worker in workers)

    def get(self, path, **kwargs):
        return requests.get(self.base + path, timeout=HTTP_TIMEOUT_S, **kwargs)

    def get_json(self, path, **kwargs):
        response = self.get(path, **kwargs)
        if response.status_code != 200:
            raise harness.HarnessError(f"GET {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def stop(self):
        harness.stop_process_group(self.process)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def wait_for(predicate, what, owner=None, timeout=WAIT_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    log = f":\n{harness.tail(owner.log_path)}" if owner is not None else ""
    raise harness.HarnessError(f"timed out after {timeout} s waiting for {what}{log}")


# --- reading the views ------------------------------------------------------------------------


def short(value, width=34):
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_event_task(task):
    """One cell for a task as Flower's event state has it (api/tasks, api/task/info, datatable)."""
    if task is None:
        return "not listed"
    parts = [f"**{task.get('state')}**"]
    if task.get("result") not in (None, ""):
        parts.append(f"result `{short(task['result'])}`")
    else:
        parts.append("no result")
    if task.get("exception"):
        parts.append(f"exception `{short(task['exception'])}`")
    if task.get("traceback"):
        parts.append("traceback ✓")
    parts.append(f"runtime {task['runtime']:.2f} s" if task.get("runtime") else "no runtime")
    stamps = [name for name in ("sent", "received", "started", "succeeded", "failed") if task.get(name)]
    parts.append("timestamps: " + ("/".join(stamps) if stamps else "none"))
    return "; ".join(parts)


def read_api_tasks(flower):
    return flower.get_json("/api/tasks", params={"limit": 1000})


def read_api_info(flower, task_id):
    response = flower.get(f"/api/task/info/{task_id}")
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return describe_event_task(response.json())


def read_api_result(flower, task_id):
    response = flower.get(f"/api/task/result/{task_id}")
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    body = response.json()
    parts = [f"**{body.get('state')}**"]
    parts.append(f"result `{short(body['result'])}`" if body.get("result") is not None else "no result")
    if body.get("traceback"):
        parts.append("traceback ✓")
    return "; ".join(parts) + " (from the result backend)"


def read_task_page(flower, task_id):
    response = flower.get(f"/task/{task_id}")
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    rows = {}
    for label, value in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", response.text, re.DOTALL):
        text = html.unescape(re.sub(r"<[^>]+>", " ", value))
        rows[label.strip()] = " ".join(text.split())
    parts = [f"**{rows.get('Status', '?')}**"]
    result = rows.get("Result", "")
    parts.append(f"Result `{short(result)}`" if result not in ("", "None") else f"Result row empty (`{result}`)")
    for label in ("Exception", "Traceback"):
        if label in rows:
            parts.append(f"{label} ✓")
    parts.append("Runtime ✓" if "Runtime" in rows else "no Runtime")
    stamps = [label for label in ("Sent", "Received", "Started", "Succeeded", "Failed") if label in rows]
    parts.append("rows: " + ("/".join(stamps) if stamps else "no timestamps"))
    return "; ".join(parts)


def read_datatable(flower):
    params = {"draw": 1, "start": 0, "length": 1000, "search[value]": "",
              "order[0][column]": 0, "order[0][dir]": "asc", "columns[0][data]": "received"}
    return {row["uuid"]: row for row in flower.get_json("/tasks/datatable", params=params)["data"]}


def read_api_workers(flower):
    """Per task name, the 'processed' count the worker reports (stats.total, via remote inspect)."""
    totals = {}
    for worker in flower.get_json("/api/workers", params={"refresh": 1}).values():
        for name, count in ((worker.get("stats") or {}).get("total") or {}).items():
            totals[name] = totals.get(name, 0) + count
    return totals


def read_dashboard(flower):
    """Flower 2's dashboard is the workers page: per-worker event counters, not per task."""
    status = flower.get("/dashboard").status_code
    counters = {}
    for worker in flower.get_json("/", params={"json": 1})["data"]:
        for key in ("task-received", "task-started", "task-succeeded", "task-failed"):
            counters[key] = counters.get(key, 0) + worker.get(key, 0)
    return status, counters


def read_metrics(flower):
    """Prometheus /metrics: flower_events_total and the runtime histogram, per task name."""
    events, runtimes = {}, {}
    for line in flower.get("/metrics").text.splitlines():
        match = re.match(r'(flower_events_total|flower_task_runtime_seconds_count)\{(.*)\} ([0-9.e+]+)', line)
        if not match:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        name = labels.get("task", "").rpartition(".")[2]
        if match.group(1) == "flower_events_total":
            kind = labels.get("type", "").removeprefix("task-")
            events.setdefault(name, {})[kind] = events.get(name, {}).get(kind, 0) + float(match.group(3))
        else:
            runtimes[name] = runtimes.get(name, 0) + float(match.group(3))
    return events, runtimes


def read_backend(client, task_id):
    raw = client.get(f"celery-task-meta-{task_id}")
    if raw is None:
        return "no key"
    meta = json.loads(raw)
    fields = [key for key in ("name", "args", "worker", "date_done") if meta.get(key)]
    text = f"key: **{meta['status']}**, result `{short(meta.get('result'), 26)}`"
    if meta.get("traceback"):
        text += ", traceback ✓"
    return text + (f", + {'/'.join(fields)}" if fields else "")


# --- the experiment ---------------------------------------------------------------------------


def merge_runs(cells):
    """One cell for several runs of a task: the first run's, noting when another run looked different."""
    first = cells[0]
    odd = sorted({cell for cell in cells[1:] if not same_shape(cell, first)})
    return first + ("" if not odd else " (other runs: " + " / ".join(odd) + ")")


def snapshot(flower, client, runs, executed, with_backend=False):
    """Every view for every task kind: {view label: {task kind: cell}}."""
    table = {}
    listed, datatable = read_api_tasks(flower), read_datatable(flower)
    per_id = {
        "`/api/tasks`": lambda task_id: describe_event_task(listed.get(task_id)),
        "`/api/task/info/<id>`": lambda task_id: read_api_info(flower, task_id),
        "`/task/<id>` page": lambda task_id: read_task_page(flower, task_id),
        "`/tasks` page (`/tasks/datatable`)": lambda task_id: describe_event_task(datatable.get(task_id)),
        "`/api/task/result/<id>`": lambda task_id: read_api_result(flower, task_id),
    }
    for label, read in per_id.items():
        table[label] = {kind: merge_runs([read(task_id) for task_id in runs[kind]]) for kind in TASKS}

    totals = read_api_workers(flower)
    table["`/api/workers` (stats.total, from the worker)"] = {
        kind: f"processed {totals.get(f'{APP_MODULE}.{kind}', 0)} of {len(runs[kind])}" for kind in TASKS}

    events, runtimes = read_metrics(flower)
    table["`/metrics` (Prometheus)"] = {}
    for kind in TASKS:
        seen = events.get(kind, {})
        counts = ", ".join(f"{key} {int(seen[key])}" for key in ("sent", "received", "started", "succeeded", "failed")
                           if key in seen)
        runtime = f"; runtime histogram n={int(runtimes[kind])}" if runtimes.get(kind) else "; no runtime samples"
        table["`/metrics` (Prometheus)"][kind] = (counts or "no events") + runtime

    status, counters = read_dashboard(flower)
    # the dashboard only counts per worker: read who is counted from the arithmetic
    ok_runs = {kind: len(runs[kind]) for kind in TASKS}
    succeeded, failed = counters.get("task-succeeded", 0), counters.get("task-failed", 0)

    def counted(kind, total, pair):
        if total == ok_runs[pair[0]] + ok_runs[pair[1]]:
            return f"counted (task-{'succeeded' if 'ok' in kind else 'failed'} = {total} = both tasks' runs)"
        if total == ok_runs[kind]:
            return f"counted alone ({total})"
        return f"task-{'succeeded' if 'ok' in kind else 'failed'} = {total} ({executed} runs in all)"

    table[f"dashboard `/?json=1` (`/dashboard`: HTTP {status})"] = {
        "store_ok": counted("store_ok", succeeded, ("store_ok", "ignore_ok")),
        "ignore_ok": counted("ignore_ok", succeeded, ("store_ok", "ignore_ok")),
        "store_fail": counted("store_fail", failed, ("store_fail", "ignore_fail")),
        "ignore_fail": counted("ignore_fail", failed, ("store_fail", "ignore_fail")),
    }
    if with_backend:  # not a Flower view: what the result backend holds, for reference
        table["(result backend itself: Redis key)"] = {
            kind: merge_runs([read_backend(client, task_id) for task_id in runs[kind]]) for kind in TASKS}
    return table


def read_apply(flower):
    """POST /api/task/apply/<name>: Flower sends the task itself and waits for its result."""
    cells = {}
    for kind in TASKS:
        started = time.monotonic()
        response = requests.post(f"{flower.base}/api/task/apply/{APP_MODULE}.{kind}",
                                 json={"args": [99], "timeout": 10}, timeout=HTTP_TIMEOUT_S + 5)
        elapsed = time.monotonic() - started
        if response.status_code != 200:
            cells[kind] = f"HTTP {response.status_code}"
            continue
        body = response.json()
        parts = [f"**{body.get('state')}**"]
        parts.append(f"result `{short(body['result'])}`" if body.get("result") is not None else "result null")
        if body.get("traceback"):
            parts.append("traceback ✓")
        cells[kind] = "; ".join(parts) + f"; answered in {elapsed:.2f} s"
    return {"`POST /api/task/apply/<name>`": cells}


def enqueue(tasks_module, runs_per_task):
    runs = {kind: [] for kind in TASKS}
    for n in range(runs_per_task):
        for kind in TASKS:
            runs[kind].append(getattr(tasks_module, kind).delay(n).id)
    return runs


def wait_until_done(flower, runs):
    ids = [task_id for ids in runs.values() for task_id in ids]

    def all_finished():
        listed = read_api_tasks(flower)
        return all(listed.get(task_id, {}).get("state") in ("SUCCESS", "FAILURE") for task_id in ids)

    wait_for(all_finished, "Flower to see every task finish", flower)


def run_phase(workdir, redis_server, tasks_module, runs_per_task, result_extended, log_dir):
    """live / late / restarted snapshots with one worker; returns {scenario: snapshot}."""
    client = redis_server.client()
    client.flushall()
    env = {**os.environ, "FLOWERBENCH_REDIS_URL": redis_server.url,
           "FLOWERBENCH_RESULT_EXTENDED": "1" if result_extended else "0",
           "PYTHONPATH": str(workdir)}
    tag = "extended" if result_extended else "plain"
    db = str(Path(log_dir) / f"flower-{tag}.db")
    worker = harness.CeleryWorker(APP_MODULE, workdir, redis_server.url, Path(log_dir) / f"worker-{tag}.log", env=env)
    snapshots = {}
    with worker:
        with Flower(workdir, env, Path(log_dir) / f"flower-live-{tag}.log", persistent_db=db) as flower:
            runs = enqueue(tasks_module, runs_per_task)
            wait_until_done(flower, runs)
            harness.wait_until_drained(redis_server.url, client, timeout=WAIT_TIMEOUT_S)
            executed = sum(len(ids) for ids in runs.values())
            snapshots["live"] = snapshot(flower, client, runs, executed, with_backend=True)
        with Flower(workdir, env, Path(log_dir) / f"flower-late-{tag}.log") as flower:
            snapshots["late"] = snapshot(flower, client, runs, executed)
        with Flower(workdir, env, Path(log_dir) / f"flower-restarted-{tag}.log", persistent_db=db) as flower:
            snapshots["restarted"] = snapshot(flower, client, runs, executed)
            snapshots["apply"] = read_apply(flower)  # last: it runs the tasks once more
            harness.wait_until_drained(redis_server.url, client, timeout=WAIT_TIMEOUT_S)
    return snapshots


# --- report -----------------------------------------------------------------------------------

SCENARIO_LABELS = {
    "live": "Flower running while the tasks ran",
    "late": "fresh Flower started after the tasks ran",
    "restarted": "live Flower restarted with `--persistent` (same `--db`)",
    "apply": "Flower's own run-and-wait endpoint (needs no events; runs each task once more, afterwards)",
}


def cell(text):
    return text.replace("|", "\\|")


def same_shape(a, b):
    return re.sub(r"[0-9.]+", "#", a) == re.sub(r"[0-9.]+", "#", b)  # runs differ in n and timings


def ignore_result_changes(cells):
    changed = [outcome for outcome, (storing, ignoring) in
               (("success", ("store_ok", "ignore_ok")), ("failure", ("store_fail", "ignore_fail")))
               if not same_shape(cells[storing], cells[ignoring])]
    return "**yes** (" + ", ".join(changed) + ")" if changed else "no"


def markdown_table(snapshots, only_differences_from=None):
    header = "| scenario | view | " + " | ".join(COLUMNS[kind] for kind in TASKS) + " | ignore_result changes it? |"
    lines = [header, "|" + " --- |" * (3 + len(TASKS))]
    for scenario, table in snapshots.items():
        for view, cells in table.items():
            if only_differences_from is not None:
                base = only_differences_from[scenario][view]
                if all(same_shape(cells[kind], base[kind]) for kind in TASKS):
                    continue
            row = " | ".join(cell(cells[kind]) for kind in TASKS)
            lines.append(f"| {scenario} | {view} | {row} | {ignore_result_changes(cells)} |")
    return "\n".join(lines) if len(lines) > 2 else "(no view differs)"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each of the four tasks (default 3)")
    parser.add_argument("--deadline", type=int, default=420, help="give up after this many seconds (default 420)")
    parser.add_argument("--no-extended", action="store_true", help="skip the result_extended=True pass")
    return parser.parse_args()


def on_deadline(signum, frame):
    raise Deadline("the run passed its --deadline")


def main():
    args = parse_args()
    import flower as flower_package  # fail early, with the hint, when flower is missing

    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(args.deadline)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="flower-views-") as tmp:
        workdir = Path(tmp)
        (workdir / f"{APP_MODULE}.py").write_text(APP_SOURCE)
        with harness.RedisServer(workdir / "redis") as redis_server:
            os.environ["FLOWERBENCH_REDIS_URL"] = redis_server.url
            sys.path.insert(0, str(workdir))
            tasks_module = importlib.import_module(APP_MODULE)  # the producer side, as an app would call .delay()
            plain = run_phase(workdir, redis_server, tasks_module, args.runs, False, workdir)
            extended = None if args.no_extended else run_phase(
                workdir, redis_server, tasks_module, args.runs, True, workdir)
    signal.alarm(0)

    print("# Flower views for ignore_result=True vs a storing task\n")
    print(f"flower {flower_package.__version__}, celery {celery.__version__}, "
          f"{args.runs} runs of each task, {time.monotonic() - started:.0f} s\n")
    for scenario, label in SCENARIO_LABELS.items():
        print(f"- **{scenario}**: {label}")
    print()
    print(markdown_table(plain))
    if extended is not None:
        print("\n## With result_extended=True: only the rows that differ\n")
        print(markdown_table(extended, only_differences_from=plain))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ModuleNotFoundError as exc:
        sys.exit(f"{exc}: run `pip install flower` first")
    except (harness.HarnessError, Deadline) as exc:
        sys.exit(f"flower_views: {exc}")
