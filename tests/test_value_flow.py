"""The carriers of task values (issue 20), on the fixture families that show them (fixtures/<case>): every task
a carrier brings to a read keeps its results under ``--strategy global`` (ignore_result=False written on it), and
only those. The per-task findings and fixed sources of the same fixtures are checked by test_fixtures.py."""
from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import analyse_both_ways
from helpers import RENDER_AND_AUDIT, cli, kept_by_global_fix

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

READ = {
    # start = t.apply_async; a.delay if c else b.delay; functools.partial(t.delay, x); a dict of .delay's
    "bound_methods": ["exports.tasks.render_pdf", "exports.tasks.render_csv", "exports.tasks.render_xlsx",
                      "exports.tasks.export_ledger"],
    # a group with a task after it in a chain is a chord: its members are chord headers
    "chord_upgrade": ["catalog.tasks.price_sku", "catalog.tasks.stock_sku", "catalog.tasks.thumbnail",
                      "catalog.tasks.translate"],
    # delay_on_commit() returns None: only the plain .delay() read keeps charge_card
    "on_commit": ["orders.tasks.charge_card"],
    # self.task (class attributes), a parameter (callers' arguments), a conditional argument, a loop over a tuple
    "task_carriers": ["billing.tasks.render_invoice", "billing.tasks.render_statement", "billing.tasks.charge",
                      "billing.tasks.refund", "billing.tasks.bill_monthly", "billing.tasks.bill_yearly"],
    # progress reported through helpers (a method of a plain class too); getattr(module, name) with the literal
    # names its callers pass
    "local_unknowns": ["media.jobs.transcode", "media.jobs.ingest", "media.jobs.approve", "media.jobs.expire",
                       "media.jobs.thumbnail"],
}


@pytest.mark.parametrize("case", sorted(READ))
def test_global_strategy_keeps_exactly_the_tasks_carriers_bring_to_a_read(case, tmp_path):
    root = Path(shutil.copytree(FIXTURES / case / "project", tmp_path / case))
    result = cli(root, "--no-cache", "--fix", "--strategy", "global", ".")
    assert "Traceback" not in result.stderr
    assert sorted(kept_by_global_fix(result.stderr)) == sorted(READ[case]), result.stderr
    for qualname in READ[case]:
        module, _, name = qualname.rpartition(".")
        source = (root / (module.replace(".", "/") + ".py")).read_text()
        assert re.search(rf"ignore_result=False\)\ndef {name}\(", source), qualname


# ----- where a carrier cannot tell, it stays silent (and only about the tasks it may hold) -----

TASKS = RENDER_AND_AUDIT


def verdicts(root):
    return {task.short_name: verdict.state.value for task, verdict in analyse_both_ways(root).verdicts}


@pytest.mark.parametrize("views, render", [
    # an instance sets the attribute: self.task may be anything
    ("""
     from proj.tasks import render, audit
     class Base:
         task = render
         def __init__(self, task=None):
             self.task = task or self.task
         def post(self):
             return self.task.delay(1).get()
     """, "maybe"),
    # a property in a subclass: not a class attribute
    ("""
     from proj.tasks import render, audit
     class Base:
         task = None
         def post(self):
             return self.task.delay(1).get()
     class Pick(Base):
         @property
         def task(self):
             return render
     """, "maybe"),
    # a caller passes something that is not a name
    ("""
     from proj.tasks import render, audit
     def run(task):
         return task.delay(1).get()
     REGISTRY = {"render": render}
     def view(name):
         return run(REGISTRY[name])
     """, "maybe"),
    # the bound method kept in a module variable: anyone may call it
    ("""
     from proj.tasks import render, audit
     START = render.delay
     """, "maybe"),
])
def test_an_unknown_carrier_is_silent_about_what_it_may_hold_only(project, views, render):
    root = project({"proj/tasks.py": TASKS, "proj/views.py": textwrap.dedent(views) + "\ndef other():\n    audit.delay(1)\n"})
    found = verdicts(root)
    assert found["render"] == render
    assert found["audit"] == "unread"  # the unknown cannot hold it: it keeps its finding


PROGRESS = """
    from celery import current_task


    def report(done):
        current_task.update_state(state="PROGRESS", meta={"done": done})


    def work(n):
        for i in range(n):
            report(i)


    def again(n):  # a cycle between helpers: followed once
        if n:
            return loop(n - 1)
        work(n)


    def loop(n):
        return again(n)
"""


@pytest.mark.parametrize("caller, render, audit", [
    # a task calls a helper that calls the helper reporting progress: the task's progress is polled
    ("from proj.progress import work\n@app.task\ndef render2(x):\n    work(x)\ndef go():\n    render2.delay(1)\n", "unread", "unread"),
    ("from proj.progress import loop\n@app.task\ndef render2(x):\n    loop(x)\ndef go():\n    render2.delay(1)\n", "unread", "unread"),
    # the middle helper in a file that names no Celery at all (the fast path finds it by the names it calls)
    ("from proj.util import batch\n@app.task\ndef render2(x):\n    batch(x)\ndef go():\n    render2.delay(1)\n", "unread", "unread"),
    # called from outside any function: the tasks reporting it cannot be named, so every task may report it
    ("from proj.progress import work\nwork(3)\n", "maybe", "maybe"),
])
def test_progress_through_helpers_of_helpers_belongs_to_the_tasks_calling_them(project, caller, render, audit):
    tasks = textwrap.dedent(TASKS) + "\n\n" + caller
    root = project({"proj/tasks.py": tasks, "proj/progress.py": textwrap.dedent(PROGRESS),
                    "proj/util.py": "from proj.progress import work\n\n\ndef batch(n):\n    return work(n)\n",
                    "proj/views.py": "from proj.tasks import render, audit\n\ndef v():\n    render.delay(1)\n"
                                     "    audit.delay(1)\n"})
    found = verdicts(root)
    assert (found["render"], found["audit"]) == (render, audit)
    if "render2" in found:  # enqueued and never read: only its progress keeps it
        assert found["render2"] == "maybe"


# ----- a bound enqueue method whose receiver is not a task name (found by test_value_flow_property.py) -----

@pytest.mark.parametrize("views, expected", [
    # the bound method of a parameter: its callers' arguments are read
    ("""
     def run(task):
         start = task.delay
         return start(1).get()
     def view():
         run(render)
     """, {"render": "read", "audit": "unread"}),
    # the bound method of self.task: the class attributes of that name are read
    ("""
     class View:
         task = render
         def post(self):
             start = self.task.apply_async
             return start((1,)).get()
     """, {"render": "read", "audit": "unread"}),
    # the bound method of what a plain function gives back: the tasks it may give
    ("""
     def ident(value):
         return value
     def view():
         start = ident(render).delay
         return start(1).get()
     """, {"render": "read", "audit": "unread"}),
    # the bound method of something we cannot name: it may be any task handed on as a value
    ("""
     from proj.factory import make
     def view():
         start = make(render).delay
         return start(1).get()
     """, {"render": "maybe", "audit": "unread"}),
])
def test_a_bound_method_kept_from_a_receiver_that_is_not_a_task_name_keeps_its_reads(project, views, expected):
    root = project({"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import render, audit\n"
                    + textwrap.dedent(views) + "\ndef other():\n    render.delay(1)\n    audit.delay(1)\n"})
    assert verdicts(root) == expected


# ----- walrus binds like an assignment (found by test_value_flow_property.py) -----

@pytest.mark.parametrize("views, expected", [
    ("""
     def view():
         if (task := render) is not None:
             return task.delay(1).get()
     """, "read"),
    ("""
     def view():
         if (start := render.delay) is not None:
             return start(1).get()
     """, "read"),
    ("""
     def view():
         return (start := render.apply_async)((1,)).get()
     """, "read"),
    ("""
     def view():
         if (start := render.delay) is not None:
             start(1)
     """, "unread"),
])
def test_a_task_or_bound_method_bound_by_walrus_is_followed(project, views, expected):
    root = project({"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import render, audit\n"
                    + textwrap.dedent(views) + "\ndef other():\n    render.delay(1)\n    audit.delay(1)\n"})
    assert verdicts(root) == {"render": expected, "audit": "unread"}


# ----- an old-style errback on a parent we cannot name (found by bench/flow_property.py) -----

