"""Every way of using a result from the fact sheet (../shared/celery-semantics.md), one case each:
reads (and things we cannot follow) keep the task silent; discards give CEL001."""
from __future__ import annotations

import pytest

from conftest import lint

TASKS = """
from celery import Celery, chain, chord, group, signature
app = Celery("shop", backend="redis://")

@app.task
def work(x=1):
    return x

@app.task
def other(x=1):
    return x
"""

CEL001 = "shop/tasks.py:5:1: CEL001 result of task 'shop.tasks.work' is stored but never read (enqueued at 1 place); add ignore_result=True"

READS = {
    "get": "work.delay(1).get(timeout=5)",
    "get through a variable": "r = work.delay(1)\n    return r.get()",
    "apply_async get": "return work.apply_async((1,)).get()",
    "state": "return work.delay().state",
    "status": "return work.delay().status",
    "ready": "return work.delay().ready()",
    "successful": "return work.delay().successful()",
    "failed": "return work.delay().failed()",
    "result attribute": "return work.delay().result",
    "info": "return work.delay().info",
    "traceback": "return work.delay().traceback",
    "wait": "work.delay().wait()",
    "then": "work.delay().then(print)",
    "children": "return work.delay().children",
    "collect": "return list(work.delay().collect())",
    "value thrown away is still a barrier": "work.delay().get()",
    "returned to the caller": "return work.delay(1)",
    "stored on an object": "self_obj = object()\n    self_obj.result = work.delay(1)",
    "kept in a list": "pending = [work.delay(i) for i in range(3)]\n    return pending",
    "passed on": "track(work.delay(1))",
    "chain read": "return chain(work.s(), other.s()).apply_async().get()",
    "chain read via pipe": "return (work.s() | other.s())().get()",
    "chord header": "chord([work.s(1), work.s(2)])(other.s())",
    "group piped into a task": "(group(work.s(i) for i in range(3)) | other.s()).delay()",
    "group read": "return group(work.s(i) for i in range(3)).apply_async().get()",
    "group join": "return group([work.s(1)])().join()",
    "signature by name read": "return signature('shop.tasks.work').delay().get()",
    "send_task read": "return app.send_task('shop.tasks.work').get()",
    "call-site ignore_result=False": "work.apply_async((1,), ignore_result=False)",
    "task AsyncResult": "return work.AsyncResult('abc').state",
    "id taken and read by id elsewhere": "tid = work.delay(1).id\n    return app.AsyncResult(tid).state",
    "walrus then read": "if (r := work.delay()):\n        return r.get()",
    # Celery makes a chord of a group followed by a task, wherever the chain's steps were listed
    "group listed before a task, chained": "steps = [group([work.s(1)]), other.s()]\n    chain(*steps).delay()",
    "group appended to steps, chained": "steps = []\n    steps.append(group(work.s(1), work.s(2)))\n"
                                         "    steps.append(other.s())\n    chain(steps).apply_async()",
    "signatures made by map, group read": "return group(map(work.s, [1, 2])).apply_async().get()",
}

DISCARDS = {
    "delay": "work.delay(1)",
    "apply_async": "work.apply_async((1,), countdown=5)",
    "assigned, never used": "r = work.delay(1)",
    "only revoked": "r = work.delay(1)\n    r.revoke()",
    "only its id logged": "r = work.delay(1)\n    print(r.id)",
    "chain discarded": "chain(other.s(), work.s()).apply_async()",
    "chain via pipe discarded": "(other.s() | work.s()).delay()",
    "group discarded": "group(work.s(i) for i in range(3)).apply_async()",
    "link callback": "other.apply_async((1,), link=work.s())",
    "send_task by name": "app.send_task('shop.tasks.work')",
    "on_commit lambda": "transaction.on_commit(lambda: work.delay(1))",
    "eager apply": "work.apply((1,)).get()\n    work.delay()",
    "direct call": "work(1)\n    work.delay()",
    "map": "work.map([1, 2]).delay()\n    work.delay()",
    "signatures made by map, group discarded": "group(map(work.s, [1, 2])).apply_async()\n    work.delay()",
}


def build(project, body: str):
    return project({
        "shop/tasks.py": TASKS,
        "shop/views.py": "from shop.tasks import app, work, other, chain, chord, group, signature\n"
                         "from shop.util import track, transaction\n\n"
                         f"def view():\n    {body}\n",
        "shop/util.py": "def track(x):\n    pass\n\ntransaction = None\n",
    })


@pytest.mark.parametrize("body", READS.values(), ids=READS.keys())
def test_reads_keep_the_task_silent(project, body):
    assert [f for f in lint(build(project, body)) if "'shop.tasks.work'" in f] == []


@pytest.mark.parametrize("body", DISCARDS.values(), ids=DISCARDS.keys())
def test_discards_are_reported(project, body):
    findings = [f for f in lint(build(project, body)) if "'shop.tasks.work'" in f]
    assert len(findings) == 1 and findings[0].startswith("shop/tasks.py:5:1: CEL001")


