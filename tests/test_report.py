"""``celery-lint report``: the audit, through the real CLI in a subprocess.

1. The bundled shop: every task's verdict, enqueue sites and kinds, reads, returns, ignore source and savings;
   totals, configuration and the result_expires table, as JSON; the table and Markdown as golden files.
2. Small projects in tmp_path: each source of ignore_result, the configuration read (result_expires,
   result_extended, a global ignore, no backend, annotations), what "returns a value" answers.
3. Bad input exits 2 with one line.
4. --redis on a real redis-server and a real worker (skipped without redis-server): the keys joined with the verdicts.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from celery_lint.report import costs
from helpers import REPO, cli, write

SHOP = REPO / "examples" / "shop"
GOLDEN = REPO / "tests" / "golden"
SMALL, TYPICAL = costs.SMALL[False], costs.TYPICAL[False]


def report_json(cwd: Path, *args: str) -> dict:
    result = cli(cwd, "report", "--no-cache", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 1 and len(data["projects"]) == 1
    return data["projects"][0]


def tasks_by_name(project: dict) -> dict:
    return {task["name"]: task for task in project["tasks"]}


def savings(per_key_low: int, per_key_high: int) -> dict:
    return {"keys": 1000, "commands": 2000, "bytes_low": 1000 * per_key_low, "bytes_high": 1000 * per_key_high}


# ----- 1. the bundled shop --------------------------------------------------------------------------------------

def test_the_measured_costs_are_the_ones_bench_redis_key_size_printed():
    """bench/redis_key_size.py on redis-server 7.0.15, Celery 5.7.0: MEMORY USAGE per key."""
    assert (costs.SMALL, costs.TYPICAL, costs.DEFAULT_EXPIRES) == ({False: 296, True: 424}, {False: 616, True: 744},
                                                                   86_400)


@pytest.fixture(scope="module")
def shop_json() -> dict:
    return report_json(REPO, "examples/shop")


def test_shop_per_task_json(shop_json):
    project = shop_json
    rows = [(t["name"], t["verdict"], t["enqueued"]["count"], t["enqueued"]["kinds"], t["reads"], t["returns_value"],
             t["ignore_result"]["source"], t["ignore_result"]["value"], t["finding"], t["savings_per_1000_runs"])
            for t in project["tasks"]]
    none_returned, value_returned = savings(SMALL, SMALL), savings(SMALL, TYPICAL)
    default = ("default", False)
    assert rows == [
        ("shop.analytics.track_event", "unread", 2, {"enqueue": 2}, [], False, *default, "CEL001", none_returned),
        ("shop.emails.send_order_confirmation", "unread", 1, {"enqueue": 1}, [], False, *default, "CEL001",
         none_returned),
        ("shop.emails.send_shipping_notice", "unread", 1, {"enqueue": 1}, [], False, *default, "CEL001", none_returned),
        ("shop.exports.export_orders_csv", "maybe", 1, {"enqueue": 1}, [], True, *default, None, None),
        ("shop.notifications.send_push", "unread", 1, {"enqueue": 1}, [], False, *default, "CEL001", none_returned),
        ("shop.notifications.notify_warehouse", "unread", 1, {"enqueue": 1}, [], False, *default, "CEL001",
         none_returned),
        ("shop.orders.compute_tax", "read", 1, {"enqueue": 1}, ["shop/views.py:22 (.get)"], True, *default, None, None),
        ("shop.orders.price_item", "read", 1, {"signature": 1},
         ["shop/views.py:38 (group member; canvas chord header)"], True, *default, None, None),
        ("shop.orders.summarise", "read", 1, {"signature": 1}, ["shop/views.py:39 (chord body; canvas .get)"], True,
         *default, None, None),
        ("shop.orders.fetch_orders", "unread", 1, {"signature": 1}, [], True, *default, "CEL001", value_returned),
        ("shop.orders.compute_totals", "unread", 1, {"signature": 1}, [], True, *default, "CEL001", value_returned),
        ("shop.orders.store_report", "unread", 1, {"signature": 1}, [], True, *default, "CEL001", value_returned),
        ("shop.orders.stock_level", "read", 2, {"enqueue": 2}, ["shop/views.py:65 (.get)"], True, *default, None, None),
        ("shop.workflows.build_nightly_report", "unread", 2, {"enqueue": 1, "beat": 1}, [], False, *default, "CEL001",
         none_returned),
    ]
    nightly = tasks_by_name(project)["shop.workflows.build_nightly_report"]
    assert [(s["at"], s["kind"], s["outcome"]) for s in nightly["enqueued"]["sites"]] == [
        ("run_workload.py:82", "enqueue", "discarded"), ("shop/celery_app.py:29", "beat", "discarded")]
    assert (nightly["path"], nightly["line"], nightly["kind"], nightly["stores"], nightly["fixable"]) == (
        "shop/workflows.py", 14, "function", True, True)


def test_shop_totals_configuration_and_savings_json(shop_json):
    project = shop_json
    assert project["totals"] == {"tasks": 14, "stored": 14, "read": 4, "unread": 9, "maybe": 1, "unused": 0,
                                 "ignored": 0, "ignored-but-read": 0, "unknown": 0, "no-backend": 0}
    assert project["config"] == {
        "backend": {"state": "configured", "at": "shop/celery_app.py:21", "env": None, "evidence": None},
        "result_expires": {"seconds": 86400, "never": False, "known": True, "at": None},  # unset: Celery's one day
        "task_ignore_result": {"value": False, "at": None, "env": None},
        "result_extended": {"value": False, "at": None},
        "task_annotations_at": None,
    }
    # 6 unread tasks return None (a small key), 3 return a value (small to typical)
    assert project["fix"] == {"tasks": 9, "runs_each": 1000, "keys": 9000, "commands": 18000,
                              "bytes_low": 9 * 1000 * SMALL, "bytes_high": 1000 * (6 * SMALL + 3 * TYPICAL)}
    assert project["expiry"]["staying"] == ["shop.exports.export_orders_csv", "shop.orders.compute_tax",
                                            "shop.orders.price_item", "shop.orders.summarise", "shop.orders.stock_level"]
    assert project["expiry"]["options"] == [
        {"seconds": s, "current": s == 86400, "keys_alive_per_run_per_second": s, "bytes_low": s * SMALL,
         "bytes_high": s * TYPICAL} for s in (86400, 3600, 600)]
    assert (project["errors"], project["live"], project["root"]) == ([], None, str(SHOP))
    assert project["measured"]["by"] == "bench/redis_key_size.py"
    assert any("/api/task/result" in note for note in project["notes"])  # what Flower still shows


def test_json_keys_are_stable(shop_json):
    project = shop_json
    assert sorted(project) == ["config", "errors", "expiry", "expiry_advice", "fix", "live", "measured", "notes", "root",
                               "tasks", "totals"]
    assert {tuple(sorted(task)) for task in project["tasks"]} == {(
        "enqueued", "finding", "fixable", "ignore_result", "kind", "line", "live", "name", "path", "qualname", "reads",
        "reason", "returns_value", "savings_per_1000_runs", "stores", "verdict")}


def test_paths_choose_the_tasks_reported_the_whole_project_is_still_analysed():
    project = report_json(REPO, "examples/shop/shop/emails.py", "examples/shop/shop/workflows.py")
    assert [(t["name"], t["verdict"]) for t in project["tasks"]] == [
        ("shop.emails.send_order_confirmation", "unread"), ("shop.emails.send_shipping_notice", "unread"),
        ("shop.workflows.build_nightly_report", "unread")]  # its beat entry in celery_app.py was seen
    assert project["totals"]["tasks"] == 3


@pytest.mark.parametrize("output_format", ["table", "markdown"])
def test_shop_table_and_markdown_match_their_golden_files(output_format):
    result = cli(REPO, "report", "--no-cache", "--format", output_format, "examples/shop")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == (GOLDEN / f"report.{output_format}").read_text()


def test_table_is_the_default_format():
    result = cli(REPO, "report", "--no-cache", "examples/shop")
    assert result.stdout == (GOLDEN / "report.table").read_text()


# ----- 2. small projects ----------------------------------------------------------------------------------------

APP = """\
    from celery import Celery, Task

    app = Celery("proj", backend="redis://")


    class Quiet(Task):
        ignore_result = True
    """

SOURCES = """\
    from proj.app import app, Quiet


    @app.task(ignore_result=True)
    def by_decorator():
        pass


    @app.task(base=Quiet)
    def by_base():
        pass


    @app.task
    def by_default():
        pass


    @app.task
    def by_call_site():
        pass


    @app.task(ignore_result=True)
    def ignored_but_read(x):
        return x


    @app.task
    def unused():
        pass
    """

CALLS = """\
    from proj.tasks import by_base, by_call_site, by_decorator, by_default, ignored_but_read


    def view():
        by_decorator.delay()
        by_base.delay()
        by_default.delay()
        by_default.apply_async(countdown=5)
        by_call_site.apply_async(ignore_result=True)
        return ignored_but_read.delay(1).get(timeout=5)
    """


def test_each_source_of_ignore_result(tmp_path):
    root = write(tmp_path / "proj", {"proj/__init__.py": "", "proj/app.py": APP, "proj/tasks.py": SOURCES,
                                     "proj/views.py": CALLS})
    tasks = tasks_by_name(report_json(root))
    rows = {name: (t["verdict"], t["stores"], t["ignore_result"]["value"], t["ignore_result"]["source"], t["finding"])
            for name, t in tasks.items() if name.startswith("proj.tasks.")}
    assert rows == {
        "proj.tasks.by_decorator": ("ignored", False, True, "decorator", None),
        "proj.tasks.by_base": ("ignored", False, True, "base", None),
        "proj.tasks.by_default": ("unread", True, False, "default", "CEL001"),
        "proj.tasks.by_call_site": ("ignored", False, True, "call-site", None),
        "proj.tasks.ignored_but_read": ("ignored-but-read", False, True, "decorator", "CEL002"),
        "proj.tasks.unused": ("unused", True, False, "default", None),
    }
    assert tasks["proj.tasks.by_default"]["enqueued"]["kinds"] == {"enqueue": 2}
    assert [s["ignore_result"] for s in tasks["proj.tasks.by_call_site"]["enqueued"]["sites"]] == [True]
    assert tasks["proj.tasks.ignored_but_read"]["reads"] == ["proj/views.py:10 (.get)"]


GLOBAL_APP = """\
    from celery import Celery

    app = Celery("proj", backend="redis://")
    app.conf.task_ignore_result = True
    app.conf.result_expires = 3600
    app.conf.result_extended = True
    """

GLOBAL_TASKS = """\
    from proj.app import app


    @app.task
    def quiet():
        pass


    @app.task(ignore_result=False)
    def kept():
        pass


    def view():
        quiet.delay()
        kept.delay()
    """


def test_a_global_ignore_and_the_configuration_it_comes_with(tmp_path):
    root = write(tmp_path / "proj", {"proj/__init__.py": "", "proj/app.py": GLOBAL_APP, "proj/tasks.py": GLOBAL_TASKS})
    project = report_json(root)
    tasks = tasks_by_name(project)
    assert [(t["verdict"], t["ignore_result"]["value"], t["ignore_result"]["source"]) for t in tasks.values()] == [
        ("ignored", True, "global"), ("unread", False, "decorator")]
    assert tasks["proj.tasks.quiet"]["ignore_result"]["detail"].startswith("the app config at proj/app.py:4")
    config = project["config"]
    assert config["result_expires"] == {"seconds": 3600, "never": False, "known": True, "at": "proj/app.py:5"}
    assert config["task_ignore_result"] == {"value": True, "at": "proj/app.py:4", "env": None}
    assert config["result_extended"] == {"value": True, "at": "proj/app.py:6"}
    # result_extended keys are bigger: the savings use those measurements
    assert tasks["proj.tasks.kept"]["savings_per_1000_runs"] == savings(costs.SMALL[True], costs.SMALL[True])
    assert [(o["seconds"], o["current"], o["bytes_low"]) for o in project["expiry"]["options"]] == [
        (3600, True, 3600 * costs.SMALL[True]), (600, False, 600 * costs.SMALL[True])]


def test_results_that_never_expire_and_an_expiry_we_cannot_read(tmp_path):
    never = write(tmp_path / "never", {"app.py": 'from celery import Celery\n\napp = Celery("x", backend="redis://")\n'
                                                 "app.conf.result_expires = None\n\n\n@app.task\ndef t():\n"
                                                 "    return 1\n\n\ndef view():\n    return t.delay().get()\n"})
    config = report_json(never)["config"]["result_expires"]
    assert config == {"seconds": None, "never": True, "known": True, "at": "app.py:4"}
    table = cli(never, "report", "--no-cache").stdout
    assert "result_expires      never expires" in table and "never (now)" in table
    dynamic = write(tmp_path / "dynamic", {"app.py": "from datetime import timedelta\nfrom celery import Celery\n\n"
                                                     'app = Celery("x", backend="redis://")\n'
                                                     "app.conf.result_expires = timedelta(hours=1)\n"})
    project = report_json(dynamic)
    assert project["config"]["result_expires"] == {"seconds": None, "never": False, "known": False, "at": "app.py:5"}
    assert project["expiry"]["options"] == []
    assert any("cannot read" in note for note in project["notes"])


def test_no_backend_means_nothing_is_stored(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(REPO / "fixtures" / "config_no_backend" / "project", root)
    project = report_json(root)
    assert [(t["verdict"], t["stores"], t["savings_per_1000_runs"]) for t in project["tasks"]] == [
        ("no-backend", False, None)] * 2
    assert project["config"]["backend"]["state"] == "absent"
    assert project["fix"]["keys"] == 0


def test_annotations_make_every_task_unknown(tmp_path):
    root = write(tmp_path / "proj", {
        "app.py": 'from celery import Celery\n\napp = Celery("x", backend="redis://")\n'
                  'app.conf.task_annotations = {"*": {"ignore_result": True}}\n\n\n@app.task\ndef t():\n    pass\n\n\n'
                  "def view():\n    t.delay()\n"})
    (task,) = report_json(root)["tasks"]
    assert (task["verdict"], task["stores"], task["ignore_result"]["value"], task["ignore_result"]["source"]) == (
        "unknown", None, "dynamic", "annotations")


RETURNS = """\
    import functools

    from celery import Celery, Task, shared_task

    app = Celery("proj", backend="redis://")


    def logged(f):
        @functools.wraps(f)
        def wrapper(*args):
            return f(*args)
        return wrapper


    @shared_task
    def falls_off(x):
        x.save()


    @shared_task
    def bare_or_none(x):
        if x:
            return
        elif x is None:
            raise ValueError(x)
        return None


    @shared_task
    def only_inner_returns():
        def helper():
            return 1
        helper()


    @shared_task
    def one_path_returns(x):
        if x:
            return x * 2


    @shared_task(bind=True)
    def returns_a_call(self):
        return self.request.id


    @shared_task
    @logged
    def wrapped():
        pass


    @shared_task
    def generator():
        yield 1


    class WithRun(Task):
        name = "proj.with_run"

        def run(self):
            return {"done": True}


    class NoRun(Task):
        name = "proj.no_run"


    def registered_body():
        pass


    registered = app.task(name="proj.registered")(registered_body)


    try:
        import ujson  # noqa: F401
    except ImportError:
        @shared_task
        def in_a_block():
            return "no ujson"
    """


def test_does_the_task_return_a_value(tmp_path):
    root = write(tmp_path / "proj", {"proj/__init__.py": "", "proj/tasks.py": RETURNS})
    returns = {name: t["returns_value"] for name, t in tasks_by_name(report_json(root)).items()}
    assert returns == {
        "proj.tasks.falls_off": False, "proj.tasks.bare_or_none": False, "proj.tasks.only_inner_returns": False,
        "proj.tasks.one_path_returns": True, "proj.tasks.returns_a_call": True,
        "proj.tasks.wrapped": None,  # the wrapper decides what is stored
        "proj.tasks.generator": None, "proj.with_run": True,
        "proj.no_run": None,  # run is inherited
        "proj.registered": False, "proj.tasks.in_a_block": True,
    }


def test_a_file_that_does_not_parse_is_listed(tmp_path):
    root = write(tmp_path / "proj", {"proj/__init__.py": "", "proj/app.py": APP, "proj/tasks.py": SOURCES,
                                     "proj/broken.py": "from proj.tasks import by_default\ndef (:\n"})
    project = report_json(root)
    assert [e.split(":")[0] for e in project["errors"]] == ["proj/broken.py"]
    assert tasks_by_name(project)["proj.tasks.by_default"]["verdict"] == "maybe"  # broken.py mentions it


# ----- 3. bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["report", "no/such/dir"], "does not exist"),
    (["report", "--format", "yaml", "."], "'yaml' is not one of"),
    (["report", "--sample", "10", "."], "--sample, --max-keys and --deadline go with --redis URL"),
])
def test_bad_usage_exits_2(tmp_path, args, says):
    write(tmp_path, {"a.py": ""})
    result = cli(tmp_path, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert says in result.stderr


def test_a_bad_config_exits_2(tmp_path):
    write(tmp_path, {"a.py": "", "pyproject.toml": "[tool.celery-lint]\nselect = 'CEL001'\n"})
    result = cli(tmp_path, "report", "--no-cache")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("celery-lint: error: ") and result.stderr.count("\n") == 1


def test_a_redis_that_cannot_be_reached_exits_2_with_one_line(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = cli(SHOP, "report", "--no-cache", "--redis", f"redis://:hunter2@127.0.0.1:{port}/0", ".")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("celery-lint: error: cannot connect to redis://:***@127.0.0.1:")
    assert result.stderr.count("\n") == 1 and "hunter2" not in result.stderr


# ----- 4. a live Redis, joined with the verdicts ----------------------------------------------------------------

needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="redis-server is not installed (apt-get install redis-server); CI installs it")


@pytest.mark.slow  # a real worker writes the keys
@needs_redis
def test_live_keys_are_joined_with_the_verdicts(tmp_path):
    """The shop (with result_extended on, so keys name their task) on a real worker, 26 iterations of its
    workload: every key counted, and each task's keys under its static verdict."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import redis_helpers as harness

    shop = harness.copy_shop(tmp_path)
    app_file = shop / "shop" / "celery_app.py"
    source = app_file.read_text()
    assert "app.conf.update(\n" in source
    app_file.write_text(source.replace("app.conf.update(\n", "app.conf.update(\n    result_extended=True,\n"))
    with harness.RedisServer(tmp_path / "redis") as server:
        client = server.client()
        with harness.CeleryWorker(harness.SHOP_APP_MODULE, shop, server.url, tmp_path / "worker.log",
                                  env={"SHOP_REDIS_URL": server.url}):
            harness.run_workload(shop, server.url, 26)
            harness.wait_until_drained(server.url, client)
        keys = harness.result_keys(client)
        stored = {}  # task name -> [keys, MEMORY USAGE], read straight from Redis
        for key in keys:
            row = stored.setdefault(json.loads(client.get(key))["name"], [0, 0])
            row[0] += 1
            row[1] += client.memory_usage(key, samples=0)
        result = cli(shop, "report", "--no-cache", "--format", "json", "--redis", server.url, ".")
        table = cli(shop, "report", "--no-cache", "--redis", server.url, ".").stdout
    assert result.returncode == 0, result.stderr
    project = json.loads(result.stdout)["projects"][0]
    live = project["live"]
    assert (live["meta_keys"], live["sampled"], live["complete"], live["result_extended"]) == (81, 81, True, True)
    # 26 page views + 7 orders; 7 orders and shipments; 1 basket of 3 lines; 1 export; 1 nightly report chain;
    # 3 stock refreshes and 1 stock check
    counts = {"shop.analytics.track_event": 33, "shop.emails.send_order_confirmation": 7,
              "shop.emails.send_shipping_notice": 7, "shop.notifications.send_push": 7,
              "shop.notifications.notify_warehouse": 7, "shop.workflows.build_nightly_report": 1,
              "shop.orders.fetch_orders": 1, "shop.orders.compute_totals": 1, "shop.orders.store_report": 1,
              "shop.orders.compute_tax": 7, "shop.orders.price_item": 3, "shop.orders.summarise": 1,
              "shop.exports.export_orders_csv": 1, "shop.orders.stock_level": 4}
    assert {name: row[0] for name, row in stored.items()} == counts
    verdicts = {t["name"]: t["verdict"] for t in project["tasks"]}
    assert {t["name"]: (t["keys"], t["bytes"], t["verdict"]) for t in live["tasks"]} == {
        name: (n, stored[name][1], verdicts[name]) for name, n in counts.items()}
    by_verdict = {v: (k["tasks"], k["keys"]) for v, k in live["by_verdict"].items()}
    assert by_verdict == {"unread": (9, 65), "read": (4, 15), "maybe": (1, 1)}
    unread_bytes = sum(stored[name][1] for name, v in verdicts.items() if v == "unread")
    assert live["by_verdict"]["unread"]["bytes"] == unread_bytes
    assert {t["name"]: t["live"]["keys"] for t in project["tasks"]} == counts
    assert project["config"]["result_extended"]["value"] is True
    assert "unread: 65 keys" in table and "(9 tasks)" in table


def test_an_unknown_backend_is_shown_with_its_evidence(tmp_path):
    root = tmp_path / "relay"
    shutil.copytree(REPO / "fixtures" / "backend_unseen" / "project", root)
    backend = report_json(root)["config"]["backend"]
    assert backend == {"state": "unknown", "at": None, "env": None,
                       "evidence": 'the config is loaded from pyfile_to_module(config["celery_config"], '
                                   '"celeryconfig"), which celery-lint cannot read, at relay/worker.py:8'}
