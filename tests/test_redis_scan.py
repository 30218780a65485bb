"""celery_lint.redis_scan on a real redis-server (tests/redis_helpers.py), no mock of Redis.

1. A keyspace written by a real Celery worker, with result_extended off and on: exact counts.
2. 100k synthetic keys of realistic result meta: the scan's bound, the sample's bound, the estimates, the time.
3. Read-only: INFO commandstats shows no write command, and a user allowed only +@read can scan.
4. What goes wrong says so in one line: bad URL, refused port, silent server, auth, no redis client; a database
   with no Celery keys, odd values and keys that expire mid-scan are reported, never a crash.
"""
import json
import math
import random
import shutil
import socket
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from celery.result import AsyncResult, GroupResult

from celery_lint.redis_scan import TTL_BUCKETS, UNKNOWN_TASK, RedisScanError, mask_url, scan_results

sys.path.insert(0, str(Path(__file__).resolve().parent))
import redis_helpers as harness  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (apt-get install redis-server); CI installs it",
)

WAIT_S = 30
DAY_MS = 86_400_000


def db_url(server, db):
    return f"redis://127.0.0.1:{server.port}/{db}"


def db_client(server, db, **kwargs):
    return harness.redis.Redis(host="127.0.0.1", port=server.port, db=db, socket_timeout=10, **kwargs)


# Server-side loops: redis-py spends ~50 us on each pipelined command, Lua ~1 us (100k keys: 0.5 s, not 10 s).
SET_KEYS = """
for i, key in ipairs(KEYS) do
  local ttl_ms = tonumber(ARGV[2 * i])
  if ttl_ms > 0 then redis.call('SET', key, ARGV[2 * i - 1], 'PX', ttl_ms)
  else redis.call('SET', key, ARGV[2 * i - 1]) end
end
"""
MEMORY_OF = """
local total, cursor = 0, '0'
repeat
  local answer = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = answer[1]
  for _, key in ipairs(answer[2]) do total = total + redis.call('MEMORY', 'USAGE', key) end
until cursor == '0'
return total
"""


def write_keys(client, rows, chunk=2_000):
    """SET every (key, value, ttl in ms or None) of rows: a pipeline of scripts, each setting `chunk` keys."""
    pipe = client.pipeline(transaction=False)
    rows = list(rows)
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        args = [arg for _, value, ttl_ms in part for arg in (value, ttl_ms or 0)]
        pipe.eval(SET_KEYS, len(part), *(key for key, _, _ in part), *args)
    pipe.execute()


def memory_of(client, pattern):
    """MEMORY USAGE of every key matching pattern, summed (what a full inspection would find)."""
    return client.eval(MEMORY_OF, 0, pattern)


@pytest.fixture
def server(tmp_path):
    with harness.RedisServer(tmp_path / "redis") as started:
        yield started


# --- 1. a keyspace written by a real worker -----------------------------------------------------------------

SCAN_APP = '''
import os

from celery import Celery

URL = os.environ["SCAN_REDIS_URL"]
app = Celery("scanapp", broker=URL, backend=URL)
app.conf.result_extended = os.environ["SCAN_RESULT_EXTENDED"] == "1"
app.conf.broker_connection_retry_on_startup = True


@app.task
def record_visit(page):
    return None


@app.task
def order_summary(order_id):
    return {"order_id": order_id, "status": "shipped", "total": "149.90", "items": 3, "carrier": "DHL"}


@app.task
def charge_card(order_id):
    raise ValueError(f"card declined for order {order_id}")
'''
OFF_DB, ON_DB = 1, 2
# task -> runs; with result_extended off, three more order_summary runs are saved as a group too
RUNS_OFF = {"record_visit": 4, "order_summary": 3, "charge_card": 2}
GROUP_OFF = 3
RUNS_ON = {"record_visit": 5, "order_summary": 2, "charge_card": 1}


def wait_for_results(client, expected):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if len(harness.result_keys(client)) == expected and harness.broker_is_empty(client):
            return
        time.sleep(0.05)
    raise harness.HarnessError(f"{len(harness.result_keys(client))} of {expected} results after {WAIT_S} s")


