"""A task reached through an import that is not a plain module-level one: an import in a class body, the
fallback of a ``try: ... except ImportError:``, an import in each branch of an ``if``. Its result read there is a
read of every task the name may be (false positives found by hunting, issue 20); a task the name cannot be keeps
its finding. Both paths (fast and plain) must agree."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways

TASKS = """
    from celery import Celery

    app = Celery("proj", backend="redis://")


    @app.task
    def render(x):
        return x


    @app.task
    def audit(x):
        pass


    @app.task
    def other(x):
        pass
"""
# every task is also enqueued, its result dropped, somewhere else
ELSEWHERE = """
    from proj.tasks import audit, other, render


    def elsewhere():
        audit.delay(2)
        other.delay(2)
        render.delay(2)
"""


def verdicts(project, files):
    root = project({"proj/tasks.py": TASKS, "proj/elsewhere.py": ELSEWHERE,
                    **{path: textwrap.dedent(source) for path, source in files.items()}})
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


@pytest.mark.parametrize("views, expected", [
    # ``self.t`` is the class attribute the import binds
    ("""
     class View:
         from proj.tasks import other as t

         def check(self):
             return self.t.delay(1).get()
     """, {"other": "read", "render": "unread", "audit": "unread"}),
    ("""
     class View:
         from proj.tasks import other as t

         @classmethod
         def check(cls):
             return cls.t.delay(1).get()
     """, {"other": "read", "render": "unread", "audit": "unread"}),
    # a subclass binds it to another task: self.t is either
    ("""
     class View:
         from proj.tasks import render as t

         def check(self):
             return self.t.delay(1).get()


     class Other(View):
         from proj.tasks import other as t
     """, {"other": "read", "render": "read", "audit": "unread"}),
    # a module imported into the class body: its tasks are handed on, and a result this cannot name is read
    ("""
     class View:
         from proj import tasks as jobs

         def check(self):
             return self.jobs.other.delay(1).get()
     """, {"other": "maybe", "render": "maybe", "audit": "maybe"}),
    # imported into the body, never read through it: handed on, but no unknown read
    ("""
     class View:
         from proj.tasks import other as t

         def check(self):
             self.t.delay(1)
     """, {"other": "unread", "render": "unread", "audit": "unread"}),
])
def test_a_task_imported_into_a_class_body_is_the_class_attribute(project, views, expected):
    assert verdicts(project, {"proj/views.py": views}) == expected
