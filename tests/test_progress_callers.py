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
    # handed to a call that runs it there and then
    ("from proj.progress import Progress\n\n\ndef run(n):\n    list(map(Progress(n).set_progress, range(n)))\n", {},
     "maybe", "unread"),
    ("from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P', meta={'i': i})\n"
     "\n\ndef run(n):\n    list(map(report, range(n)))\n", {}, "maybe", "unread"),
    # a module-level helper called through getattr, or through a module held in a local
    ("import importlib\nfrom proj import helpers\n\n\ndef run(n):\n    getattr(helpers, 'report')(n)\n",
     {"proj/helpers.py": "from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n"},
     "maybe", "unread"),
    ("import importlib\n\n\ndef run(n):\n    mod = importlib.import_module(f'proj.{\"helpers\"}')\n    mod.report(n)\n",
     {"proj/helpers.py": "from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n"},
     "maybe", "unread"),
    # through a star import, or a local alias only called
    ("from proj.helpers import *\n\n\ndef run(n):\n    report(n)\n",
     {"proj/helpers.py": "from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n"},
     "maybe", "unread"),
    ("from proj import helpers\n\n\ndef run(n):\n    rep = helpers.report\n    rep(n)\n",
     {"proj/helpers.py": "from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n"},
     "maybe", "unread"),
    # imported under another name, in a task module (found by a helper's hunt: the fast path missed the call)
    ("from proj.helpers import report as rep\n\n\ndef run(n):\n    rep(n)\n",
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
    # handed to any other call: it may keep it and run it later, in another task's run (a project's own listener
    # registry, an event bus)
    ("from proj.progress import Progress\n\n\ndef fetch(items, callback):\n    for i in items:\n"
     "        callback(i)\n\n\ndef run(n):\n    fetch(range(n), callback=Progress(n).set_progress)\n", {}),
    ("from celery import current_task\n\nLISTENERS = []\n\n\ndef on_progress(cb):\n    LISTENERS.append(cb)\n\n\n"
     "def report(i):\n    current_task.update_state(state='P')\n\n\ndef run(n):\n    on_progress(report)\n", {}),
    # in a lambda kept for later (stored, returned): whoever runs it later calls the helper
    ("from proj.progress import Progress\n\nHOOKS = []\n\n\ndef run(n):\n    m = Progress(n)\n"
     "    HOOKS.append(lambda: m.set_progress(n))\n", {}),
    ("from celery import current_task\n\n\ndef report(i):\n    current_task.update_state(state='P')\n\n\n"
     "def make(n):\n    return lambda: report(n)\n\n\ndef run(n):\n    make(n)\n", {}),
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


def test_a_method_a_library_calls_on_an_instance_belongs_to_the_tasks_making_the_instance(project):
    # ``shutil.copyfileobj(src, ProgressFile(dst))`` calls ``write``: audit makes the instance, so it reports progress
    # (render only writes to a file, an unrelated ``write``: by name it is taken for a caller too)
    work = ("import shutil\nfrom celery import current_task\n\n\nclass ProgressFile:\n    def __init__(self, f):\n"
            "        self.f = f\n\n    def write(self, data):\n        current_task.update_state(state='P')\n"
            "        return self.f.write(data)\n\n\ndef run(n):\n    pass\n\n\ndef other(n):\n"
            "    with open('/tmp/a') as src, open('/tmp/b', 'w') as dst:\n        shutil.copyfileobj(src, ProgressFile(dst))\n")
    tasks = textwrap.dedent(TASKS).replace("def audit(x):\n    pass", "def audit(x):\n    from proj.work import other\n    other(x)")
    root = project({"proj/tasks.py": tasks, "proj/work.py": work, "proj/views.py": VIEWS})
    assert verdicts(root)["audit"] == "maybe"


def test_a_task_base_class_reporting_progress_in_a_hook_may_report_any_tasks(project):
    # the worker calls ``before_start`` for every task built on the class (found by a helper's hunt; before this,
    # ``self`` outside a task's own body was taken for something else)
    tasks = ("from celery import Celery, Task\n\napp = Celery('proj', backend='redis://')\n\n\n"
             "class Started(Task):\n    def before_start(self, task_id, args, kwargs):\n"
             "        self.update_state(task_id=task_id, state='STARTED')\n\n\n"
             "@app.task(base=Started)\ndef render(x):\n    return x\n\n\n@app.task\ndef audit(x):\n    pass\n")
    root = project({"proj/tasks.py": tasks, "proj/views.py": VIEWS})
    assert verdicts(root) == {"render": "maybe", "audit": "maybe"}


@pytest.mark.parametrize("first, body", [
    ("self", "recorder = ProgressRecorder(self)\n    for i in range(n):\n        recorder.set_progress(i, n)"),  # celery-progress
    ("self", "Reporter(self).tick(n)"),  # a helper class of the project calling self.task.update_state(...)
    ("task", "Reporter(task).tick(n)"),  # the first parameter named otherwise (weblate names it ``task``)
    ("self", "tick = Reporter(\n        self,\n    ).tick\n    tick(n)"),
])
def test_a_bound_task_handing_itself_to_a_call_may_report_its_progress(project, first, body):
    # found by a helper's hunt: celery-progress's ProgressRecorder calls task.update_state, and its view polls it
    tasks = ("from celery import Celery\nfrom celery_progress.backend import ProgressRecorder\n"
             "from proj.reporting import Reporter\n\napp = Celery('proj', backend='redis://')\n\n\n"
             f"@app.task(bind=True)\ndef crunch({first}, n):\n    {body}\n\n\n@app.task\ndef audit(x):\n    pass\n\n\n"
             "def start():\n    crunch.delay(10)\n    audit.delay(1)\n")
    reporting = ("class Reporter:\n    def __init__(self, task):\n        self.task = task\n\n    def tick(self, n):\n"
                 "        self.task.update_state(state='PROGRESS', meta={'n': n})\n")
    found = verdicts(project({"proj/tasks.py": tasks, "proj/reporting.py": reporting}))
    assert found == {"crunch": "maybe", "audit": "unread"}


def test_a_method_handing_its_instance_to_a_call_is_not_a_task_handing_itself(project):
    # only a ``bind=True`` task's first parameter is the task: ``Reporter(self)`` in a plain method, or in a task
    # not bound, reports nothing of a task
    tasks = ("from celery import Celery\nfrom proj.reporting import Reporter\n\napp = Celery('proj', backend='redis://')\n"
             "\n\nclass Job:\n    def go(self, n):\n        Reporter(self).tick(n)\n\n\n"
             "@app.task\ndef crunch(self, n):\n    Reporter(self).tick(n)\n\n\n@app.task\ndef audit(x):\n    pass\n\n\n"
             "def start():\n    crunch.delay(None, 10)\n    audit.delay(1)\n")
    reporting = "class Reporter:\n    def __init__(self, job):\n        self.job = job\n\n    def tick(self, n):\n        pass\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/reporting.py": reporting})) == {"crunch": "unread",
                                                                                        "audit": "unread"}


