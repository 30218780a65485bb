"""What reaches what across the project: the carriers of task values the per-file facts leave open.

- a parameter (``def fire(task): task.delay()``): the arguments every call of the function passes;
- ``self.task`` in a method: the class attributes ``task`` of that class, its bases and its subclasses;
- a helper that reports progress (``update_state``): the tasks that call it.

Each answer is a set of tasks, or None when some source cannot be followed (a caller passes something that is not
a name, the function is handed on as a value, an instance sets the attribute): the caller then keeps the use
unknown, as before, so an unknown stays with the uses it may hold, and never names a task it cannot hold.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from ..types import DYNAMIC, UseKind
from .callers import Callers, callers_in_file, running_helpers
from .facts import Call, ClassInfo, ModuleSummary, Step, ViaParam
from .symbols import Symbol, Symbols

MAX_CLASSES = 64  # a hierarchy wider than this is not followed: the use stays unknown


def argument(call: Call, via: ViaParam) -> Tuple[bool, object, Optional[List[str]]]:
    """(found, literal value, the dotted names it may be) of what ``call`` passes for the parameter ``via``."""
    if via.param in call.kwargs:
        return True, call.kwargs[via.param], call.kwrefs.get(via.param)
    if via.index is not None and via.index < len(call.args):
        return True, call.args[via.index], call.refs[via.index] if via.index < len(call.refs) else None
    return False, None, None


def passed_names(callers: Optional[List[Tuple[str, Call]]], via: ViaParam) -> Optional[List[str]]:
    """The dotted names every call passes for the parameter ``via``; None when one passes anything else."""
    if callers is None:
        return None
    names = []
    for _path, call in callers:
        found, _value, ref = argument(call, via)
        if call.star or not found or ref is None:
            return None
        names += ref
    return names


def passed_literals(callers: Optional[List[Tuple[str, Call]]], via: ViaParam) -> Optional[List[str]]:
    """The names a getattr dispatcher receives, when every call passes a string literal."""
    if callers is None:
        return None
    names = []
    for _path, call in callers:
        found, value, _ref = argument(call, via)
        if call.star or not found or not isinstance(value, str) or value == DYNAMIC:
            return None  # the default value, passed some other way, or not a literal
        names.append(value)
    return names


def rooted(steps: List[Step], path: str) -> List[Step]:
    """Steps of a result's way in the file ``path``, said so: they join the way of a use in another file."""
    return [step if step.path is not None else replace(step, path=path) for step in steps]


def index_calls(summaries: Iterable[ModuleSummary], symbols: Symbols):
    """Every recorded call of a project function, the functions handed on as values (whose callers we therefore
    cannot all see), and the callers of those a module's ``getattr(module, name)(...)`` may call (path, scope,
    line)."""
    calls: Dict[tuple, List[Tuple[str, Call]]] = {}
    values = set()
    looked_up: Dict[tuple, List[Tuple[str, str, int]]] = {}
    for summary in summaries:
        for call in summary.calls:
            key = symbols.callable_key(call.ref)
            if key is not None:
                calls.setdefault(key, []).append((summary.path, call))
        values.update(key for key in map(symbols.callable_key, summary.aliased) if key is not None)
        for use in summary.uses:
            if use.kind is UseKind.VALUE and use.target is not None:
                key = symbols.callable_key(use.target)
                if key is not None:
                    values.add(key)
            elif use.run_time_attr and use.target is not None:  # ``getattr(module, name)(...)``: any of its functions
                for key in functions_of_module(symbols, use.target):
                    values.add(key)
                    looked_up.setdefault(key, []).append((summary.path, use.scope, use.outcome.line))
    return calls, values, looked_up


def functions_of_module(symbols: Symbols, dotted: str, depth: int = 0) -> Set[tuple]:
    """The project functions an attribute of the module ``dotted`` may be: its own and those it imports (none
    where ``dotted`` is not a module of the project)."""
    kind, summary, _obj, tail = symbols.resolve(dotted)
    if kind is not Symbol.MODULE or tail or depth > 4:
        return set()
    found = {(summary.module, f.qualname) for f in summary.functions if "." not in f.qualname}
    for name, target in summary.imports.items():
        if name.startswith("*"):  # ``from .ops import *``
            found |= functions_of_module(symbols, target, depth + 1)
        elif symbols.function_key(f"{summary.module}.{name}") is not None:
            found.add(symbols.function_key(f"{summary.module}.{name}"))
    return found