def test_an_errback_on_a_parent_we_cannot_name_keeps_every_task_handed_on_as_a_value(project):
    # ``self.value`` may hold any task handed on as a value: here render, passed in views.py, while the errback
    # that reads by id is attached in runner.py (set by a method other than ``__init__``: not followed). Before: render's only other use (in views.py) made it CEL001.
    root = project({
        "proj/tasks.py": textwrap.dedent(TASKS) + textwrap.dedent("""


            @app.task(bind=True)
            def on_error(self, task_id, *args):
                print(self.app.AsyncResult(task_id).result)
            """),
        "proj/runner.py": """
            from proj.tasks import on_error


            class Runner:
                def load(self, value):
                    self.value = value

                def run(self):
                    self.value.apply_async((1,), link_error=on_error.s())
            """,
        "proj/views.py": """
            from proj.runner import Runner
            from proj.tasks import audit, render


            def view():
                runner = Runner()
                runner.load(render)
                runner.run()


            def other():
                {"k": render}["k"].delay(1)
                audit.delay(1)
            """,
    })
    found = verdicts(root)
    assert (found["render"], found["audit"]) == ("maybe", "unread")


FILL = "from proj.tasks import render\n\n\ndef fill(jobs):\n    jobs.append(render)\n"


@pytest.mark.parametrize("views", [
    # a local list handed to a function that fills it: what it holds is not only its literal
    """
    from proj.fill import fill
    def view():
        jobs = [audit]
        fill(jobs)
        return [t.delay(1).get() for t in jobs]
    """,
    # a module-level table handed to a function
    """
    from proj.fill import fill
    JOBS = [audit]
    fill(JOBS)
    def view():
        return [t.delay(1).get() for t in JOBS]
    """,
    # filled through another name, a closure, a bound method kept, an item that is itself a container, a
    # container holding it: all fills of the list the read goes over
    """
    def view():
        jobs = [audit]
        alias = jobs
        alias.append(render)
        return [t.delay(1).get() for t in jobs]
    """,
    """
    def view():
        jobs = [audit]
        def add():
            jobs.append(render)
        add()
        return [t.delay(1).get() for t in jobs]
    """,
    """
    def view():
        jobs = [audit]
        add = jobs.append
        add(render)
        return [t.delay(1).get() for t in jobs]
    """,
    """
    def view():
        table = {"pdf": [audit]}
        table["pdf"].append(render)
        return [t.delay(1).get() for t in table["pdf"]]
    """,
    """
    def view():
        pair = ([audit], "pdf")
        queue, _ = pair
        queue.append(render)
        return [t.delay(1).get() for t in pair[0]]
    """,
    """
    def view():
        jobs = [audit]
        box = [jobs]
        box[0].append(render)
        return [t.delay(1).get() for t in jobs]
    """,
    # two names bound to the one list at once
    """
    def view():
        jobs = alias = [audit]
        alias.append(render)
        return [t.delay(1).get() for t in jobs]
    """,
    # a method named like a builtin that only reads (``set``, ``list``) may keep the container and fill it later
    """
    class Store:
        def set(self, value):
            self.value = value
    STORE = Store()
    def view():
        jobs = [audit]
        STORE.set(jobs)
        STORE.value.append(render)
        return [t.delay(1).get() for t in jobs]
    """,
])
def test_a_container_filled_where_the_analysis_cannot_see_keeps_what_it_may_hold(project, views):
    """render's own enqueue is unread, but the container the read loops over may hold it: never CEL001."""
    root = project({"proj/tasks.py": TASKS, "proj/fill.py": FILL,
                    "proj/views.py": "from proj.tasks import render, audit\n" + textwrap.dedent(views)
                    + "\ndef other():\n    render.delay(2)\n"})
    assert verdicts(root)["render"] != "unread"


# ----- containers filled after they are made, comprehensions, a task beside None (bench/flow_property.py) -----

@pytest.mark.parametrize("views, expected", [
    ("""
     def view():
         jobs = []
         jobs.append(render)
         return jobs[0].delay(1).get()
     """, {"render": "read", "audit": "unread"}),
    ("""
     def view():
         table = {}
         table["pdf"] = render
         table.setdefault("log", audit)
         table["pdf"].delay(1)
     """, {"render": "unread", "audit": "unread"}),
    ("""
     def view(kind):
         table = {}
         table.update(pdf=render)
         table.update({"log": audit})
         return table[kind].delay(1).get()
     """, {"render": "read", "audit": "read"}),
    # a table of tuples, tested and unpacked: its items hold no container anyone could fill
    ("""
     def view(kind):
         table = {"pdf": (render, "r.html")}
         table["log"] = (audit, "l.html")
         if kind in table:
             task, template = table[kind]
             return task.delay(template).get()
     """, {"render": "read", "audit": "read"}),
    ("""
     def view():
         for job in [task for task in (render, audit)]:
             job.delay(1).get()
     """, {"render": "read", "audit": "read"}),
    ("""
     def view():
         table = {name: task for name, task in [("pdf", render)]}
         return table["pdf"].delay(1).get()
     """, {"render": "read", "audit": "unread"}),
    ("""
     def view(flag):
         task = render if flag else None
         return task.delay(1).get()
     """, {"render": "read", "audit": "unread"}),
    ("""
     def view(flag):
         task = None or render
         task.delay(1)
     """, {"render": "unread", "audit": "unread"}),
    # one item we cannot name: the read may be of any task handed on as a value, render among them
    ("""
     def view(make):
         jobs = []
         jobs.append(render)
         jobs.append(make())
         return jobs[1].delay(1).get()
     """, {"render": "maybe", "audit": "unread"}),
    # filled in a way not followed (``+=``): the same
    ("""
     def view(more):
         jobs = [render]
         jobs += more
         return jobs[1].delay(1).get()
     """, {"render": "maybe", "audit": "unread"}),
    # handed to a helper that reads whatever it holds
    ("""
     def run(items):
         return items[0].delay(1).get()
     def view():
         jobs = []
         jobs.append(render)
         return run(jobs)
     """, {"render": "maybe", "audit": "unread"}),
])
def test_containers_filled_after_they_are_made_are_followed(project, views, expected):
    root = project({"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import render, audit\n"
                    + textwrap.dedent(views) + "\ndef other():\n    render.delay(1)\n    audit.delay(1)\n"})
    assert verdicts(root) == expected


# ----- a local only enqueued on the tasks it names hands nothing on (bench/flow_property.py) -----

@pytest.mark.parametrize("views, render", [
    ("""
     def view(flag):
         task = render if flag else None
         task.delay(1)
     """, "unread"),
    ("""
     def view(flag):
         task = render
         if flag:
             task = audit
         task.apply_async((1,))
         task.s(2).delay()
     """, "unread"),
    # bound also in a way not followed: the call may be of anything, and render may be what the read gets
    ("""
     def view(make):
         task = render
         task = make()
         task.delay(1)
     """, "maybe"),
    # handed to a function, its .delay kept, returned: it goes on
    ("""
     def view(helper):
         task = render
         task.delay(1)
         helper(task)
     """, "maybe"),
    ("""
     def view():
         task = render
         start = task.delay
         start(1)
     """, "maybe"),
    ("""
     def view():
         task = render
         task.delay(1)
         return task
     """, "maybe"),
])
def test_a_local_only_enqueued_where_named_is_not_handed_on(project, views, render):
    # a read of a task we cannot name elsewhere: a task handed on as a value may be the one read
    root = project({"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import render, audit\n"
                    + textwrap.dedent(views)
                    + "\ndef poll(holder):\n    return holder.job.delay(1).get()\n\ndef other():\n    audit.delay(1)\n"})
    assert verdicts(root) == {"render": render, "audit": "unread"}


# ----- returns of this module's plain functions, and containers that leave the function -----

@pytest.mark.parametrize("views, render", [
    ("""
     def ident(x):
         y = x
         return y
     def view():
         return ident(render).delay(1).get()
     """, "read"),
    ("""
     def pick(urgent):
         if urgent:
             return render
         return None
     def view():
         pick(True).delay(1)
     """, "unread"),
    # a parameter rebound inside, a decorated helper, a bare return, a container given back: not followed
    ("""
     def ident(x):
         x = make(x)
         return x
     def view():
         return ident(render).delay(1).get()
     """, "maybe"),
    # a closure rebinds the parameter (the fast path keeps a followed function whole, so as to see it)
    ("""
     def ident(x):
         def reset():
             nonlocal x
             x = make()
         reset()
         return x
     def view():
         return ident(render).delay(1).get()
     """, "maybe"),
    ("""
     import functools
     @functools.lru_cache()
     def ident(x):
         return x
     def view():
         return ident(render).delay(1).get()
     """, "maybe"),
    ("""
     def fill(jobs):
         jobs.append(make())
         return jobs
     def view():
         return fill([render])[0].delay(1).get()
     """, "maybe"),
    # a container filled here and handed to a function that may fill it too
    ("""
     def view(helper):
         jobs = []
         jobs.append(render)
         helper(jobs)
         return jobs[0].delay(1).get()
     """, "maybe"),
])
def test_returns_of_this_modules_functions_are_followed(project, views, render):
    root = project({"proj/tasks.py": TASKS, "proj/views.py": "from proj.tasks import render, audit\n"
                    + "from proj.factory import make\n" + textwrap.dedent(views)
                    + "\ndef other():\n    render.delay(1)\n    audit.delay(1)\n"})
    assert verdicts(root) == {"render": render, "audit": "unread"}


