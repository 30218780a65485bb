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
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..types import DYNAMIC, UseKind
from .facts import Call, ClassInfo, ModuleSummary, Running, RunningTaskFact, Step, ViaParam
from .symbols import Symbol, Symbols

MAX_CLASSES = 64  # a hierarchy wider than this is not followed: the use stays unknown
MAX_HELPERS = 64  # helpers calling helpers that report progress: more than this are not followed


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
    """Every recorded call of a project function, and the functions handed on as values (whose callers
    we therefore cannot all see)."""
    calls: Dict[tuple, List[Tuple[str, Call]]] = {}
    values = set()
    for summary in summaries:
        for call in summary.calls:
            key = symbols.function_key(call.ref)
            if key is not None:
                calls.setdefault(key, []).append((summary.path, call))
        for use in summary.uses:
            if use.kind is UseKind.VALUE and use.target is not None:
                key = symbols.function_key(use.target)
                if key is not None:
                    values.add(key)
    return calls, values


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

    def values(self, holder: str) -> Optional[List[str]]:
        """The dotted names ``self.<attr>`` may hold in a method of ``<class>`` (``holder``: ``class:attr``)."""
        owner, _, attr = holder.rpartition(":")
        hierarchy = self._hierarchy(owner)
        if hierarchy is None or attr in self.set_elsewhere:
            return None
        values: List[Optional[str]] = []
        for dotted in hierarchy:
            cls = self.classes[dotted]
            if attr in cls.instance_attrs:
                return None  # an instance sets it: any value
            values += cls.held.get(attr, [])
        if not values or any(value is None for value in values):
            return None  # not a class attribute here (a base we cannot read may set it), or not a name
        return [value for value in values if value != "None"]

    def _hierarchy(self, owner: str) -> Optional[List[str]]:
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
    """Each progress report and published id goes to the task whose body holds it; one in a module-level helper
    goes to the tasks that call the helper; one whose tasks cannot all be found, to any task (``running_anywhere``)."""
    module_at = {summary.path: summary.module for summary in project.summaries}
    for summary in project.summaries:
        helpers = {f.qualname for f in summary.functions if f.updates_state and "." not in f.qualname
                   and project.owner_of(summary.module, f.qualname) is None}
        for fact in summary.running:
            where = f"{summary.path}:{fact.line}"
            owner = project.owner_of(summary.module, fact.scope)
            if owner is not None:
                owner.running.append((where, fact))
            elif fact.who == "current_task" and not (fact.kind is Running.PROGRESS and fact.scope in helpers):
                project.settings.running_anywhere.append((where, fact))
            # ``self.request.id`` outside any task: ``self`` is something else (a view's request...)
        for helper in sorted(helpers):
            _progress_of_callers(project, summary, helper, module_at)


def _progress_of_callers(project, summary: ModuleSummary, helper: str, module_at: Dict[str, str]) -> None:
    """``def report_progress(...): ...update_state(...)``: the tasks that call it report progress."""
    function = next(f for f in summary.functions if f.qualname == helper)
    where = f"{summary.path}:{function.line}"
    callers = _tasks_calling(project, (summary.module, helper), module_at)
    if callers is None:
        detail = f"{helper}() reports progress and is called from where this analysis cannot name the task"
        project.settings.running_anywhere.append((where, RunningTaskFact(Running.PROGRESS, "helper", helper, detail,
                                                                        function.line)))
        return
    for call_at, task in callers:
        detail = f"through {helper}(), called at {call_at}"
        task.running.append((where, RunningTaskFact(Running.PROGRESS, "helper", helper, detail, function.line)))


def _tasks_calling(project, key, module_at: Dict[str, str], seen: Optional[Set[tuple]] = None):
    """(where, task) for every call of the module-level function ``key``, through module-level helpers that call
    it (``def work(n): report(n)``, a task calling ``work``); None when a call is outside any function, in a method,
    or the function is handed on as a value (whoever calls it then is not known)."""
    if key in project.function_values:
        return None
    seen = {key} if seen is None else seen
    found = []
    for path, call in project.calls_of(key):
        module = module_at[path]
        owner = project.owner_of(module, call.scope)
        if owner is not None:
            found.append((f"{path}:{call.line}", owner))
            continue
        outer = (module, call.scope)
        if not _module_function(project, outer) or len(seen) > MAX_HELPERS:
            return None
        if outer in seen:
            continue  # a cycle: its callers are being followed already
        seen.add(outer)
        through = _tasks_calling(project, outer, module_at, seen)
        if through is None:
            return None
        found += [(f"{where} -> {path}:{call.line}", task) for where, task in through]
    return found


def _module_function(project, key) -> bool:
    module, qualname = key
    if not qualname or "." in qualname:
        return False
    return any(f.qualname == qualname for s in project.summaries if s.module == module for f in s.functions)


def carried_names(summaries: Iterable[ModuleSummary]) -> Set[str]:
    """What the carriers need every mention of (the speed layer keeps those statements and records those calls):
    helpers that report progress and the module-level functions calling them, at any depth (the tasks calling them
    report it), and the attributes ``self.<name>`` carries (every ``self.<name> = ...`` of the hierarchy)."""
    summaries = list(summaries)
    names = set()
    for summary in summaries:
        names.update(f.name for f in summary.functions if f.updates_state)
        names.update(use.class_attr.rpartition(":")[2] for use in summary.uses if use.class_attr)
    return names | _progress_callers(summaries, {f.name for s in summaries for f in s.functions if f.updates_state})


def _progress_callers(summaries: List[ModuleSummary], progress: Set[str]) -> Set[str]:
    """Names of the module-level functions that call one of ``progress`` (by name: more is only slower)."""
    found: Set[str] = set()
    grown = bool(progress)
    while grown:
        grown = False
        for summary in summaries:
            for call in summary.calls:
                scope = call.scope
                if scope and "." not in scope and call.ref.rpartition(".")[2] in progress | found and scope not in found:
                    found.add(scope)
                    grown = True
    return found
