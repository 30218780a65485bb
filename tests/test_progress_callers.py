"""A helper reporting the progress (or handing on the id) of whichever task runs it belongs to the tasks that run
it: followed up the call graph through functions, methods (by name) and calls it is handed to
(``analysis/callers.py``). Where a caller cannot be named, every task may run it, as before. Both paths."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways

TASKS = """
    from celery import Celery

    app = Celery("proj", backend="redis://")


    @app.task
    def render(x):
        from proj.work import run
        run(x)


    @app.task
    def audit(x):
        pass
"""

VIEWS = "from proj.tasks import audit, render\n\n\ndef go():\n    render.delay(1)\n    audit.delay(1)\n"

REPORTER = """
    from celery import current_task


    class Progress:
        def __init__(self, total):
            self.total = total

        def set_progress(self, done):
            current_task.update_state(state="PROGRESS", meta={"done": done, "total": self.total})
"""


def verdicts(root):
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


def files(work, extra=None):
    """The project: the helper module only where the work imports it (a method never called runs anywhere)."""
    found = {"proj/tasks.py": textwrap.dedent(TASKS), "proj/work.py": work, "proj/views.py": VIEWS, **(extra or {})}
    if "proj.progress" in work + "".join((extra or {}).values()):
        found["proj/progress.py"] = textwrap.dedent(REPORTER)
    return found


@pytest.mark.parametrize("work, extra, render, audit", [
    # a method of a plain class, called on an instance the task's helper makes
    ("from proj.progress import Progress\n\n\ndef run(n):\n    p = Progress(n)\n    for i in range(n):\n"
     "        p.set_progress(i)\n", {}, "maybe", "unread"),
    # called through self, from another method, itself called by name
    ("from proj.progress import Progress\n\n\nclass Job(Progress):\n    def step(self, i):\n"
     "        self.set_progress(i)\n\n\ndef run(n):\n    Job(n).step(1)\n", {}, "maybe", "unread"),
    # handed to a call, which may run it then (a callback)
    ("from proj.progress import Progress\n\n\ndef fetch(items, callback):\n    for i in items:\n"
     "        callback(i)\n\n\ndef run(n):\n    fetch(range(n), callback=Progress(n).set_progress)\n", {}, "maybe", "unread"),
    # a module-level helper handed to a call
    ("from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P', meta={'i': i})\n"
     "\n\ndef run(n):\n    list(map(report, range(n)))\n", {}, "maybe", "unread"),
    # a module-level helper called through getattr, or through a module held in a local
    ("import importlib\nfrom proj import helpers\n\n\ndef run(n):\n    getattr(helpers, 'report')(n)\n",
     {"proj/helpers.py": "from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n"},
     "maybe", "unread"),
    ("import importlib\n\n\ndef run(n):\n    mod = importlib.import_module(f'proj.{\"helpers\"}')\n    mod.report(n)\n",
     {"proj/helpers.py": "from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n"},
     "maybe", "unread"),
    # a staticmethod called on its class
    ("from celery import current_task\n\n\nclass Meter:\n    @staticmethod\n    def tick(i):\n"
     "        current_task.update_state(state='P', meta={'i': i})\n\n\ndef run(n):\n    Meter.tick(n)\n", {},
     "maybe", "unread"),
    # the base class of the reporter's class is in a file that names no Celery at all
    ("from celery import current_task\nfrom proj.base import Reporter\n\n\nclass Meter(Reporter):\n"
     "    def tick(self, i):\n        current_task.update_state(state='P', meta={'i': i})\n\n\n"
     "def run(n):\n    Meter().tick(n)\n", {"proj/base.py": "class Reporter:\n    pass\n"}, "maybe", "unread"),
])
def test_progress_belongs_to_the_tasks_that_run_the_helper(project, work, extra, render, audit):
    assert verdicts(project(files(work, extra))) == {"render": render, "audit": audit}


@pytest.mark.parametrize("work, extra", [
    # kept for later: whoever holds it may run it, in any task
    ("from proj.progress import Progress\n\n\ndef run(n):\n    cb = Progress(n).set_progress\n    cb(1)\n", {}),
    ("from proj.progress import Progress\n\nHOOKS = []\n\n\ndef run(n):\n    HOOKS.append(Progress(n).set_progress)\n"
     "\n\ndef fire():\n    for hook in HOOKS:\n        hook(1)\n", {}),
    ("from functools import partial\nfrom celery import current_task\n\nHOOKS = []\n\n\ndef report(i):\n"
     "    current_task.update_state(state='P')\n\n\ndef run(n):\n    HOOKS.append(partial(report, n))\n", {}),
    # named again in its class body: the instance called (``__call__``), or an attribute read (a property)
    ("from celery import current_task\n\n\nclass Meter:\n    def tick(self):\n        current_task.update_state("
     "state='P')\n\n    __call__ = tick\n\n\ndef run(n):\n    Meter().tick()\n\n\ndef other():\n    Meter()()\n", {}),
    ("from celery import current_task\n\n\nclass Meter:\n    def _tick(self):\n        current_task.update_state("
     "state='P')\n\n    tick = property(_tick)\n\n\ndef run(n):\n    Meter()._tick()\n", {}),
    # a method of a class a framework extends (``threading.Thread.run`` calls ``run``): not only the project runs it
    ("import threading\nfrom celery import current_task\n\n\nclass Worker(threading.Thread):\n    def tick(self):\n"
     "        current_task.update_state(state='P')\n\n\ndef run(n):\n    Worker().tick()\n", {}),
    # ...also when it is a subclass, in a file that names no Celery at all, that extends the framework
    ("from proj.progress import Progress\n\n\ndef run(n):\n    Progress(n).set_progress(1)\n",
     {"proj/threads.py": "import threading\nfrom proj.progress import Progress\n\n\n"
                         "class Threaded(Progress, threading.Thread):\n    pass\n"}),
    # a decorator that registers the helper (a signal receiver runs whenever the signal fires, in any task)
    ("from celery import current_task\nfrom django.dispatch import receiver\nfrom django.db.models.signals import "
     "post_save\n\n\n@receiver(post_save)\ndef saved(sender, **kwargs):\n    current_task.update_state(state='P')\n"
     "\n\ndef run(n):\n    pass\n", {}),
    # run by Python itself: ``with Meter():``
    ("from celery import current_task\n\n\nclass Meter:\n    def __enter__(self):\n"
     "        current_task.update_state(state='P')\n        return self\n\n    def __exit__(self, *exc):\n"
     "        return False\n\n\ndef run(n):\n    with Meter():\n        pass\n", {}),
    # a nested function: it may be returned and run by anyone
    ("from celery import current_task\n\n\ndef make():\n    def report(i):\n        current_task.update_state("
     "state='P')\n    return report\n\n\ndef run(n):\n    make()(n)\n", {}),
    # called from module-level code
    ("from proj.progress import Progress\n\nProgress(1).set_progress(0)\n\n\ndef run(n):\n    pass\n", {}),
])
def test_a_helper_run_from_where_no_task_can_be_named_may_report_any_tasks_progress(project, work, extra):
    assert verdicts(project(files(work, extra))) == {"render": "maybe", "audit": "maybe"}


def test_a_helper_publishing_the_running_tasks_id_belongs_to_the_tasks_calling_it(project):
    work = ("from celery import current_task\nfrom django.core.cache import cache\n\n\ndef remember():\n"
            "    cache.set('last', current_task.request.id)\n\n\ndef run(n):\n    remember()\n")
    views = VIEWS + "\n\ndef poll(task_id):\n    from celery.result import AsyncResult\n" \
                    "    return AsyncResult(task_id).state\n"
    root = project({**files(work), "proj/views.py": views})
    assert verdicts(root) == {"render": "maybe", "audit": "unread"}


@pytest.mark.parametrize("call, render", [
    ("getattr(Progress(n), 'set_progress')(1)", "maybe"),  # a literal name: that method, called
    ("getattr(Progress(n), 'set_' + 'progress')(1)", "maybe"),  # computed: the method is never called by name
])
def test_a_method_called_through_getattr(project, call, render):
    root = project(files(f"from proj.progress import Progress\n\n\ndef run(n):\n    {call}\n"))
    assert verdicts(root) == {"render": render, "audit": "unread" if "'set_progress'" in call else "maybe"}


def test_a_method_the_project_never_calls_may_run_in_any_task(project):
    # a framework may call it by a name it knows (a plain class can be another library's resource)
    root = project(files("def run(n):\n    pass\n", {"proj/other.py": "import proj.progress\n"}))
    assert verdicts(root) == {"render": "maybe", "audit": "maybe"}