class ClassAttributes:
    """``self.x`` in a method of a class: the values the class bodies of its hierarchy give ``x``."""

    def __init__(self, summaries: Iterable[ModuleSummary], symbols: Symbols):
        self.symbols = symbols
        self.classes: Dict[str, ClassInfo] = {}  # dotted name -> class
        for summary in summaries:
            for cls in summary.classes:
                self.classes[f"{summary.module}.{cls.qualname}"] = cls
        # set on some other object somewhere (``View.task = t``): what the class bodies say is not all it holds
        self.set_elsewhere = {name for summary in summaries for name in summary.attributes_set}
        self.mentioned = {mention.name for summary in summaries for mention in summary.mentions}  # methods run
        self._subclasses: Dict[str, List[str]] = {}
        for dotted, cls in self.classes.items():
            for base in self.bases(cls):
                self._subclasses.setdefault(base, []).append(dotted)

    def bases(self, cls: ClassInfo) -> List[str]:
        found = []
        for base in cls.bases:
            kind, summary, obj, tail = self.symbols.resolve(base)
            if kind is Symbol.CLASS and not tail:
                found.append(f"{summary.module}.{obj.qualname}")
        return found

    def values(self, holder: str, passed: Optional[Callable[[ViaParam], Optional[List[str]]]] = None
               ) -> Optional[List[str]]:
        """The dotted names ``self.<attr>`` may hold in a method of ``<class>`` (``holder``: ``class:attr``).
        ``passed``: the names every call passes for a parameter (for an attribute ``__init__`` keeps)."""
        owner, _, attr = holder.rpartition(":")
        hierarchy = self.hierarchy(owner)
        if hierarchy is None or attr in self.set_elsewhere:
            return None
        values: List[Optional[str]] = []
        for dotted in hierarchy:
            cls = self.classes[dotted]
            if attr in cls.instance_attrs:
                return None  # an instance sets it: any value
            values += cls.held.get(attr, []) + cls.instance_held.get(attr, [])
            if attr in cls.kept_params:
                kept = self._kept(dotted, cls, attr, passed)
                if kept is None:
                    return None
                values += kept
        if not values or any(value is None for value in values):
            return None  # not a class attribute here (a base we cannot read may set it), or not a name
        return [value for value in values if value != "None"]

    def _kept(self, dotted: str, cls: ClassInfo, attr: str, passed) -> Optional[List[str]]:
        """What the calls of ``dotted`` pass for the ``__init__`` parameter it keeps as ``attr``; None when its
        instances may be made another way (a subclass, ``cls(...)``) or a call passes something else."""
        if passed is None or self._subclasses.get(dotted) or not self.mentioned.isdisjoint(cls.builders) \
                or "?" in cls.builders:
            return None
        param, index = cls.kept_params[attr]
        return passed(ViaParam(dotted, param, index))

    def holds_only_made(self, holder: str) -> bool:
        """Does ``self.<attr>`` hold only tasks its class makes at run time (``cls.x = app.task(...)(run)``, or
        ``None`` in a class body), never one of the project's? Then an enqueue through it touches none of them."""
        owner, _, attr = holder.rpartition(":")
        hierarchy = self.hierarchy(owner)
        if hierarchy is None or attr in self.set_elsewhere:
            return False
        classes = [self.classes[dotted] for dotted in hierarchy]
        return (any(attr in cls.made_attrs for cls in classes)
                and not any(attr in cls.instance_attrs for cls in classes)
                and all(value == "None" for cls in classes for value in cls.held.get(attr, [])))

    def hierarchy(self, owner: str) -> Optional[List[str]]:
        """The class, every base the project defines, and every subclass (each holds ``self`` sometimes)."""
        if owner not in self.classes:
            return None
        found = [owner]
        pending = [owner]
        while pending:  # up: the bases
            for base in self.bases(self.classes[pending.pop()]):
                if base in self.classes and base not in found:
                    found.append(base)
                    pending.append(base)
        pending = [owner]
        while pending:  # down: the subclasses
            for sub in self._subclasses.get(pending.pop(), ()):
                if sub not in found:
                    found.append(sub)
                    pending.append(sub)
            if len(found) > MAX_CLASSES:
                return None
        return found