def run_worker(server, workdir, db, extended, runs, group_size=0):
    """A real worker on database db runs every task `runs` times (and a saved group); wait for every result."""
    url = db_url(server, db)
    env = {"SCAN_REDIS_URL": url, "SCAN_RESULT_EXTENDED": "1" if extended else "0"}
    worker = harness.CeleryWorker("scanapp", workdir, url, workdir / f"worker-{db}.log", env=env)
    with worker, harness.control_app(url) as sender:
        for task, count in runs.items():
            for i in range(count):
                sender.send_task(f"scanapp.{task}", args=[i])
        if group_size:
            ids = [sender.send_task("scanapp.order_summary", args=[100 + i]).id for i in range(group_size)]
            with Celery("saver", backend=url, set_as_current=False) as saver:
                GroupResult(str(uuid.uuid4()), [AsyncResult(i, app=saver) for i in ids], app=saver).save()
        wait_for_results(db_client(server, db), sum(runs.values()) + group_size)


@pytest.fixture(scope="module")
def worker_keyspace(tmp_path_factory):
    """One server; database 1 written by a worker with result_extended off, database 2 with it on."""
    workdir = tmp_path_factory.mktemp("worker")
    (workdir / "scanapp.py").write_text(SCAN_APP)
    with harness.RedisServer(workdir / "redis") as started:
        run_worker(started, workdir, OFF_DB, False, RUNS_OFF, GROUP_OFF)
        run_worker(started, workdir, ON_DB, True, RUNS_ON)
        yield started


@pytest.mark.slow  # a real worker writes the keyspace
def test_worker_keyspace_with_result_extended_off(worker_keyspace):
    client = db_client(worker_keyspace, OFF_DB)
    scan = scan_results(db_url(worker_keyspace, OFF_DB))

    meta_keys = sum(RUNS_OFF.values()) + GROUP_OFF
    assert (scan.meta_keys, scan.group_keys, scan.scanned, scan.complete) == (meta_keys, 1, meta_keys + 1, True)
    assert (scan.sampled, scan.vanished, scan.unrecognised, scan.too_large) == (meta_keys, 0, 0, 0)
    assert scan.db == OFF_DB and scan.db_keys == client.dbsize() > meta_keys + 1  # kombu's keys too
    assert scan.sample_bytes == scan.estimated_bytes == memory_of(client, "celery-task-meta-*")
    assert scan.null_results == RUNS_OFF["record_visit"]
    assert scan.statuses == {"SUCCESS": meta_keys - RUNS_OFF["charge_card"], "FAILURE": RUNS_OFF["charge_card"]}
    # Celery's default result_expires is 1 day: a fresh key's PTTL is at most 86,400,000 ms, counted as 6-24 h.
    assert scan.ttl == {"no expiry": 0, "< 1 h": 0, "1-6 h": 0, "6-24 h": meta_keys, "> 24 h": 0}
    assert scan.result_extended is False and scan.per_task == []
    assert len(scan.notes) == 1 and "result_extended" in scan.notes[0] and "per-task" in scan.notes[0]
    assert json.loads(json.dumps(scan.to_dict()))["ttl"]["6-24 h"] == meta_keys


@pytest.mark.slow
def test_worker_keyspace_with_result_extended_on_gives_per_task_figures(worker_keyspace):
    client = db_client(worker_keyspace, ON_DB)
    scan = scan_results(db_url(worker_keyspace, ON_DB))

    meta_keys = sum(RUNS_ON.values())
    assert (scan.meta_keys, scan.group_keys, scan.sampled, scan.complete) == (meta_keys, 0, meta_keys, True)
    assert scan.result_extended is True and scan.notes == []
    assert scan.null_results == RUNS_ON["record_visit"]
    assert scan.ttl["6-24 h"] == meta_keys
    rows = [(t.name, t.keys, t.null_results) for t in scan.per_task]
    assert rows == [("scanapp.record_visit", 5, 5), ("scanapp.order_summary", 2, 0), ("scanapp.charge_card", 1, 0)]
    assert sum(t.bytes for t in scan.per_task) == scan.sample_bytes == memory_of(client, "celery-task-meta-*")


# --- 2. 100k synthetic keys -----------------------------------------------------------------------------------

BIG_META = 100_000
BIG_GROUPS = 1_000
BIG_OTHER = 5_000
# (task, share, result); track_event returns None like most fire-and-forget tasks
BIG_TASKS = [("shop.tasks.track_event", 0.5, None), ("shop.tasks.compute_tax", 0.3, "19.00"),
             ("shop.tasks.export_orders", 0.2, {"rows": 1200, "path": "s3://exports/orders-2024-05.csv"})]
# (TTL in seconds or None, share): what a backend sees after result_expires changed a few times
BIG_TTLS = [(None, 0.05), (1_800, 0.10), (3 * 3_600, 0.15), (20 * 3_600, 0.65), (3 * 86_400, 0.05)]
BIG_TTL_BUCKETS = dict(zip(TTL_BUCKETS, (share for _, share in BIG_TTLS)))


