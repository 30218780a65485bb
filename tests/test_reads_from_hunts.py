"""Reads a false-positive hunt found missing (fphunt9's list), each with the unread control beside it: a task
whose result is read where these forms hand it on is never CEL001; the same form with nothing read stays
CEL001. Both paths (``analyse_both_ways``)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import analyse_both_ways
from helpers import RENDER_AND_AUDIT

TASKS = textwrap.dedent(RENDER_AND_AUDIT)  # render and audit, a Redis backend

FIRE = "\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n"
IMPORTS = "from celery import chord, group\nfrom celery.result import AsyncResult\n\nfrom proj.tasks import app, audit, render\n\n\n"


def verdicts(root):
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


def views(body: str, imports: str = IMPORTS) -> dict:
    return {"proj/tasks.py": TASKS, "proj/views.py": imports + body + FIRE}


@pytest.mark.parametrize("body, render", [
    # a task's signature method kept, then called: the signature may be sent and read anywhere
    ("def go():\n    mk = render.s\n    return mk(1).delay().get()\n", "maybe"),
    ("def go():\n    mk = render.si\n    return mk(1).delay().get()\n", "maybe"),
    ("def go():\n    mk = render.signature\n    return mk((1,)).apply_async().get()\n", "maybe"),
    ("def go():\n    mk = render.s\n    (group(mk(1), mk(2)) | audit.s()).delay()\n", "maybe"),  # chord headers
    ("def go():\n    mk = render.s\n    mk(1).delay()\n", "unread"),  # nothing read anywhere
    # a chord's header, or a group a task runs after, made where the analysis does not see its members
    ("def go():\n    chord(map(render.s, [1, 2]))(audit.s())\n", "maybe"),
    ("def go():\n    (group(map(render.s, [1, 2])) | audit.s()).delay()\n", "maybe"),
    ("def go():\n    chord(list(map(render.s, [1, 2])), audit.s()).delay()\n", "maybe"),
    ("def go():\n    group(map(render.s, [1, 2])).delay()\n", "unread"),  # a group alone, dropped
    # ``getattr(t, "delay")`` kept: as ``t.delay`` kept
    ("def go():\n    f = getattr(render, 'delay')\n    return f(1).get()\n", "read"),
    ("def go():\n    f = getattr(render, 'apply_async')\n    return f((1,)).get()\n", "read"),
    ("def go():\n    f = getattr(render, 'delay')\n    f(1)\n", "unread"),
    ("import operator\n\n\ndef go():\n    return operator.methodcaller('delay', 1)(render).get()\n", "maybe"),
    # ``app.send_task`` kept: a send of a name known at run time
    ("def go():\n    st = app.send_task\n    return st('proj.tasks.render').get()\n", "maybe"),
    ("def go():\n    st = app.send_task\n    st('proj.tasks.render')\n", "unread"),
    # a task as a dict key
    ("TEMPLATES = {render: 'render.html'}\n\n\ndef go():\n    for t in TEMPLATES.keys():\n        t.delay(1).get()\n",
     "maybe"),
    # ``~sig`` is ``apply_async().get()``
    ("def go():\n    s = render.s(1)\n    return ~s\n", "read"),
    ("def go():\n    return not render.s(1)\n", "unread"),
    # every registered task, or a module's namespace, looped over
    ("def go():\n    for t in app.tasks.values():\n        t.delay().get()\n", "maybe"),
    # a signature built from a name or a dict known at run time
    ("def go(name):\n    return app.signature(name).delay().get()\n", "maybe"),
    ("def go(d):\n    return app.signature(d).delay().get()\n", "maybe"),
    ("from celery import Signature\n\n\ndef go(d):\n    return Signature.from_dict(d).delay().get()\n", "maybe"),
    ("from celery.canvas import maybe_signature\n\n\ndef go(d):\n    return maybe_signature(d, app=app).delay().get()\n",
     "maybe"),
    ("def go():\n    return audit.signature((1,)).delay().get()\n", "unread"),  # a task's own: that task only
    # a preset id given as a signature's option or through ``**options``, then read by id
    ("def go():\n    render.signature((1,), task_id='r-1').delay()\n\n\ndef poll():\n    return AsyncResult('r-1').get()\n",
     "maybe"),
    ("def go(o):\n    opts = {'task_id': o.tid}\n    render.apply_async((1,), **opts)\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "maybe"),
    ("def go(o):\n    opts = {'queue': 'q'}\n    render.apply_async((1,), **opts)\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "unread"),
    # options whose keys cannot all be read (fphunt10 C1, C2): a wrapper's ``**options``, ``dict(...)``, a dict filled
    # afterwards or made by a helper, while results are read by id; the same without a read by id stays unread
    ("def schedule(job, **options):\n    render.apply_async((job,), **options)\n\n\n"
     "def go(job):\n    schedule(job, task_id=job.tid)\n\n\ndef poll(tid):\n    return AsyncResult(tid).state\n", "maybe"),
    ("def go(o):\n    opts = dict(task_id=o.tid)\n    render.apply_async((1,), **opts)\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "maybe"),
    ("def go(o):\n    opts = {}\n    opts['task_id'] = o.tid\n    render.apply_async((1,), **opts)\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "maybe"),
    ("def go(o):\n    opts = {'queue': 'q'}\n    opts.update(task_id=o.tid)\n    render.apply_async((1,), **opts)\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "maybe"),
    ("def options(o):\n    return {'task_id': o.tid}\n\n\ndef go(o):\n    render.apply_async((1,), **options(o))\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "maybe"),
    ("def fill(o, opts):\n    opts['task_id'] = o.tid\n\n\n"
     "def go(o):\n    opts = {'queue': 'q'}\n    fill(o, opts=opts)\n    render.apply_async((1,), **opts)\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "maybe"),
    ("def schedule(job, **options):\n    render.apply_async((job,), **options)\n\n\n"
     "def go(job):\n    schedule(job, countdown=5)\n", "unread"),
    # a Task class's apply_async override hands its caller's options on (pretix): read where it is called
    ("from celery import Task\nfrom django.db import transaction\n\n\nclass Base(Task):\n"
     "    def apply_async(self, *args, **kwargs):\n"
     "        transaction.on_commit(lambda: super(Base, self).apply_async(*args, **kwargs))\n\n\n"
     "def poll(o):\n    return AsyncResult(o.tid).state\n", "unread"),
    # an ignore_result given by an expression may be False
    ("KEEP = False\n\n\ndef go():\n    render.apply_async((1,), ignore_result=KEEP)\n", "maybe"),
    # the children of a read result: any task it started
    ("def go(i):\n    return [c.get() for c in AsyncResult(i).children]\n", "maybe"),
    ("def go():\n    r = audit.delay(1)\n    r.get()\n    return r.collect()\n", "maybe"),
    ("import gc\n\n\ndef go():\n    gc.collect()\n", "unread"),
    # a ``match`` capture, a ``nonlocal`` rebinding, a walrus in a comprehension, ``locals()``
    ("def go():\n    match render:\n        case t:\n            return t.delay(1).get()\n", "maybe"),
    ("def go():\n    t = audit\n\n    def f():\n        nonlocal t\n        t = render\n    f()\n    return t.delay(1).get()\n",
     "maybe"),
    ("def go():\n    [r := render.delay(i) for i in range(3)]\n    return r.get()\n", "read"),
    ("def go():\n    r = render.delay(1)\n    return locals()['r'].get()\n", "maybe"),
    # run-time lookups of a dotted path
    ("import pkgutil\n\n\ndef go(path):\n    return pkgutil.resolve_name(path).delay(1).get()\n", "maybe"),
])
def test_a_read_through_these_forms_is_never_unread(project, body, render):
    assert verdicts(project(views(body)))["render"] == render


def test_a_global_bound_by_an_import_in_a_function_is_followed(project):
    files = {"proj/tasks.py": TASKS, "proj/fire.py": "from proj.tasks import render\n\n\ndef fire():\n    render.delay(1)\n",
             "proj/views.py": "job = None\n\n\ndef setup():\n    global job\n    from proj.tasks import render as job\n\n\n"
                              "def go():\n    return job.delay(1).get()\n"}
    assert verdicts(project(files))["render"] == "read"


STORE = "from django_celery_results.models import TaskResult\nfrom django.apps import apps\n\nfrom proj.tasks import audit, render\n\n\n"


@pytest.mark.parametrize("body, found", [
    # django-celery-results rows: every other task's, a manager kept, a model got by name
    ("def rows():\n    return list(TaskResult.objects.exclude(task_name='proj.tasks.audit'))\n",
     {"render": "maybe", "audit": "maybe"}),
    ("def rows():\n    m = TaskResult.objects\n    return list(m.filter(status='SUCCESS'))\n",
     {"render": "maybe", "audit": "maybe"}),
    ("def rows():\n    return list(TaskResult._default_manager.all())\n", {"render": "maybe", "audit": "maybe"}),
    ("def rows():\n    m = apps.get_model('django_celery_results', 'TaskResult')\n    return list(m.objects.all())\n",
     {"render": "maybe", "audit": "maybe"}),
    ("def rows():\n    return list(TaskResult.objects.filter(task_name='proj.tasks.audit'))\n",
     {"render": "unread", "audit": "read"}),
    ("def rows():\n    TaskResult.objects.filter(status='SUCCESS').delete()\n", {"render": "unread", "audit": "unread"}),
])
def test_result_rows_read_in_any_way_keep_the_tasks_they_may_hold(project, body, found):
    assert verdicts(project(views(body, STORE))) == found


SIGNALS = ("from celery.result import AsyncResult\nfrom celery.signals import after_task_publish, task_postrun\n"
           "import logging\n\nfrom proj.tasks import app, audit, render\n\nlog = logging.getLogger(__name__)\nWATCH = []\n\n\n")
READ_BY_ID = "\n\ndef status(i):\n    return AsyncResult(i).state\n"


@pytest.mark.parametrize("body, render", [
    # ids Celery gives (a signal's receiver, a Task hook) handed to a helper or a list, read by id there
    ("@task_postrun.connect\ndef on_done(task_id=None, **kw):\n    status(task_id)\n" + READ_BY_ID, "maybe"),
    ("def on_done(task_id=None, **kw):\n    status(task_id)\n\n\ntask_postrun.connect(on_done)\n" + READ_BY_ID, "maybe"),
    ("@after_task_publish.connect\ndef sent(headers=None, **kw):\n    WATCH.append(headers['id'])\n\n\n"
     "def poll():\n    return [AsyncResult(i).state for i in WATCH]\n", "maybe"),
    ("@task_postrun.connect\ndef on_done(task_id=None, **kw):\n    log.info('done %s', task_id)\n" + READ_BY_ID, "unread"),
    # a logging context in every worker (pretix's): kept on an object, not handed to a reader
    ("import threading\n\nlocal = threading.local()\n\n\n@task_postrun.connect\n"
     "def on_done(task_id=None, headers=None, **kw):\n    local.request_id = task_id\n    local.trace.append(task_id)\n"
     "    headers['X-Trace'] = 'x'\n" + READ_BY_ID, "unread"),
    ("@task_postrun.connect\ndef on_done(task_id=None, **kw):\n    keep(task_id)\n\n\ndef keep(x):\n    pass\n",
     "unread"),  # handed on, but nothing reads by id
    # the ids of whatever runs, from the workers
    ("def monitor():\n    for _w, running in app.control.inspect().active().items():\n        for t in running:\n"
     "            print(AsyncResult(t['id']).state)\n", "maybe"),
    # every stored result, by its key's pattern
    ("import redis\n\n\ndef scan():\n    r = redis.Redis()\n    for k in r.scan_iter('celery-task-meta-*'):\n        r.get(k)\n",
     "maybe"),
    ("import redis\n\n\ndef one(i):\n    return redis.Redis().get('celery-task-meta-' + i)\n", "unread"),
])
def test_ids_celery_gives_read_by_id_may_be_any_tasks(project, body, render):
    assert verdicts(project(views(body, SIGNALS)))["render"] == render


HOOKED = """
from celery import Celery, Task
from celery.result import AsyncResult

