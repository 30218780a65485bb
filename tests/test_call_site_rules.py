"""CEL003 (a call that throws away a result other calls read) and CEL004 (a task waiting for a result) beyond
their documented examples: the fix's forms, what keeps each rule silent, the opt-in selection, and the
result_expires advice of ``celery-lint report``."""
from __future__ import annotations

import pytest

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.fixing.writing import fix_report
from celery_lint.report import audit
from conftest import write_project

TASKS = "from celery import Celery\n\napp = Celery('p', backend='redis://')\n\n\n@app.task\ndef add(x=0, y=0):\n    return x + y\n"
READ = "from tasks import add\n\n\ndef total():\n    return add.delay(1, 2).get(timeout=5)\n\n\ndef warm_up(x, items):\n"


def run(tmp_path, views: str, select=("CEL003", "CEL004"), tasks: str = TASKS):
    root = write_project(tmp_path / "p", {"tasks.py": tasks, "views.py": views})
    config = config_module.load(root).with_overrides(select=select)
    reports = [engine.analyse_root(root, config, use_cache=False, speed=speed) for speed in (True, False)]
    assert [f.format() for f in reports[0].findings] == [f.format() for f in reports[1].findings]
    return root, reports[0]


@pytest.mark.parametrize("call,fixed", [
    ("add.delay()", "add.apply_async(ignore_result=True)"),
    ("add.delay(x)", "add.apply_async((x,), ignore_result=True)"),
    ("add.delay(x, 2)", "add.apply_async((x, 2), ignore_result=True)"),
    ("add.delay(y=x)", 'add.apply_async(kwargs={"y": x}, ignore_result=True)'),
    ("add.delay(sum(i for i in items))", "add.apply_async((sum(i for i in items),), ignore_result=True)"),
    ("add.delay(\n        x,\n        y=2,\n    )",
     'add.apply_async(\n        (x,),\n        {"y": 2},\n        ignore_result=True,\n    )'),
    ("add.apply_async((x,), countdown=3)", "add.apply_async((x,), countdown=3, ignore_result=True)"),
    ("add.apply_async()", "add.apply_async(ignore_result=True)"),
])
def test_the_fix_passes_ignore_result_at_the_call(tmp_path, call, fixed):
    root, report = run(tmp_path, READ + f"    {call}\n")
    assert [(f.code, f.line, f.col, f.fix is not None) for f in report.findings] == [("CEL003", 9, 5, True)]
    fix_report(report, write=True)
    assert (root / "views.py").read_text() == READ + f"    {fixed}\n"
    compile((root / "views.py").read_text(), "views.py", "exec")


@pytest.mark.parametrize("call", ["add.delay(*items)", "add.delay(**kw)", "add.delay(x,  # why\n        2)"])
def test_calls_it_cannot_rewrite_are_left_to_fix_by_hand(tmp_path, call):
    root, report = run(tmp_path, READ.replace("items)", "items, kw={})") + f"    {call}\n")
    codes = [(f.code, f.fix) for f in report.findings]
    if "**" in call:  # ``**kw`` may hold ignore_result: the call is not even reported
        assert codes == []
        return
    assert codes == [("CEL003", None)] and "by hand" in report.findings[0].message


@pytest.mark.parametrize("views", [
    READ + "    add.delay(x)  # noqa: CEL003\n",  # suppressed where it is reported
    READ + "    r = add.delay(x)\n    r.forget()\n",  # not a bare statement: left alone
    READ + "    return [add.delay(x)]\n",  # kept in a container that escapes
    READ + "    add.apply_async((x,), task_id=str(x))\n",  # its id chosen by the caller
    READ + "    add.s(x).delay()\n",  # through a signature
    READ + "    add.apply_async((x,), **items)\n",  # options we cannot read
    "from tasks import add\n\n\ndef warm_up(x):\n    add.delay(x)\n",  # nothing reads: CEL001's business
])
def test_cel003_stays_silent(tmp_path, views):
    _root, report = run(tmp_path, views)
    assert [f.code for f in report.findings] == []


def test_cel003_leaves_calls_in_tasks_alone_when_results_are_read_by_id(tmp_path):
    """The run a task enqueues is one of its children: ``AsyncResult(parent_id).children`` may reach it."""
    tasks = TASKS + "\n\n@app.task\ndef refresh(x):\n    add.delay(x)\n"
    views = READ + "    from celery.result import AsyncResult\n    return AsyncResult(x).children\n"
    _root, report = run(tmp_path, views, tasks=tasks)
    assert [f.code for f in report.findings] == []


def test_cel003_is_opt_in_a_prefix_does_not_select_it(tmp_path):
    views = READ + "    add.delay(x)\n"
    for select, expected in ((("CEL",), []), (config_module.DEFAULT_CODES, []), (("CEL003",), ["CEL003"])):
        _root, report = run(tmp_path / "_".join(select), views, select=select)
        assert [f.code for f in report.findings] == expected, select


WAITING = TASKS + "\n\n@app.task\ndef total(n):\n{body}"


