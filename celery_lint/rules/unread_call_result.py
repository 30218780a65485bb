"""CEL003: a call site throws its result away, but the task stores every result because other sites read theirs.

Reported at the call, only where nothing could ever read that run's result: the call's value is a bare
statement, the call names the task directly (never ``send_task`` by name, never a task picked at run time),
and nothing in the project can reach a run by its id (no progress, no id published, no errback, no read of a
result's children). Off by default (``opt_in``): the fix edits call sites, and it saves storage only where the
workers run Celery 5.1 or later, which the project's code does not say.

The versions (``VERSIONS``): Celery 4.2.0's changelog adds ``ignore_result`` as an execution option (#4709,
#3834), used by the client only; the worker reads it from the request from 5.1.0 (celery#6713, which broke
celery-batches' ``SimpleRequest`` in May 2021); celery#7939 shows ``apply_async(ignore_result=True)`` storing
nothing on 5.2.7; celery#10184 (5.6.3) makes the call's value win both ways. Installed 5.7.0: ``trace.py``
asks ``get_actual_ignore_result(task, request)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from ..text import printable
from ..types import Backend, Finding, Fix, FixAction, OutcomeKind, UseKind, VerdictState
from .base import Example, Rule, effective_ignore

if TYPE_CHECKING:  # importing the rules (for their codes) must not load the analysis: a kept answer needs none
    from ..analysis.facts import Use

TASKS = "from celery import shared_task\n\n\n@shared_task\ndef add(x, y=0):\n    return x + y\n"
READER = "from tasks import add\n\n\ndef total():\n    return add.delay(1, 2).get(timeout=5)\n\n\n"
SITE_KEY = Tuple[str, int, int]
# Reads that reach the results of a result's children (runs enqueued inside the task), whichever call made them.
CHILDREN_READS = frozenset({".children", ".collect", ".iterdeps", ".graph", ".build_graph"})
VERSIONS = ("per-call ignore_result is honoured by the worker from Celery 5.1 (4.2-5.0: the client side only, "
            "the worker still stores; before 4.2: no effect): the fix never breaks a read, and saves storage "
            "only on workers running 5.1 or later")


class UnreadCallResult(Rule):
    code = "CEL003"
    name = "unread-call-result"
    summary = "this call throws its result away, but the task stores every run's result because other calls read theirs"
    why = ("A task whose result is read somewhere must store results, so ignore_result=True on its decorator is wrong; "
           "but each call that throws its handle away still makes the worker store a key nobody will read, for "
           "result_expires (24 hours by default). Passing ignore_result=True at that call stores nothing for its runs "
           f"and leaves the reading calls alone. The {VERSIONS}. celery-lint reports only a call whose value is a bare "
           "statement, naming the task directly, on a task that neither reports progress nor publishes its id, has "
           "no errback and whose results' children are never read. Off by default: select it with "
           "`--select CEL003` (or `extend-select = [\"CEL003\"]`); a prefix such as `CEL` does not turn it on.")
    fix = ("passes ignore_result=True at the call: `t.apply_async(...)` gains the keyword, `t.delay(a, b=1)` becomes "
           "`t.apply_async((a,), {\"b\": 1}, ignore_result=True)`; a call with `*`/`**` arguments or a comment "
           "between its arguments is left to fix by hand")
    opt_in = True
    VALID = (
        Example({"tasks.py": TASKS, "views.py": READER + "def warm_up(x):\n    add.apply_async((x,), ignore_result=True)\n"}),
        Example({"tasks.py": TASKS, "views.py": READER + "def warm_up(x):\n    job = add.delay(x)\n    return job.id\n"}),
        Example({"tasks.py": TASKS.replace("@shared_task\ndef add(x, y=0):\n",
                                           "@shared_task(bind=True)\ndef add(self, x, y=0):\n    self.update_state(state='ADDING')\n"),
                 "views.py": READER + "def warm_up(x):\n    add.delay(x)\n"}),
        Example({"tasks.py": TASKS, "views.py": READER + "def warm_up(app, x):\n    app.send_task('tasks.add', (x,))\n"}),
        Example({"tasks.py": TASKS, "views.py": "from tasks import add\n\n\ndef warm_up(x):\n    add.delay(x)\n"}),
    )
    INVALID = (
        Example({"tasks.py": TASKS, "views.py": READER + "def warm_up(x):\n    add.delay(x, y=1)\n"},
                finding="views.py:9:5: CEL003 this call of task 'tasks.add' throws its result away, but the task's "
                        "results are stored (read at views.py:5 (.get)); pass ignore_result=True here (Celery >= 5.1 "
                        "on the worker)",
                fixed={"views.py": READER + "def warm_up(x):\n    add.apply_async((x,), {\"y\": 1}, ignore_result=True)\n"}),
        Example({"tasks.py": TASKS, "views.py": READER + "def warm_up(x):\n    add.apply_async(\n        (x,),\n"
                                                           "        countdown=5,\n    )\n"},
                finding="views.py:9:5: CEL003 this call of task 'tasks.add' throws its result away, but the task's "
                        "results are stored (read at views.py:5 (.get)); pass ignore_result=True here (Celery >= 5.1 "
                        "on the worker)",
                fixed={"views.py": READER + "def warm_up(x):\n    add.apply_async(\n        (x,),\n"
                                            "        countdown=5,\n        ignore_result=True,\n    )\n"}),
        Example({"tasks.py": TASKS, "views.py": READER + "def warm_up(*pair):\n    add.delay(*pair)\n"},
                finding="views.py:9:5: CEL003 this call of task 'tasks.add' throws its result away, but the task's "
                        "results are stored (read at views.py:5 (.get)); pass ignore_result=True here by hand "
                        "(apply_async(args, kwargs, ignore_result=True): its arguments use * or ** or hold a comment)"),
    )

    def findings(self, project, verdicts) -> Iterator[Tuple[Finding, List[str]]]:
        targets = _tasks_per_site(project)
        children_read = any(use.outcome.detail in CHILDREN_READS for task in project.tasks for _p, use in task.uses)
        modules = {summary.path: summary.module for summary in project.summaries}
        for task, verdict in verdicts:
            if children_read or not _task_allows(task, verdict, project):
                continue
            for path, use in task.uses:
                if not _site_allows(path, use) or targets.get(_key(path, use)) != 1:
                    continue
                if project.settings.reads_by_id_at and project.task_holding(modules.get(path, ""), use.scope):
                    continue  # a run a task enqueues is its child: ``AsyncResult(parent_id).children`` reaches it
                yield _finding(task, verdict, path, use), use.site.noqa


def _key(path: str, use: Use) -> SITE_KEY:
    return path, use.outcome.line, use.site.col


def _tasks_per_site(project) -> Dict[SITE_KEY, int]:
    """How many tasks each enqueue call may send: a call that may send two is left alone."""
    counts: Dict[SITE_KEY, int] = {}
    for task in project.tasks:
        for key in {_key(path, use) for path, use in task.uses if use.site is not None}:
            counts[key] = counts.get(key, 0) + 1
    return counts


def _task_allows(task, verdict, project) -> bool:
    """The task's results are read at a real read, and nothing could read a run by its id."""
    settings = project.settings
    if verdict.state is not VerdictState.READ or settings.backend is Backend.ABSENT or settings.custom_backend_at:
        return False
    if effective_ignore(task, settings)[0] is not False:
        return False
    if task.updates_state or task.running or settings.running_anywhere:
        return False
    return not any(use.kind in (UseKind.ERRBACK, UseKind.ASYNC_RESULT) for _path, use in task.uses)


