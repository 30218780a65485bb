"""Measure the Redis memory one stored Celery result costs, by result type and result_extended.

    python bench/redis_key_size.py [--runs 1000]

Starts a private redis-server and then, once with result_extended=False and once with
result_extended=True, a real worker (`celery -A bench_sizes worker --pool=threads`) on a
generated module whose task `payload(kind)` returns None, a small int, a 20-char string,
a 10-key dict (~300 bytes of JSON) or a 2,048-char string. Per kind it sends --runs tasks
with send_task (the client never reads a result), waits until every celery-task-meta-<id>
key exists and the broker is empty, then records MEMORY USAGE of those keys, their value
size (STRLEN) and the INFO used_memory delta divided by the runs (approximate: it also sees
allocator and buffer noise; one unshown warm-up batch goes first), and deletes the keys.
Before that, one probe run per setting gives the key's TTL right after the run (the default
result_expires) and the stored JSON. Prints markdown. Every wait has a deadline; processes
run in their own process groups and are stopped by group (tests/redis_helpers.py).
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import celery
import kombu

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import redis_helpers as harness  # noqa: E402  (the harness is shared with the e2e test)

MODULE = "bench_sizes"
TASK = f"{MODULE}.payload"
RESULTS_TIMEOUT_S = 120
TYPICAL_DICT = {
    "order_id": 1048576, "customer_email": "jane.doe@example.com", "status": "shipped",
    "currency": "EUR", "total": "149.90", "items": 3, "carrier": "DHL Express",
    "tracking_number": "JD014600006612345678", "created_at": "2024-05-01T12:34:56+00:00",
    "shipping_address": "Hauptstrasse 1, 10115 Berlin, Germany",
}
PAYLOADS = {  # kind -> what the task returns
    "none": None, "int": 42, "str": "order 1048576 shipped", "dict": TYPICAL_DICT, "2kb": "x" * 2048,
}
MODULE_SOURCE = f'''\
import json, os
from celery import Celery

app = Celery("{MODULE}", broker=os.environ["BENCH_REDIS_URL"], backend=os.environ["BENCH_REDIS_URL"])
app.conf.result_extended = os.environ["BENCH_RESULT_EXTENDED"] == "1"
PAYLOADS = json.loads({json.dumps(json.dumps(PAYLOADS))})

@app.task
def payload(kind):
    return PAYLOADS[kind]
'''


def meta_key(task_id):
    return f"celery-task-meta-{task_id}"


def wait_for_results(client, keys, timeout=RESULTS_TIMEOUT_S):
    """Wait until every key exists and no message is queued or unacked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        present = sum(client.exists(*keys[i:i + 500]) for i in range(0, len(keys), 500))
        if present == len(keys) and harness.broker_is_empty(client):
            return
        time.sleep(0.01 if len(keys) == 1 else 0.2)
    raise harness.HarnessError(f"{len(keys) - present} of {len(keys)} results missing after {timeout} s")


def probe(client, sender):
    """One run: TTL right after the key appears, and the stored JSON."""
    key = meta_key(sender.send_task(TASK, args=["int"]).id)
    wait_for_results(client, [key])
    ttl = client.ttl(key)
    value = json.loads(client.get(key))
    client.delete(key)
    return ttl, value


def measure_kind(client, sender, kind, runs):
    time.sleep(0.5)  # let the worker's last acks and the client's buffers settle
    before = harness.used_memory(client)
    keys = [meta_key(sender.send_task(TASK, args=[kind]).id) for _ in range(runs)]
    wait_for_results(client, keys)
    time.sleep(0.5)
    delta = harness.used_memory(client) - before
    usage = [client.memory_usage(key, samples=0) for key in keys]
    strlen = [client.strlen(key) for key in keys]
    for i in range(0, len(keys), 500):
        client.delete(*keys[i:i + 500])
    return {"usage": usage, "strlen": strlen, "delta_per_run": delta / runs}


def run_setting(server, workdir, extended, runs):
    client = server.client()
    env = {"BENCH_REDIS_URL": server.url, "BENCH_RESULT_EXTENDED": "1" if extended else "0"}
    log_path = Path(workdir) / f"worker-extended-{extended}.log"
    with harness.CeleryWorker(MODULE, workdir, server.url, log_path, env=env), \
            harness.control_app(server.url) as sender:
        ttl, value = probe(client, sender)
        measure_kind(client, sender, "none", runs)  # warm-up, not shown: the first batch's delta is noisier
        rows = {kind: measure_kind(client, sender, kind, runs) for kind in PAYLOADS}
    return ttl, value, rows


def print_report(runs, results):
    print(f"\n### Bytes per celery-task-meta-<id> key ({runs} runs per row)\n")
    print("| task returns | result JSON (B) | result_extended | value STRLEN (B) "
          "| MEMORY USAGE mean (min-max) B | used_memory delta / run (B) |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for kind, returned in PAYLOADS.items():
        for extended, (_, _, rows) in results.items():
            row = rows[kind]
            usage, strlen = row["usage"], row["strlen"]
            print(f"| {kind} | {len(json.dumps(returned))} | {extended} | {statistics.mean(strlen):.0f} "
                  f"| {statistics.mean(usage):.0f} ({min(usage)}-{max(usage)}) | {row['delta_per_run']:.0f} |")
    print("\n### TTL right after the run, and the stored value (task returning 42)\n")
    print("| result_extended | TTL (s) | fields | task name stored as |")
    print("| --- | ---: | --- | --- |")
    for extended, (ttl, value, _) in results.items():
        name_field = next((f"`{k}` = {v!r}" for k, v in value.items() if v == TASK), "not stored")
        print(f"| {extended} | {ttl} | {', '.join(f'`{k}`' for k in value)} | {name_field} |")
    for extended, (_, value, _) in results.items():
        print(f"\nresult_extended={extended}:\n```\n{json.dumps(value)}\n```")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="task runs per row (default 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="celery-lint-keysize-") as workdir:
        (Path(workdir) / f"{MODULE}.py").write_text(MODULE_SOURCE)
        try:
            with harness.RedisServer(Path(workdir) / "redis") as server:
                version = server.client().info("server")["redis_version"]
                print(f"Celery {celery.__version__}, kombu {kombu.__version__}, redis-server {version}, "
                      f"worker --pool=threads --concurrency=4")
                results = {extended: run_setting(server, workdir, extended, args.runs)
                           for extended in (False, True)}
        except harness.HarnessError as exc:
            print(f"ERROR: {exc}")
            return 2
    print_report(args.runs, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
