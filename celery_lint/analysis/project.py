"""How the project links: which names are tasks, and every place that enqueues, schedules or hands on each."""
from __future__ import annotations

import functools
from dataclasses import replace
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..types import DYNAMIC, OutcomeKind, UseKind
from .facts import Call, Errback, ModuleSummary, Outcome, Running, RunningTaskFact, Use, ViaParam
from .project_tasks import Task, TaskFinder, TaskKind
from .reach import (ClassAttributes, index_calls, link_running_tasks, passed_literals, passed_names, rooted,
                    tasks_built_on)
from .returned import passed_on, returned_names
from .settings import Settings, project_settings
from .symbols import Symbol, Symbols, import_roots

SENDS = (UseKind.ENQUEUE, UseKind.SIGNATURE)


__all__ = ["Project", "Task", "TaskKind"]


class Project:
    def __init__(self, summaries: Sequence[ModuleSummary], task_decorators: Iterable[str] = (),
                 modules: Iterable[str] = ()):
        """``modules``: the dotted name of every Python file of the project, summarised or not (a config module
        without any Celery word is never summarised, but ``config_from_object`` may load it)."""
        self.summaries = [s for s in summaries if s.error is None]
        modules = frozenset(modules)
        self.symbols = Symbols(self.summaries, frozenset(task_decorators), import_roots(modules))
        found = TaskFinder(self.summaries, self.symbols)
        self.tasks: List[Task] = found.tasks
        self._task_by_symbol: Dict[Tuple[str, str], Task] = found.by_symbol
        self.tasks_by_name = {t.name: t for t in self.tasks if t.name}
        self._name_namespace_tasks()
        self.unknown_uses: List[Tuple[str, Use]] = []  # enqueues whose receiver we cannot name
        self.dynamic_name_uses: List[Tuple[str, Use]] = []  # enqueues by a task name computed at run time
        self._calls, self.function_values, self.looked_up_callers = index_calls(self.summaries, self.symbols)
        self.class_attributes = ClassAttributes(self.summaries, self.symbols)
        # ``def gen_task_name(...)`` on an app (or set on one): a task's registered name is not the one read here
        self._tasks_renamed = any("gen_task_name" in summary.attributes_set or any(
            "gen_task_name" in cls.held for cls in summary.classes) for summary in self.summaries)
        for summary in self.summaries:
            for use in summary.uses:
                self._link(summary.path, use)
        self._share_registered_names()
        self.modules = modules
        self.settings: Settings = project_settings(self.summaries, self.symbols, self.modules)
        link_running_tasks(self)
        self._link_errbacks()
        self._default_class_reports()
        self._drop_base_classes()

    def _share_registered_names(self) -> None:
        """Tasks registered under one name (a client's stub of a worker's task, ``name="render"`` in both) are one
        task to Celery: what happens to the result of either happens to the other's."""
        by_name: Dict[str, List[Task]] = {}
        for task in self.tasks:
            if task.name:
                by_name.setdefault(task.name, []).append(task)
        for same in (tasks for tasks in by_name.values() if len(tasks) > 1):
            uses = [pair for task in same for pair in task.uses]
            escapes = [pair for task in same for pair in task.value_escapes]
            for task in same:
                task.uses, task.value_escapes = list(uses), list(escapes)

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
        if self.symbols.module_named(dotted or ""):  # ``mod = import_module(app + ".urls")``
            dotted = f"*.{self.symbols.module_named(dotted)}"
        if (dotted or "").startswith("*."):  # ``import_module(app + ".signals")``: any module of that last name
            return [t for m in list(self.symbols.modules) if m.rpartition(".")[2] == dotted[2:]
                    for t in self.tasks_in_module(m, depth) or []]
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
            for task in (task for task in self.tasks if id(task) in dropped):
                # ``def before_start(self, ...): self.update_state(...)`` in a base class: the worker runs it for
                # every task built on it, which reports it (or hands on its id)
                self.settings.running_anywhere += task.running
                if task.updates_state:
                    self._any_task_reports(task, f"self.update_state() in {task.qualname}, a Task class tasks are built on")
            self.tasks = [task for task in self.tasks if id(task) not in dropped]
            self.tasks_by_name = {name: task for name, task in self.tasks_by_name.items() if id(task) not in dropped}

    def _default_class_reports(self) -> None:
        """``class MyCelery(Celery): task_cls = Base`` where ``Base.before_start`` calls ``self.update_state()``:
        every task without a ``base=`` of its own runs it (as a ``base=`` class: ``_drop_base_classes``)."""
        for summary in self.summaries:
            for ref in (ref for cls in summary.classes for ref in cls.held.get("task_cls", ()) if ref):
                kind, defining, cls, tail = self.symbols.resolve(ref)
                task = self._task_by_symbol.get((defining.module, cls.qualname)) if kind is Symbol.CLASS and not tail \
                    else None
                if task is not None and task.updates_state:
                    self._any_task_reports(task, f"self.update_state() in {task.qualname}, the app's default task class")

    def _any_task_reports(self, task: Task, detail: str) -> None:
        """The Task class ``task`` reports progress for every task built on it (the worker runs its hooks)."""
        self.settings.running_anywhere.append((f"{task.path}:{task.line}", RunningTaskFact(
            Running.PROGRESS, "helper", task.qualname.rpartition(".")[2], detail, task.line)))

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
        """All calls of a module-level function (or class), or None when we cannot know them all."""
        key = self.symbols.callable_key(function)
        if key is None or key in self.function_values or not self._calls.get(key):
            return None  # not ours, handed on as a value, or called from elsewhere (a library's users)
        return self._calls[key]

    def _passed(self, via: ViaParam) -> Optional[List[str]]:
        """The dotted names every call passes for the parameter ``via``; None when some call is not seen."""
        return passed_names(self._callers(via.function), via)

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
        if self._tasks_renamed and use.by_name not in (None, DYNAMIC) and use.by_name not in self.tasks_by_name \
                and use.kind in (*SENDS, UseKind.ASYNC_RESULT):
            self.dynamic_name_uses.append((path, use))  # a name no task has here: the one ``gen_task_name`` gives?
            return
        if self._calls_a_module_function(use):
            return  # its functions' callers are no longer all known (``index_calls``): their returns escape
        if use.run_time_attr and use.outcome.kind is OutcomeKind.DISCARDED:
            return  # ``getattr(t, method)(...)`` dropped: it may be ``apply``, run here, as well as an enqueue
        use, targets = self._targets(use)
        if use.kind is UseKind.VALUE:
            for task in targets:
                task.value_escapes.append((path, use))
        elif not targets and use.kind in SENDS and use.target is not None and self.symbols.imported_at_run_time(use.target):
            self.dynamic_name_uses.append((path, use))  # ``send = import_string(setting)`` at module level
        else:
            if use.kind in SENDS and use.by_name is None and (not targets or None in (self.symbols.bound_several(
                    use.target) or ())) and not self._made_at_run_time(use):  # it may be any task handed on
                self.unknown_uses.append((path, use))
            for task in targets:
                task.uses.append((path, use))

    def _calls_a_module_function(self, use: Use) -> bool:
        """``getattr(module, name)(...)`` on a module of the project calls one of its functions (a task object it
        holds would run here, storing nothing; a bound ``.delay`` it keeps is handed on already)."""
        if not use.run_time_attr or use.target is None:
            return False
        kind, _summary, _obj, tail = self.symbols.resolve(use.target)
        return kind is Symbol.MODULE and not tail

    def _made_at_run_time(self, use: Use) -> bool:
        """``type(self).run.apply_async()`` where the class makes ``run`` a new task at run time: none of ours."""
        return use.class_attr is not None and self.class_attributes.holds_only_made(use.class_attr)

    def _targets(self, use: Use) -> Tuple[Use, List[Task]]:
        """The tasks a use may touch (and the use, made more precise where the linking learns something)."""
        if use.dynamic_module is not None:
            return self._dynamic_module_targets(use)
        if use.by_name == DYNAMIC:  # a task value looked up by a run-time name: any task
            return use, list(self.tasks)
        if use.bound_as is not None:
            return use, self.tasks_bound_as(use.bound_as)
        if use.class_attr is not None:  # ``self.task``: the class attributes of the hierarchy
            return use, self._carried(self.class_attributes.values(use.class_attr, self._passed))
        if use.built_on is not None:  # ``self.delay()`` in a method of a Task class (or of a mixin of one)
            return use, tasks_built_on(self, use.built_on)
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
        several = self.symbols.bound_several(use.target)
        if several is not None:  # ``try: from .x import send`` ``except ImportError: send = fallback``: either
            tasks = [self.task_for(ref) for ref in several]
            return use, list({id(task): task for task in tasks if task is not None}.values())
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