def test_a_followed_function_makes_no_other_file_worth_parsing(project):
    """``ident(render)`` in views follows views' own ``ident``: a file that merely imports or calls ``ident``
    from elsewhere can change nothing, so the fast path parses no more files for it."""
    views = ("from proj.tasks import render, audit\n\n\ndef ident(x):\n    y = x\n    return y\n\n\n"
             "def view():\n    return ident(render).delay(1).get()\n\n\ndef other():\n    audit.delay(1)\n")
    files = {"proj/tasks.py": TASKS, "proj/views.py": views}
    alone = analyse_both_ways(project(files))
    assert {t.short_name: v.state.value for t, v in alone.verdicts} == {"render": "read", "audit": "unread"}
    shutil.rmtree(alone.root)
    more = analyse_both_ways(project({**files, "proj/shapes.py": "from proj.views import ident\n\nSIZE = ident(3)\n"}))
    assert {t.short_name: v.state.value for t, v in more.verdicts} == {"render": "read", "audit": "unread"}
    assert (more.files, more.parsed) == (alone.files + 1, alone.parsed)


# ----- a decorator above the task's own is handed the task object: it may keep it in a table -----

REGISTERED = """
    from proj.tasks import app, render

    REGISTRY = {"render": render}


    def register(task):
        REGISTRY[task.name] = task
        return task


    @register
    @app.task
    def hooked(x):
        return x


    @app.task
    @register
    def inner(x):
        return x
"""


@pytest.mark.parametrize("views, hooked", [
    # read through the registry the decorator fills: hooked may be what is read
    ("""
     from proj.hooks import REGISTRY
     def view(name):
         return REGISTRY[name].delay(1).get()
     """, "maybe"),
    # no read of a task we cannot name: its own unread enqueue decides
    ("""
     from proj.hooks import REGISTRY
     def view(name):
         REGISTRY[name].delay(1)
     """, "unread"),
])
def test_a_task_handed_to_an_outer_decorator_may_be_read_through_what_it_keeps(project, views, hooked):
    root = project({"proj/tasks.py": TASKS, "proj/hooks.py": REGISTERED,
                    "proj/views.py": textwrap.dedent(views) + "\n\ndef other():\n    from proj.hooks import hooked, inner"
                    "\n    hooked.delay(1)\n    inner.delay(1)\n"})
    found = verdicts(root)
    # ``inner``'s decorator below the task's own is handed the plain function, not the task
    assert (found["hooked"], found["inner"]) == (hooked, "unread")


# ----- a module-level name bound to two tasks (a setting chooses) may be either -----

@pytest.mark.parametrize("conf, expected", [
    ("""
     import os
     from proj.tasks import render, audit
     if os.environ.get("AUDIT"):
         SEND = audit
     else:
         SEND = render
     """, ("maybe", "maybe")),
    # rebound in a function that declares it global
    ("""
     from proj.tasks import render, audit
     SEND = render
     def audit_instead():
         global SEND
         SEND = audit
     """, ("maybe", "maybe")),
    # bound twice to the same task: still that task
    ("""
     import os
     from proj.tasks import render, audit
     if os.environ.get("AUDIT"):
         SEND = render
     else:
         SEND = render
     """, ("read", "unread")),
])
def test_a_module_name_bound_to_two_tasks_is_either(project, conf, expected):
    root = project({"proj/tasks.py": TASKS, "proj/conf.py": conf,
                    "proj/views.py": "from proj.conf import SEND\nfrom proj.tasks import render, audit\n\n\n"
                    "def view():\n    return SEND.delay(1).get()\n\n\ndef other():\n    render.delay(1)\n"
                    "    audit.delay(1)\n"})
    found = verdicts(root)
    assert (found["render"], found["audit"]) == expected


# ----- a local rebound where the analysis does not follow it: a match capture, an except name -----

@pytest.mark.parametrize("rebinding", [
    """
        match event:
            case {"task": t}:
                pass
    """,
    """
        try:
            event.check()
        except LookupError as t:
            pass
    """,
])
def test_a_local_rebound_in_a_way_not_followed_may_hold_anything(project, rebinding):
    """``t = render`` and then a capture or an ``except ... as t`` rebinds ``t``: its read is of a task the analysis
    cannot name, so no task handed on as a value may be reported (here ``audit``, handed to view()). (An import
    rebinding it is followed: tests/test_imported_names.py.)"""
    views = ("from proj.tasks import render, audit\n\n\ndef view(event):\n    t = render\n"
             + textwrap.indent(textwrap.dedent(rebinding).strip("\n"), "    ") + "\n    return t.delay(1).get()\n\n\n"
             "def send():\n    view({'task': audit})\n    render.delay(1)\n    audit.delay(1)\n")
    root = project({"proj/tasks.py": TASKS, "proj/views.py": views})
    assert verdicts(root)["render"] == "maybe"


# ----- a class attribute set from outside its class may hold what it is set to -----

KEPT_ON_A_CLASS = """
    from proj.tasks import render, audit


    class Report:
        task = render

        def run(self):
            return self.task.delay(1).get()


    def elsewhere():
        render.delay(1)
        audit.delay(1)
"""


@pytest.mark.parametrize("setter", ["Report.task = audit\n", "setattr(Report, 'task', audit)\n",
                                    "def go():\n    report = Report()\n    report.task = audit\n    return report.run()\n",
                                    "def go():\n    report = Report()\n    vars(report).update(task=audit)\n"])
def test_a_class_attribute_set_from_outside_the_class_may_hold_that_task(project, setter):
    """``self.task`` in Report's method is not only its class body's ``render`` once some code sets ``task`` on
    another object (the class, an instance, through setattr or vars): audit, set there, may be the one read."""
    root = project({"proj/tasks.py": TASKS, "proj/views.py": KEPT_ON_A_CLASS,
                    "proj/setup.py": "from proj.tasks import audit\nfrom proj.views import Report\n\n" + setter})
    assert (verdicts(root)["render"], verdicts(root)["audit"]) == ("maybe", "maybe")
    # nothing sets it on another object: the class body says all it holds
    (root / "proj/setup.py").write_text("from proj.tasks import audit\n\n\ndef go():\n    audit.delay(1)\n")
    assert (verdicts(root)["render"], verdicts(root)["audit"]) == ("read", "unread")


@pytest.mark.parametrize("views, render, audit", [
    # a module's names looked up at run time: any task the lookup may reach
    ("from proj.tasks import *\ndef view(name):\n    return globals()[name].delay(1).get()\n", "maybe", "maybe"),
    ("from proj import tasks\ndef view(name):\n    return tasks.__dict__[name].delay(1).get()\n", "maybe", "maybe"),
    ("import sys\ndef view():\n    return sys.modules['proj.tasks'].render.delay(1).get()\n", "maybe", "maybe"),
    ("def view():\n    jobs = __import__('proj.tasks', fromlist=['render'])\n    return jobs.render.delay(1).get()\n",
     "maybe", "maybe"),
    ("from importlib import import_module\ndef view(name):\n    return getattr(import_module('proj.tasks'), name)"
     ".delay(1).get()\n", "maybe", "maybe"),
    # a module imported by a literal path is that module
    ("from importlib import import_module\ndef view():\n    return import_module('proj.tasks').render.delay(1).get()\n",
     "read", "unread"),
    ("from importlib import import_module\ndef view():\n    return getattr(import_module('proj.tasks'), 'render')"
     ".delay(1).get()\n", "read", "unread"),
    # a method looked up by a literal name is that method
    ("from proj.tasks import render\ndef view():\n    return getattr(render, 'delay')(1).get()\n", "read", "unread"),
    # a parameter's default is handed to the body
    ("from proj.tasks import render\ndef view(task=render):\n    return task.delay(1).get()\n", "maybe", "unread"),
    ("from proj.tasks import render\nrun = lambda task=render: task.delay(1).get()\n", "maybe", "unread"),
])
def test_a_task_reached_at_run_time_or_as_a_default_keeps_its_reads(project, views, render, audit):
    # each was a false CEL001 on render: the read went to a receiver the analysis could not name, and nothing
    # said render could be it
    drop = "from proj.tasks import audit, render\n\n\ndef drop():\n    render.delay(1)\n    audit.delay(1)\n"
    root = project({"proj/tasks.py": TASKS, "proj/views.py": views, "proj/drop.py": drop})
    assert verdicts(root) == {"render": render, "audit": audit}