def test_a_mixin_of_a_task_base_class_reporting_progress_in_a_hook(project):
    # the mixin is no Task class, yet the worker runs its ``before_start`` for every task built on ``Base``
    # (found by the fphunt9 helper)
    tasks = ("from celery import Celery, Task\n\nfrom proj.mixins import ProgressMixin\n\n"
             "app = Celery('proj', backend='redis://')\n\n\nclass Base(ProgressMixin, Task):\n    pass\n\n\n"
             "@app.task(base=Base)\ndef render(x):\n    return x\n\n\n@app.task\ndef audit(x):\n    pass\n")
    mixins = "class ProgressMixin:\n    def before_start(self, task_id, args, kwargs):\n        self.update_state(state='STARTED')\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/mixins.py": mixins, "proj/views.py": VIEWS})) \
        == {"render": "maybe", "audit": "maybe"}


@pytest.mark.parametrize("decorator, render", [("@app.task(bind=True)", "maybe"), ("@app.task", "unread")])
def test_a_bound_task_publishing_its_id_through_a_first_parameter_not_named_self(project, decorator, render):
    # fphunt9's D4: ``task.request.id`` is the running task's own id where ``task`` is a bound task's first parameter
    tasks = ("from celery import Celery\n\napp = Celery('proj', backend='redis://')\n\n\n" + decorator +
             "\ndef render(task, x):\n    from proj.progress import save\n    y = 1\n    save(task.request.id)\n\n\n"
             "@app.task\ndef audit(x):\n    pass\n")
    progress = ("from celery.result import AsyncResult\n\nSEEN = []\n\n\ndef save(tid):\n    SEEN.append(tid)\n\n\n"
                "def poll(tid):\n    return AsyncResult(tid).state\n")
    views = "from proj.tasks import audit, render\n\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n"
    found = verdicts(project({"proj/tasks.py": tasks, "proj/progress.py": progress, "proj/views.py": views}))
    assert found == {"render": render, "audit": "unread"}


@pytest.mark.parametrize("body, render", [
    ("self.backend.store_result(self.request.id, {'done': 1}, 'PROGRESS')", "maybe"),  # what update_state does
    ("self.backend.mark_as_started(self.request.id)", "maybe"),
    ("cache.store_result(x)", "unread"),  # not a result backend
])
def test_a_task_writing_its_state_with_the_backend_itself(project, body, render):
    # fphunt9's D3
    tasks = ("from celery import Celery\n\napp = Celery('proj', backend='redis://')\n\n\n@app.task(bind=True)\n"
             f"def render(self, x):\n    {body}\n\n\n@app.task\ndef audit(x):\n    pass\n")
    views = "from proj.tasks import audit, render\n\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/views.py": views})) == {"render": render, "audit": "unread"}