def _site_allows(path: str, use: Use) -> bool:
    """A bare ``t.delay(...)``/``t.apply_async(...)`` statement naming the task, passing no ignore_result."""
    if use.kind is not UseKind.ENQUEUE or use.site is None or use.target is None or _is_test_path(path):
        return False
    if use.by_name is not None or use.dynamic_module is not None or use.bound_as is not None:
        return False
    if use.ignore_result is not None:
        return False
    return use.outcome.kind is OutcomeKind.DISCARDED and use.outcome.detail == "result discarded"


def _finding(task, verdict, path: str, use: Use) -> Finding:
    site = use.site
    fix: Optional[Fix] = Fix(FixAction.CALL, True, use.outcome.line, site.col) if site.fixable else None
    advice = ("pass ignore_result=True here (Celery >= 5.1 on the worker)" if fix is not None else
              "pass ignore_result=True here by hand (apply_async(args, kwargs, ignore_result=True): its arguments "
              "use * or ** or hold a comment)")
    message = (f"this call of task '{task.name or task.qualname}' throws its result away, but the task's results "
               f"are stored (read at {verdict.first_read}); {advice}")
    return Finding(path, use.outcome.line, site.col + 1, UnreadCallResult.code, printable(message), fix)


def _is_test_path(path: str) -> bool:
    from ..analysis.facts import is_test_path

    return is_test_path(path)
