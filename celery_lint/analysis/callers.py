"""Which tasks run a function: the callers of a helper that reports the progress (or hands on the id) of
whichever task runs it, followed up the call graph until they reach task bodies.

- a module-level function: its calls the modules resolve (``Call``), calls by its name (``getattr(helpers,
  "report")(1)``, a module held in a local), and a call that runs it there and then (``map(report, xs)``,
  ``on_commit(publish)``);
- a method of a module-level class: every call of a method of that name (``self.set_progress(1)``,
  ``job.perform()``, ``super().perform()``), a call that runs it there and then, and wherever an instance of its
  class hierarchy is made (a library handed the instance may call it by a name it knows): receivers are rarely
  known, so a name stands for all methods of that name, which only widens the answer.

A caller that cannot be named makes the answer None (the fact then holds for any task, as before): code at
module level or in a class body; a nested function or a lambda that may be kept; a function handed to any other
call or kept some other way (``cb = report``, returned, stored, named again in its class body); a decorator other
than a few that keep the callers (a signal receiver runs whenever the signal fires); a dunder method or property
(run implicitly); a method of a class whose hierarchy has a base outside the project, or one the project never
calls by name (a framework may call it); more than ``MAX_FUNCTIONS`` functions on the way. When one report
already holds for any task by its definition alone, no other is followed: no verdict could change
(``reporting_any_tasks_progress``), and the fast path reads nothing more for them.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from ..types import UseKind
from .facts import ARGUMENT, CALL, LAMBDA, FunctionInfo, Mention, ModuleSummary, Running, RunningTaskFact
from .symbols import Symbol

MAX_FUNCTIONS = 256

# decorators after which a function is still run only by its callers
KEEPING_CALLERS = frozenset({"staticmethod", "classmethod", "lru_cache", "cache", "atomic", "contextmanager",
                             "asynccontextmanager", "abstractmethod", "override", "wraps"})
ROOT_BASES = frozenset({"builtins.object", "abc.ABC"})  # bases that call none of a class's methods

Caller = Tuple[str, str, int]  # path, scope, line


class Callers:
    def __init__(self, project):
        self.project = project
        self.module_at = {summary.path: summary.module for summary in project.summaries}
        self.by_name: Dict[str, List[Tuple[str, Mention]]] = {}
        self.functions: Dict[Tuple[str, str], FunctionInfo] = {}
        self.classes = set()
        self.values: Dict[tuple, List[Tuple[str, int, str]]] = {}  # function key -> (path, line, scope) handed on
        self._class_calls: Optional[Dict[str, List[Tuple[str, object]]]] = None  # class -> its calls (made lazily)
        for summary in project.summaries:
            self._index(summary)

    def _index(self, summary: ModuleSummary) -> None:
        for mention in summary.mentions:
            self.by_name.setdefault(mention.name, []).append((summary.path, mention))
        for function in summary.functions:
            self.functions[(summary.module, function.qualname)] = function
        self.classes.update((summary.module, cls.qualname) for cls in summary.classes)
        for use in summary.uses:
            if use.kind is UseKind.VALUE and use.target is not None:
                key = self.project.symbols.function_key(use.target)
                if key is not None:
                    self.values.setdefault(key, []).append((summary.path, use.outcome.line, use.scope))

    def tasks_running(self, module: str, qualname: str) -> Optional[List[Tuple[str, object]]]:
        """(the way from the task to the function, task) for each task that may run ``qualname``; None when a
        caller cannot be named."""
        return self._walk(module, qualname)[0]

    def names_on_the_way(self, module: str, qualname: str, bases: Optional[Set[str]] = None) -> Set[str]:
        """The names ``tasks_running`` follows, for the speed layer to keep every mention of them: each function's
        own name, and for a method the classes of its hierarchy (a subclass's bases are checked). Up to the first
        caller that cannot be named: the answer is known then. ``bases`` gets the dotted names of the hierarchy's
        bases (a module that defines one may name no Celery: ``speed.defining_modules`` reads it)."""
        names = set()
        for at_module, at_qualname in self._walk(module, qualname)[1]:
            parts = at_qualname.split(".")
            dotted = f"{at_module}.{parts[0]}"
            if len(parts) == 2 and (at_module, parts[0]) in self.classes and not self._leaves_project(dotted):
                # the whole hierarchy, to check its bases (those not read yet too); a base outside the project
                # already makes the answer None, whatever its subclasses say
                names.update(self._hierarchy_names(dotted, bases if bases is not None else set()))
            if not self.cannot_name_callers(at_module, at_qualname):
                names.add(parts[-1])  # (else known from its definition: none of its mentions changes the answer)
        return names

    def _hierarchy_names(self, dotted: str, bases: Set[str]) -> Set[str]:
        """The classes of the hierarchy and the names of their bases (a base defined in a file the fast path has
        not read yet is named there)."""
        attributes = self.project.class_attributes
        names = set()
        for member in attributes.hierarchy(dotted) or [dotted]:
            names.add(member.rpartition(".")[2])
            cls = attributes.classes.get(member)
            bases.update(base for base in (cls.bases if cls else ()) if base)
        names.update(base.rpartition(".")[2] for base in bases)
        return names

    def _walk(self, module: str, qualname: str):
        found = []
        seen = {(module, qualname)}
        pending = [((module, qualname), "")]
        while pending:
            (at_module, at_qualname), way = pending.pop()
            callers = self.callers_of(at_module, at_qualname)
            if callers is None:
                return None, seen
            for path, scope, line in callers:
                if scope.endswith(LAMBDA):
                    return None, seen  # a lambda that may be kept: whoever runs it later calls it
                step = f"{path}:{line}" + (f" -> {way}" if way else "")
                caller = (self.module_at[path], scope)
                owner = self.project.owner_of(*caller)
                if owner is not None:
                    found.append((step, owner))
                elif caller not in seen:
                    if len(seen) >= MAX_FUNCTIONS:
                        return None, seen
                    seen.add(caller)
                    pending.append((caller, step))
        return found, seen

    def reporting_any_tasks_progress(self, helpers: List[Tuple[ModuleSummary, object]]) -> list:
        """The helpers (summary, fact) reporting progress whose callers their own definition already says cannot
        be named (module-level code, a nested or decorated function, a dunder method, a class extending a
        framework): any task may report progress. Told the same way on both paths: the file holding the report
        always has a summary, and it holds the definition and its class's bases."""
        return [(summary, fact) for summary, fact in helpers
                if fact.kind is Running.PROGRESS and self._unknown_by_definition(summary.module, fact.scope)]

    def _unknown_by_definition(self, module: str, qualname: str) -> bool:
        parts = qualname.split(".") if qualname else []
        if len(parts) != 2 or (module, parts[0]) not in self.classes:
            return self.cannot_name_callers(module, qualname)  # code outside functions, a decorated or nested one
        # a method: its own def and its class's own bases (the rest of the hierarchy may not have been read yet)
        name = parts[1]
        if not self._keeps_callers(module, qualname) or (name.startswith("__") and name.endswith("__")):
            return True
        cls = self.project.class_attributes.classes.get(f"{module}.{parts[0]}")
        return cls is None or any(base is None or not (base in ROOT_BASES or self._in_project(base))
                                  for base in cls.bases)

    def callers_of(self, module: str, qualname: str) -> Optional[List[Caller]]:
        if self.cannot_name_callers(module, qualname):
            return None
        if "." not in qualname:
            return self._function_callers(module, qualname)
        cls, _, name = qualname.partition(".")
        found = self._method_callers(cls, name)
        return None if found is None else found + self._instances_made(f"{module}.{cls}")

    def cannot_name_callers(self, module: str, qualname: str) -> bool:
        """What the function itself says (whatever calls it): code at module level or in a class body, a nested
        function, a decorated one, a dunder method, a method of a class open to a framework."""
        parts = qualname.split(".") if qualname else []
        if not parts or (module, qualname) in self.classes or not self._keeps_callers(module, qualname):
            return True
        if len(parts) == 1:
            return False
        if len(parts) > 2 or (module, parts[0]) not in self.classes:
            return True  # a nested function: it may be returned and run by anyone
        name = parts[1]
        # run by Python itself (``__init__``, ``__enter__``, ``__call__``...), or by a framework the class extends
        return (name.startswith("__") and name.endswith("__")) or not self._closed_hierarchy(f"{module}.{parts[0]}")

    def _keeps_callers(self, module: str, qualname: str) -> bool:
        function = self.functions.get((module, qualname))  # recorded when decorated (or at module level)
        return function is None or all(
            d.ref is not None and d.ref.rpartition(".")[2] in KEEPING_CALLERS for d in function.decorators)

    def _function_callers(self, module: str, name: str) -> Optional[List[Caller]]:
        calls = self.project.calls_of((module, name))
        found = [(path, f"{call.scope}.{LAMBDA}" if call.in_lambda else call.scope, call.line) for path, call in calls]
        # ``getattr(helpers, "report")(1)``, ``mod.report(1)`` through a module the file cannot name: by name
        found += [(path, mention.scope, mention.line) for path, mention in self.by_name.get(name, ())
                  if mention.how == CALL]
        found += self.project.looked_up_callers.get((module, name), [])  # ``getattr(module, step)(1)``
        arguments = {(path, mention.line): mention.scope for path, mention in self.by_name.get(name, ())
                     if mention.how == ARGUMENT}
        for path, line, _scope in self.values.get((module, name), ()):
            scope = arguments.get((path, line))
            if scope is None:
                return None  # kept, stored or returned: whoever holds it may run it
            found.append((path, scope, line))
        return found

    def _method_callers(self, cls: str, name: str) -> Optional[List[Caller]]:
        found = []
        for path, mention in self.by_name.get(name, ()):
            if mention.how not in (CALL, ARGUMENT):
                return None  # kept, stored or returned: whoever holds it may run it
            found.append((path, mention.scope, mention.line))
        # A method the project never calls still runs from somewhere: a framework calling it by a name it knows
        # (a plain class can be a resource another library calls), or a getattr with a computed name.
        return found or None

    def _instances_made(self, dotted: str) -> List[Caller]:
        """Where an instance of the class's hierarchy is made (``ProgressFile(dst)``): a library handed it there may
        call any of its methods by a name it knows (``shutil.copyfileobj`` calls ``write``)."""
        hierarchy = set(self.project.class_attributes.hierarchy(dotted) or [dotted])
        if self._class_calls is None:
            self._class_calls = {}
            for summary in self.project.summaries:
                for call in summary.calls:
                    kind, found, obj, tail = self.project.symbols.resolve(call.ref)
                    if kind is Symbol.CLASS and not tail:
                        self._class_calls.setdefault(f"{found.module}.{obj.qualname}", []).append((summary.path, call))
        made = [(path, f"{call.scope}.{LAMBDA}" if call.in_lambda else call.scope, call.line)
                for member in sorted(hierarchy) for path, call in self._class_calls.get(member, ())]
        names = {member.rpartition(".")[2] for member in hierarchy}  # ``models.Meter()`` through a module unseen
        return made + [(path, mention.scope, mention.line) for name in sorted(names)
                       for path, mention in self.by_name.get(name, ()) if mention.how == CALL]

    def _leaves_project(self, dotted: str) -> bool:
        """Does a class of the hierarchy, as far as it is read, have a base named outside the project's modules (the
        fast path may not have read a project base yet: it is named in a module of the project)?"""
        attributes = self.project.class_attributes
        for member in attributes.hierarchy(dotted) or ():
            for base in attributes.classes[member].bases:
                if base is None or not (base in ROOT_BASES or self._in_project(base)):
                    return True
        return False

    def _in_project(self, dotted: str) -> bool:
        parts = dotted.split(".")
        return any(".".join(parts[:i]) in self.project.modules for i in range(len(parts), 0, -1))

    def _closed_hierarchy(self, dotted: str) -> bool:
        """Are the class, its bases and its subclasses all the project's (or bases that call no method)?"""
        attributes = self.project.class_attributes
        hierarchy = attributes.hierarchy(dotted)
        if hierarchy is None:
            return False
        for member in hierarchy:
            for base in attributes.classes[member].bases:
                kind, _summary, _obj, tail = self.project.symbols.resolve(base)
                if not (base in ROOT_BASES or (kind is Symbol.CLASS and not tail)):
                    return False
        return True



def caller_names(project, bases: Optional[Set[str]] = None) -> Set[str]:
    """``Callers.names_on_the_way`` for every fact about whichever task runs the code outside any task (and the
    bases of the classes on the way in ``bases``)."""
    callers = Callers(project)
    helpers = running_helpers(project)
    if callers.reporting_any_tasks_progress(helpers):
        return set()  # ``link_running_tasks`` follows none: any task may report progress already
    names = set()
    for module, scope in sorted({(summary.module, fact.scope) for summary, fact in helpers}):
        names |= callers.names_on_the_way(module, scope, bases)
    # ``from .helpers import report as rep`` then ``rep(1)``: the slicer keeps calls by the name written
    return names | {local for summary in project.summaries for local, target in summary.imports.items()
                    if not local.startswith("*") and target.rpartition(".")[2] in names}


def running_helpers(project) -> List[Tuple[ModuleSummary, RunningTaskFact]]:
    """What code outside any task says about whichever task runs it: ``current_task.update_state()``, its id handed
    on, and a module-level function calling ``update_state`` on something it is given (``step(self, "store")``:
    the task its caller passes, which this analysis takes for the caller's)."""
    found = []
    for summary in project.summaries:
        reporting = set()
        for fact in summary.running:
            if fact.who == "current_task" and project.owner_of(summary.module, fact.scope) is None:
                found.append((summary, fact))
                reporting.add(fact.scope)
        for function in summary.functions:
            if function.updates_state and "." not in function.qualname and function.qualname not in reporting \
                    and project.owner_of(summary.module, function.qualname) is None:
                found.append((summary, RunningTaskFact(Running.PROGRESS, "helper", function.qualname,
                                                       "update_state()", function.line)))
    return found


def callers_in_file(summary: ModuleSummary) -> Set[str]:
    """Within one file (the worker's own names): the module-level functions holding a fact about whichever task runs
    them, and those calling them there, at any depth. Methods on the way are the project's to follow
    (``caller_names``): which of them matter depends on their class hierarchy."""
    names = {fact.scope for fact in summary.running if fact.who == "current_task" and fact.scope and "." not in fact.scope}
    names.update(function.name for function in summary.functions if function.updates_state and "." not in function.qualname)
    while True:
        grown = {call.scope for call in summary.calls if call.ref.rpartition(".")[2] in names}
        grown |= {mention.scope for mention in summary.mentions if mention.name in names}
        grown = {scope for scope in grown if scope and "." not in scope} - names
        if not grown:
            return names
        names |= grown