def pick(table, fraction):
    """The row of table (last column: share) that fraction in [0, 1) falls into."""
    for row in table:
        fraction -= row[1]
        if fraction < 0:
            return row
    return table[-1]


def result_meta(task_id, name, result, i):
    return json.dumps({
        "status": "SUCCESS", "result": result, "traceback": None, "children": [],
        "date_done": "2024-05-01T12:34:56.789012+00:00", "name": name, "args": [i], "kwargs": {},
        "worker": "celery@web-1", "retries": 0, "queue": "celery", "task_id": task_id,
    })


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """100k meta keys, 1k group keys and 5k other keys in database 0, written with pipelines."""
    with harness.RedisServer(tmp_path_factory.mktemp("big") / "redis") as started:
        client = started.client()
        rng = random.Random(1)
        rows = []
        for i in range(BIG_META):
            name, _, result = pick(BIG_TASKS, (i % 10) / 10)
            ttl, _ = pick(BIG_TTLS, rng.random())
            task_id = str(uuid.UUID(int=rng.getrandbits(128)))
            rows.append((f"celery-task-meta-{task_id}", result_meta(task_id, name, result, i), ttl and ttl * 1000))
        for _ in range(BIG_GROUPS):
            group_id = str(uuid.UUID(int=rng.getrandbits(128)))
            rows.append((f"celery-taskset-meta-{group_id}", json.dumps({"result": [[group_id, None], None]}),
                         DAY_MS))
        rows += [(f"session:{i}", "x" * 40, 3_600_000) for i in range(BIG_OTHER)]
        write_keys(client, rows)
        client.rpush("celery", *[json.dumps({"body": "...", "headers": {"id": str(i)}}) for i in range(10)])
        client.hset("unacked", "tag-1", "[]")
        started.total_meta_bytes = memory_of(client, "celery-task-meta-*")
        yield started


def within(count, total, share, sigmas=5):
    """count/total is share, give or take `sigmas` standard errors of a sample of `total`."""
    return abs(count / total - share) <= sigmas * math.sqrt(share * (1 - share) / total) + 1 / total


@pytest.mark.slow  # 100k keys written first
def test_scan_of_100k_keys(big):
    started = time.monotonic()
    scan = scan_results(big.url)
    elapsed = time.monotonic() - started
    print(f"\nscan of {scan.scanned:,} keys, {scan.sampled} inspected: {elapsed:.2f} s")

    assert (scan.meta_keys, scan.group_keys, scan.scanned) == (BIG_META, BIG_GROUPS, BIG_META + BIG_GROUPS)
    assert scan.complete and scan.db_keys == BIG_META + BIG_GROUPS + BIG_OTHER + 2
    assert (scan.sampled, scan.vanished, scan.unrecognised) == (1000, 0, 0)
    assert scan.result_extended and scan.notes == [] and scan.statuses == {"SUCCESS": 1000}
    assert abs(scan.estimated_bytes - big.total_meta_bytes) <= 0.05 * big.total_meta_bytes
    assert sum(scan.ttl.values()) == 1000
    assert all(within(scan.ttl[bucket], 1000, share) for bucket, share in BIG_TTL_BUCKETS.items()), scan.ttl
    assert within(scan.null_results, 1000, 0.5)
    assert [t.name for t in scan.per_task] == [name for name, _, _ in BIG_TASKS]
    for row, (_, share, result) in zip(scan.per_task, BIG_TASKS):
        assert within(row.keys / 100, 1000, share), row  # keys are scaled to 100k: back to the 1000 sampled
        assert row.null_results == (row.keys if result is None else 0)
    assert abs(sum(t.keys for t in scan.per_task) - BIG_META) <= len(scan.per_task)
    assert elapsed < 30


@pytest.mark.slow  # 100k keys written first
def test_max_keys_bounds_the_scan_and_says_so(big):
    scan = scan_results(big.url, sample=50, max_keys=30_000)

    assert scan.complete is False and scan.scanned == 30_000 == scan.meta_keys + scan.group_keys
    assert scan.sampled == 50
    assert len(scan.notes) == 1 and "max_keys (30,000 keys)" in scan.notes[0] and "--max-keys" in scan.notes[0]


