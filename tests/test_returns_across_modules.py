"""The returns of another module's plain function (issue 20): ``ident(render).delay()`` where ``proj/helpers.py``
has ``def ident(x): return x`` enqueues render. The defining module records what its function gives back, the
call what its arguments are, the project links them; anything not known keeps the value unknown (a task we cannot
name), and never names a task the call cannot give. Both paths (the fast path keeps the function whole and
summarises its module, Celery words or not)."""
from __future__ import annotations

import textwrap

import pytest

from conftest import analyse_both_ways, lint
from helpers import RENDER_AND_AUDIT

TASKS = RENDER_AND_AUDIT
RENDER_UNREAD = ("proj/tasks.py:7:1: CEL001 result of task 'proj.tasks.render' is stored but never read (enqueued at "
                 "{n} place{s}); add ignore_result=True")
AUDIT_UNREAD = ("proj/tasks.py:12:1: CEL001 result of task 'proj.tasks.audit' is stored but never read (enqueued at "
                "{n} place{s}); add ignore_result=True")


def _project(project, helpers: str, views: str, extra=None):
    return project({"proj/tasks.py": TASKS, "proj/helpers.py": textwrap.dedent(helpers),
                    "proj/views.py": "from proj.tasks import render, audit\n" + textwrap.dedent(views), **(extra or {})})


IDENT = """
    def ident(x):
        y = x
        return y
"""


def test_a_task_returned_by_another_modules_function_is_the_one_enqueued(project):
    root = _project(project, IDENT, """
        from proj.helpers import ident


        def view():
            return ident(render).delay(1).get()


        def other():
            job = ident(audit)
            job.delay(1)
    """)
    assert lint(root) == [AUDIT_UNREAD.format(n=1, s="")]


def test_unread_through_another_modules_function_is_found(project):
    # a helper module with Celery words (the fast path's slicer keeps the function whole) and one without
    helpers = textwrap.dedent(IDENT) + "\n\ndef pick(urgent, *, a, b):\n    return a if urgent else b\n"
    for header in ("", "from celery import group\n"):
        root = _project(project, header + helpers, """
            from proj import helpers
            from proj.helpers import ident


            def view(urgent):
                helpers.pick(urgent, a=render, b=audit).delay(1)
                ident(render).s(1).apply_async(link=audit.s())
        """)
        assert lint(root) == [RENDER_UNREAD.format(n=2, s="s"), AUDIT_UNREAD.format(n=2, s="s")]


def test_a_function_without_parameters_gives_its_own_names(project):
    root = _project(project, """
        from proj.tasks import render


        def make():
            return render
    """, """
        from proj.helpers import make


        def view():
            make().delay(1)


        def other():
            return audit.delay(1).get()
    """)
    assert lint(root) == [RENDER_UNREAD.format(n=1, s="")]


def test_through_a_package_that_re_exports_it(project):
    root = _project(project, IDENT, """
        from proj.shortcuts import same


        def view():
            same(render).delay(1)
            return same(audit).delay(1).get()
    """, {"proj/shortcuts/__init__.py": "from proj.helpers import ident as same\n"})
    assert lint(root) == [RENDER_UNREAD.format(n=1, s="")]


@pytest.mark.parametrize("helpers, value, prelude", [
    # decorated, a generator, a parameter rebound, a default the call leaves out, a call given back, a method
    ("import functools\n\n\n@functools.lru_cache()\ndef ident(x):\n    return x\n", "ident(render)", ""),
    ("def ident(x):\n    yield x\n    return x\n", "ident(render)", ""),
    ("from proj.factory import make\n\n\ndef ident(x):\n    x = make(x)\n    return x\n", "ident(render)", ""),
    ("def ident(x, y=None):\n    return y or x\n", "ident(render)", ""),
    ("from proj.factory import make\n\n\ndef ident(x):\n    return make(x)\n", "ident(render)", ""),
    ("class Holder:\n    @staticmethod\n    def ident(x):\n        return x\n\n\nident = Holder.ident\n",
     "ident(render)", ""),
    # bound twice at module level, replaced from another module, a container given back, an argument not a name
    ("def ident(x):\n    return x\n\n\nif True:\n    def ident(x):\n        return None\n", "ident(render)", ""),
    (IDENT, "ident(render)", "import proj.helpers\nproj.helpers.ident = lambda x: x\n"),
    ("def ident(x):\n    return {'k': x}\n", "ident(render)['k']", ""),
    (IDENT, "ident(make(render))", "from proj.factory import make\n"),
])
def test_what_cannot_be_known_stays_unknown(project, helpers, value, prelude):
    """render is handed to the function and the value read: not knowing what came back, render may be it. audit,
    never handed on, is still found."""
    root = _project(project, helpers, "from proj.helpers import ident\n" + prelude + textwrap.dedent(f"""


        def view():
            return {value}.delay(1).get()


        def other():
            render.delay(1)
            audit.delay(1)
    """))
    verdicts = {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}
    assert verdicts == {"render": "maybe", "audit": "unread"}