@pytest.mark.parametrize("body,line", [
    ("    return add.delay(n).get()\n", 13),
    ("    r = add.delay(n)\n    return r.wait(timeout=3)\n", 14),
    ("    def inner():\n        return add.delay(n).get()\n    return inner()\n", 14),
    ("    from celery import group\n    return group(add.s(i) for i in range(n)).apply_async().get()\n", 14),
    # reads by id, in every spelling
    ("    from celery.result import AsyncResult\n    return AsyncResult(n).get(timeout=1)\n", 14),
    ("    return app.AsyncResult(n).get()\n", 13),
    ("    from celery import result\n    handle = result.AsyncResult(n)\n    return handle.wait()\n", 15),
    ("    from celery.result import GroupResult\n    return GroupResult.restore(n).join()\n", 14),
    ("    return add.AsyncResult(n).get()\n", 13),
])
def test_cel004_finds_waits_in_task_bodies(tmp_path, body, line):
    _root, report = run(tmp_path, "", tasks=WAITING.format(body=body))
    assert [(f.code, f.line) for f in report.findings] == [("CEL004", line)]
    assert "Never call result.get() within a task!" in report.findings[0].message


@pytest.mark.parametrize("body", [
    "    from celery.result import allow_join_result\n    with allow_join_result():\n        return add.delay(n).get()\n",
    "    return add.delay(n).state\n",  # reading the state does not wait
])
def test_cel004_stays_silent(tmp_path, body):
    _root, report = run(tmp_path, "", tasks=WAITING.format(body=body))
    assert [f.code for f in report.findings] == []


HELPERS = "from celery.result import AsyncResult\nfrom tasks import add, app\n\n\n"
A_TASK = "\n\n@app.task\ndef ping():\n    return 1\n"  # only the functions of modules defining a task are followed


@pytest.mark.parametrize("helpers,body,line,path", [
    # a helper in another module, called from the task
    (HELPERS + "def wait_for(n):\n    return add.delay(n).get(timeout=5)\n", "    return wait_for(n)\n", 14,
     "wait_for() (helpers.py:6)"),
    # helper of helper, the read by id in a local
    (HELPERS + "def fetch(n):\n    return poll(n)\n\n\ndef poll(i):\n    r = app.AsyncResult(i)\n    return r.get()\n",
     "    return fetch(n)\n", 14, "fetch() -> poll() (helpers.py:11)"),
    # a cycle on the way: each function once
    (HELPERS + "def a(n):\n    return b(n)\n\n\ndef b(n):\n    return a(n) or GroupResult.restore(n).join()\n",
     "    return a(n)\n", 14, "a() -> b() (helpers.py:10)"),
    # four calls deep, the most followed
    (HELPERS + "def f1(n):\n    return f2(n)\n\n\ndef f2(n):\n    return f3(n)\n\n\ndef f3(n):\n    return f4(n)\n\n\n"
     "def f4(n):\n    return AsyncResult(n).wait()\n", "    return f1(n)\n", 14, "f1() -> f2() -> f3() -> f4() (helpers.py:18)"),
])
def test_cel004_follows_helpers_to_the_call_in_the_task(tmp_path, helpers, body, line, path):
    helpers = helpers.replace("from celery.result import AsyncResult", "from celery.result import AsyncResult, GroupResult")
    helpers += A_TASK
    tasks = WAITING.format(body="    from helpers import a, f1, fetch, wait_for\n" + body)
    root = write_project(tmp_path / "p", {"tasks.py": tasks, "helpers.py": helpers})
    config = config_module.load(root).with_overrides(select=("CEL004",))
    reports = [engine.analyse_root(root, config, use_cache=False, speed=speed) for speed in (True, False)]
    assert [f.format() for f in reports[0].findings] == [f.format() for f in reports[1].findings]
    assert [(f.path, f.line) for f in reports[0].findings] == [("tasks.py", line)]
    assert f"through {path}:" in reports[0].findings[0].message


@pytest.mark.parametrize("helpers", [
    HELPERS + "def wait_for(n):\n    return add.delay(n).get(disable_sync_subtasks=False)\n",  # allowed where written
    HELPERS + "def wait_for(n):\n    def later():\n        return add.delay(n).get()\n    return later\n",  # never called
    HELPERS + "def wait_for(n, cache):\n    return cache.get(n), {}.get(n), add.delay(n).state\n",  # no result waited on
    HELPERS + "def wait_for(n):\n    return w1(n)\n\n\ndef w1(n):\n    return w2(n)\n\n\ndef w2(n):\n    return w3(n)\n\n\n"
    "def w3(n):\n    return w4(n)\n\n\ndef w4(n):\n    return add.delay(n).get()\n",  # five calls deep: not followed
])
def test_cel004_through_helpers_stays_silent(tmp_path, helpers):
    tasks = WAITING.format(body="    from helpers import wait_for\n    return wait_for(n, None)\n")
    root = write_project(tmp_path / "p", {"tasks.py": tasks, "helpers.py": helpers + A_TASK})
    config = config_module.load(root).with_overrides(select=("CEL004",))
    for speed in (True, False):
        assert engine.analyse_root(root, config, use_cache=False, speed=speed).findings == []


