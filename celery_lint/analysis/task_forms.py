"""Task forms and config forms the per-file pass reads besides the plain ones: the project's own task decorator
factories (a class whose ``__call__`` makes the task, a Celery subclass's decorator method wrapping ``self.task``),
an app held by an extension object (``ext.celery``), a bare task given to ``add_periodic_task``, and locals that
only look like settings. A mixin of ``summary._Summarizer``: it uses the summarizer's state (``stack``,
``ref_of``, ``use``...) and records into the same ``ModuleSummary``.
"""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from .facts import ClassInfo, FunctionInfo
from .flow import call_name


class TaskForms:
    def in_function(self) -> bool:
        return any(isinstance(info, FunctionInfo) for info in self.stack)

    def bare_beat_entry(self, node: cst.Call, name: Optional[str], arg: cst.Arg) -> Optional[str]:
        """``sender.add_periodic_task(crontab(), some_task)``: Celery schedules the task itself by its name, as
        for ``some_task.s()``: a beat entry, never read. The task's dotted name, or None."""
        if name not in celery_api.names(Role.PERIODIC) or not isinstance(arg.value, (cst.Name, cst.Attribute)):
            return None
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if not (arg.keyword is not None and arg.keyword.value == "sig" or positional[1:2] == [arg]):
            return None
        return self.ref_of(arg.value)

    def task_method(self, node: cst.Call) -> None:
        """``self.task(**options)(func)`` / ``shared_task(*self.args, **self.kwargs)(inner)`` in a method of a
        module-level class: the method makes tasks (the project checks the callee is a task decorator)."""
        if len(self.stack) < 2 or not isinstance(self.stack[0], ClassInfo) or not isinstance(self.stack[1], FunctionInfo):
            return
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self" \
                and func.attr.value == "task":
            callee = "self.task"
        elif isinstance(func, (cst.Name, cst.Attribute)) and call_name(node) in ("shared_task", "task"):
            callee = self.ref_of(func)
        else:
            return
        methods = self.stack[0].task_methods.setdefault(self.stack[1].name, [])
        if callee is not None and callee not in methods:
            methods.append(callee)

    def attribute_of_made(self, value: cst.BaseExpression) -> List[str]:
        """``ext = FlaskCeleryExt(app); return ext.celery``: ``flask_celeryext.FlaskCeleryExt.celery``, the
        attribute of an object this function makes (an extension holding the app)."""
        if not isinstance(value, cst.Attribute) or not isinstance(value.value, cst.Name) \
                or self.resolve_name(value.value) is not None:
            return []
        made = [v for v in self.local_values(value.value, assignments_only=True) if isinstance(v, cst.Call)]
        refs = [self.ref_of(_class_of(call.func)) for call in made]
        return [f"{ref}.{value.attr.value}" for ref in refs if ref is not None]


def _class_of(node: cst.BaseExpression) -> cst.BaseExpression:
    """``Celery[DjangoTask]`` → ``Celery``."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node