@pytest.mark.parametrize("views", [
    # a module variable filled in a function, read in another module
    {"proj/holder.py": "from proj.tasks import render\n\nPENDING = []\n\n\ndef start():\n    PENDING.append(render.delay(1))\n",
     "proj/reader.py": "from proj.holder import PENDING\n\n\ndef read():\n    return [p.get() for p in PENDING]\n"},
    # a function's list filled in a comprehension, and inside a closure
    {"proj/views.py": "from proj.tasks import render\n\n\ndef view(xs):\n    out = []\n"
                      "    [out.append(render.delay(x)) for x in xs]\n    return [o.get() for o in out]\n"},
    {"proj/views.py": "from proj.tasks import render\n\n\ndef view(xs):\n    out = []\n\n    def start(x):\n"
                      "        out.append(render.delay(x))\n\n    for x in xs:\n        start(x)\n"
                      "    return [o.get() for o in out]\n"},
])
def test_results_added_to_a_list_of_an_outer_scope_are_followed_there(project, views):
    # ``jobs.append(r)`` where ``jobs`` is not the function's own local fills the variable of the scope that
    # binds it (the module's: anyone may read it); it used to be taken for an unused local
    root = project({"proj/tasks.py": TASKS, **views,
                    "proj/drop.py": "from proj.tasks import audit, render\n\n\ndef drop():\n    render.delay(1)\n    audit.delay(1)\n"})
    found = verdicts(root)
    assert found["render"] in ("read", "maybe")
    assert found["audit"] == "unread"


RESULT_ROWS = "from django_celery_results.models import TaskResult\nfrom proj.tasks import app, audit, render\n\n\n"


@pytest.mark.parametrize("views, render, audit", [
    # a backend asked directly by id: the id taken is read
    ("from proj.tasks import app, audit, render\n\n\ndef view():\n    audit.delay(1)\n"
     "    return app.backend.get_task_meta(render.delay(1).id)['status']\n", "maybe", "unread"),
    ("from proj.tasks import app, audit, render\n\n\ndef start():\n    audit.delay(1)\n    return render.delay(1).id\n\n\n"
     "def status(i):\n    return app.backend.get_result(i)\n", "maybe", "unread"),
    # django-celery-results' rows: by id, by the task's name, or any row
    (RESULT_ROWS + "def view():\n    audit.delay(1)\n    i = render.delay(1).id\n"
     "    return TaskResult.objects.get(task_id=i).status\n", "maybe", "unread"),
    (RESULT_ROWS + "def view():\n    audit.delay(1)\n    render.delay(1)\n\n\n"
     "def last():\n    return TaskResult.objects.filter(task_name='proj.tasks.render').last().result\n", "read", "unread"),
    (RESULT_ROWS + "def view():\n    audit.delay(1)\n    render.delay(1)\n\n\n"
     "def failures():\n    return list(TaskResult.objects.filter(status='FAILURE'))\n", "maybe", "maybe"),
    # rows only deleted or counted are not read
    (RESULT_ROWS + "def view():\n    audit.delay(1)\n    render.delay(1)\n\n\n"
     "def cleanup():\n    TaskResult.objects.filter(status='SUCCESS').delete()\n"
     "    return TaskResult.objects.filter(status='FAILURE').count()\n", "unread", "unread"),
    # an abortable task's handle rebuilt from an id
    ("from celery.contrib.abortable import AbortableAsyncResult\nfrom proj.tasks import audit, render\n\n\n"
     "def start():\n    audit.delay(1)\n    return render.delay(1).id\n\n\ndef stop(i):\n"
     "    return AbortableAsyncResult(i).abort()\n", "maybe", "unread"),
])
def test_results_read_from_the_backend_or_its_rows(project, views, render, audit):
    root = project({"proj/tasks.py": TASKS, "proj/views.py": views})
    assert verdicts(root) == {"render": render, "audit": audit}


HOOKED_TASKS = """
    from celery import Celery, Task
    from celery.result import AsyncResult

    app = Celery("proj", backend="redis://")


    class Audited(Task):
        def on_success(self, retval, task_id, args, kwargs):
            print(AsyncResult(task_id).result)


    @app.task(base=Audited)
    def render(x):
        return x


    @app.task
    def audit(x):
        pass
"""
POSTRUN = """
    from celery.result import AsyncResult
    from celery.signals import task_postrun


    @task_postrun.connect
    def log_result(sender=None, task_id=None, **kwargs):
        print(AsyncResult(task_id).result)
"""


@pytest.mark.parametrize("files", [{"proj/tasks.py": HOOKED_TASKS}, {"proj/tasks.py": TASKS, "proj/signals.py": POSTRUN}])
def test_a_read_by_an_id_celery_hands_over_may_be_of_any_task(project, files):
    # a task signal's receiver, or a Task class's on_success, gets the id of whichever task ran
    views = "from proj.tasks import audit, render\n\n\ndef view():\n    render.delay(1)\n    audit.delay(1)\n"
    root = project({**files, "proj/views.py": views})
    assert verdicts(root) == {"render": "maybe", "audit": "maybe"}


@pytest.mark.parametrize("name", ["NAME", "f'{PREFIX}.render'", "'custom' + '.render'"])
def test_a_name_no_task_has_may_be_a_task_whose_name_is_not_a_literal(project, name):
    tasks = ("from celery import Celery\n\napp = Celery('proj', backend='redis://')\nPREFIX = 'custom'\n"
             f"NAME = 'custom.render'\n\n\n@app.task(name={name})\ndef render(x):\n    return x\n\n\n"
             "@app.task\ndef audit(x):\n    pass\n")
    views = ("from proj.tasks import app, audit, render\n\n\ndef view():\n    render.delay(1)\n    audit.delay(1)\n"
             "    return app.send_task('custom.render').get()\n")
    root = project({"proj/tasks.py": tasks, "proj/views.py": views})
    found = verdicts(root)
    assert found["render"] != "unread" and found["audit"] == "unread"


def test_a_models_own_update_state_reports_no_progress(project):
    # ``registration.update_state(paid=True)``: no state, meta or task id, so not Celery's; it used to make every
    # task "maybe" (a helper reporting the progress of whichever task runs it)
    helper = "def mark_paid(registration):\n    registration.update_state(paid=True)\n"
    views = ("from proj.helpers import mark_paid\nfrom proj.tasks import audit, render\n\n\n"
             "class Payment:\n    def post(self, registration):\n        mark_paid(registration)\n"
             "        render.delay(1)\n        audit.delay(1)\n")
    root = project({"proj/tasks.py": TASKS, "proj/helpers.py": helper, "proj/views.py": views})
    assert verdicts(root) == {"render": "unread", "audit": "unread"}
    (root / "proj/helpers.py").write_text("from celery import current_task\n\n\ndef mark_paid(registration):\n"
                                          "    current_task.update_state(state='PAID')\n")
    assert verdicts(root) == {"render": "maybe", "audit": "maybe"}  # Celery's: whichever task runs it


WRAPPING_TASKS = """
    from celery import Celery, Task

    app = Celery("proj", backend="redis://")


    def wrapped_task_class(base):
        class Wrapped(base):
            def apply_async(self, args=None, kwargs=None, link_error=None, **options):
                return super().apply_async(args=args, kwargs=kwargs, link_error=link_error, **options)
        return Wrapped


    app.Task = wrapped_task_class(Task)


    @app.task
    def render(x):
        return x


    @app.task
    def audit(x):
        pass
"""


def test_a_task_class_handing_its_apply_async_to_super_is_followed_at_its_callers(project):
    # the wrapper's ``super().apply_async(...)`` is whatever its callers do with ``t.apply_async(...)``: not a
    # result of a task this analysis cannot name, nor an errback it cannot name
    views = ("from importlib import import_module\nfrom celery.result import AsyncResult\n"
             "from proj.tasks import audit, render\n\n\n"
             "def load(path, name):\n    return getattr(import_module(path), name)\n\n\n"
             "def view():\n    audit.delay(1)\n"
             "    return render.delay(1).get()\n\n\ndef status(task_id):\n    return AsyncResult(task_id).state\n")
    root = project({"proj/tasks.py": WRAPPING_TASKS, "proj/views.py": views})
    assert verdicts(root) == {"render": "read", "audit": "unread"}
# ----- a method looked up with getattr and called: getattr(t, "delay")(...) -----