app = Celery("proj", backend="redis://")


def check(i):
    return AsyncResult(i).state


class Base(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        check(task_id)


@app.task(base=Base)
def audit(x):
    pass


@app.task
def render(x):
    return x
"""


def test_a_task_hook_handing_its_id_to_a_reader_keeps_any_task(project):
    files = {"proj/tasks.py": HOOKED, "proj/views.py": "from proj.tasks import audit, render\n" + FIRE}
    assert verdicts(project(files)) == {"render": "maybe", "audit": "maybe"}


BOUND = 'from celery import Celery\n\napp = Celery("proj", backend="redis://")\n\n\n'
ONLY_RENDER = {"proj/views.py": "from proj.tasks import render\n\n\ndef fire():\n    render.delay(1)\n"}


@pytest.mark.parametrize("tasks, extra, render", [
    # ``update_state`` kept, looked up, handed on, or called by a decorator's wrapper: the task reports progress
    (BOUND + "@app.task(bind=True)\ndef render(self, x):\n    up = self.update_state\n    up(state='PROGRESS')\n", {}, "maybe"),
    (BOUND + "@app.task(bind=True)\ndef render(self, x):\n    getattr(self, 'update_state')(state='PROGRESS')\n", {}, "maybe"),
    (BOUND + "def run_with(cb):\n    cb(state='PROGRESS')\n\n\n@app.task(bind=True)\ndef render(job, x):\n"
     "    run_with(job.update_state)\n", {}, "maybe"),
    (BOUND.replace("from celery import Celery\n", "from celery import Celery\n\nfrom proj.deco import tracked\n")
     + "@app.task(bind=True)\n@tracked\ndef render(self, x):\n    return x\n",
     {"proj/deco.py": "import functools\n\n\ndef tracked(f):\n    @functools.wraps(f)\n    def wrapper(self, *a):\n"
                      "        self.update_state(state='PROGRESS')\n        return f(self, *a)\n    return wrapper\n"}, "maybe"),
    (BOUND + "def tracked(f):\n    return f\n\n\n@app.task(bind=True)\n@tracked\ndef render(self, x):\n    return x\n", {},
     "unread"),
    # a progress helper called by a name known at run time, from the task
    (BOUND.replace("from celery import Celery\n", "from celery import Celery\n\nfrom proj import progress\n")
     + "@app.task\ndef render(x, step='report'):\n    getattr(progress, step)(1)\n",
     {"proj/progress.py": "from celery import current_task\n\n\ndef report(n):\n"
                          "    current_task.update_state(state='PROGRESS', meta={'n': n})\n"}, "maybe"),
    # the app's default task class (a Celery subclass's ``task_cls``) reporting progress
    ("from celery import Celery, Task\n\n\nclass Base(Task):\n    def before_start(self, task_id, args, kwargs):\n"
     "        self.update_state(state='STARTED')\n\n\nclass MyCelery(Celery):\n    task_cls = Base\n\n\n"
     "app = MyCelery('proj', backend='redis://')\n\n\n@app.task\ndef render(x):\n    return x\n", {}, "maybe"),
    # a task reading its parent's result by its id (render enqueues audit, audit reads render's)
    (BOUND + "from celery.result import AsyncResult\n\n\n@app.task\ndef render(x):\n    audit.delay(x)\n\n\n"
     "@app.task(bind=True)\ndef audit(self, x):\n    return AsyncResult(self.request.parent_id).state\n", {}, "maybe"),
])
def test_progress_and_parents_reached_in_these_ways(project, tasks, extra, render):
    files = {"proj/tasks.py": tasks, **ONLY_RENDER, **extra}
    assert verdicts(project(files))["render"] == render


@pytest.mark.parametrize("namer, found", [
    ("class MyCelery(Celery):\n    def gen_task_name(self, name, module):\n        return 'jobs.' + name\n\n\n"
     "app = MyCelery('proj', backend='redis://')\n", "maybe"),
    ("def named(name, module):\n    return 'jobs.' + name\n\n\napp = Celery('proj', backend='redis://')\n"
     "app.gen_task_name = named\n", "maybe"),
    ("app = Celery('proj', backend='redis://')\n", "unread"),  # the name is no task's: another service's
])
def test_a_custom_gen_task_name_makes_a_name_no_task_has_any_tasks(project, namer, found):
    tasks = "from celery import Celery\n\n\n" + namer + "\n\n@app.task\ndef render(x):\n    return x\n"
    views_ = "from proj.tasks import app, render\n\n\ndef go():\n    return app.send_task('jobs.render').get()\n\n\n" \
             "def fire():\n    render.delay(1)\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/views.py": views_}))["render"] == found


def test_a_give_back_helper_a_star_import_may_replace_is_not_followed(project):
    files = {"proj/tasks.py": TASKS, "proj/helpers.py": "def ident(x):\n    return x\n\n\nfrom proj.waiters import *  # noqa\n",
             "proj/waiters.py": "def ident(x):\n    x.get()\n    return x\n",
             "proj/views.py": "from proj.helpers import ident\nfrom proj.tasks import audit, render\n\n\n"
                              "def go():\n    ident(render.delay(1))\n    audit.delay(1)\n"}
    assert verdicts(project(files)) == {"render": "maybe", "audit": "unread"}


@pytest.mark.parametrize("options, render", [
    ("opts = {'link_error': on_err.s()}\n    render.apply_async((1,), **opts)", "read"),
    ("render.apply_async((1,), **{'link_error': on_err.s()})", "read"),
    ("opts = {'queue': 'q'}\n    render.apply_async((1,), **opts)", "unread"),
])
def test_an_errback_given_through_spread_options_reads_its_parent(project, options, render):
    # an old-style errback (given the failed task's id) reading the failed task's result
    tasks = TASKS + "\n\n@app.task(bind=True)\ndef on_err(self, task_id, *a, **kw):\n" \
                    "    from celery.result import AsyncResult\n    print(AsyncResult(task_id).traceback)\n"
    files = {"proj/tasks.py": tasks, "proj/views.py": "from proj.tasks import audit, on_err, render\n\n\n"
             f"def go():\n    {options}\n" + FIRE}
    assert verdicts(project(files))["render"] == render


BUILT_IN = "from proj.tasks import audit, render\n\n\ndef go():\n    return render.map([1, 2]).delay().get()\n\n\n" \
           "def d():\n    audit.delay(1)\n"


def test_the_global_strategy_refuses_when_a_built_in_task_s_result_is_read(project):
    # ``render.map(...)`` runs inside Celery's ``celery.map`` task, which task_ignore_result = True also silences
    root = project({"proj/tasks.py": TASKS, "proj/views.py": BUILT_IN})
    before = (root / "proj/tasks.py").read_text()
    run = subprocess.run([sys.executable, "-m", "celery_lint", "--strategy", "global", "--fix", "--no-cache", "."],
                         cwd=root, capture_output=True, text=True)
    assert ("--strategy global: not applied, nothing changed: proj/views.py:5: run inline by .map() inside Celery's "
            "built-in task celery.map, whose result goes on (.get); task_ignore_result = True would stop that built-in "
            "task storing it (use --strategy per-task)") in run.stderr
    assert (root / "proj/tasks.py").read_text() == before


def test_a_wrapper_of_a_result_returning_helper_is_followed_to_its_callers_on_both_paths(project):
    # the fast path reads the third module too (``own_names.helper_names``: a call's value returned on)
    files = {"proj/tasks.py": TASKS, "proj/helpers.py": "from proj.tasks import render\n\n\ndef start(x):\n    return render.delay(x)\n",
             "proj/api.py": "from proj.helpers import start\n\n\ndef go(x):\n    return start(x)\n",
             "proj/other.py": "from proj.api import go\n\n\ndef read():\n    return go(1).get()\n"}
    assert verdicts(project(files))["render"] == "read"


def test_a_module_whose_function_a_run_time_name_calls_is_read_on_the_fast_path_too(project):
    # ``conf.setdefault(k, getattr(defaults, k)())``: a module's function called by a name known at run time; the
    # fast path reads the module (it names no Celery) to know it is one, and so calls no task we cannot name
    files = {"proj/tasks.py": TASKS, "proj/defaults.py": "TIMEOUT = 1\n",
             "proj/ext.py": "from celery import current_app\n\nfrom proj import defaults\n\n\ndef init(conf):\n"
                            "    conf.setdefault('app', current_app)\n    for k in dir(defaults):\n"
                            "        conf.setdefault(k, getattr(defaults, k)())\n",
             "proj/views.py": "from proj.tasks import audit, render\n\nHANDLERS = [render]\n" + FIRE}
    assert verdicts(project(files)) == {"render": "unread", "audit": "unread"}


# ----- a second hunt (fphunt10) -----
@pytest.mark.parametrize("body, render", [
    # a signature by name spelled another way: an alias, Celery's compat names, the class through its module
    ("from celery import signature as sig\n\n\ndef go():\n    return sig('proj.tasks.render', args=(1,)).apply_async().get()\n",
     "read"),
    ("from celery import subtask\n\n\ndef go():\n    return subtask('proj.tasks.render', args=(1,)).apply_async().get()\n",
     "read"),
    ("from celery import canvas\n\n\ndef go():\n    return canvas.Signature('proj.tasks.render', args=(1,)).delay().get()\n",
     "read"),
    ("from celery.canvas import maybe_subtask\n\n\ndef go(d):\n    return maybe_subtask(d).delay().get()\n", "maybe"),
    # results added to a container held elsewhere too (an alias of self.rs, a module's list), read there
    ("class Tracker:\n    def __init__(self):\n        self.rs = []\n\n    def start(self, x):\n        rs = self.rs\n"
     "        rs.append(render.delay(x))\n\n    def wait(self):\n        return [r.get() for r in self.rs]\n", "maybe"),
    ("PENDING = []\n\n\ndef start(x):\n    bag = PENDING\n    bag.append(render.delay(x))\n", "maybe"),
    ("def start(x):\n    bag = []\n    bag.append(render.delay(x))\n", "unread"),  # made here, never read
    ("class Batch:\n    def __init__(self):\n        self.sigs = []\n\n    def add(self, x):\n        sigs = self.sigs\n"
     "        sigs.append(render.s(x))\n\n    def run(self):\n        chord(self.sigs)(audit.s())\n", "maybe"),
])
def test_second_hunt_reads_are_never_unread(project, body, render):
    assert verdicts(project(views(body)))["render"] == render


DB_TASKS = TASKS.replace('backend="redis://"', 'backend="django-db"')
DB_VIEWS = "from django_celery_results.models import TaskResult\n\nfrom proj.tasks import audit, render\n\n\n"


@pytest.mark.parametrize("body", [
    "from django.shortcuts import get_object_or_404\n\n\ndef poll(request, tid):\n"
    "    return get_object_or_404(TaskResult, task_id=tid).status\n",
    "from django.views.generic import ListView\n\n\nclass Results(ListView):\n    model = TaskResult\n",
    "from django.db import models\n\n\nclass Job(models.Model):\n    result = models.ForeignKey(TaskResult, on_delete=models.CASCADE)\n",
])
def test_the_result_model_handed_on_may_read_any_tasks_rows(project, body):
    files = {"proj/tasks.py": DB_TASKS, "proj/views.py": DB_VIEWS + body + FIRE}
    assert verdicts(project(files)) == {"render": "maybe", "audit": "maybe"}


@pytest.mark.parametrize("tasks, views_, render", [
    # progress written by a helper handed the backend (the fast path read nothing of it)
    (BOUND + "def progress(backend, tid, n):\n    backend.store_result(tid, {'n': n}, 'PROGRESS')\n\n\n"
     "@app.task(bind=True)\ndef render(self, x):\n    progress(self.backend, self.request.id, 1)\n", ONLY_RENDER, "maybe"),
    (BOUND + "def started(backend, tid):\n    backend.mark_as_started(tid)\n\n\n@app.task(bind=True)\n"
     "def render(self, x):\n    started(self.backend, self.request.id)\n", ONLY_RENDER, "maybe"),
    # a progress object handed the backend and the id, or holding current_task; celery-progress in a plain task
    (BOUND + "class Progress:\n    def __init__(self, backend, tid):\n        self.backend, self.tid = backend, tid\n\n"
     "    def tick(self):\n        self.backend.store_result(self.tid, {}, 'PROGRESS')\n\n\n@app.task(bind=True)\n"
     "def render(self, x):\n    Progress(self.backend, self.request.id).tick()\n", ONLY_RENDER, "maybe"),
    (BOUND.replace("import Celery", "import Celery, current_task") + "class Meter:\n    def __init__(self):\n"
     "        self.task = current_task\n\n    def tick(self):\n        self.task.update_state(state='PROGRESS')\n\n\n"
     "@app.task\ndef render(x):\n    Meter().tick()\n", ONLY_RENDER, "maybe"),
    (BOUND.replace("import Celery", "import Celery, current_task") + "from celery_progress.backend import ProgressRecorder\n"
     "\n\n@app.task\ndef render(x):\n    ProgressRecorder(current_task).set_progress(1, 2)\n", ONLY_RENDER, "maybe"),
    # track_started=True: the STARTED state is stored for someone polling it
    (BOUND + "@app.task(track_started=True)\ndef render(x):\n    return x\n", ONLY_RENDER, "maybe"),
    (BOUND.replace("import Celery", "import Celery, Task") + "class Tracked(Task):\n    track_started = True\n\n\n"
     "@app.task(base=Tracked)\ndef render(x):\n    return x\n", ONLY_RENDER, "maybe"),
    # the "SENT state" recipe: a receiver writing any task's state
    (TASKS, {"proj/views.py": "from celery import current_app\nfrom celery.signals import after_task_publish\n"
                              "from proj.tasks import render\n\n\n@after_task_publish.connect\n"
                              "def sent(sender=None, headers=None, **kw):\n"
                              "    current_app.backend.store_result(headers['id'], None, 'SENT')\n" + FIRE}, "maybe"),
    # a Task's before_start hook handing its task_id on, with reads by id
    (BOUND.replace("import Celery", "import Celery, Task") + "class Base(Task):\n"
     "    def before_start(self, task_id, args, kwargs):\n        keep(task_id)\n\n\n"
     "@app.task(base=Base)\ndef render(x):\n    return x\n",
     {"proj/views.py": "from celery.result import AsyncResult\nfrom proj.tasks import render\n\n\n"
                       "def poll(tid):\n    return AsyncResult(tid).state\n\n\ndef fire():\n    render.delay(1)\n"}, "maybe"),
    # a task not bound storing its own id through its name, read by id
    (BOUND + "@app.task\ndef render(job):\n    job.tid = render.request.id\n    job.save()\n",
     {"proj/views.py": "from celery.result import AsyncResult\nfrom proj.tasks import render\n\n\n"
                       "def poll(tid):\n    return AsyncResult(tid).state\n\n\ndef fire():\n    render.delay(1)\n"}, "maybe"),
    # task_success's sender is the task that ran; Django's @receiver connects Celery's signals too
    (TASKS, {"proj/views.py": "from celery.result import AsyncResult\nfrom celery.signals import task_success\n"
                              "from proj.tasks import render\n\n\n@task_success.connect\n"
                              "def ok(sender=None, result=None, **kw):\n    keep(sender.request.id)\n\n\n"
                              "def poll(tid):\n    return AsyncResult(tid).get()\n" + FIRE}, "maybe"),
    (TASKS, {"proj/views.py": "from celery.result import AsyncResult\nfrom celery.signals import task_postrun\n"
                              "from django.dispatch import receiver\nfrom proj.tasks import render\n\n\n"
                              "@receiver(task_postrun)\ndef done(sender=None, task_id=None, **kw):\n    keep(task_id)\n\n\n"
                              "def poll(tid):\n    return AsyncResult(tid).get()\n" + FIRE}, "maybe"),
])
def test_second_hunt_progress_and_ids(project, tasks, views_, render):
    assert verdicts(project({"proj/tasks.py": tasks, **views_}))["render"] == render


def test_a_tasks_module_re_exported_by_another_module_is_read_on_the_fast_path_too(project):
    files = {"proj/tasks.py": TASKS, "proj/api.py": "from proj import tasks\n",
             "proj/client.py": "from proj.api import tasks\n\n\ndef go():\n    return tasks.render.delay(1).get()\n",
             "proj/views.py": "from proj.tasks import audit, render\n" + FIRE}
    assert verdicts(project(files))["render"] == "read"


@pytest.mark.parametrize("binding", [
    "if settings.USE_V2:\n    from proj import tasks_v2 as tasks\nelse:\n    from proj import tasks\n",
    "try:\n    from proj import tasks_v2 as tasks\nexcept ImportError:\n    from proj import tasks\n",
])
@pytest.mark.parametrize("call, render", [("return tasks.render.delay(1).get()", "read"), ("tasks.render.delay(1)", "unread")])
def test_a_tasks_module_bound_by_two_imports_is_each_module(project, binding, call, render):
    """fphunt10 J1: ``tasks.render`` where ``tasks`` is one of two modules reads each module's ``render``."""
    root = project({
        "proj/tasks.py": TASKS,
        "proj/tasks_v2.py": "from proj.tasks import app\n\n\n@app.task\ndef render(x):\n    return x * 2\n",
        "proj/views.py": "from django.conf import settings\n\n" + binding + f"\n\ndef go():\n    {call}\n",
        "proj/jobs.py": "from proj.tasks import render\n\n\ndef fire():\n    render.delay(1)\n",
    })
    found = {task.name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}
    assert (found["proj.tasks.render"], found["proj.tasks_v2.render"]) == (render, render)


RUNNER = "def run(mod):\n    return mod.render.delay(1).get()\n"


@pytest.mark.parametrize("views_, render", [
    ("from proj import tasks\nfrom proj.runner import run\n\n\ndef go():\n    run(tasks)\n", "maybe"),
    ("import proj.tasks\nfrom proj.runner import run\n\n\ndef go():\n    run(proj.tasks)\n", "maybe"),
    ("from proj import tasks as t\nfrom proj.runner import run\n\nMODULES = [t]\n\n\ndef go():\n    run(MODULES[0])\n",
     "maybe"),
    ("from proj.runner import run\n\n\ndef go():\n    import proj.tasks as t\n    run(t)\n", "maybe"),
    ("from . import tasks\nfrom .runner import run\n\n\nclass View:\n    mod = tasks\n\n    def go(self):\n"
     "        run(self.mod)\n", "maybe"),
    ("from proj import api\nfrom proj.runner import run\n\n\ndef go():\n    held = api\n    run(held)\n", "maybe"),
    # nothing reads what the module's tasks give
    ("from proj import tasks\nfrom proj.runner import run\n\n\ndef go():\n    run(tasks)\n", "unread"),
])
def test_a_tasks_module_handed_on_as_a_value_is_read_on_the_fast_path_too(project, views_, render):
    """fphunt10 N2: ``run(tasks)`` hands on every task of the module; the fast path's slicer cut the statement
    (no Celery word, no task name), and the file holding it was not read at all: "unread" there, "maybe" on the
    plain path."""
    files = {"proj/tasks.py": TASKS, "proj/api/__init__.py": "from proj.tasks import audit, render\n",
             "proj/runner.py": RUNNER if render == "maybe" else RUNNER.replace(".get()", ""),
             "proj/views.py": views_, "proj/jobs.py": "from proj.tasks import audit, render\n" + FIRE}
    assert verdicts(project(files))["render"] == render


KEEPS_ID = "from proj.models import Job\nfrom proj.tasks import render\n\n\ndef start():\n    Job.objects.create(tid=render.delay(1).id)\n"


@pytest.mark.parametrize("compat, views_, render", [
    # fphunt10 K3: Celery's AsyncResult bound in a module of the project and imported from there
    ("from celery.result import AsyncResult as Result\n", "from proj.compat import Result\n\n\ndef poll(tid):\n"
     "    return Result(tid).get()\n", "maybe"),
    ("from celery.result import AsyncResult\n", "from proj.compat import AsyncResult as R\n\n\ndef poll(tid):\n"
     "    return R(tid).state\n", "maybe"),
    ("from proj.tasks import app\n\nfetch = app.AsyncResult\n", "from proj.compat import fetch\n\n\ndef poll(tid):\n"
     "    return fetch(tid).get()\n", "maybe"),
    # fphunt10 K2: the backend's key of a task's result, read straight from the store
    ("", "import redis\n\nfrom proj.tasks import app\n\n\ndef poll(tid):\n"
     "    return redis.Redis().get(app.backend.get_key_for_task(tid))\n", "maybe"),
    # bound there, imported by no module: nothing reads by id
    ("from celery.result import AsyncResult as Result\n", "def poll(tid):\n    return tid\n", "unread"),
])
def test_a_read_by_id_bound_in_another_module_makes_a_kept_id_maybe(project, compat, views_, render):
    """``render``'s id is kept in a row; a read by id anywhere may read it."""
    files = {"proj/tasks.py": TASKS, "proj/compat.py": compat, "proj/views.py": views_, "proj/start.py": KEEPS_ID,
             "proj/jobs.py": "from proj.tasks import audit, render\n" + FIRE}
    found = verdicts(project(files))
    assert (found["render"], found["audit"]) == (render, "unread")


@pytest.mark.parametrize("body, found", [
    # fphunt10 G1: every registered task, walked by ``.items()`` or copied first
    ("for name, t in app.tasks.items():\n        t.delay().get()\n", "maybe"),
    ("reg = dict(app.tasks)\n    return reg['proj.tasks.render'].delay().get()\n", "maybe"),
    ("reg = app.tasks.copy()\n    for t in reg.values():\n        t.delay().get()\n", "maybe"),
    ("for name, t in app.tasks.items():\n        t.delay()\n", "unread"),
])
def test_the_registry_walked_by_items_or_copied_may_be_any_task(project, body, found):
    files = {"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import app\n\n\ndef go():\n    " + body,
             "proj/jobs.py": "from proj.tasks import audit, render\n" + FIRE}
    assert verdicts(project(files)) == {"render": found, "audit": found}


@pytest.mark.parametrize("views_, found", [
    # fphunt10 F4: the database backend's table, by SQL (a read by id: render's id is kept) or through its model
    ("from sqlalchemy import text\n\nfrom proj.db import session\n\n\ndef poll(tid):\n    return session.execute("
     "text('SELECT status FROM celery_taskmeta WHERE task_id = :t'), {'t': tid})\n", ("maybe", "unread")),
    ("from celery.backends.database.models import Task as TaskMeta\n\nfrom proj.db import session\n\n\n"
     "def poll(tid):\n    return session.query(TaskMeta).filter_by(task_id=tid).first()\n", ("maybe", "maybe")),
])
def test_the_database_backend_s_table_read_directly(project, views_, found):
    files = {"proj/tasks.py": TASKS, "proj/views.py": views_, "proj/start.py": KEEPS_ID,
             "proj/jobs.py": "from proj.tasks import audit, render\n" + FIRE}
    result = verdicts(project(files))
    assert (result["render"], result["audit"]) == found