def test_max_keys_bounds_the_scan_calls_over_keys_that_are_not_results(server):
    client = server.client()
    write_keys(client, [(f"session:{i}", "x", None) for i in range(20_000)])
    before = command_calls(client).get("scan", 0)
    scan = scan_results(server.url, max_keys=5, batch=100)  # 200 SCANs to walk it all

    assert command_calls(client)["scan"] - before == scan.scan_calls == 5
    assert (scan.complete, scan.stopped, scan.scanned, scan.db_keys) == (False, "scan_calls", 0, 20_000)
    assert "the scan stopped after 5 SCAN calls (--max-keys 5 bounds the calls too)" in scan.notes[1]


def command_flags(client, name):
    """The flags Redis gives a command, or a subcommand such as memory|usage (COMMAND INFO)."""
    base = name.split("|")[0]
    info = client.execute_command("COMMAND", "INFO", base)[base]
    if "|" not in name:
        return set(info["flags"])
    (entry,) = [sub for sub in info["subcommands"] if sub[0].decode() == name]
    return {flag.decode() for flag in entry[2]}


def command_calls(client):
    return {name[len("cmdstat_"):]: stats["calls"] for name, stats in client.info("commandstats").items()}


@pytest.mark.slow  # 100k keys written first
def test_scan_is_read_only_and_inspects_only_the_sample(big):
    client = big.client()
    before = command_calls(client)
    scan = scan_results(big.url, sample=300, batch=100)
    after = command_calls(client)
    ran = {name: calls - before.get(name, 0) for name, calls in after.items() if calls != before.get(name, 0)}

    print(f"\ncommands run by the scan: {ran}")
    assert scan.sampled == 300
    assert (ran["memory|usage"], ran["pttl"], ran["get"]) == (300, 300, 300)
    assert ran["scan"] >= (BIG_META + BIG_GROUPS + BIG_OTHER) // 100 // 10  # COUNT 100: many small steps
    assert "keys" not in ran
    assert set(ran) <= {"scan", "memory|usage", "pttl", "get", "dbsize", "info", "hello", "client|setinfo",
                        "ping", "select"}, ran
    assert not [name for name in ran if "write" in command_flags(client, name)]


@pytest.mark.slow  # 100k keys written first
def test_a_user_allowed_only_read_commands_can_scan(big):
    client = big.client()
    client.acl_setuser("reader", enabled=True, passwords=["+readpw"], keys=["~*"],
                       commands=["-@all", "+@read"])
    try:
        scan = scan_results(f"redis://reader:readpw@127.0.0.1:{big.port}/0", sample=100)
    finally:
        client.acl_deluser("reader")
    assert (scan.meta_keys, scan.sampled, scan.url) == (BIG_META, 100, f"redis://reader:***@127.0.0.1:{big.port}/0")


# --- 3. what goes wrong --------------------------------------------------------------------------------------


def one_line_error(url, **options):
    with pytest.raises(RedisScanError) as raised:
        scan_results(url, **options)
    message = str(raised.value)
    assert message and "\n" not in message
    return message


@pytest.mark.parametrize("url", ["http://localhost:6379/0", "localhost:6379", "redis://127.0.0.1:notaport/0",
                                 "redis://127.0.0.1:6379/celery", "redis://[::1/0"])
def test_a_malformed_url_is_one_clear_line(url):
    assert one_line_error(url).startswith("invalid Redis URL")


def test_a_refused_port_is_one_clear_line():
    url = f"redis://127.0.0.1:{harness.free_port()}/0"
    message = one_line_error(url)
    assert message.startswith(f"cannot connect to {url}") and "refused" in message.lower()


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        message = one_line_error(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.5)
    assert "no answer within 0.5 s" in message and time.monotonic() - started < 5


def test_auth_failures_are_clear_and_never_show_the_password(server):
    server.client().config_set("requirepass", "s3cret-pw")
    base = f"127.0.0.1:{server.port}/0"

    wrong = one_line_error(f"redis://:wrong-pw@{base}")
    assert "authentication failed" in wrong and "wrong-pw" not in wrong and f"redis://:***@{base}" in wrong
    missing = one_line_error(f"redis://{base}")
    assert "wants a password" in missing

    scan = scan_results(f"redis://:s3cret-pw@{base}")
    assert scan.url == f"redis://:***@{base}" and scan.meta_keys == 0


def test_a_user_who_may_not_run_memory_usage_is_told_what_the_scan_needs(server):
    client = server.client()
    write_keys(client, [(f"celery-task-meta-{i}", result_meta(str(i), "t.a", None, i), None) for i in range(3)])
    client.acl_setuser("nomemory", enabled=True, passwords=["+pw"], keys=["~*"],
                       commands=["-@all", "+@read", "-memory"])

    message = one_line_error(f"redis://nomemory:pw@127.0.0.1:{server.port}/0")
    assert "may not run a command the scan needs" in message and "MEMORY USAGE" in message


