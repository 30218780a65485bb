"""How the project links: which names are tasks, and every place that enqueues, schedules or hands on each."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .. import celery_api
from ..types import DYNAMIC, Kind, OutcomeKind, UseKind
from .facts import (
    Call,
    ClassInfo,
    Decorator,
    Errback,
    FunctionInfo,
    ModuleSummary,
    Outcome,
    Registration,
    RunningTaskFact,
    Use,
)
from .reach import ClassAttributes, index_calls, link_running_tasks, passed_literals, passed_names, rooted
from .returned import passed_on, returned_names
from .settings import Settings, project_settings
from .symbols import Symbol, Symbols

SENDS = (UseKind.ENQUEUE, UseKind.SIGNATURE)


class TaskKind(Kind):
    FUNCTION = "function"  # a decorated function
    CLASS = "class"  # a Task subclass
    REGISTRATION = "registration"  # ``app.task(name=...)(func)``


@dataclass
class Task:
    qualname: str  # python path: ``shop.emails.send_welcome``
    name: Optional[str]  # registered name; None when computed at run time
    path: str
    line: int
    col: int
    kind: TaskKind
    decorator: Optional[Decorator]  # where the fix goes
    fixable: bool  # a keyword can be added to the decorator
    manual_fix: Optional[str]  # when not fixable for a reason worth saying: why, and what to do by hand
    own_ignore: object  # ignore_result from the decorator (or alias), None when unset, DYNAMIC if unknown
    base_ignore: object  # from ``base=`` / the class hierarchy
    updates_state: bool
    noqa: List[str]
    uses: List[Tuple[str, Use]] = field(default_factory=list)  # (path, use)
    value_escapes: List[Tuple[str, Use]] = field(default_factory=list)
    # ``self.request.id`` handed on, ``current_task.update_state()`` inside it: (path:line, fact)
    running: List[Tuple[str, RunningTaskFact]] = field(default_factory=list)
    # As an errback, Celery hands it the failed task's id (not ``(request, exc, traceback)``); and its body
    # builds a result from an id. A class-based task is old-style, its body unknown.
    old_style_errback: bool = True
    reads_by_id: bool = True

    @property
    def short_name(self) -> str:
        return self.qualname.rpartition(".")[2]


class Project:
    def __init__(self, summaries: Sequence[ModuleSummary], task_decorators: Iterable[str] = (),
                 modules: Iterable[str] = ()):
        """``modules``: the dotted name of every Python file of the project, summarised or not (a config module
        without any Celery word is never summarised, but ``config_from_object`` may load it)."""
        self.summaries = [s for s in summaries if s.error is None]
        self.symbols = Symbols(self.summaries, frozenset(task_decorators))
        self.tasks: List[Task] = []
        self._task_by_symbol: Dict[Tuple[str, str], Task] = {}
        self._find_tasks()
        self.tasks_by_name = {t.name: t for t in self.tasks if t.name}
        self._name_namespace_tasks()
        self.unknown_uses: List[Tuple[str, Use]] = []  # enqueues whose receiver we cannot name
        self.dynamic_name_uses: List[Tuple[str, Use]] = []  # enqueues by a task name computed at run time
        self._calls, self.function_values = index_calls(self.summaries, self.symbols)
        self.class_attributes = ClassAttributes(self.summaries, self.symbols)
        for summary in self.summaries:
            for use in summary.uses:
                self._link(summary.path, use)
        self.settings: Settings = project_settings(self.summaries, self.symbols, frozenset(modules))
        link_running_tasks(self)
        self._link_errbacks()
        self._drop_base_classes()

    # ----- tasks -----
    def _find_tasks(self) -> None:
        for summary in self.summaries:
            for function in summary.functions:
                self._function_task(summary, function)
            for registration in summary.registrations:
                self._registered_task(summary, registration)
            for cls in summary.classes:
                if self.symbols.is_task_class(cls):
                    self._class_task(summary, cls)

    def _function_task(self, summary: ModuleSummary, function: FunctionInfo) -> None:
        for index, decorator in enumerate(function.decorators):
            found = self.symbols.task_decorator(decorator)
            if found is None:
                continue
            spread = self._spread_options(decorator) if decorator.star_kwargs else ({}, None)
            star_kwargs = found.star_kwargs or (decorator.star_kwargs and spread is None)
            options, shared = spread or ({}, None)
            kwargs = {**found.defaults, **options, **decorator.kwargs}
            manual_fix = found.manual_fix
            if shared is not None and "ignore_result" not in decorator.kwargs:
                manual_fix = (f"ignore_result comes from the options {shared}, which other tasks may spread too: "
                              "set it there, or give this task its own options")
            self._add(Task(
                qualname=f"{summary.module}.{function.qualname}",
                name=_registered_name(kwargs, summary.module, function.name),
                path=summary.path, line=decorator.line, col=decorator.col, kind=TaskKind.FUNCTION,
                decorator=decorator, fixable=found.fixable and "ignore_result" not in found.defaults and shared is None,
                manual_fix=manual_fix, own_ignore=_own_ignore(kwargs, star_kwargs),
                base_ignore=self._base_ignore(kwargs.get("base")),
                updates_state=function.updates_state, noqa=function.noqa,
                old_style_errback=_old_style_errback(kwargs, function), reads_by_id=function.reads_by_id,
            ), summary.module, function.qualname)
            if index:  # ``@register`` above ``@app.task``: it is handed the task object, and may keep it in a table
                outer = function.decorators[0]
                self._task_by_symbol[(summary.module, function.qualname)].value_escapes.append((summary.path, Use(
                    UseKind.VALUE, Outcome(OutcomeKind.ESCAPES, f"handed to its decorator @{outer.ref or '...'}",
                                           outer.line))))
            return

    def _spread_options(self, decorator: Decorator) -> Optional[Tuple[dict, Optional[str]]]:
        """``@shared_task(**_LIMITS, **_RETRY)``: the keys of module-level option dicts, and where ignore_result is
        set among them (``NAME at path:line``); None when any of them cannot be read."""
        options: dict = {}
        shared = None
        for ref in decorator.spread:
            kind, summary, _obj, tail = self.symbols.resolve(ref)
            found = summary.option_dicts.get(tail[0]) if kind is Symbol.UNKNOWN and summary and len(tail) == 1 else None
            if found is None:
                return None
            options.update(found.keys)
            if "ignore_result" in found.keys:
                shared = f"{tail[0]} at {summary.path}:{found.line}"
        return options, shared

    def _registered_task(self, summary: ModuleSummary, registration: Registration) -> None:
        found = self.symbols.task_decorator(registration.decorator)
        kind, target_summary, function, tail = self.symbols.resolve(registration.target)
        if found is None or kind is not Symbol.FUNCTION or tail:
            return
        kwargs = registration.decorator.kwargs
        self._add(Task(
            qualname=f"{target_summary.module}.{function.qualname}",
            name=_registered_name(kwargs, target_summary.module, function.name),
            path=summary.path, line=registration.decorator.line, col=registration.decorator.col,
            kind=TaskKind.REGISTRATION, decorator=registration.decorator, fixable=found.fixable,
            manual_fix=found.manual_fix, own_ignore=_own_ignore(kwargs, registration.decorator.star_kwargs),
            base_ignore=self._base_ignore(kwargs.get("base")),
            updates_state=function.updates_state, noqa=registration.noqa,
            old_style_errback=_old_style_errback(kwargs, function), reads_by_id=function.reads_by_id,
        ), target_summary.module, function.qualname)
        if registration.bound_to:  # ``send = app.task(...)(_send)``: the task is also known as ``send``
            self._task_by_symbol.setdefault((summary.module, registration.bound_to),
                                            self._task_by_symbol[(target_summary.module, function.qualname)])

    def _class_task(self, summary: ModuleSummary, cls: ClassInfo) -> None:
        name = cls.attrs.get("name")
        self._add(Task(
            qualname=f"{summary.module}.{cls.qualname}",
            name=name if isinstance(name, str) and name != DYNAMIC else f"{summary.module}.{cls.name}",
            path=summary.path, line=cls.line, col=cls.col, kind=TaskKind.CLASS, decorator=None, fixable=False,
            manual_fix=None, own_ignore=cls.attrs.get("ignore_result"),
            base_ignore=self._class_ignore(cls, own=False),
            updates_state=cls.updates_state, noqa=cls.noqa,
        ), summary.module, cls.qualname)

    def _add(self, task: Task, module: str, qualname: str) -> None:
        if (module, qualname) not in self._task_by_symbol:
            self._task_by_symbol[(module, qualname)] = task
            self.tasks.append(task)

    def _base_ignore(self, base) -> object:
        if base is None:
            return None
        if not isinstance(base, dict):
            return DYNAMIC
        kind, _summary, obj, tail = self.symbols.resolve(base["ref"])
        if kind is Symbol.EXTERNAL and obj in celery_api.TASK_CLASSES or obj and str(obj).startswith("celery."):
            return None
        if kind is Symbol.CLASS and not tail:
            return self._class_ignore(obj, own=True)
        return DYNAMIC  # a base class we cannot read may set ignore_result

    def _class_ignore(self, cls: ClassInfo, own: bool, depth: int = 0) -> object:
        if own and "ignore_result" in cls.attrs:
            return cls.attrs["ignore_result"]
        for base in cls.bases:
            kind, _summary, obj, tail = self.symbols.resolve(base)
            if kind is Symbol.CLASS and not tail and depth < 8:
                value = self._class_ignore(obj, True, depth + 1)
                if value is not None:
                    return value
            elif kind is not Symbol.EXTERNAL and not (base or "").endswith(".Task"):
                return DYNAMIC
        return None

    # ----- which tasks a name may be -----
    def task_for(self, dotted: Optional[str], depth: int = 0) -> Optional[Task]:
        kind, summary, obj, tail = self.symbols.resolve(dotted)
        if kind in (Symbol.FUNCTION, Symbol.CLASS) and not tail:
            return self._task_by_symbol.get((summary.module, obj.qualname))
        if kind is Symbol.CLASS and len(tail) == 1:  # ``Jobs.vacuum``: a ``@staticmethod @app.task`` in a class
            return self._task_by_symbol.get((summary.module, f"{obj.qualname}.{tail[0]}"))
        if kind is Symbol.ALIAS and not tail and obj.called and obj.first_arg and depth < 4 \
                and obj.ref.rpartition(".")[2] == "register_task":  # ``purge = app.register_task(PurgeTask())``
            return self.task_for(obj.first_arg, depth + 1)
        if kind is Symbol.UNKNOWN and summary is not None and len(tail) == 1:  # ``send = app.task(...)(_send)``
            return self._task_by_symbol.get((summary.module, tail[0]))
        return None

    def tasks_in_module(self, dotted: Optional[str], depth: int = 0) -> Optional[List[Task]]:
        """Every task an attribute of the module ``dotted`` may be: its own and the ones it imports.

        None when ``dotted`` is not a module of the project (an object, an external module): such an
        object holds a task only if the project put one there, and that task is then handed on as a value
        somewhere (``Registry(task=t)``, ``class C: t = my_task``), which that task's own value escapes record.
        """
        if self.symbols.imported_at_run_time(dotted or ""):
            return list(self.tasks)  # ``mod = import_module(path)``: a module known only at run time
        kind, summary, _obj, tail = self.symbols.resolve(dotted)
        if kind is not Symbol.MODULE or tail:
            return None
        prefix = summary.module + "."
        found = [t for t in self.tasks if t.qualname.startswith(prefix) and "." not in t.qualname[len(prefix):]]
        for name, target in summary.imports.items():  # re-exported: ``from .tasks import send``
            if name.startswith("*"):
                if depth < 4:
                    found.extend(self.tasks_in_module(target, depth + 1) or [])
                continue
            task = self.task_for(f"{summary.module}.{name}")
            if task is not None:
                found.append(task)
        return list({id(t): t for t in found}.values())

    def tasks_bound_as(self, name: str) -> List[Task]:
        """The tasks a module of the project binds as ``name`` (defined, imported or aliased so): what
        ``getattr(<a module known only at run time>, name)`` may be."""
        found = [t for t in self.tasks if t.short_name == name]
        for module, summary in self.symbols.modules.items():
            if name in summary.imports or any(alias.name == name for alias in summary.aliases):
                task = self.task_for(f"{module}.{name}")
                if task is not None:
                    found.append(task)
        return list({id(t): t for t in found}.values())

    def _through_unseen_package(self, dotted: str) -> List[Task]:
        """``from pkg.tasks import send`` where ``pkg/tasks/__init__.py`` was never summarised (it only does
        ``from .emails import *``, naming no task): the tasks called ``send`` in the modules under ``pkg.tasks``."""
        package, _, name = dotted.rpartition(".")
        if not package or package in self.symbols.modules:
            return []
        if package not in self._packages:
            return []  # not a package of this project
        prefix = package + "."
        return [t for t in self.tasks if t.qualname.startswith(prefix) and t.short_name == name]

    @functools.cached_property
    def _packages(self) -> Set[str]:
        """Every dotted name that has a summarised module under it (``a`` and ``a.b`` for ``a.b.c``)."""
        return {module[:i] for module in self.symbols.modules for i, char in enumerate(module) if char == "."}

    def _name_namespace_tasks(self) -> None:
        """A task in a namespace package answers to every name its module may be imported by (Celery names it
        after the one the worker imports); it is shown by the one the project's own imports use."""
        if not self.symbols.other_names:
            return
        others_of: Dict[str, List[str]] = {}
        for other, module in self.symbols.other_names.items():
            others_of.setdefault(module, []).append(other)
        imported = set()  # every dotted prefix the project imports
        for summary in self.summaries:
            for target in summary.imports.values():
                parts = target.split(".")
                imported.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        for task in self.tasks:
            parts = task.qualname.split(".")
            module = next((m for m in (".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1))
                           if m in self.symbols.modules), None)
            if module is None or not task.name or not task.name.startswith(module + "."):
                continue
            rest = task.name[len(module):]
            for other in sorted(others_of.get(module, ())):
                longer = other + rest
                self.tasks_by_name.setdefault(longer, task)
                if other in imported:
                    task.name = longer

    def _drop_base_classes(self) -> None:
        """A Task subclass that other tasks are built on (``base=``, ``task_cls=``, a subclass) and that nothing
        enqueues is a base class, not a task of its own."""
        refs = []
        for summary in self.summaries:
            decorators = [d for f in summary.functions for d in f.decorators]
            decorators += [r.decorator for r in summary.registrations]
            kwargs = [d.kwargs for d in decorators] + [a.kwargs for a in summary.aliases]
            refs += [k[key] for k in kwargs for key in ("base", "task_cls") if key in k]
            refs += [base for cls in summary.classes for base in cls.bases]
        bases = set()
        for ref in refs:
            ref = ref.get("ref") if isinstance(ref, dict) else ref
            if isinstance(ref, str) and ref != DYNAMIC:
                kind, summary, obj, tail = self.symbols.resolve(ref.replace(":", "."))
                if kind is Symbol.CLASS and not tail:
                    bases.add((summary.module, obj.qualname))
        dropped = {id(task) for key, task in self._task_by_symbol.items() if key in bases
                   and task.kind is TaskKind.CLASS and not task.value_escapes
                   and not any(use.target or use.by_name not in (None, DYNAMIC) for _path, use in task.uses)}
        if dropped:
            self.tasks = [task for task in self.tasks if id(task) not in dropped]
            self.tasks_by_name = {name: task for name, task in self.tasks_by_name.items() if id(task) not in dropped}

    # ----- errbacks -----
    def _link_errbacks(self) -> None:
        """An old-style errback gets the failed task's id; when it may read a result by that id, it reads the
        failed task's (see celery-semantics.md, ``link_error``): the task it is attached to is read."""
        for summary in self.summaries:
            for errback in summary.errbacks:
                reason = self._errback_reads(errback)
                if reason is None:
                    continue
                parents = self._tasks_named(errback.parents, errback.parent_names)
                use = Use(UseKind.ERRBACK, Outcome(OutcomeKind.READ, reason, errback.line))
                if not parents:  # ``self.task.apply_async(link_error=e)``: this file's tasks, or any handed on
                    self.unknown_uses.append((summary.path, use))
                    parents = [task for task in self.tasks if any(path == summary.path for path, _use in task.uses)]
                for task in parents:
                    task.uses.append((summary.path, use))

    def _errback_reads(self, errback: Errback) -> Optional[str]:
        anywhere = self.settings.reads_by_id_at
        errbacks = self._tasks_named(errback.errbacks, errback.errback_names)
        if not errbacks:
            return (f"its errback, which this analysis cannot name, may read its result by id (results are read "
                    f"by id at {anywhere})") if anywhere else None
        keeps = "; ignore_result=True with store_errors_even_if_ignored=True would still store the failures it reads"
        for task in errbacks:
            if task.old_style_errback and task.reads_by_id:
                return f"old-style errback {task.short_name} is given its id and reads its result by id{keeps}"
            if task.old_style_errback and anywhere:
                return (f"old-style errback {task.short_name} is given its id, and results are read by id at "
                        f"{anywhere}{keeps}")
        return None

    def _tasks_named(self, refs: Iterable[str], names: Iterable[str]) -> List[Task]:
        found: List[Task] = []
        for ref in refs:
            found += self._named_targets(Use(UseKind.SIGNATURE, Outcome(OutcomeKind.DISCARDED, "", 0), target=ref))[1]
        found += [self.tasks_by_name[name] for name in names if name in self.tasks_by_name]
        return list({id(task): task for task in found}.values())

    # ----- calls of project functions (results returned by helpers, getattr dispatchers) -----
    def _callers(self, function: Optional[str]) -> Optional[List[Tuple[str, Call]]]:
        """All calls of a module-level function, or None when we cannot know them all."""
        key = self.symbols.function_key(function)
        if key is None or key in self.function_values or not self._calls.get(key):
            return None  # not ours, handed on as a value, or called from elsewhere (a library's users)
        return self._calls[key]

    def _followed(self, use: Use) -> Use:
        """A result returned by a helper function takes the outcome of the helper's calls."""
        outcome = use.outcome
        for _depth in range(3):
            if outcome.kind is not OutcomeKind.ESCAPES or not outcome.via:
                break
            callers = self._callers(outcome.via)
            if callers is None:
                break
            outcomes = [(path, call.value_outcome if use.kind is UseKind.VALUE else call.outcome)
                         for path, call in callers]
            if any(found is None for _path, found in outcomes):
                break
            path, best = max(outcomes, key=lambda po: po[1].kind.rank)
            detail = f"returned by {outcome.via.rpartition('.')[2]}(), whose value at {path}:{best.line}: {best.detail}"
            outcome = Outcome(best.kind, detail, use.outcome.line, best.via, [*outcome.steps, *rooted(best.steps, path)])
        return use if outcome is use.outcome else replace(use, outcome=outcome)

    # ----- linking each use to the tasks it may touch -----
    def _link(self, path: str, use: Use) -> None:
        use = self._followed(passed_on(self.symbols, self.summaries, use))
        if use.kind is UseKind.VALUE and use.outcome.kind is OutcomeKind.DISCARDED:
            return  # a task object returned to callers that only call it or drop it: never enqueued from there
        if use.by_name == DYNAMIC and use.kind is not UseKind.VALUE and use.dynamic_module is None:
            if use.kind in (*SENDS, UseKind.ASYNC_RESULT):  # ``send_task(name)``, ``app.tasks[name]``, TaskResult rows
                self.dynamic_name_uses.append((path, use))
            return
        use, targets = self._targets(use)
        if use.kind is UseKind.VALUE:
            for task in targets:
                task.value_escapes.append((path, use))
        elif not targets and use.kind in SENDS and use.target is not None and self.symbols.imported_at_run_time(use.target):
            self.dynamic_name_uses.append((path, use))  # ``send = import_string(setting)`` at module level
        else:
            if not targets and use.by_name is None and use.kind in SENDS:
                self.unknown_uses.append((path, use))
            for task in targets:
                task.uses.append((path, use))

    def _targets(self, use: Use) -> Tuple[Use, List[Task]]:
        """The tasks a use may touch (and the use, made more precise where the linking learns something)."""
        if use.dynamic_module is not None:
            return self._dynamic_module_targets(use)
        if use.by_name == DYNAMIC:  # a task value looked up by a run-time name: any task
            return use, list(self.tasks)
        if use.bound_as is not None:
            return use, self.tasks_bound_as(use.bound_as)
        if use.class_attr is not None:  # ``self.task``: the class attributes of the hierarchy
            return use, self._carried(self.class_attributes.values(use.class_attr))
        if use.via_param is not None:  # ``def fire(task): task.delay()``: what its callers pass
            return use, self._carried(passed_names(self._callers(use.via_param.function), use.via_param))
        if use.by_name is not None:
            task = self.tasks_by_name.get(use.by_name)  # none: maybe a task whose name= is not a literal
            return use, [task] if task else [t for t in self.tasks if t.name is None]
        if use.returned and ((names := returned_names(self.symbols, self.summaries, use.returned)) or not use.target):
            return use, self._carried(names)  # ``ident(t).delay()``: what another module's function gives back
        return self._named_targets(use) if use.target is not None else (use, [])

    def _carried(self, names: Optional[List[str]]) -> List[Task]:
        """The tasks among the names a carrier may hold; none (an unknown use) when one may hold a task this
        analysis cannot name (a module variable, an alias): only functions, classes and outside objects are not."""
        if names is None:
            return []
        found = []
        for name in names:
            task = self.task_for(name)
            kind, _summary, _obj, tail = self.symbols.resolve(name)
            if task is None and not (kind in (Symbol.FUNCTION, Symbol.CLASS, Symbol.EXTERNAL) and not tail):
                return []
            if task is not None:
                found.append(task)
        return list({id(task): task for task in found}.values())

    def _dynamic_module_targets(self, use: Use) -> Tuple[Use, List[Task]]:
        """``getattr(module, name)``: the tasks every caller names, when all pass literals; else any task of
        the module (as good as a receiver we cannot name when it is not a module of the project)."""
        names = passed_literals(self._callers(use.via_param.function), use.via_param) if use.via_param else None
        if names is not None:
            tasks = [self.task_for(f"{use.dynamic_module}.{name}") for name in names]
            return replace(use, dynamic_module=None), [t for t in tasks if t is not None]
        return use, self.tasks_in_module(use.dynamic_module) or []

    def _named_targets(self, use: Use) -> Tuple[Use, List[Task]]:
        task = self.task_for(use.target)
        if task is not None:
            return use, [task]
        kind, _summary, alias, tail = self.symbols.resolve(use.target)
        if kind is Symbol.ALIAS and not tail and alias.imports_name:  # ``x = import_string(f"{p}.tasks.send")``
            return use, self.tasks_bound_as(alias.imports_name)
        if use.kind is UseKind.VALUE:  # a module handed on: any of its tasks may be looked up
            tasks = self.tasks_in_module(use.target) or []
            if tasks:
                return use, tasks
        tasks = self._through_unseen_package(use.target)
        if len(tasks) > 1:  # two submodules define that name: either may be meant
            use = replace(use, dynamic_module=use.target.rpartition(".")[0])
        return use, tasks

    # ----- running tasks -----
    def owner_of(self, module: str, scope: str) -> Optional[Task]:
        """The task whose body ``scope`` (a qualname in ``module``) is, or sits in."""
        parts = scope.split(".") if scope else []
        for i in range(len(parts), 0, -1):
            owner = self._task_by_symbol.get((module, ".".join(parts[:i])))
            if owner is not None:
                return owner
        return None

    def calls_of(self, key) -> List[Tuple[str, Call]]:
        return self._calls.get(key, [])


def _old_style_errback(kwargs, function: FunctionInfo) -> bool:
    """Celery calls an errback with ``(request, exc, traceback)`` when its function takes more than one
    positional argument (or ``*args``) and it is not ``bind=True``; otherwise with the failed task's id."""
    bind = kwargs.get("bind", False)
    return bind is not False or not (function.varargs or function.positional > 1)


def _registered_name(kwargs: dict, module: str, function: str) -> Optional[str]:
    name = kwargs.get("name")
    if name is None:
        return f"{module}.{function}"
    if isinstance(name, str) and name != DYNAMIC:
        return name
    return None


def _own_ignore(kwargs: dict, star_kwargs: bool) -> object:
    if "ignore_result" in kwargs:
        value = kwargs["ignore_result"]
        return value if value in (True, False) else DYNAMIC
    return DYNAMIC if star_kwargs else None
