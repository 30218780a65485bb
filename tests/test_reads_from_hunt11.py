"""Reads the eleventh false-positive hunt found missing (hunt11a: object-oriented and cross-module shapes; hunt11b:
the breadth of Celery's own API), each with an unread control beside it where one makes sense. A task whose result
is read through these forms is never CEL001; the same form with nothing read stays CEL001. Both paths
(``analyse_both_ways``: the fast path must answer as the plain path does).

``start`` (in ``proj/service.py``) returns ``render.delay(x)``; ``fire`` enqueues both tasks and drops the results,
so each task is enqueued somewhere and only the form under test can read it."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways
from helpers import RENDER_AND_AUDIT

TASKS = textwrap.dedent(RENDER_AND_AUDIT)  # render and audit, a Redis backend
SERVICE = ("from proj.tasks import render\n\n\ndef start(x):\n    return render.delay(x)\n\n\n"
           "def inline(x):\n    return x\n\n\ndef fire():\n    start(0)\n")
IMPORTS = ("import functools\n\nfrom celery import chain, chord, group\nfrom celery.result import AsyncResult\n\n"
           "from proj.service import inline, start\nfrom proj.tasks import app, audit, render\n\n\n")
FIRE = "\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n"
HANDS_OUT_ID = "def begin():\n    return {'task_id': render.delay(1).id}\n\n\n"  # render's id handed out


def verdicts(root):
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


def files_with(body: str, **more: str) -> dict:
    files = {"proj/tasks.py": TASKS, "proj/service.py": SERVICE, "proj/views.py": IMPORTS + body + FIRE}
    files.update({f"proj/{name}.py": source for name, source in more.items()})
    return files


# One of Celery's reads by id handed on as a value, or subclassed: whatever gets it may read any id.
READERS_AS_VALUES = [
    ("class JobResult(AsyncResult):\n    pass\n\n\ndef poll(tid):\n    return JobResult(tid).state\n", "maybe"),
    ("def poll(ids):\n    return [r.state for r in map(AsyncResult, ids)]\n", "maybe"),
    ("def poll(ids):\n    return [r.state for r in map(app.AsyncResult, ids)]\n", "maybe"),
    ("Result = functools.partial(AsyncResult, app=app)\n\n\ndef poll(tid):\n    return Result(tid).state\n", "maybe"),
    ("def poll(tid):\n    fetch = app.AsyncResult\n    return fetch(tid).state\n", "maybe"),
    ("class Poller:\n    result_class = AsyncResult\n\n    def poll(self, tid):\n        return self.result_class(tid).state\n",
     "maybe"),
    ("def poll(tid, result_cls=AsyncResult):\n    return result_cls(tid).state\n", "maybe"),
    ("KINDS = {'task': AsyncResult}\n\n\ndef poll(kind, tid):\n    return KINDS[kind](tid).state\n", "maybe"),
    ("def poll(tid):\n    return getattr(app, 'AsyncResult')(tid).state\n", "maybe"),
    # named, but never used to read: a type check, an annotation
    ("def poll(r):\n    return isinstance(r, AsyncResult)\n", "unread"),
    ("def poll(r: AsyncResult) -> AsyncResult:\n    return r\n", "unread"),
]


@pytest.mark.parametrize("body, render", READERS_AS_VALUES)
def test_a_reader_handed_on_as_a_value_reads_by_id(project, body, render):
    assert verdicts(project(files_with(HANDS_OUT_ID + body)))["render"] == render


def test_a_subclass_of_asyncresult_in_another_module(project):
    results = "from celery.result import AsyncResult\n\n\nclass JobResult(AsyncResult):\n    @property\n" \
              "    def progress(self):\n        return self.info\n"
    body = HANDS_OUT_ID + "def poll(tid):\n    from proj.results import JobResult\n\n    return JobResult(tid).progress\n"
    assert verdicts(project(files_with(body, results=results)))["render"] == "maybe"


BACKEND_READS = [
    ("backend = app.backend\n\n\ndef poll(tid):\n    return backend.get_status(tid)\n", "maybe"),
    ("def poll(tid):\n    be = app.backend\n    return be.get_result(tid)\n", "maybe"),
    ("def poll(gid):\n    return app.backend.restore_group(gid).ready()\n", "maybe"),
    ("def poll(tid):\n    return app.backend.task_result_exists(tid)\n", "maybe"),
    ("def poll(tid):\n    return app.backend.reload_task_result(tid)\n", "maybe"),
    # ``get_status`` of something that is no backend reads nothing
    ("def poll(order):\n    return order.get_status(1)\n", "unread"),
]


@pytest.mark.parametrize("body, render", BACKEND_READS)
def test_the_backend_asked_through_an_alias_or_a_method_less_known(project, body, render):
    assert verdicts(project(files_with(HANDS_OUT_ID + body)))["render"] == render


# A canvas rebuilt from a mapping may hold any task, and may be (or hold) a chord, which reads its header.
CANVAS_FROM_DICT = [
    ("def go(d):\n    return group.from_dict(d).delay().get()\n", "maybe"),
    ("def go(d):\n    return chain.from_dict(d).delay().get()\n", "maybe"),
    ("def go(d):\n    chord.from_dict(d).delay()\n", "maybe"),
    ("def go(d):\n    chain.from_dict(d).delay()\n", "maybe"),
    # a signature written as a mapping (not a beat entry: no ``schedule``) may be sent and read anywhere
    ("def go(xs):\n    chord([{'task': 'proj.tasks.render', 'args': [x]} for x in xs], audit.s()).delay()\n", "maybe"),
    ("BEAT = {'nightly': {'task': 'proj.tasks.render', 'schedule': 60.0}}\n", "unread"),
]


@pytest.mark.parametrize("body, render", CANVAS_FROM_DICT)
def test_a_canvas_rebuilt_from_a_mapping(project, body, render):
    assert verdicts(project(files_with(body)))["render"] == render


# ``freeze`` gives the handle of the send to come, and ``freeze(id)``, ``clone(task_id=)``, ``replace(options=)``
# choose the id, as ``apply_async(task_id=)`` does
PRESET_IDS = [
    ("def go(pk):\n    sig = render.s(pk)\n    sig.freeze(f'render-{pk}')\n    sig.delay()\n\n\n"
     "def poll(pk):\n    return AsyncResult(f'render-{pk}').state\n", "maybe"),
    ("def go(pk):\n    sig = render.s(pk)\n    sig.freeze(_id=pk)\n    sig.delay()\n\n\n"
     "def poll(pk):\n    return AsyncResult(pk).state\n", "maybe"),
    ("def go(pk):\n    render.s(pk).clone(task_id=pk).delay()\n\n\ndef poll(pk):\n    return AsyncResult(pk).state\n",
     "maybe"),
    ("def go(pk):\n    render.s(pk).replace(options={'task_id': pk}).delay()\n\n\n"
     "def poll(pk):\n    return AsyncResult(pk).state\n", "maybe"),
    ("def go(pk):\n    sig = render.s(pk)\n    handle = sig.freeze()\n    sig.delay()\n    return handle.get()\n", "read"),
    # an id chosen, but nothing reads by id; a frozen handle dropped
    ("def go(pk):\n    sig = render.s(pk)\n    sig.freeze(f'render-{pk}')\n    sig.delay()\n", "unread"),
    ("def go(pk):\n    sig = render.s(pk)\n    sig.freeze()\n    sig.delay()\n", "unread"),
]


@pytest.mark.parametrize("body, render", PRESET_IDS)
def test_an_id_preset_on_a_signature(project, body, render):
    assert verdicts(project(files_with(body)))["render"] == render


# What a conditional or a boolean expression chooses, called at once or kept in a local
CHOSEN = [
    ("def go(on):\n    return (render.delay if on else audit.delay)(1).get()\n", {"render": "read", "audit": "read"}),
    ("def go(on):\n    (render.delay if on else audit.delay)(1)\n", {"render": "unread", "audit": "unread"}),
    ("def go(on):\n    return (render if on else audit).delay(1).get()\n", {"render": "read", "audit": "read"}),
    ("def go(on):\n    return (start if on else inline)(1).get()\n", {"render": "maybe", "audit": "unread"}),
    ("def go(on):\n    run = start if on else inline\n    return run(1).get()\n", {"render": "maybe", "audit": "unread"}),
    ("def go(custom=None):\n    f = custom or start\n    return f(1).get()\n", {"render": "maybe", "audit": "unread"}),
    ("class View:\n    task = None\n\n    def post(self):\n        return (self.task or render).delay(1).get()\n",
     {"render": "read", "audit": "unread"}),
]


@pytest.mark.parametrize("body, expected", CHOSEN)
def test_a_callee_or_receiver_chosen_by_an_expression(project, body, expected):
    found = verdicts(project(files_with(body)))
    assert {name: found[name] for name in expected} == expected


# A class body runs top down: a name it mentions before binding it is the module's
CLASS_BODIES = [
    ("class View:\n    render = render\n\n    def post(self):\n        return self.render.delay(1).get()\n", "read"),
    ("class View:\n    render = render\n\n    def post(self):\n        self.render.delay(1)\n", "unread"),
    ("class View:\n    start = staticmethod(start)\n\n    def post(self):\n        return self.start(1).get()\n", "maybe"),
    ("class View:\n    task = render\n\n    def render(self):\n        return self.task.delay(1).get()\n", "read"),
    # bound in the class first: the class's own (an unknown value here, never the task)
    ("class View:\n    render = None\n    task = render\n\n    def post(self):\n        return self.task.delay(1).get()\n",
     "unread"),
]


@pytest.mark.parametrize("body, render", CLASS_BODIES)
def test_a_class_body_mentions_a_module_name_before_binding_it(project, body, render):
    assert verdicts(project(files_with(body)))["render"] == render


@pytest.mark.parametrize("package, helpers", [("proj", "api"), ("web", "helpers")])
def test_a_helper_returning_a_result_re_exported_under_another_name(project, package, helpers):
    """``from proj.service import start as launch`` in one module, ``from proj.api import launch`` in another: the
    fast path reads the second module too (it gave CEL001 here while the plain path said read)."""
    files = files_with("")
    files[f"{package}/{helpers}.py"] = "from proj.service import start as launch  # noqa: F401\n"
    files[f"{package}/views.py"] = f"from {package}.{helpers} import launch\n\n\ndef view():\n    return launch(1).get()\n"
    assert verdicts(project(files))["render"] == "read"


def test_a_mapping_naming_a_task_by_its_registered_name_in_a_file_with_no_celery_word(project):
    """``{"task": "documents.pdf_job", ...}`` names the task by the name it is registered under, which no round
    searches for: the fast path reads such a file as one holding a Celery token (it said unread where the plain path
    said maybe)."""
    tasks = TASKS.replace("@app.task\ndef render", "@app.task(name='documents.pdf_job')\ndef render")
    files = {"proj/tasks.py": tasks, "proj/jobs.py": "HEADER = [{'task': 'documents.pdf_job', 'args': [1]}]\n",
             "proj/views.py": "from proj.tasks import audit, render\n" + FIRE}
    assert verdicts(project(files)) == {"render": "maybe", "audit": "unread"}
    files["proj/jobs.py"] = "NIGHTLY = {'task': 'documents.pdf_job', 'schedule': 60.0}\n"  # a beat entry: never read
    assert verdicts(project(files)) == {"render": "unread", "audit": "unread"}


@pytest.mark.parametrize("body, render", [
    ("OPTIONS = {'queue': 'reports', 'ignore_result': False}\n\n\ndef go():\n    render.apply_async((1,), **OPTIONS)\n",
     "maybe"),
    ("def go():\n    opts = {'ignore_result': False}\n    render.apply_async((1,), **opts)\n", "maybe"),
    ("def go(keep):\n    render.apply_async((1,), **{'ignore_result': keep})\n", "maybe"),
    ("OPTIONS = {'queue': 'reports'}\n\n\ndef go():\n    render.apply_async((1,), **OPTIONS)\n", "unread"),
])
def test_ignore_result_false_given_in_a_spread_dict(project, body, render):
    """``ignore_result=False`` at a call asks for the result to be stored (on Celery 5.1-5.6.2 the task's flag wins
    over it, so adding ``ignore_result=True`` would stop that): given in a dict spread in, as given literally."""
    assert verdicts(project(files_with(body)))["render"] == render


@pytest.mark.parametrize("body, render", [
    ("from django.utils.module_loading import import_string\n\n\n"
     "def go():\n    return import_string('proj.service.start')(1).get()\n", "read"),
    ("from pkgutil import resolve_name\n\n\ndef go():\n    return resolve_name('proj.service:start')(1).get()\n", "read"),
    ("from django.utils.module_loading import import_string\n\n\n"
     "def go():\n    import_string('proj.service.start')(1)\n", "unread"),
])
def test_a_helper_imported_at_run_time_by_a_literal_path(project, body, render):
    """A call of what ``import_string("proj.service.start")`` gives is a call of ``start``, whose value is render's
    result."""
    assert verdicts(project(files_with(body)))["render"] == render
