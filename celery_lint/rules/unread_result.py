"""CEL001: a task's result is stored, and nothing in the project reads it."""
from __future__ import annotations

from ..text import printable
from ..types import Backend, Finding, Fix, FixAction, VerdictState
from .base import Example, Rule, effective_ignore

TASKS = "from celery import shared_task\n\n\n@shared_task{args}\ndef ping():\n    pass\n"


_FIX_ADVICE = {FixAction.REMOVE: "remove ignore_result=False", FixAction.SET: "set ignore_result=True (it is False)",
               FixAction.ADD: "add ignore_result=True"}


class UnreadResult(Rule):
    code = "CEL001"
    name = "unread-result"
    summary = "the task's result is stored in the backend but nothing in the project reads it"
    why = ("With a result backend, Celery stores every run's outcome (even None) under a key that lives for "
           "result_expires (24 hours by default). A result nobody reads is pure cost: memory, commands and network "
           "in the backend. celery-lint reports a task only when it follows every place that enqueues it and none "
           "reads the result; when it cannot tell, it stays silent (`--explain` says why).")
    fix = ("adds ignore_result=True to the task's decorator; under a global task_ignore_result = True, removes the "
           "task's own ignore_result=False")
    VALID = (
        Example({"tasks.py": TASKS.format(args="(ignore_result=True)"),
                 "views.py": "from tasks import ping\n\n\ndef view():\n    ping.delay()\n"}),
        Example({"tasks.py": TASKS.format(args=""),
                 "views.py": "from tasks import ping\n\n\ndef view():\n    return ping.delay().get(timeout=5)\n"}),
    )
    INVALID = (
        Example({"tasks.py": TASKS.format(args=""), "views.py": "from tasks import ping\n\n\ndef view():\n    ping.delay()\n"},
                finding="tasks.py:4:1: CEL001 result of task 'tasks.ping' is stored but never read (enqueued at 1 place); "
                        "add ignore_result=True",
                fixed={"tasks.py": TASKS.format(args="(ignore_result=True)")}),
    )

    def check(self, task, verdict, project):
        if verdict.state is not VerdictState.UNREAD or project.settings.backend is Backend.ABSENT:
            return None
        ignore, _source = effective_ignore(task, project.settings)
        if ignore is not False:
            return None
        fix = None
        written_false = task.decorator is not None and task.decorator.kwargs.get("ignore_result") is False
        if task.decorator is not None and (task.fixable or written_false):
            line, col = task.decorator.line, task.decorator.col
            if written_false and project.settings.global_ignore is True and task.base_ignore is not False:
                fix = Fix(FixAction.REMOVE, None, line, col)
            elif written_false:
                fix = Fix(FixAction.SET, True, line, col)
            else:
                fix = Fix(FixAction.ADD, True, line, col)
        places = "1 place" if verdict.places == 1 else f"{verdict.places} places"
        if fix is None and task.manual_fix:
            advice = f"fix by hand: {task.manual_fix}"
        elif fix is None and task.kind == "class":
            advice = "set ignore_result = True in the class body by hand"
        elif fix is None:
            advice = "add ignore_result=True by hand (no autofix for this decorator form)"
        else:
            advice = _FIX_ADVICE[fix.action]
        message = f"result of task '{task.name or task.qualname}' is stored but never read (enqueued at {places}); {advice}"
        if project.settings.backend_condition:  # no backend seen, but one may be configured where we cannot see
            message += f" ({project.settings.backend_condition})"
        return Finding(task.path, task.line, task.col + 1, self.code, printable(message), fix)
