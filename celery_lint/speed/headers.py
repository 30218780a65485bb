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
    """A task signal's receiver (``@task_postrun.connect``, or any function given a ``task_id`` or ``headers``:
    it may be connected by a call) or a Task hook (``on_failure``) given a task's id: kept whole (the summary
    follows where the id goes, ``ReadsById.ids_handed_on``)."""
    if not isinstance(statement, FUNCTIONS):
        return False
    args = statement.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    if celery_api.ID_PARAMETERS.isdisjoint(params):
        return False
    return statement.name in celery_api.TASK_HOOKS or not _ALWAYS_AN_ID.isdisjoint(params) or any(
        isinstance(d, ast.Attribute) and d.attr == "connect" for d in
        (d.func if isinstance(d, ast.Call) else d for d in statement.decorator_list))


_ALWAYS_AN_ID = frozenset({"task_id", "headers"})  # (``request``, ``body``: a web view's, too)
