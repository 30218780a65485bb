"""CEL002: a task ignores its result, but the project reads it."""
from __future__ import annotations

from ..text import printable
from ..types import Finding, Fix, FixAction, VerdictState
from .base import Example, Rule, effective_ignore

TASKS = "from celery import shared_task\n\n\n@shared_task{args}\ndef add(x, y):\n    return x + y\n"
VIEWS = "from tasks import add\n\n\ndef view():\n    return add.delay(1, 2).get(timeout=5)\n"


class IgnoredResultRead(Rule):
    code = "CEL002"
    name = "ignored-result-read"
    summary = "the task ignores its result but the project reads it: .get() returns None or hangs"
    why = ("A task with ignore_result=True stores nothing, so whoever reads its result gets nothing: "
           "`.delay().get()` returns None at once (a silent wrong value), `AsyncResult(id).get()` hangs until its "
           "timeout, `.state` stays PENDING forever, and a chord waiting for it never fires.")
    fix = ("removes the task's ignore_result=True; under a global task_ignore_result = True, sets "
           "ignore_result=False on the task")
    VALID = (
        Example({"tasks.py": TASKS.format(args=""), "views.py": VIEWS}),
    )
    INVALID = (
        Example({"tasks.py": TASKS.format(args="(ignore_result=True)"), "views.py": VIEWS},
                finding="tasks.py:4:1: CEL002 task 'tasks.add' ignores its result (set by its decorator) but it is "
                        "read at views.py:5 (.get): .get() would return None or hang",
                fixed={"tasks.py": TASKS.format(args="")}),
    )

    def check(self, task, verdict, project):
        if verdict.state is not VerdictState.READ:
            return None
        ignore, source = effective_ignore(task, project.settings)
        if ignore is not True:
            return None
        fix = None
        if task.decorator is not None:
            line, col = task.decorator.line, task.decorator.col
            if project.settings.global_ignore is True or task.own_ignore is None:
                if task.own_ignore is True:
                    fix = Fix(FixAction.SET, False, line, col)
                elif task.fixable:
                    fix = Fix(FixAction.ADD, False, line, col)
            elif task.own_ignore is True:
                fix = Fix(FixAction.REMOVE, None, line, col)
        message = (f"task '{task.name or task.qualname}' ignores its result (set by {source}) but it is read at "
                   f"{verdict.first_read}: .get() would return None or hang")
        return Finding(task.path, task.line, task.col + 1, self.code, printable(message), fix)