def link_running_tasks(project) -> None:
    """Each progress report and published id goes to the task whose body holds it; one in a helper goes to the
    tasks that run the helper (``callers``); one whose tasks cannot all be found, to any task (``running_anywhere``)."""
    callers = Callers(project)
    for summary in project.summaries:
        for fact in summary.running:
            owner = project.owner_of(summary.module, fact.scope)
            if owner is not None:
                owner.running.append((f"{summary.path}:{fact.line}", fact))
    # (``self.request.id`` outside any task: ``self`` is something else, a view's request...)
    helpers = running_helpers(project)
    anywhere = callers.reporting_any_tasks_progress(helpers)
    if anywhere:  # every task may report progress already: following the other helpers changes no verdict
        for summary, fact in anywhere + [helper for helper in helpers if helper not in anywhere]:
            _anywhere(project, summary, fact)
        return
    ran_by: Dict[tuple, Optional[list]] = {}
    for summary, fact in helpers:
        key = (summary.module, fact.scope)
        if key not in ran_by:
            ran_by[key] = callers.tasks_running(*key)
        if ran_by[key] is None:
            _anywhere(project, summary, fact)
        for way, task in ran_by[key] or ():
            task.running.append((f"{summary.path}:{fact.line}",
                                 replace(fact, detail=f"{fact.detail} in {fact.scope}(), called at {way}")))


def _anywhere(project, summary: ModuleSummary, fact) -> None:
    detail = f"{fact.detail} in {fact.scope or 'module-level code'}(), run from where this analysis cannot name the task"
    project.settings.running_anywhere.append((f"{summary.path}:{fact.line}", replace(fact, detail=detail)))


def carried_names(summaries: Iterable[ModuleSummary]) -> Set[str]:
    """What the carriers need every mention of (the speed layer keeps those statements and records those calls):
    helpers that report progress and the functions of the same file calling them (the project follows them further:
    ``callers.caller_names``), and the
    attributes ``self.<name>`` carries (every ``self.<name> = ...`` of the hierarchy)."""
    summaries = list(summaries)
    names = set()
    for summary in summaries:
        names.update(f.name for f in summary.functions if f.updates_state)
        names.update(use.class_attr.rpartition(":")[2] for use in summary.uses if use.class_attr)
        for cls in summary.classes:  # every call of the class (what it is given), of a method making one inside
            names.update([cls.name, *cls.builders] if cls.kept_params else ())
        names.update(callers_in_file(summary))
    return names


def tasks_built_on(project, dotted: str) -> list:
    """The tasks whose class has ``dotted`` among its bases the project defines (``base=Waiting``, a class-based
    task, a mixin of either), and those whose base cannot be read (they may be built on it too)."""
    # an app's default task class (``Celery(task_cls=...)``, ``class MyCelery(Celery): task_cls = ...``): any task
    # without a ``base=`` of its own may be built on it
    default = any("task_cls" in summary.attributes_set or any("task_cls" in cls.held for cls in summary.classes)
                  for summary in project.summaries)
    found = []
    for task in project.tasks:
        base = task.base.get("ref") if isinstance(task.base, dict) else task.base
        if base is None:
            if default:
                found.append(task)
            continue
        ancestors = _ancestors(project, base) if isinstance(base, str) and base != DYNAMIC else None
        if ancestors is None or dotted in ancestors:
            found.append(task)
    return found


def _ancestors(project, ref: str) -> Optional[Set[str]]:
    """``ref`` (a class) and every base of it the project defines, as dotted names; None when ``ref`` cannot be
    read (a base outside the project counts as read: it is no class of the project's)."""
    kind, summary, obj, tail = project.symbols.resolve(ref.replace(":", "."))
    if kind is Symbol.EXTERNAL:
        return set()
    if kind is not Symbol.CLASS or tail:
        return None
    found, pending = set(), [(summary, obj)]
    while pending and len(found) < MAX_CLASSES:
        summary, cls = pending.pop()
        dotted = f"{summary.module}.{cls.qualname}"
        if dotted in found:
            continue
        found.add(dotted)
        for base in cls.bases:
            kind, base_summary, base_obj, tail = project.symbols.resolve(base)
            if kind is Symbol.CLASS and not tail:
                pending.append((base_summary, base_obj))
    return found