DECORATORS = {
    "@app.task": ("from shop.celery import app", "@app.task"),
    "@app.task()": ("from shop.celery import app", "@app.task()"),
    "@shared_task": ("from celery import shared_task", "@shared_task"),
    "@shared_task(...)": ("from celery import shared_task", "@shared_task(queue='q')"),
    "@celery.task": ("from shop.celery import celery", "@celery.task"),
    "imported alias": ("from celery import shared_task as st", "@st"),
    "assignment alias": ("from shop.celery import job", "@job"),
    "stacked below another decorator": ("from celery import shared_task\nfrom functools import lru_cache", "@lru_cache\n@shared_task"),
    "module import": ("import celery", "@celery.shared_task"),
}


@pytest.mark.parametrize("imports,decorator", DECORATORS.values(), ids=DECORATORS.keys())
def test_decorator_forms(project, imports, decorator):
    root = project({
        "shop/celery.py": "from celery import Celery, shared_task\napp = Celery('shop', backend='redis://')\ncelery = app\njob = shared_task\n",
        "shop/tasks.py": f"{imports}\n\n{decorator}\ndef work():\n    pass\n",
        "shop/views.py": "from shop.tasks import work\n\ndef view():\n    work.delay()\n",
    })
    findings = lint(root)
    assert len(findings) == 1 and "CEL001 result of task 'shop.tasks.work'" in findings[0]


def test_not_a_celery_decorator(project):
    root = project({
        "shop/tasks.py": "from huey import RedisHuey\nhuey = RedisHuey()\n\n@huey.task()\ndef work():\n    pass\n",
        "shop/views.py": "from shop.tasks import work\n\ndef view():\n    work()\n",
    })
    assert lint(root) == []


def test_no_backend_configured_means_nothing_to_save(project):
    root = project({
        "shop/tasks.py": "from celery import Celery\napp = Celery('shop', broker='redis://')\n\n@app.task\ndef work():\n    pass\n",
        "shop/views.py": "from shop.tasks import work\n\ndef view():\n    work.delay()\n",
    })
    assert lint(root) == []


def test_result_read_in_a_file_that_does_not_parse_keeps_the_task_silent(project):
    root = project({
        "shop/tasks.py": "from celery import shared_task\n\n@shared_task\ndef work():\n    pass\n",
        "shop/views.py": "from shop.tasks import work\n\ndef view():\n    work.delay()\n",
        "shop/poll.py": "from shop.tasks import work\n\ndef poll(:\n    return work.delay().get()\n",
    })
    assert lint(root) == ["shop/poll.py:3:10: CEL000 cannot parse: invalid syntax"]  # and no CEL001 for work


# ----- results returned by helper functions, and getattr dispatchers: followed to every call -----

HELPER_TASKS = """
from celery import shared_task

@shared_task
def export(x):
    return x

@shared_task
def purge(x):
    return x
"""


def helper_project(project, services: str, views: str):
    return project({"shop/tasks.py": HELPER_TASKS, "shop/services.py": services, "shop/views.py": views})


def exported(findings):
    return sorted(f.split("'")[1] for f in findings)


def test_result_returned_by_a_helper_whose_callers_discard_it(project):
    root = helper_project(project, "from shop.tasks import export\n\ndef start(x):\n    return export.delay(x)\n",
                          "from shop.services import start\n\ndef view():\n    start(1)\n\ndef other():\n    r = start(2)\n")
    assert exported(lint(root)) == ["shop.tasks.export"]


def test_result_returned_by_a_helper_and_read_in_a_file_without_celery_words(project):
    root = helper_project(project, "from shop.tasks import export\n\ndef start(x):\n    r = export.delay(x)\n    return r\n",
                          "from shop.services import start\n\ndef view():\n    start(1)\n\ndef poll():\n    return start(2).get()\n")
    assert lint(root) == []


def test_helper_handed_on_as_a_value_keeps_its_result_silent(project):
    root = helper_project(project, "from shop.tasks import export\n\ndef start(x):\n    return export.delay(x)\n",
                          "from shop.services import start\n\nACTIONS = {'start': start}\n\ndef view():\n    start(1)\n")
    assert lint(root) == []


DISPATCHER = "from shop import tasks\n\ndef run(name, x):\n    return getattr(tasks, name).delay(x).get(timeout=5)\n"


def test_getattr_dispatcher_called_only_with_literals_reads_only_those_tasks(project):
    root = helper_project(project, DISPATCHER,
                          "from shop.services import run\nfrom shop.tasks import purge\n\n"
                          "def view():\n    run('export', 1)\n    run(name='export', x=2)\n    purge.delay(3)\n")
    assert exported(lint(root)) == ["shop.tasks.purge"]


def test_getattr_dispatcher_called_with_a_variable_may_read_any_task_of_the_module(project):
    root = helper_project(project, DISPATCHER,
                          "from shop.services import run\nfrom shop.tasks import purge\n\n"
                          "def view(which):\n    run('export', 1)\n    run(which, 2)\n    purge.delay(3)\n")
    assert lint(root) == []
