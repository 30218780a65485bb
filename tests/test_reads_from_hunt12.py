"""Reads the twelfth false-positive hunt found missing (hunt12a: framework idioms and the breadth of Celery's API),
each with an unread control beside it where one makes sense. Both paths (``analyse_both_ways``).

``fire`` enqueues both tasks and drops the results, so each task is enqueued somewhere and only the form under
test can read it."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways
from helpers import RENDER_AND_AUDIT

TASKS = textwrap.dedent(RENDER_AND_AUDIT)  # render and audit, a Redis backend
IMPORTS = ("import functools\nfrom uuid import uuid4\n\nfrom celery import chain, chord, group\n"
           "from celery.canvas import Signature\nfrom celery.result import AsyncResult\nfrom django.db import transaction\n\n"
           "from proj.tasks import app, audit, render\n\n\n")
FIRE = "\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n"
POLL = "\n\ndef poll(tid):\n    return AsyncResult(tid).state\n"  # the project reads results by id


def verdicts(root):
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


def files_with(body: str) -> dict:
    return {"proj/tasks.py": TASKS, "proj/views.py": IMPORTS + body + FIRE}


# A canvas called like a function is sent (``_chain.__call__``, ``group.__call__`` and ``chord.__call__`` call
# ``apply_async``); ``.set()``, ``.on_error()`` and ``.clone()`` give back the same kind of canvas. Only one task's
# signature called runs that task here, in this process.
CANVAS_CALLED = [
    ("def run():\n    wf = chain(render.s(1), audit.s()).set(queue='low')\n    return wf().get()\n", "read"),
    ("def run():\n    return chain(render.s(1), audit.s()).set(queue='low')().get()\n", "read"),
    ("def run(xs):\n    g = group(render.s(x) for x in xs).set(queue='low')\n    return g().get()\n", "read"),
    ("def run():\n    wf = (render.s(1) | audit.s()).clone()\n    return wf().get()\n", "read"),
    ("def run():\n    return chain(render.s(1), audit.s()).on_error(audit.si(0))().get()\n", "read"),
    ("def run():\n    wf: chain = chain(render.s(1), audit.s())\n    return wf().get()\n", "read"),
    ("def run(on):\n    wf = chain(render.s(1), audit.s()) if on else group(render.s(1), audit.s())\n"
     "    return wf().get()\n", "read"),
    ("def run(wf=None):\n    wf = wf or chain(render.s(1), audit.s())\n    return wf().get()\n", "read"),
    # one task's signature called runs it here: nothing stored is read
    ("def run():\n    sig = render.s(1).set(queue='low')\n    return sig()\n", "unread"),
    ("def run():\n    sig: Signature = render.si(1)\n    return sig()\n", "unread"),
    # a canvas called and its result dropped
    ("def run():\n    chain(render.s(1), audit.s()).set(queue='low')()\n", "unread"),
]


@pytest.mark.parametrize("body, render", CANVAS_CALLED)
def test_a_canvas_called_is_sent(project, body, render):
    assert verdicts(project(files_with(body)))["render"] == render


def test_a_chord_with_options_called_reads_its_body(project):
    body = "def run(xs):\n    c = chord([render.s(x) for x in xs], audit.s()).set(queue='low')\n    return c().get()\n"
    assert verdicts(project(files_with(body)))["audit"] == "read"


# A group bound by an annotated assignment and piped or chained before a task: a chord, whose header is read.
ANNOTATED_HEADER = [
    ("def run(xs):\n    header: Signature = group(render.s(x) for x in xs)\n    (header | audit.s()).delay()\n", "read"),
    ("def run(xs):\n    header: group = group(render.s(x) for x in xs)\n    chain(header, audit.s()).delay()\n", "read"),
    # last in its chain: a group, not a header
    ("def run(xs):\n    tail: group = group(render.s(x) for x in xs)\n    chain(audit.s(), tail).delay()\n", "unread"),
]


@pytest.mark.parametrize("body, render", ANNOTATED_HEADER)
def test_an_annotated_group_piped_before_a_task_is_a_chord_header(project, body, render):
    assert verdicts(project(files_with(body)))["render"] == render


# An id chosen by the caller reaches apply_async: ``apply_async_on_commit`` passes its options on
# (``transaction.on_commit(partial(self.apply_async, *args, **kwargs))``), as ``functools.partial`` does, and
# ``apply_async``'s third positional parameter is the id. In a project that reads by id, it may be read.
ID_CHOSEN = [
    ("def start(row):\n    render.apply_async_on_commit((row.pk,), task_id=row.task_id)\n", "maybe"),
    ("def start():\n    tid = str(uuid4())\n    opts = {'task_id': tid, 'countdown': 5}\n"
     "    render.apply_async_on_commit((1,), **opts)\n    return tid\n", "maybe"),
    ("def start():\n    tid = str(uuid4())\n    transaction.on_commit(functools.partial(render.apply_async, (1,), task_id=tid))\n"
     "    return tid\n", "maybe"),
    ("def start():\n    tid = str(uuid4())\n    launch = functools.partial(render.apply_async, task_id=tid)\n"
     "    launch((1,))\n    return tid\n", "maybe"),
    ("def start():\n    tid = str(uuid4())\n    transaction.on_commit(functools.partial(app.send_task, 'proj.tasks.render', "
     "args=(1,), task_id=tid))\n    return tid\n", "maybe"),
    ("def start():\n    tid = str(uuid4())\n    render.apply_async((1,), None, tid)\n    return tid\n", "maybe"),
    # no id chosen: the send after commit returns None, and nothing else reads (``delay_on_commit``'s keywords are
    # the task's own)
    ("def start():\n    render.delay_on_commit(1, task_id='not-an-option')\n", "unread"),
    ("def start():\n    render.apply_async_on_commit((1,), countdown=5)\n", "unread"),
    ("def start():\n    transaction.on_commit(functools.partial(render.apply_async, (1,), countdown=5))\n", "unread"),
    ("def start():\n    render.apply_async((1,), None)\n", "unread"),
]


@pytest.mark.parametrize("body, render", ID_CHOSEN)
def test_an_id_chosen_by_the_caller_on_the_way_to_apply_async(project, body, render):
    assert verdicts(project(files_with(body + POLL)))["render"] == render


# A result handed to the project's own function or method named like a logging call: that function decides.
LOGGING_NAMED = [
    ("def log(result):\n    print('done:', result.get(timeout=10))\n\n\ndef run():\n    log(render.delay(1))\n", "read"),
    ("class Job:\n    def info(self, result):\n        return {'state': result.state}\n\n"
     "    def run(self):\n        return self.info(render.delay(1))\n", "read"),
    # a logger's own method only formats it
    ("import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef run():\n    logger.info('sent %s', render.delay(1))\n",
     "unread"),
]


@pytest.mark.parametrize("body, render", LOGGING_NAMED)
def test_a_result_handed_to_a_project_function_named_like_logging(project, body, render):
    assert verdicts(project(files_with(body)))["render"] in ({render} if render == "unread" else {"read", "maybe"})


# hunt12b: the enqueue method looked up with getattr and a literal name, on whatever holds the task
GETATTR_LITERAL = [
    ("def run():\n    job = render\n    return getattr(job, 'delay')(1).get()\n", "read"),
    ("def run():\n    for job in [render]:\n        getattr(job, 'delay')(1).get()\n", "read"),
    ("JOBS = {'r': render}\n\n\ndef run(k):\n    return getattr(JOBS[k], 'delay')(1).get()\n", "read"),
    ("def run():\n    job = render\n    return getattr(job, 'apply_async')((1,)).state\n", "read"),
    ("def run():\n    job = render\n    getattr(job, 'delay')(1)\n", "unread"),
]


@pytest.mark.parametrize("body, render", GETATTR_LITERAL)
def test_an_enqueue_method_looked_up_by_a_literal_name(project, body, render):
    assert verdicts(project(files_with(body)))["render"] == render


def test_a_list_of_tasks_from_another_module_enqueued_through_getattr(project):
    # the reading file has no Celery word but the quoted "delay" (the fast path must read it too)
    files = {"proj/tasks.py": TASKS + FIRE, "proj/registry.py": "from proj.tasks import render\n\nJOBS = [render]\n",
             "proj/views.py": "from proj.registry import JOBS\n\n\ndef run():\n"
                              "    return [getattr(j, 'delay')(1).get() for j in JOBS]\n"}
    assert verdicts(project(files))["render"] == "maybe"


# hunt12b, the fast path: what the slicer cut or the words it missed
SLICED_TEXT = [
    # a non-ASCII identifier (PEP 3131) holds the handle
    ("def run():\n    résultat = render.delay(1)\n    return résultat.get()\n", "read"),
    ("def run():\n    données = [render.delay(i) for i in range(3)]\n    return [d.get() for d in données]\n", "maybe"),
    # a line of a multi-line f-string that looks like a comment holds a field that reads
    ("def run():\n    r = render.delay(1)\n    return f\"\"\"\n# Total: {r.get()}\n\"\"\"\n", "read"),
    ("def run():\n    r = render.delay(1)\n    return f\"\"\"\n# Total: {r}\n\"\"\"\n", "unread"),
]
UNRELATED = "\n\ndef unrelated(x):\n    y = x + 1\n    return y\n"  # something for the slicer to cut


@pytest.mark.parametrize("body, render", SLICED_TEXT)
def test_what_the_slicer_keeps_for_a_read(project, body, render):
    assert verdicts(project(files_with(body + UNRELATED)))["render"] == render


def test_a_latin1_file_with_a_non_ascii_identifier(project):
    views = ("# -*- coding: latin-1 -*-\nfrom proj.tasks import render\n\n\ndef run():\n    é = render.delay(1)\n"
             "    return é.get()\n" + UNRELATED)
    root = project({"proj/tasks.py": TASKS + FIRE, "proj/views.py": ""})
    (root / "proj" / "views.py").write_bytes(views.encode("latin-1"))
    assert verdicts(root)["render"] == "read"


# hunt12a: a stray ``__init__.py`` beside manage.py. Django runs from that directory, so the modules below it are
# imported (and their tasks registered) without its name in front: ``orders.tasks``, not ``backend.orders.tasks``.
DJANGO_BESIDE_A_STRAY_INIT = {
    "backend/__init__.py": "",
    "backend/manage.py": "import os\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
    "backend/config/__init__.py": "",
    "backend/config/celery.py": "from celery import Celery\n\napp = Celery('config', backend='redis://')\n"
                                "app.autodiscover_tasks()\n",
    "backend/orders/__init__.py": "",
    "backend/orders/tasks.py": "from celery import shared_task\n\n\n@shared_task\ndef render(x):\n    return x\n",
    "backend/orders/signals.py": "from .tasks import render\n\n\ndef on_save(instance):\n    render.delay(instance.pk)\n",
}
STRAY_INIT_READS = [
    ("from orders.tasks import render\n\n\ndef run():\n    return render.delay(2).get()\n", "read"),
    ("from config.celery import app\n\n\ndef run():\n    return app.send_task('orders.tasks.render', args=(2,)).get()\n",
     "read"),
    ("from orders.tasks import render\n\n\ndef run():\n    render.delay(2)\n", "unread"),
]


@pytest.mark.parametrize("views, render", STRAY_INIT_READS)
def test_modules_beside_manage_py_are_named_as_django_imports_them(project, views, render):
    root = project({**DJANGO_BESIDE_A_STRAY_INIT, "backend/orders/views.py": views})
    assert verdicts(root)["render"] == render


def test_a_module_alias_in_a_file_with_lone_cr_line_ends(project):
    # Python reads a lone CR as a line break; the fast path's scan of imports must too
    views = "from proj import tasks\r\rT = tasks\r\r\rdef run():\r    return T.render.delay(1).get()\r"
    root = project({"proj/tasks.py": TASKS + FIRE, "proj/views.py": ""})
    (root / "proj" / "views.py").write_bytes(views.encode())
    assert verdicts(root)["render"] == "read"


def test_a_comment_between_the_dot_and_the_attribute(project):
    service = "from proj.tasks import render\n\n\ndef start(x):\n    return render.delay(x)\n"
    views = "from proj import service\n\n\ndef run():\n    return (service.  # the starter\n            start(1).get())\n"
    files = {"proj/tasks.py": TASKS, "proj/service.py": service, "proj/views.py": views,
             "proj/jobs.py": "from proj.service import start\n\n\ndef fire():\n    start(1)\n"}
    assert verdicts(project(files))["render"] == "read"