@pytest.mark.parametrize("call, expected", [
    ('return getattr(render, "delay")(1).get()', "read"),  # as render.delay(1).get()
    ('getattr(render, "delay")(1)', "unread"),
    ('return getattr(render, "apply_async")((1,)).get()', "read"),
    ("return getattr(render, method)(1).get()", "read"),  # the method known at run time: may be delay
    ("getattr(render, method)(1)", "unread"),  # dropped: may be apply (run here); the other enqueue decides
    ('return getattr(render, "apply")(1).get()', "unread"),  # run here: nothing stored is read
])
def test_a_method_of_a_task_looked_up_with_getattr_is_that_method(project, call, expected):
    views = ("from proj.tasks import render, audit\n\n\ndef view(method):\n    " + call
             + "\n\n\ndef other():\n    render.delay(2)\n    audit.delay(2)\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert (found["render"], found["audit"]) == (expected, "unread")


# ----- a local holding a module or task imported by a literal path -----

@pytest.mark.parametrize("body, expected", [
    ('m = importlib.import_module("proj.tasks")\n    return m.render.delay(1).get()', "read"),
    ('m = importlib.import_module("proj.tasks")\n    m.render.delay(1)', "unread"),
    ('t = import_string("proj.tasks.render")\n    return t.delay(1).get()', "read"),
    ('t = import_string("proj.tasks:render")\n    t.delay(1)', "unread"),
])
def test_a_local_imported_by_a_literal_path_is_that_module_or_task(project, body, expected):
    views = ("import importlib\n\nfrom django.utils.module_loading import import_string\n"
             "from proj.tasks import render, audit\n\n\ndef view():\n    " + body
             + "\n\n\ndef other():\n    render.delay(2)\n    audit.delay(2)\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert (found["render"], found["audit"]) == (expected, "unread")


# ----- a task given as a parameter's default: what the parameter holds when a caller leaves it out -----

@pytest.mark.parametrize("code, expected", [
    ("def view(task=render):\n    return task.delay(1).get()\n", "maybe"),
    ("def view(render=render):\n    return render.delay(1).get()\n", "maybe"),  # the default is the module's
    ("def run(*, task=render):\n    return task.delay(1).get()\n\n\ndef view():\n    return run()\n", "maybe"),
    ("view = lambda task=render: task.delay(1).get()\n", "maybe"),
    ("def view(task=render):\n    task.delay(1)\n", "unread"),  # handed on, but no result this cannot name is read
])
def test_a_task_given_as_a_default_is_handed_on(project, code, expected):
    views = "from proj.tasks import render, audit\n\n\n" + code + "\n\ndef other():\n    render.delay(2)\n    audit.delay(2)\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert (found["render"], found["audit"]) == (expected, "unread")


# ----- a variable mentioned where it is not bound: the scope binding it decides -----

@pytest.mark.parametrize("code, expected", [
    # a module-level list filled in a function: anything may read it
    ("PENDING = []\n\n\ndef start():\n    PENDING.append(render.delay(1))\n\n\n"
     "def poll():\n    return [r.get() for r in PENDING]\n", "maybe"),
    ("RESULT = None\n\n\ndef start():\n    global RESULT\n    RESULT = render.delay(1)\n\n\n"
     "def poll():\n    return RESULT.get()\n", "maybe"),
    # a closure filling its function's list, read there
    ("def view():\n    rs = []\n\n    def start():\n        rs.append(render.delay(1))\n    start()\n"
     "    return [r.get() for r in rs]\n", "read"),
    ("def view():\n    rs = []\n\n    def start():\n        rs.append(render.delay(1))\n    start()\n"
     "    return len(rs)\n", "unread"),
])
def test_a_variable_is_followed_where_it_is_bound(project, code, expected):
    views = "from proj.tasks import render, audit\n\n\n" + code + "\n\ndef other():\n    render.delay(2)\n    audit.delay(2)\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert (found["render"], found["audit"]) == (expected, "unread")


# ----- a task looked up in the registry with .get(), or signed by its .name -----

@pytest.mark.parametrize("code, expected", [
    ('return app.tasks.get("proj.tasks.render").delay(1).get()', "read"),
    ('app.tasks.get("proj.tasks.render").delay(1)', "unread"),
    ("return app.tasks.get(name).delay(1).get()", "maybe"),  # any task
    ('return app.signature(render.name, args=(1,)).delay().get()', "read"),
    ('app.signature(render.name, args=(1,)).delay()', "unread"),
])
def test_a_task_looked_up_by_its_name_is_that_task(project, code, expected):
    views = ("from proj.tasks import app, render, audit\n\n\ndef view(name):\n    " + code
             + "\n\n\ndef other():\n    render.delay(2)\n    audit.delay(2)\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert found["render"] == expected
    assert found["audit"] == ("maybe" if expected == "maybe" else "unread")


# ----- a bound task's first parameter is the task itself -----

@pytest.mark.parametrize("body, expected", [
    ("if x:\n        return self.delay(x - 1).get(disable_sync_subtasks=False)", "read"),
    ("return self.apply_async((x,)).id", "maybe"),  # results are read by id (poll() below)
    ("self.apply_async((x,), countdown=60)", "unread"),  # dropped: as before, the enqueue in other() decides
])
def test_a_bound_task_enqueuing_itself_through_self(project, body, expected):
    views = ("from celery.result import AsyncResult\nfrom proj.tasks import app, audit\n\n\n"
             "@app.task(bind=True)\ndef again(self, x):\n    " + body + "\n\n\ndef poll(i):\n    return AsyncResult(i).state\n\n\n"
             "def other():\n    again.delay(2)\n    audit.delay(2)\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert (found["again"], found["audit"]) == (expected, "unread")


# ----- stored results read without a result handle: django-celery-results' TaskResult, the backend itself -----

@pytest.mark.parametrize("reader, use, expected", [
    ("from django_celery_results.models import TaskResult\n\n\ndef status(i):\n"
     "    return TaskResult.objects.get(task_id=i).status\n", "job.task_id = render.delay(1).id", "maybe"),
    ("from django_celery_results.models import TaskResult\n\n\ndef last():\n"
     "    return TaskResult.objects.filter(task_name='proj.tasks.render').first().result\n", "render.delay(1)", "read"),
    ("from proj.tasks import app\n\n\ndef status(i):\n    return app.backend.get_task_meta(i)['status']\n",
     "job.task_id = render.delay(1).id", "maybe"),
    ("from proj.tasks import app\n\n\ndef status(i):\n    return app.backend.get_result(i)\n",
     "job.task_id = render.delay(1).id", "maybe"),
    ("import redis\n\n\ndef status(i):\n    return redis.Redis().get(f'celery-task-meta-{i}')\n",
     "job.task_id = render.delay(1).id", "maybe"),
    # read by id, but no id of render is kept: still unread
    ("from django_celery_results.models import TaskResult\n\n\ndef status(i):\n"
     "    return TaskResult.objects.get(task_id=i).status\n", "render.delay(1)", "unread"),
])
def test_a_stored_result_read_without_a_handle_counts(project, reader, use, expected):
    views = ("from proj.tasks import render, audit\n\n\ndef view(job):\n    " + use
             + "\n\n\ndef other():\n    render.delay(2)\n    audit.delay(2)\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views, "proj/status.py": reader}))
    assert (found["render"], found["audit"]) == (expected, "unread")


SIGNAL_LOADER = """
    from importlib import import_module

    from django.conf import settings


    def undocumented_signals():
        found = []
        for app in settings.INSTALLED_APPS:
            module = import_module(app + ".signals")
            for key in dir(module):
                found.append(getattr(module, key))
        return found
"""


@pytest.mark.parametrize("signals, render", [
    (None, "unread"),  # no module named signals: the loader can hold no task
    ("from proj.tasks import render\n", "maybe"),  # a signals module binding the task: it may be looked up
])
def test_a_module_imported_by_a_path_ending_in_its_name_holds_only_the_tasks_of_such_modules(project, signals, render):
    # ``import_module(app + ".signals")`` then ``getattr(module, key)``: a plugin loader (pretix's doc test) used
    # to hand on every task of the project as a value; only a module named ``signals`` can be that module
    views = ("from proj.tasks import audit, render\n\n\n"
             "def view():\n    render.delay(1)\n    audit.delay(1)\n\n\n"
             "def run(task):\n    return task.delay(1).get()\n")  # a result of a task this analysis cannot name
    files = {"proj/tasks.py": TASKS, "proj/loader.py": SIGNAL_LOADER, "proj/views.py": views}
    if signals is not None:
        files["proj/signals.py"] = signals
    root = project(files)
    found = verdicts(root)
    assert found["render"] == render and found["audit"] == "unread"


@pytest.mark.parametrize("other", [
    # a regex match's group(): not Celery's group
    "import re\n\n\ndef cents(value):\n    if m := re.match(r'(\\d+)\\.00', value):\n        return m.group(1)\n    return value\n",
    # a module imported at module level by a path ending in its name (pretix's plugin URLs)
    "import importlib\n\nfrom django.apps import apps\n\nfound = []\nfor app in apps.get_app_configs():\n"
    "    urlmod = importlib.import_module(app.name + '.urls')\n    if hasattr(urlmod, 'event_patterns'):\n"
    "        found.append(urlmod.event_patterns)\n",
])
def test_what_only_looks_like_a_canvas_or_a_module_of_tasks_keeps_nothing_silent(project, other):
    # each made every task handed on as a value "maybe" on the plain path (the fast path never read the file)
    views = ("from proj.tasks import audit, render\n\n\ndef view(task):\n    render.delay(1)\n    audit.delay(1)\n"
             "    return task.delay(1).get()\n\n\nHANDLERS = [render]\n")
    root = project({"proj/tasks.py": TASKS, "proj/views.py": views, "proj/other.py": other})
    assert verdicts(root) == {"render": "maybe", "audit": "unread"}


# ----- a container literal only looped over: its tasks go where the loop variable goes -----

@pytest.mark.parametrize("loop, render", [
    ("for task in (render, audit):\n        task.apply_async()", "unread"),
    ("for task in [render, audit]:\n        task.delay(1)", "unread"),
    ("table = {'r': render, 'a': audit}\n    for name, task in table.items():\n        task.apply_async()", "unread"),
    ("table = {'r': render, 'a': audit}\n    for task in table.values():\n        task.delay(1)", "unread"),
    ("for name, task in {'r': render, 'a': audit}.items():\n        task.delay(1)", "unread"),
    # the loop variable read, or handed on: what it holds is read, or may be
    ("for task in (render, audit):\n        task.delay(1).get()", "read"),
    ("for task in (render, audit):\n        fire(task)", "maybe"),
    # the table also goes elsewhere, is changed, or only its keys are looped over
    ("table = {'r': render, 'a': audit}\n    for task in table.values():\n        task.delay(1)\n    return table",
     "maybe"),
    ("table = {'r': render}\n    table['a'] = audit\n    for task in table.values():\n        task.delay(1)", "maybe"),
    ("table = {'r': render, 'a': audit}\n    for name in table:\n        table[name].delay(1)\n    keep(table)",
     "maybe"),
])
def test_a_container_only_looped_over_hands_its_tasks_to_the_loop_variable(project, loop, render):
    # ``other``: a result of a task this analysis cannot name is read, so any task handed on is "maybe"
    views = ("from proj.tasks import audit, render\n\n\ndef fire(task):\n    pass\n\n\ndef keep(x):\n    pass\n\n\n"
             f"def go():\n    {loop}\n\n\ndef other(t):\n    return t.delay(1).get()\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views}))
    assert found == {"render": render, "audit": render}


def test_a_module_level_loop_variable_stays_bound_for_other_modules(project):
    views = "from proj.tasks import audit, render\n\nfor task in (render, audit):\n    task.delay(1)\n"
    other = "from proj.views import task\n\n\ndef poll():\n    return task.delay(2).get()\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views, "proj/other.py": other}))
    assert found["audit"] != "unread" and found["render"] != "unread"


@pytest.mark.parametrize("setup, audit", [
    ("monkeypatch.setattr(audit, 'apply_async', lambda *a, **k: None)", "unread"),  # replaces the method: keeps nothing
    ("monkeypatch.setattr(holder, 'task', audit)", "maybe"),  # stores the task on an object: it may be enqueued there
])
def test_a_test_replacing_a_tasks_own_method_hands_nothing_on(project, setup, audit):
    views = "from proj.tasks import audit, render\n\n\ndef go():\n    audit.delay(1)\n\n\ndef other(t):\n" \
            "    return t.delay(1).get()\n"
    test = f"from proj.tasks import audit\n\n\ndef test_go(monkeypatch, holder):\n    {setup}\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views, "tests/test_views.py": test}))
    assert found["audit"] == audit


def test_a_loop_calling_a_method_of_the_tasks_base_class_hands_them_on(project):
    # ``t.run_and_wait(1)``: a method of their ``base=`` class may enqueue and read (found by a helper's hunt)
    tasks = ("from celery import Celery, Task\n\napp = Celery('proj', backend='redis://')\n\n\n"
             "class Waiting(Task):\n    def run_and_wait(self, *a):\n        return self.delay(*a).get()\n\n\n"
             "@app.task(base=Waiting)\ndef render(x):\n    return x\n\n\n@app.task(base=Waiting)\ndef audit(x):\n"
             "    pass\n")
    views = ("from proj.tasks import audit, render\n\n\ndef go():\n    for t in (render, audit):\n"
             "        t.run_and_wait(1)\n\n\ndef fire():\n    render.delay(1)\n    audit.delay(1)\n")
    found = verdicts(project({"proj/tasks.py": tasks, "proj/views.py": views}))
    # (since fphunt9's N1 the base class's ``self.delay(*a).get()`` is a read of each task built on it)
    assert found == {"render": "read", "audit": "read"}


# ----- a class attribute holding only a task the class makes at run time (pretix's AsyncAction) -----

ASYNC_ACTION = """\
from celery import current_app as app


class AsyncAction:
    task_base = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

        def async_execute(self, *, form_kwargs):
            return form_kwargs

        cls.async_execute = app.task(base=cls.task_base, bind=True, name=cls.__module__ + ".run")(async_execute)

    def start(self, kwargs):
        res = type(self).async_execute.apply_async(kwargs=kwargs)
        if res.ready():
            return res.info
        return res.id
"""

SENDER_VIEWS = """\
from proj.tasks import audit


class BaseSender:
    task = None

    def form_valid(self, form):
        self.task.apply_async(args=(form,))


class AuditSend(BaseSender):
    task = audit


def go():
    from proj.tasks import render
    render.delay(1)
"""


@pytest.mark.parametrize("change, audit", [
    (("", ""), "unread"),  # the read is of the class's own new task: it holds none of the project's
    (("type(self).async_execute", "self.__class__.async_execute"), "unread"),
    # a function given to the class, not made in it: it may be a task of the project (Celery hands a task back
    # for a function that already is one)
    (("def __init_subclass__(cls, **kwargs):", "def __init_subclass__(cls, async_execute=None, **kwargs):"), "maybe"),
    # an instance of some subclass sets it to anything
    (("    def start(self, kwargs):", "    def swap(self, t):\n        self.async_execute = t\n\n    def start(self, kwargs):"),
     "maybe"),
    # some other code sets it on a class
    (("    def start(self, kwargs):", "    def swap(self, t):\n        AsyncAction.async_execute = t\n\n"
                                     "    def start(self, kwargs):"), "maybe"),
])
def test_a_class_attribute_the_class_makes_a_new_task_holds_none_of_the_projects(project, change, audit):
    # pretix: each AsyncAction subclass gets its own task at run time, read through ``type(self).async_execute``;
    # that read once made every task handed on as a value (``task = audit`` in a view) "maybe"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/async_views.py": ASYNC_ACTION.replace(*change),
                              "proj/views.py": SENDER_VIEWS}))
    assert found == {"render": "unread", "audit": audit}


def test_a_subclass_body_binding_a_project_task_to_the_made_attribute_is_followed(project):
    views = SENDER_VIEWS + "\n\nclass Export(AsyncAction):\n    async_execute = audit\n"
    views = "from proj.async_views import AsyncAction\n" + views
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/async_views.py": ASYNC_ACTION, "proj/views.py": views}))
    assert found == {"render": "unread", "audit": "read"}


# ----- getattr(module, name)(...): a function of a project module, called by a name known at run time -----

OPS = "def pivot(df, **kw):\n    return df\n\n\ndef rolling(df, **kw):\n    return df\n"
POST_PROCESS = """\
from proj import ops


def run(df, steps):
    for step in steps:
        df = getattr(ops, step["operation"])(df, **step.get("options", {}))
    return df
"""
HANDS_RENDER_ON = "from proj.tasks import audit, render\n\n\ndef go(hooks):\n    audit.delay(1)\n    render.delay(2)\n" \
                  "    hooks.append(render)\n"


def test_a_module_function_called_by_a_run_time_name_is_no_task_we_cannot_name(project):
    # superset: one ``getattr(pandas_postprocessing, operation)(df)`` made every task handed on as a value "maybe"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/ops.py": OPS, "proj/post.py": POST_PROCESS,
                              "proj/views.py": HANDS_RENDER_ON}))
    assert found == {"render": "unread", "audit": "unread"}


