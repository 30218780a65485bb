"""Which tasks wait for a result (CEL004): a blocking read (``.get()``, ``.wait()``, ``.join()``) written in a
task's body, or in a module-level function a task calls, followed up the call index (helper of helper) to
``MAX_DEPTH`` calls, each function once.

Only values the analysis knows are results count: an enqueue's own handle (a use whose outcome is a read) and a
handle built from an id (``AsyncResult(x)``, ``app.AsyncResult(x)``, ``GroupResult.restore(x)``). A ``dict.get()``
or ``requests.get()`` is never one, nor ``x.apply_async(f).get()`` on a receiver the analysis cannot name. Only
functions of modules that define a task are followed (see ``_Callers``): a wait in a view is not a task's. A wait in a function nested in a helper, or in a method, is not followed: the
nested function may never run, and the call index knows module-level functions only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Set, Tuple

from .. import celery_api
from ..types import OutcomeKind, UseKind
from .facts import Use

MAX_DEPTH = 4  # calls between the task and the read: deeper chains are not followed (no finding)


@dataclass(frozen=True)
class Read:
    """One blocking read, where it is written."""

    path: str
    module: str
    scope: str
    line: int
    what: str  # what is waited for, in words: ``'tasks.add'``, ``a task``, ``a result by id``
    method: str  # ``.get``


@dataclass(frozen=True)
class Waiting:
    """A task that waits: the finding goes on ``path:line`` in the task's own file (the read, or the call that
    leads to it, where a ``noqa`` silences this task's wait only)."""

    path: str
    line: int
    task: object  # project.Task
    read: Read
    through: Tuple[str, ...] = ()  # the functions called on the way, from the task's call down to the read


def blocking_method(use: Use) -> Optional[str]:
    """``.get`` for an enqueue or signature whose result is waited on; None otherwise."""
    if use.kind not in (UseKind.ENQUEUE, UseKind.SIGNATURE) or use.outcome.kind is not OutcomeKind.READ:
        return None
    method = use.outcome.detail.rsplit(" ", 1)[-1]
    return method if method.lstrip(".") in celery_api.BLOCKING_READS else None


def blocking_reads(project) -> Iterator[Read]:
    """Every blocking read the project knows of, in a fixed order."""
    module_at = {summary.path: summary.module for summary in project.summaries}
    for task in project.tasks:
        for path, use in task.uses:
            method = blocking_method(use)
            if method:
                yield Read(path, module_at.get(path, ""), use.scope, use.outcome.line,
                           f"'{task.name or task.qualname}'", method)
    for path, use in [*project.unknown_uses, *project.dynamic_name_uses]:
        method = blocking_method(use)
        if method and not _maybe_a_pool(use):
            yield Read(path, module_at.get(path, ""), use.scope, use.outcome.line, "a task", method)
    for summary in project.summaries:
        for wait in summary.waits_by_id:
            yield Read(summary.path, summary.module, wait.scope, wait.line, "a result read by id", wait.detail)


def _maybe_a_pool(use: Use) -> bool:
    """``pool.apply_async(f).get()`` on a receiver the analysis cannot name: ``multiprocessing.Pool`` and its
    kin spell it the same, and their ``.get()`` is no task's result (``.delay()`` is Celery's own word)."""
    return use.site is not None and use.site.method == "apply_async"


def waiting_tasks(project) -> Iterator[Waiting]:
    """Each task that waits, directly or through the functions it calls."""
    callers = _Callers(project)
    for read in blocking_reads(project):
        owner = project.owner_of(read.module, read.scope)
        if owner is not None:
            yield Waiting(read.path, read.line, owner, read)
        elif callers.function_key(read.module, read.scope) is not None:
            yield from callers.tasks_calling(read)


def waiting_function_names(project) -> Set[str]:
    """The names of every function that waits, or calls one that does (to ``MAX_DEPTH``): the speed layer must
    record their calls and keep the statements that mention them."""
    callers = _Callers(project)
    for read in blocking_reads(project):
        if project.owner_of(read.module, read.scope) is None \
                and callers.function_key(read.module, read.scope) is not None:
            for _found in callers.tasks_calling(read):
                pass
    return {key[1] for key in callers.visited}


def summary_waiting_names(project) -> Set[str]:
    """Module-level functions of task modules with a blocking read in their own body (whether the result is a
    task's is the project's to say; naming more functions costs time, never a finding)."""
    names = set()
    task_modules = _task_modules(project)
    for summary in project.summaries:
        if summary.path not in task_modules:
            continue
        scopes = [use.scope for use in summary.uses if blocking_method(use)]
        scopes += [wait.scope for wait in summary.waits_by_id]
        names.update(scope for scope in scopes if scope and "." not in scope)
    return names


def _task_modules(project) -> Set[str]:
    return {task.path for task in project.tasks}


class _Callers:
    """Up the call index from a function with a blocking read to the tasks whose bodies call it."""

    def __init__(self, project):
        self.project = project
        self.module_at: Dict[str, str] = {summary.path: summary.module for summary in project.summaries}
        self.visited: Set[tuple] = set()
        # Only functions of modules that define a task are followed: following every function that waits would
        # make each of their names (views, scripts' ``main``) a name of interest to the speed layer, whose files
        # it would then read; a task's own module is read anyway.
        self.task_modules = {self.module_at.get(path) for path in _task_modules(project)}

    def function_key(self, module: str, scope: str) -> Optional[tuple]:
        """The module-level function whose own body ``scope`` is (not a method, not a nested function), in a
        module that defines a task."""
        if not scope or "." in scope or module not in self.task_modules:
            return None
        return self.project.symbols.function_key(f"{module}.{scope}")

    def tasks_calling(self, read: Read) -> Iterator[Waiting]:
        pending: List[Tuple[tuple, Tuple[str, ...]]] = [(self.function_key(read.module, read.scope), (read.scope,))]
        while pending:
            key, through = pending.pop(0)  # breadth first: the shortest chain to each task is found first
            if key in self.visited and len(through) > 1:
                continue
            self.visited.add(key)
            for path, call in self.project.calls_of(key):
                module = self.module_at.get(path, "")
                owner = self.project.owner_of(module, call.scope)
                if owner is not None:
                    yield Waiting(path, call.line, owner, read, through)
                    continue
                caller = self.function_key(module, call.scope)
                if caller is not None and caller not in self.visited and len(through) < MAX_DEPTH:
                    pending.append((caller, (call.scope, *through)))