def test_a_call_given_unknown_arguments_names_no_other_task(project):
    """``ident(x)`` with a parameter x the analysis cannot follow: the value may be any task handed on, but not
    audit (never handed on), and render is enqueued read elsewhere only through what it can name."""
    root = _project(project, IDENT, """
        from proj.helpers import ident


        def view(x):
            return ident(x).delay(1).get()


        def other():
            ident(render).delay(1)
            audit.delay(1)
    """)
    verdicts = {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}
    assert verdicts == {"render": "maybe", "audit": "unread"}


# ----- a result, a signature or a bound .delay handed to a function that only gives it back -----

def test_a_handle_signature_or_bound_method_given_back_takes_the_outcome_of_the_call(project):
    root = _project(project, IDENT, """
        from celery import group

        from proj.helpers import ident


        def local(x):
            return x


        def view():
            ident(render.delay(1)).get()
            group([ident(render.s(1))]).delay().get()
            ident(render.apply_async)((1,)).wait()
            local(ident(render.delay(2))).ready()


        def other():
            ident(audit.delay(1)).forget()
            ident(audit.s(1)).delay()
            ident(audit.delay)(1)
            local(audit.delay(2))
            handle = local(ident(audit.delay(3)))
            return handle.id
    """)
    assert lint(root) == [AUDIT_UNREAD.format(n=5, s="s")]


@pytest.mark.parametrize("helpers", [
    # the function reads it, keeps it, hands it on, may give back something else, is decorated
    "def ident(x):\n    x.get()\n    return x\n",
    "KEPT = []\n\n\ndef ident(x):\n    KEPT.append(x)\n    return x\n",
    "from proj.factory import wrap\n\n\ndef ident(x):\n    return wrap(x)\n",
    "def ident(x, y=None):\n    return y\n",
    "import functools\n\n\n@functools.lru_cache()\ndef ident(x):\n    return x\n",
])
def test_a_handle_the_function_may_do_anything_with_is_not_unread(project, helpers):
    root = _project(project, helpers, """
        from proj.helpers import ident


        def view():
            ident(render.delay(1))
            audit.delay(1)
    """)
    verdicts = {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}
    assert verdicts == {"render": "maybe", "audit": "unread"}


def test_only_the_defining_module_is_read_again(project):
    """``ident()`` is of interest to the slicer where ``ident`` is defined: a file that merely imports or calls it
    changes nothing, so the fast path parses no more files for it."""
    views = "from proj.helpers import ident\n\n\ndef view():\n    return ident(render).delay(1).get()\n"
    files = {"proj/tasks.py": TASKS, "proj/helpers.py": textwrap.dedent(IDENT),
             "proj/views.py": "from proj.tasks import render, audit\n" + views + "\n\ndef other():\n    audit.delay(1)\n"}
    alone = analyse_both_ways(project(files))
    assert {t.short_name: v.state.value for t, v in alone.verdicts} == {"render": "read", "audit": "unread"}
    shapes = {"proj/shapes.py": "from proj.helpers import ident\n\nSIZE = ident(3)\n",
              "proj/more.py": "from celery import group\nfrom proj.helpers import ident\n\nSIZE = ident(3)\n"}
    more = analyse_both_ways(project({**files, **shapes}))
    assert {t.short_name: v.state.value for t, v in more.verdicts} == {"render": "read", "audit": "unread"}
    assert (more.files, more.parsed) == (alone.files + 2, alone.parsed + 1)  # more.py has a Celery word: once


def test_an_argument_after_a_starred_one_binds_an_unknown_parameter(project):
    """``pick(*rest, handle)``: handle may bind ``a``, which pick reads, not ``b``, which it gives back."""
    root = _project(project, "def pick(a, b=None):\n    a.get()\n    return b\n", """
        from proj.helpers import pick


        def view(rest):
            pick(*rest, render.delay(1))
            audit.delay(1)
    """)
    verdicts = {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}
    assert verdicts == {"render": "maybe", "audit": "unread"}