@pytest.mark.parametrize("ops", [
    "from proj.tasks import render\n\n\ndef pivot(x):\n    return render.delay(x)\n",  # its own function
    "from proj.helpers import pivot  # noqa: F401\n",  # one it imports
])
def test_a_module_function_called_by_a_run_time_name_has_callers_we_cannot_all_see(project, ops):
    # ``pivot`` returns render's result: called by name, it is dropped; through getattr, it is read
    helpers = "from proj.tasks import render\n\n\ndef pivot(x):\n    return render.delay(x)\n"
    views = "from proj.ops import pivot\n\n\ndef view():\n    pivot(1)\n"
    reader = "from proj import ops\n\n\ndef run(name):\n    return getattr(ops, name)(1).get()\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/ops.py": ops, "proj/helpers.py": helpers,
                              "proj/views.py": views, "proj/reader.py": reader}))
    assert found["render"] == "maybe"


def test_a_task_looked_up_in_a_module_without_a_celery_word_is_handed_on(project):
    # the file holds neither a Celery word nor the task's name: the fast path reads it because it looks into a
    # module that binds a task (``ops`` re-exports render); a result read through the registry may be render's
    ops = "from proj.tasks import render  # noqa: F401\n"
    registry = "HOOKS = []\n\n\ndef fire():\n    return [hook.delay(1).get() for hook in HOOKS]\n"
    keeper = "from proj import ops\nfrom proj.registry import HOOKS\n\n\ndef keep(name):\n    HOOKS.append(getattr(ops, name))\n"
    views = "from proj.tasks import audit, render\n\n\ndef go():\n    audit.delay(1)\n    render.delay(2)\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/ops.py": ops, "proj/registry.py": registry,
                              "proj/keeper.py": keeper, "proj/views.py": views}))
    assert found == {"render": "maybe", "audit": "unread"}


