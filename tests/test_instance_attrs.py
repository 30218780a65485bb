"""A constructor's parameter kept on the instance and enqueued through it (``analysis/instance_attrs.py``): invenio's
``uow.register(TaskOp(fetch_file, ...))``. Followed only where every way into the attribute is seen; anything
else leaves the enqueue one of a task we cannot name, so a task handed in unseen ways (``audit`` below) is never
CEL001 while the attribute's result is read. Both paths (``analyse_both_ways``)."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways
from helpers import RENDER_AND_AUDIT

TASKS = textwrap.dedent(RENDER_AND_AUDIT)  # render and audit, a Redis backend
FIRE = "\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n"

DROPPED = """\
class TaskOp:
    def __init__(self, celery_task, *args, **kwargs):
        self._celery_task = celery_task
        self._args = args

    def on_commit(self):
        self._celery_task.apply_async(args=self._args)
"""

READ = """\
class TaskOp:
    def __init__(self, celery_task, *args):
        self._celery_task = celery_task
        self._args = args

    def on_commit(self):
        return self._celery_task.apply_async(args=self._args).get()
"""


def verdicts(files: dict, tmp_path) -> dict:
    root = tmp_path / "p"
    for name, text in {"pyproject.toml": "", "proj/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


def project(uow: str, views: str) -> dict:
    imports = "from proj.tasks import app, audit, render\nfrom proj.uow import TaskOp\n\n\n"
    return {"proj/tasks.py": TASKS, "proj/uow.py": uow, "proj/views.py": imports + views + FIRE}


@pytest.mark.parametrize("uow, views, render, audit", [
    # every call of the class seen: the attribute holds what they pass
    (DROPPED, "def go(uow):\n    uow.register(TaskOp(render, 1))\n", "unread", "unread"),
    (READ, "def go(uow):\n    uow.register(TaskOp(render, 1))\n", "read", "unread"),
    (READ, "def go(uow):\n    uow.register(TaskOp(celery_task=render))\n", "read", "unread"),
    (READ, "def go(uow):\n    TaskOp(render)\n    TaskOp(audit, 2)\n", "read", "read"),
    (READ.replace("celery_task, *args", "*, celery_task"), "def go():\n    TaskOp(celery_task=audit)\n",
     "unread", "read"),
    # a class attribute of the same name joins what the calls pass
    (READ.replace("class TaskOp:\n", "class TaskOp:\n    _celery_task = None\n"), "def go():\n    TaskOp(audit)\n",
     "unread", "read"),
])
def test_a_kept_parameter_holds_what_every_call_passes(tmp_path, uow, views, render, audit):
    assert verdicts(project(uow, views), tmp_path) == {"render": render, "audit": audit}


UNSEEN = [
    # the class makes itself in a classmethod: ``cls(...)``'s arguments are the classmethod's callers'
    (READ + "\n    @classmethod\n    def later(cls, task):\n        return cls(task)\n",
     "def go():\n    TaskOp(render)\n    TaskOp.later(audit)\n"),
    (READ + "\n    def copy(self):\n        return type(self)(self._celery_task)\n",
     "def go():\n    TaskOp(render)\n    TaskOp(audit).copy()\n"),
    # a subclass: its own constructor may hand anything to ``super().__init__``
    (READ + "\n\nclass Other(TaskOp):\n    def __init__(self, x):\n        super().__init__(x)\n",
     "def go():\n    TaskOp(render)\n\n\ndef more():\n    from proj.uow import Other\n    Other(audit)\n"),
    # the class handed on as a value: called where its calls are not seen
    (READ, "def go():\n    TaskOp(render)\n    make = TaskOp\n    make(audit)\n"),
    # a call passing something other than names
    (READ, "TABLE = {'a': audit}\n\n\ndef go(k):\n    TaskOp(render)\n    TaskOp(TABLE[k])\n"),
    # the parameter bound again, or kept under a condition, or the attribute set another way
    ("from proj.tasks import audit\n\n\n" + READ.replace(
        "        self._celery_task = celery_task\n",
        "        celery_task = celery_task or audit\n        self._celery_task = celery_task\n"),
     "def go():\n    TaskOp(render)\n"),
    (READ.replace("        self._celery_task = celery_task\n",
                  "        if celery_task:\n            self._celery_task = celery_task\n"),
     "def go():\n    TaskOp(render)\n    TaskOp(audit)\n"),
    (READ + "\n    def retarget(self, task):\n        self._celery_task = task\n",
     "def go():\n    TaskOp(render).retarget(audit)\n"),
    (READ, "def go():\n    op = TaskOp(render)\n    op._celery_task = audit\n"),
    (READ, "def go():\n    op = TaskOp(render)\n    setattr(op, '_celery_task', audit)\n"),
]


@pytest.mark.parametrize("uow, views", UNSEEN)
def test_a_task_reaching_the_attribute_unseen_is_never_unread(tmp_path, uow, views):
    """``audit`` reaches ``self._celery_task`` a way the analysis does not follow, and that attribute's result is
    read: audit may be read (never CEL001), whatever render's verdict."""
    assert verdicts(project(uow, views), tmp_path)["audit"] == "maybe"


