"""What a function's header tells the slicer about its body: whose the body is (a ``bind=True`` task's first
parameter is the task itself) and what Celery hands it (a task signal's receiver or a Task hook is given ids).
"""
from __future__ import annotations

import ast
from typing import Optional

from .. import celery_api
from .bindings import FUNCTIONS


def bound_task_self(statement) -> Optional[bytes]:
    """A module-level ``@app.task(bind=True)`` function's first parameter (the task itself), or None."""
    if not isinstance(statement, FUNCTIONS) or not any(
            isinstance(d, ast.Call) and any(k.arg == "bind" and isinstance(k.value, ast.Constant) and k.value.value is True
                                            for k in d.keywords) for d in statement.decorator_list):
        return None
    first = [*statement.args.posonlyargs, *statement.args.args][:1]
    return first[0].arg.encode() if first else None


def receives_ids(statement) -> bool:
    """A task signal's receiver (``@task_postrun.connect``, Django's ``@receiver(task_postrun)``, or any function
    given a ``task_id`` or ``headers``: it may be connected by a call) or a Task hook (``on_failure``) given a
    task's id: kept whole (the summary follows where the id goes, ``ReadsById.ids_handed_on``, and what it does
    with ``sender.request``)."""
    if not isinstance(statement, FUNCTIONS):
        return False
    if any(_connects(decorator) for decorator in statement.decorator_list):
        return True
    args = statement.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    if celery_api.ID_PARAMETERS.isdisjoint(params):
        return False
    return statement.name in celery_api.TASK_HOOKS or not _ALWAYS_AN_ID.isdisjoint(params)


def _connects(decorator) -> bool:
    """``@x.connect``, ``@x.connect(sender=...)``, ``@receiver(task_postrun)`` (a name Celery's signals use)."""
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(func, ast.Attribute) and func.attr == "connect":
        return True
    names = [arg.attr if isinstance(arg, ast.Attribute) else getattr(arg, "id", "")
             for arg in (decorator.args if isinstance(decorator, ast.Call) else ())]
    return any(name.startswith("task_") or name.endswith("_task_publish") for name in names)


_ALWAYS_AN_ID = frozenset({"task_id", "headers"})  # (``request``, ``body``: a web view's, too)