# ----- a callable handed to a project function that only sends it from on_commit (openwisp's wrapper) -----

LATER = "from django.db import transaction\n\n\ndef later(func, using=None):\n    with transaction.atomic():\n" \
        "        transaction.on_commit(func, using=using)\n"


@pytest.mark.parametrize("later, call, render", [
    (LATER, "later(lambda: render.delay(x))", "unread"),  # on_commit drops what the lambda returns
    (LATER, "later(func=lambda: render.delay(x))", "unread"),
    # the wrapper also keeps it, or calls it and gives back what it returns: the result may be read
    (LATER.replace("    with", "    PENDING.append(func)\n    with") + "\n\nPENDING = []\n",
     "later(lambda: render.delay(x))", "maybe"),
    ("def later(func):\n    return func()\n", "later(lambda: render.delay(x))", "maybe"),
    # replaced from elsewhere: the call may run another function
    (LATER + "\n\ndef patch(other):\n    import proj.utils\n    proj.utils.later = other\n",
     "later(lambda: render.delay(x))", "maybe"),
])
def test_a_lambda_handed_to_a_function_that_sends_it_from_on_commit(project, later, call, render):
    views = f"from proj.tasks import audit, render\nfrom proj.utils import later\n\n\ndef go(x):\n    {call}\n" \
            "    audit.delay(1)\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/utils.py": later, "proj/views.py": views}))
    assert found == {"render": render, "audit": "unread"}


# ----- found by the fphunt9 helper: a canvas kept and called, AsyncResult renamed, a receiver connected by a call -----

@pytest.mark.parametrize("views, render", [
    # ``group.__call__`` and ``_chain.__call__`` are apply_async: calling a kept canvas sends it
    ("from celery import group\nfrom proj.tasks import render\n\n\ndef go():\n    g = group(render.s(1), render.s(2))\n"
     "    res = g()\n    return res.join()\n", "read"),
    ("from celery import chain\nfrom proj.tasks import render\n\n\ndef go():\n    c = chain(render.s(1), render.s())\n"
     "    return c().get()\n", "read"),
    ("from proj.tasks import render\n\n\ndef go():\n    c = render.s(1) | render.s()\n    r = c()\n    r.get()\n", "read"),
    ("from celery import group\nfrom proj.tasks import render\n\n\ndef go():\n    g = group(render.s(1), render.s(2))\n"
     "    g()\n", "unread"),
    # the id escapes while the project reads by id under another name
    ("from celery.result import AsyncResult as AR\n\nfrom proj.tasks import render\n\n\ndef start():\n"
     "    return render.delay(1).id\n\n\ndef poll(task_id):\n    return AR(task_id).get()\n", "maybe"),
    # a task signal's receiver connected by a call reads whichever task's id Celery hands it
    ("from celery.result import AsyncResult\nfrom celery.signals import task_postrun\n\nfrom proj.tasks import render\n"
     "\n\ndef on_done(task_id=None, **kw):\n    return AsyncResult(task_id).state\n\n\ntask_postrun.connect(on_done)\n", "maybe"),
    ("from celery.result import AsyncResult\nfrom celery.signals import task_postrun\n\nfrom proj.tasks import render\n"
     "\n\ndef ready():\n    task_postrun.connect(on_done, sender=render)\n\n\ndef on_done(task_id=None, **kw):\n"
     "    return AsyncResult(task_id).state\n", "maybe"),
    ("from celery.signals import task_postrun\n\nfrom proj.tasks import render\n\n\ndef on_done(task_id=None, **kw):\n"
     "    print(task_id)\n\n\ntask_postrun.connect(on_done)\n", "unread"),
    ("from celery.result import AsyncResult\nfrom celery.signals import task_postrun\n\nfrom proj.tasks import render\n\n\n"
     "class Watcher:\n    def on_done(self, task_id=None, **kw):\n        return AsyncResult(task_id).state\n\n\n"
     "watcher = Watcher()\ntask_postrun.connect(watcher.on_done)\n", "maybe"),
    ("from proj.tasks import app, render\n\nAR = app.AsyncResult\n\n\ndef start():\n    return render.delay(1).id\n\n\n"
     "def poll(task_id):\n    return AR(task_id).get()\n", "maybe"),
    # groups made by a comprehension, spread into a chain before a task: Celery upgrades them to chords (W1)
    ("from celery import chain, group\n\nfrom proj.tasks import audit, render\n\n\ndef go(batches):\n"
     "    steps = [group(render.s(x) for x in batch) for batch in batches]\n    chain(*steps, audit.s()).delay()\n", "read"),
])
def test_reads_found_by_the_ninth_hunt(project, views, render):
    fire = "from proj.tasks import render\n\n\ndef fire():\n    render.delay(1)\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views, "proj/fire.py": fire}))
    assert found["render"] == render


def test_a_class_decorator_setting_the_made_attribute_to_a_project_task(project):
    # it runs after ``__init_subclass__``: ``Export.async_execute`` is audit, read by ``start`` (fphunt9's U1)
    views = ("from proj.async_views import AsyncAction\nfrom proj.tasks import audit\n\n\ndef with_task(cls):\n"
             "    cls.async_execute = audit\n    return cls\n\n\n@with_task\nclass Export(AsyncAction):\n    pass\n\n\n"
             "def fire():\n    audit.delay(1)\n")
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/async_views.py": ASYNC_ACTION, "proj/views.py": views}))
    assert found["audit"] == "maybe"


@pytest.mark.parametrize("override, render", [
    ("    def apply_async(self, *args, **kwargs):\n        return super().apply_async(*args, **kwargs)\n", "unread"),
    # keeps the id of every result it hands back, and a reader reads those ids: any task built on it may be read
    ("    def apply_async(self, *args, **kwargs):\n        result = super().apply_async(*args, **kwargs)\n"
     "        TRACKED.append(result.id)\n        return result\n", "maybe"),
    ("    def delay(self, *args, **kwargs):\n        return super().delay(*args, **kwargs).get()\n", "maybe"),
    # (pretix) sent from on_commit: its callers get None, nothing is read
    ("    def apply_async(self, *args, **kwargs):\n        transaction.on_commit(lambda: super(Tracked, self)"
     ".apply_async(*args, **kwargs))\n", "unread"),
])
def test_a_task_class_overriding_apply_async_is_followed_where_it_keeps_the_result(project, override, render):
    tasks = ("from celery import Celery, Task\nfrom celery.result import AsyncResult\nfrom django.db import transaction\n"
             "\napp = Celery('proj', backend='redis://')\n\nTRACKED = []\n\n\nclass Tracked(Task):\n" + override +
             "\n\ndef statuses():\n    return [AsyncResult(i).state for i in TRACKED]\n\n\n@app.task(base=Tracked)\n"
             "def render(x):\n    return x\n")
    views = "from proj.tasks import render\n\n\ndef fire():\n    render.delay(1)\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/views.py": views})) == {"render": render}


