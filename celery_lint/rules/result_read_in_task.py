"""CEL004: a task body waits for another task's result (``.get()``, ``.wait()``, ``.join()``).

Celery refuses it: in the prefork, solo and threads pools ``AsyncResult.get()`` inside a running task raises
``RuntimeError("Never call result.get() within a task!")`` (``celery.result.assert_will_not_block``), unless the
call passes ``disable_sync_subtasks=False`` or runs under ``allow_join_result()``; where it does not raise
(gevent, eventlet), a worker waiting for a task that waits in its queue can deadlock. No autofix: the way out
is a chain or a chord, which changes the code's shape.
"""
from __future__ import annotations

from typing import Iterator, List, Tuple

from ..text import printable
from ..types import Finding, UseKind
from .base import Example, Rule

# A file that mentions these may wait on purpose, and knows it: silent for the whole file.
ALLOWED = (b"disable_sync_subtasks", b"allow_join_result")
TASKS = ("from celery import shared_task\n\n\n@shared_task\ndef add(x, y):\n    return x + y\n\n\n"
         "@shared_task\ndef total(n):\n{body}")


class ResultReadInTask(Rule):
    code = "CEL004"
    name = "result-read-in-task"
    summary = "a task waits for another task's result (.get(), .wait(), .join()): Celery raises RuntimeError"
    why = ("Inside a running task, `AsyncResult.get()` (and `.wait()`, `ResultSet.join()`, `GroupResult.get()`) "
           "raises `RuntimeError: Never call result.get() within a task!` in the prefork, solo and threads pools, "
           "unless it passes `disable_sync_subtasks=False` or runs under `allow_join_result()`; in gevent and "
           "eventlet pools a worker whose every slot waits for tasks still in the queue deadlocks. Use a chain "
           "(`a.s(x) | b.s()`) or a chord so the next step receives the result. Reported: a wait on a known result "
           "(an enqueue's handle, or `AsyncResult(x)`, `app.AsyncResult(x)`, `GroupResult.restore(x)`; not "
           "`dict.get()`, nor `x.apply_async(f).get()` on a receiver it cannot name, maybe a `multiprocessing` "
           "pool) in a task's body, or in a module-level function of a module defining tasks that it calls (up to 4 "
           "calls deep; not methods), then on the task's call, naming the functions on the way. Files that mention "
           "`disable_sync_subtasks` or `allow_join_result` (the task's or the wait's) and tests are left alone.")
    fix = "none (no autofix): restructure the work as a chain or a chord"
    VALID = (
        Example({"tasks.py": TASKS.format(body="    return (add.s(n, 1) | add.s(2)).delay()\n")}),
        Example({"tasks.py": TASKS.format(body="    return add.delay(n, 1).get(disable_sync_subtasks=False)\n")}),
        Example({"tasks.py": TASKS.format(body="    return add.delay(n, 1).id\n"),
                 "views.py": "from tasks import add\n\n\ndef view():\n    return add.delay(1, 2).get(timeout=5)\n"}),
        # not results: a dict's, a cache's, an HTTP client's .get()
        Example({"tasks.py": TASKS.format(body="    import requests\n    from django.core.cache import cache\n"
                                               "    return {}.get(n), cache.get(n), requests.get('https://x').json()\n")}),
        # a multiprocessing pool's handle, not a task's
        Example({"tasks.py": TASKS.format(body="    from multiprocessing import Pool\n    with Pool(2) as pool:\n"
                                               "        return pool.apply_async(abs, (n,)).get(timeout=5)\n")}),
        # a helper that waits, called from a view only
        Example({"tasks.py": TASKS.format(body="    return n\n"),
                 "views.py": "from tasks import add\n\n\ndef wait_for(n):\n    return add.delay(n, 1).get(timeout=5)\n\n\n"
                             "def view(n):\n    return wait_for(n)\n"}),
    )
    INVALID = (
        Example({"tasks.py": TASKS.format(body="    pending = add.delay(n, 1)\n    return pending.get(timeout=10)\n")},
                finding="tasks.py:12:1: CEL004 task 'tasks.total' waits for the result of 'tasks.add' (.get): Celery "
                        "raises RuntimeError in prefork, solo and threads workers (\"Never call result.get() within a task!\"); use a "
                        "chain or a chord"),
        Example({"tasks.py": TASKS.format(body="    return report(n)\n\n\ndef report(n):\n    return wait_for(str(n))\n\n\n"
                                               "def wait_for(task_id):\n    done = AsyncResult(task_id)\n"
                                               "    return done.get(timeout=5)\n").replace(
                     "from celery import shared_task\n", "from celery import shared_task\nfrom celery.result import AsyncResult\n")},
                finding="tasks.py:12:1: CEL004 task 'tasks.total' waits for a result read by id (AsyncResult(...).get) "
                        "through report() -> wait_for() (tasks.py:21): Celery raises RuntimeError in prefork, solo and "
                        "threads workers (\"Never call result.get() within a task!\"); use a chain or a chord"),
        Example({"tasks.py": TASKS.format(body="    return wait_for(n)\n\n\ndef wait_for(n):\n"
                                               "    return add.delay(n, 1).wait()\n")},
                finding="tasks.py:11:1: CEL004 task 'tasks.total' waits for the result of 'tasks.add' (.wait) through "
                        "wait_for() (tasks.py:15): Celery raises RuntimeError in prefork, solo and threads workers "
                        "(\"Never call result.get() within a task!\"); use a chain or a chord"),
    )

    def findings(self, project, verdicts) -> Iterator[Tuple[Finding, List[str]]]:
        from ..analysis.waits import waiting_tasks

        source_of = getattr(project, "source_of", None)  # set by the pipeline: the text of a file, as analysed
        seen = set()
        for waiting in waiting_tasks(project):
            read = waiting.read
            if _runs_in_process_only(waiting.task) or (waiting.path, waiting.line) in seen \
                    or _is_test_path(waiting.path) or _is_test_path(read.path):
                continue
            # the wait may be allowed where it is written, or around the call that leads to it
            if source_of is None or any(word in (source_of(path) or b"") for path in {waiting.path, read.path}
                                        for word in ALLOWED):
                continue
            seen.add((waiting.path, waiting.line))
            yield Finding(waiting.path, waiting.line, 1, self.code, printable(_message(waiting))), []


def _message(waiting) -> str:
    read = waiting.read
    through = ""
    if waiting.through:
        calls = " -> ".join(f"{name}()" for name in waiting.through)
        through = f" through {calls} ({read.path}:{read.line})"
    return (f"task '{waiting.task.name or waiting.task.qualname}' waits for {_waited(read.what)} ({read.method})"
            f"{through}: Celery raises RuntimeError in prefork, solo and threads workers (\"Never call result.get() "
            "within a task!\"); use a chain or a chord")


def _waited(what: str) -> str:
    return what if what.startswith("a result read by id") else f"the result of {what}"


def _runs_in_process_only(task) -> bool:
    """Only ever ``.apply()``-ed or run inline: no worker runs it, and nothing raises."""
    return bool(task.uses) and all(use.kind is UseKind.EAGER for _path, use in task.uses)


def _is_test_path(path: str) -> bool:
    from ..analysis.facts import is_test_path

    return is_test_path(path)