def test_cel004_does_not_follow_functions_of_modules_without_tasks(tmp_path):
    """A view that waits is no task's wait; following every such function would cost the speed layer a read of
    every file naming it."""
    helpers = HELPERS + "def wait_for(n):\n    return add.delay(n).get()\n"
    tasks = WAITING.format(body="    from helpers import wait_for\n    return wait_for(n)\n")
    root = write_project(tmp_path / "p", {"tasks.py": tasks, "helpers.py": helpers})
    config = config_module.load(root).with_overrides(select=("CEL004",))
    for speed in (True, False):
        assert engine.analyse_root(root, config, use_cache=False, speed=speed).findings == []
    (root / "helpers.py").write_text(helpers + A_TASK)
    assert [f.line for f in engine.analyse_root(root, config, use_cache=False).findings] == [14]


def test_cel004_allowed_around_the_call_in_the_task(tmp_path):
    helpers = HELPERS + "def wait_for(n):\n    return add.delay(n).get()\n" + A_TASK
    tasks = WAITING.format(body="    from celery.result import allow_join_result\n    from helpers import wait_for\n"
                                "    with allow_join_result():\n        return wait_for(n)\n")
    root = write_project(tmp_path / "p", {"tasks.py": tasks, "helpers.py": helpers})
    config = config_module.load(root).with_overrides(select=("CEL004",))
    assert engine.analyse_root(root, config, use_cache=False).findings == []


def advice_for(tmp_path, views: str, tasks: str = TASKS):
    root = write_project(tmp_path / "p", {"tasks.py": tasks, "views.py": views})
    return audit.build(engine.analyse_root(root, config_module.load(root), use_cache=False)).expiry_advice


def test_expiry_advice_from_bounded_waits(tmp_path):
    advice = advice_for(tmp_path, READ + "    return add.delay(x).get(timeout=45)\n")
    assert (advice.seconds, advice.largest_timeout, advice.waits) == (120, 45.0, ["views.py:5", "views.py:9"])
    assert advice.retired_keys == pytest.approx(1000 * (86400 - 120) / 86400)


@pytest.mark.parametrize("wait", [
    "    r = add.delay(x)\n    return r.get(timeout=45)\n",
    "    r = add.apply_async((x,))\n    log(x)\n    try:\n        return r.get(timeout=45, propagate=False)\n"
    "    except TimeoutError:\n        return None\n",
    "    for i in items:\n        r = add.delay(i)\n        r.get(timeout=45)\n",
])
def test_expiry_advice_from_a_local_handle_waited_on(tmp_path, wait):
    root = write_project(tmp_path / "p", {"tasks.py": TASKS, "views.py": READ + wait})
    for speed in (True, False):  # the handle is followed the same on both paths
        report = engine.analyse_root(root, config_module.load(root), use_cache=False, speed=speed)
        advice = audit.build(report).expiry_advice
        assert (advice.seconds, advice.largest_timeout, len(advice.waits)) == (120, 45.0, 2), advice.why_not


@pytest.mark.parametrize("views", [
    READ + "    r = add.delay(x)\n    return r.get(timeout=45), r\n",  # the handle goes on
    READ + "    r = add.delay(x)\n    for i in items:\n        r.get(timeout=45)\n",  # waited on in a loop
    READ + "    r = add.delay(x)\n    def later():\n        return r.get(timeout=45)\n    return later\n",
    READ + "    r = add.delay(x)\n    return r.get(timeout=limit)\n",  # a timeout we cannot read
    READ + "    r = add.delay(x)\n    r.get(timeout=45)\n    return r.get(timeout=45)\n",  # waited on twice
])
def test_no_expiry_advice_for_a_handle_waited_on_later(tmp_path, views):
    advice = advice_for(tmp_path, views)
    assert advice.seconds is None and any("right after the enqueue" in reason for reason in advice.why_not), advice.why_not


@pytest.mark.parametrize("views,why", [
    (READ + "    r = add.delay(x)\n    return r.state\n", "not a .get(timeout=N) right after the enqueue"),
    (READ + "    return add.delay(x).get()\n", "not a .get(timeout=N) right after the enqueue"),
    (READ + "    from celery.result import AsyncResult\n    return AsyncResult(x).get(timeout=1)\n", "read by id"),
    # handles kept in a list and waited on one after another: the last may be read long after its run
    (READ + "    return add.delay(x).get(timeout=45)\n\ndef many(items):\n    rs = [add.delay(i) for i in items]\n"
            "    return [r.get(timeout=45) for r in rs]\n", "may read it any time"),
    (READ + "    return add.delay(x).get(timeout=45)\n\ndef keep(x):\n    return add.delay(x)\n", "may read it any time"),
])
def test_no_expiry_advice_says_why(tmp_path, views, why):
    advice = advice_for(tmp_path, views)
    assert advice.seconds is None and any(why in reason for reason in advice.why_not), advice.why_not