def test_the_fixed_source_of_a_task_only_a_kept_parameter_enqueues(tmp_path):
    from conftest import lint

    files = project(DROPPED, "def go(uow):\n    uow.register(TaskOp(render, 1))\n")
    files["proj/views.py"] = files["proj/views.py"].replace(FIRE, "\n")
    root = tmp_path / "p"
    for name, text in {"pyproject.toml": "", "proj/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert lint(root) == [
        "proj/tasks.py:7:1: CEL001 result of task 'proj.tasks.render' is stored but never read (enqueued at 1 place);"
        " add ignore_result=True",
    ]


def test_a_function_called_through_a_local_alias_has_callers_unseen(tmp_path):
    """``f = fire`` then ``f(audit)``: a call of ``fire`` the call index does not hold, so what ``fire``'s parameter
    carries is not only what its direct calls pass (this was a false positive before the class carriers)."""
    views = ("def fire(task):\n    return task.delay().get()\n\n\n"
             "def go():\n    fire(render)\n    f = fire\n    f(audit)\n")
    files = {"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import audit, render\n\n\n" + views + FIRE}
    assert verdicts(files, tmp_path) == {"render": "maybe", "audit": "maybe"}


def test_a_method_making_an_instance_inside_counts_only_where_it_is_called(tmp_path):
    """invenio's ``TaskOp.for_async_apply(task, ...)`` makes ``cls(task, ...)``: never called in the project, it
    hands the attribute nothing of the project's; called anywhere (``self.later``, ``getattr``), it may."""
    later = READ + "\n    @classmethod\n    def later(cls, task):\n        return cls(task)\n"
    assert verdicts(project(later, "def go():\n    TaskOp(render)\n"), tmp_path / "a") == {
        "render": "read", "audit": "unread"}
    called = "def go():\n    TaskOp(render)\n    getattr(TaskOp, 'later')(audit)\n"
    assert verdicts(project(later, called), tmp_path / "b")["audit"] == "maybe"


HOOKS = """\
from typing import Any

from proj.tasks import audit, render


class HookSender:
    job = None

    def __init__(self):
        {init}

    def init_app(self, app):
        {init_app}

    def send(self, x):
        {send}
"""


def hooks(init="pass", init_app="pass", send="self.job.delay(x)"):
    return {"proj/tasks.py": TASKS, "proj/hooks.py": HOOKS.format(init=init, init_app=init_app, send=send),
            "proj/views.py": "from proj.tasks import audit, render\n" + FIRE}


@pytest.mark.parametrize("files, render, audit", [
    # a task named in a method (superset's ``init_app``), also after ``self.job: Any = None``
    (hooks(init_app="self.job = render"), "unread", "unread"),
    (hooks(init_app="self.job = render", send="return self.job.delay(x).get()"), "read", "unread"),
    (hooks(init="self.job: Any = None", init_app="self.job = render", send="return self.job.delay(x).get()"),
     "read", "unread"),
    (hooks(init_app="from proj.tasks import render as r\n        self.job = r", send="return self.job.delay(x).get()"),
     "read", "unread"),
    (hooks(init_app="self.job = render if app else audit", send="return self.job.delay(x).get()"), "read", "read"),
    # set by a call, or in a tuple, augmented, annotated with a task: each way counts (the last three were false
    # positives for audit while the class body named render: only the body's value was taken)
    (hooks(init="self.job = make()", init_app="self.job = render", send="return self.job.delay(x).get()"),
     "maybe", "unread"),
    (hooks(init_app="self.job, self.other = audit, None", send="return self.job.delay(x).get()").__or__(
        {"proj/hooks.py": HOOKS.format(init="pass", init_app="self.job, self.other = audit, None",
                                       send="return self.job.delay(x).get()").replace("job = None", "job = render")}),
     "maybe", "maybe"),
    (hooks(init="self.job: Any = audit", send="return self.job.delay(x).get()").__or__(
        {"proj/hooks.py": HOOKS.format(init="self.job: Any = audit", init_app="pass",
                                       send="return self.job.delay(x).get()").replace("job = None", "job = render")}),
     "read", "read"),
    (hooks(init="self.job += audit", send="return self.job.delay(x).get()").__or__(
        {"proj/hooks.py": HOOKS.format(init="self.job += audit", init_app="pass",
                                       send="return self.job.delay(x).get()").replace("job = None", "job = render")}),
     "maybe", "maybe"),
])
def test_a_task_a_method_sets_on_self(tmp_path, files, render, audit):
    assert verdicts(files, tmp_path) == {"render": render, "audit": audit}