WAITING = """\
from celery import Celery, Task

app = Celery("proj", backend="redis://")


class Waiting(Task):
    def run_and_wait(self, *a):
        return self.delay(*a).get()


@app.task(base=Waiting)
def render(x):
    return x


@app.task
def audit(x):
    pass
"""


@pytest.mark.parametrize("change, found", [
    # a method of the base class enqueues the task it is called on and reads it: each task built on the class
    (("", ""), {"render": "read", "audit": "unread"}),
    (("class Waiting(Task):", "class WaitMixin:"), None),  # the method in a mixin of the base class
    (("return self.delay(*a).get()", "self.delay(*a)"), {"render": "unread", "audit": "unread"}),
    # the app's default task class: every task without a base of its own is built on it (fphunt9's M2 spelling)
    (('app = Celery("proj", backend="redis://")', 'app = Celery("proj", backend="redis://", task_cls="proj.tasks:Waiting")'),
     {"render": "read", "audit": "read"}),
])
def test_a_base_class_method_reading_the_task_it_is_called_on(project, change, found):
    # fphunt8 and fphunt9 (N1): ``render.run_and_wait(1)`` reads render's result
    tasks = WAITING.replace(*change)
    if change[1] == "class WaitMixin:":
        tasks = tasks.replace("@app.task(base=Waiting)", "class Waiting(WaitMixin, Task):\n    pass\n\n\n@app.task(base=Waiting)")
        found = {"render": "read", "audit": "unread"}
    views = "from proj.tasks import audit, render\n\n\ndef go():\n    render.run_and_wait(1)\n\n\ndef fire():\n" \
            "    render.delay(1)\n    audit.delay(1)\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/views.py": views})) == found


@pytest.mark.parametrize("extra, render", [
    ({"proj/urls.py": "from django.urls import include, path\n\nurlpatterns = [\n"
                      "    path('celery-progress/', include('celery_progress.urls')),\n]\n"}, "maybe"),
    ({"proj/urls.py": "from django.urls import include, path\n\nurlpatterns = [\n"
                      "    path('results/', include('django_celery_results.urls')),\n]\n"}, "maybe"),
    ({"proj/urls.py": "from django.urls import path\nfrom celery_progress.views import get_progress\n\nurlpatterns = [\n"
                      "    path('p/<task_id>/', get_progress),\n]\n"}, "maybe"),
    ({"proj/poll.py": "def poll(task_id):\n    from celery_progress.backend import Progress\n"
                      "    return Progress(task_id).get_info()\n"}, "maybe"),
    ({"proj/urls.py": "from django.urls import include, path\n\nurlpatterns = [path('blog/', include('blog.urls'))]\n"},
     "unread"),
])
def test_a_library_polling_results_by_id_wired_into_the_project(project, extra, render):
    # fphunt9's O1: the id handed to the page is polled by the library's view, which reads AsyncResult(task_id)
    views = "from django.http import JsonResponse\n\nfrom proj.tasks import render\n\n\ndef start(request):\n" \
            "    r = render.delay(1)\n    return JsonResponse({'task_id': r.task_id})\n"
    found = verdicts(project({"proj/tasks.py": TASKS, "proj/views.py": views, **extra}))
    assert found["render"] == render


def test_tasks_registered_under_one_name_share_what_happens_to_their_results(project):
    # fphunt9's S1: a client's stub of a worker's task; Celery runs the worker's ``render`` for ``render_stub.delay``
    worker = ("from celery import Celery\n\napp = Celery('worker', backend='redis://')\n\n\n@app.task(name='render')\n"
              "def render(x):\n    return x\n\n\ndef fire():\n    render.delay(1)\n")
    stubs = ("from celery import Celery\n\ncapp = Celery('client', backend='redis://')\n\n\n@capp.task(name='render')\n"
             "def render_stub(x):\n    raise NotImplementedError\n")
    views = "from client.stubs import render_stub\n\n\ndef go():\n    return render_stub.delay(1).get()\n"
    found = verdicts(project({"worker/__init__.py": "", "worker/tasks.py": worker, "client/__init__.py": "",
                              "client/stubs.py": stubs, "client/views.py": views}))
    assert found == {"render": "read", "render_stub": "read"}


HELPER_START = "from proj.tasks import render\n\n\ndef start(x):\n    return render.delay(x)\n"


@pytest.mark.parametrize("files, render", [
    # fphunt9's F1 and G3: a give-back helper replaced from a file with no Celery word and no name of interest
    ({"proj/api.py": "def ident(x):\n    return x\n",
      "proj/patch.py": "from proj import api\n\n\ndef other(x):\n    x.get()\n    return x\n\n\napi.ident = other\n",
      "proj/views.py": "from proj import api\nfrom proj.tasks import render\n\n\ndef go():\n    api.ident(render.delay(1))\n"},
     "maybe"),
    ({"proj/api.py": "def ident(x):\n    return x\n",
      "proj/patch.py": "from proj import api\n\n\ndef other(x):\n    return x\n\n\napi.ident = other\n",
      "proj/views.py": "from proj import api\nfrom proj.tasks import render\n\n\ndef go():\n"
                       "    return api.ident(render.delay(1)).get()\n"}, "maybe"),
    # fphunt9's G1: a result-returning helper imported under another name (the paths disagreed)
    ({"proj/helpers.py": HELPER_START, "proj/other.py": "from proj.helpers import start as s\n\n\ndef read():\n"
                                                        "    return s(1).get()\n"}, "read"),
    ({"proj/helpers.py": HELPER_START, "proj/other.py": "from proj.helpers import start as s\n\n\ndef read():\n"
                                                        "    s(1)\n"}, "unread"),
])
def test_helpers_replaced_or_renamed_elsewhere_give_both_paths_one_answer(project, files, render):
    found = verdicts(project({"proj/tasks.py": TASKS, **files}))
    assert found["render"] == render


def test_a_task_made_by_a_factory_goes_where_the_factory_call_goes(project):
    # fphunt9's X1: ``render = make("proj.render")``, then ``render.delay(1).get()`` reads a task ``make`` made; its
    # fix (ignore_result=True inside ``make``) would have broken that read
    tasks = ("from celery import Celery\n\napp = Celery('proj', backend='redis://')\n\n\ndef make(name):\n"
             "    @app.task(name=name)\n    def t(x):\n        return x\n    return t\n\n\n"
             "render = make('proj.render')\naudit = make('proj.audit')\n")
    views = "from proj.tasks import app, render\n\n\ndef go():\n    app.send_task('proj.audit')\n    return render.delay(1).get()\n"
    assert verdicts(project({"proj/tasks.py": tasks, "proj/views.py": views})) == {"t": "maybe"}


def test_a_package_named_like_a_default_exclude_is_part_of_the_project(tmp_path):
    # fphunt9's K1: ``proj/env/`` (a package) is no virtualenv: a read there counts, though nothing there is
    # reported; a top-level ``env/`` without ``__init__.py`` stays outside the project
    smoke = "from proj.tasks import render\n\n\ndef smoke():\n    return render.delay(1).get()\n"
    fire = "from proj.tasks import render\n\n\ndef fire():\n    render.delay(1)\n"
    from conftest import write_project

    reader = fire.replace("render.delay(1)", "render.delay(1).get()")
    root = write_project(tmp_path / "a", {"proj/tasks.py": TASKS, "proj/views.py": fire, "proj/env/__init__.py": "",
                                          "proj/env/checks.py": smoke})
    assert verdicts(root)["render"] == "read"
    outside = write_project(tmp_path / "b", {"proj/tasks.py": TASKS, "proj/views.py": fire})
    (outside / "env" / "lib").mkdir(parents=True)  # a virtualenv's own files: no package of the project
    (outside / "env" / "lib" / "site.py").write_text(reader)
    assert verdicts(outside)["render"] == "unread"
    jobs = TASKS.replace("def audit(x):", "def audit(x):  # defined in the package named like an exclude")
    unreported = write_project(tmp_path / "c", {"proj/tasks.py": TASKS.replace("render", "other"),
                                                "proj/env/__init__.py": "", "proj/env/jobs.py": jobs,
                                                "proj/views.py": "from proj.env.jobs import audit\n\n\n"
                                                                 "def go():\n    audit.delay(1)\n"})
    assert verdicts(unreported)["audit"] == "unread"
    assert [f.path for f in analyse_both_ways(unreported).findings] == []  # (found, not reported there)
