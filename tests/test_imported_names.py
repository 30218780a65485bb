"""A task reached through an import that is not a plain module-level one: an import in a class body, the
fallback of a ``try: ... except ImportError:``, an import in each branch of an ``if``. Its result read there is a
read of every task the name may be (false positives found by hunting, issue 20); a task the name cannot be keeps
its finding. Both paths (fast and plain) must agree."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways
from helpers import RENDER_AND_AUDIT

TASKS = RENDER_AND_AUDIT + """

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


EXTRA = "from proj.tasks import render as T\n"  # a module re-exporting a task under a name of its own


@pytest.mark.parametrize("files, expected", [
    # the compatibility idiom, read in the module that binds the name: either task may be T
    ({"proj/extra.py": EXTRA, "proj/views.py": """
      from proj.tasks import audit as fallback
      try:
          from proj.extra import T
      except ImportError:
          T = fallback


      def view():
          return T.delay(1).get()
      """}, {"render": "read", "audit": "read", "other": "unread"}),
    # read at module level, the fallback None (no task)
    ({"proj/extra.py": EXTRA, "proj/views.py": """
      try:
          from proj.extra import T
      except ImportError:
          T = None
      T.delay(1).get()
      """}, {"render": "read", "audit": "unread", "other": "unread"}),
    # a fallback that cannot be named: the import's task is read, the rest is a result of a task not named
    ({"proj/extra.py": EXTRA, "proj/views.py": """
      def make():
          return object()


      try:
          from proj.extra import T
      except ImportError:
          T = make()


      def view():
          return T.delay(1).get()
      """}, {"render": "read", "audit": "unread", "other": "unread"}),
    # in a function: an import in each branch of a try or an if
    ({"proj/views.py": """
      def view():
          try:
              from proj.extra import T
          except ImportError:
              from proj.tasks import audit as T
          return T.delay(1).get()
      """, "proj/extra.py": EXTRA}, {"render": "read", "audit": "read", "other": "unread"}),
    ({"proj/views.py": """
      def view(flag):
          if flag:
              from proj.tasks import other as t
          else:
              from proj.tasks import render as t
          return t.delay(1).get()
      """}, {"render": "read", "audit": "unread", "other": "read"}),
    # a local bound to a task, then rebound by an import
    ({"proj/views.py": """
      from proj.tasks import render


      def view(event):
          t = render
          if event:
              from proj.tasks import audit as t
          return t.delay(1).get()
      """}, {"render": "read", "audit": "read", "other": "unread"}),
    # a module-level if
    ({"proj/views.py": """
      import os
      if os.environ.get("FAST"):
          from proj.tasks import render as T
      else:
          from proj.tasks import other as T


      def view():
          return T.delay(1).get()
      """}, {"render": "read", "audit": "unread", "other": "read"}),
    # the idiom in a compatibility module, the name imported from it elsewhere (through another re-export too)
    ({"proj/extra.py": EXTRA, "proj/compat.py": """
      from proj.tasks import audit as fallback
      try:
          from proj.extra import T
      except ImportError:
          T = fallback
      """, "proj/views.py": """
      from proj.compat import T


      def view():
          return T.delay(1).get()
      """}, {"render": "read", "audit": "read", "other": "unread"}),
    ({"proj/compat.py": """
      try:
          from proj.tasks import render as T
      except ImportError:
          from proj.tasks import audit as T
      """, "proj/api.py": "from proj.compat import T\n", "proj/views.py": """
      from proj.api import T


      def view():
          return T.delay(1).get()
      """}, {"render": "read", "audit": "read", "other": "unread"}),
    ({"proj/extra.py": EXTRA, "proj/compat.py": """
      def make():
          return object()


      try:
          from proj.extra import T
      except ImportError:
          T = make()
      """, "proj/views.py": """
      from proj import compat


      def view():
          return compat.T.delay(1).get()
      """}, {"render": "read", "audit": "unread", "other": "unread"}),
    # the result dropped through the name: still unread
    ({"proj/compat.py": """
      try:
          from proj.tasks import render as T
      except ImportError:
          T = None
      """, "proj/views.py": """
      from proj.compat import T


      def view():
          T.delay(1)
      """}, {"render": "unread", "audit": "unread", "other": "unread"}),
    ({"proj/views.py": """
      try:
          from proj.tasks import render as T
      except ImportError:
          T = None


      def view():
          T.delay(1)
      """}, {"render": "unread", "audit": "unread", "other": "unread"}),
])
def test_a_name_bound_by_an_import_in_one_of_several_ways_is_each_of_them(project, files, expected):
    assert verdicts(project, files) == expected


def test_a_task_renamed_by_an_import_reaches_the_modules_importing_the_new_name(project):
    """The fast path summarised only files naming a task: ``api.py`` names ``T`` alone, so a read through it was
    lost there (the plain path saw it)."""
    files = {"proj/compat.py": EXTRA, "proj/api.py": "from proj.compat import T\n", "proj/views.py": """
             from proj.api import T


             def view():
                 return T.delay(1).get()
             """}
    assert verdicts(project, files) == {"render": "read", "audit": "unread", "other": "unread"}


@pytest.mark.parametrize("files, expected", [
    ({"proj/api.py": "from proj.tasks import other\n\n__all__ = ['other']\n", "proj/views.py": """
      from proj.api import *


      def view():
          return other.delay(1).get()
      """}, {"render": "unread", "audit": "unread", "other": "read"}),
    # handed on from a star import: a result this cannot name is read
    ({"proj/views.py": """
      from proj.tasks import *

      HANDLERS = [other]


      def view(handler):
          return handler.delay(1).get()
      """}, {"render": "unread", "audit": "unread", "other": "maybe"}),
    ({"proj/views.py": """
      from proj.tasks import *


      def view():
          other.delay(1)
      """}, {"render": "unread", "audit": "unread", "other": "unread"}),
])
def test_a_task_a_star_import_brings_is_that_task(project, files, expected):
    assert verdicts(project, files) == expected