def test_the_scan_needs_no_redis_client(server, monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` raises ImportError
    assert scan_results(server.url).db_keys == 0


def test_bad_bounds_are_one_line():
    assert one_line_error("redis://127.0.0.1:6379/0", sample=-1) == "sample must be at least 0, got -1"


@pytest.mark.parametrize("url, shown", [
    ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
    ("rediss://user:p@ss:w@rd@host/1", "rediss://user:***@host/1"),  # '@' in the password: up to the last '@'
    ("redis://:p/w@host/1", "redis://:***@host/1"),  # an unencoded '/' too
    ("redis://host/0?client_name=a@b", "redis://host/0?client_name=a@b"),
    ("redis://TOKEN@host", "redis://***@host"),
    ("unix://:pw@/run/redis.sock?db=2&password=pw2", "unix://:***@/run/redis.sock?db=2&password=***"),
    ("redis://host:6379/0", "redis://host:6379/0"),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_a_database_without_celery_keys_says_so(server):
    client = db_client(server, 3)
    for i in range(50):
        client.set(f"session:{i}", "x")
    client.hset("user:1", mapping={"name": "Jane"})
    client.rpush("celery", "a message")  # a broker database: the backend is elsewhere

    scan = scan_results(db_url(server, 3))
    assert (scan.meta_keys, scan.group_keys, scan.sampled, scan.db_keys, scan.complete) == (0, 0, 0, 52, True)
    assert len(scan.notes) == 1
    assert "database 3 (52 keys in all)" in scan.notes[0] and "result backend's database" in scan.notes[0]
    empty = scan_results(f"redis://127.0.0.1:{server.port}?db=4")  # the db in the query, as redis-py allows
    assert (empty.db, empty.db_keys) == (4, 0) and "database 4" in empty.notes[0]


def test_values_that_are_not_celery_results_are_counted_not_fatal(server):
    client = server.client()
    ok = [str(uuid.uuid4()) for _ in range(5)]
    for i, task_id in enumerate(ok):
        client.set(f"celery-task-meta-{task_id}", result_meta(task_id, "t.ok", None if i < 2 else i, i))
    big_id = str(uuid.uuid4())
    client.set(f"celery-task-meta-{big_id}", result_meta(big_id, "t.big", "x" * (3 << 19), 0))  # 1.5 MB
    client.set("celery-task-meta-pickled", b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.")
    client.set("celery-task-meta-list", "[1, 2]")
    client.set("celery-task-meta-other", json.dumps({"state": "done"}))
    client.set("celery-task-meta-deep", "[" * 100_000 + "]" * 100_000)
    client.hset("celery-task-meta-hash", mapping={"status": "SUCCESS"})

    scan = scan_results(server.url)
    assert (scan.meta_keys, scan.sampled, scan.unrecognised, scan.too_large) == (11, 11, 5, 1)
    assert scan.null_results == 2 and scan.statuses == {"SUCCESS": 5}
    assert scan.result_extended
    assert [(t.name, t.keys, t.null_results) for t in scan.per_task] == [(UNKNOWN_TASK, 6, 0), ("t.ok", 5, 2)]
    assert any("5 of 11 sampled values are not Celery JSON" in note for note in scan.notes)
    assert any("1 of 11 sampled values are over 1 MiB" in note for note in scan.notes)


def test_keys_expiring_during_the_scan_are_counted_as_vanished(server):
    """12k keys, 4k of them with a PEXPIRE from 1 ms to 20 s (log-uniform): whatever the machine's speed,
    many expire between the SCAN that returns them and their inspection."""
    rng = random.Random(2)
    rows = []
    for i in range(12_000):
        task_id = str(uuid.UUID(int=rng.getrandbits(128)))
        ttl_ms = round(10 ** rng.uniform(0, 4.3)) if i % 3 == 0 else None
        rows.append((f"celery-task-meta-{task_id}", result_meta(task_id, "t.visit", None, i), ttl_ms))
    write_keys(server.client(), rows)

    scan = scan_results(server.url, sample=12_000)
    print(f"\n{scan.vanished} of {scan.meta_keys} scanned keys vanished before inspection")
    assert scan.vanished > 0
    assert scan.sampled + scan.vanished == scan.meta_keys and scan.sampled >= 8_000
    assert sum(scan.ttl.values()) == scan.sampled == scan.null_results
