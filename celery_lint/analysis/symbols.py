"""How the project links: what a dotted name means once every module's imports and definitions are known."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Sequence

from .. import celery_api
from ..types import Kind
from .facts import Alias, ClassInfo, Decorator, FunctionInfo, ModuleSummary


class Symbol(Kind):
    UNKNOWN = "unknown"  # in a module of the project, but we cannot tell what
    EXTERNAL = "external"  # outside the project (obj: the dotted name)
    MODULE = "module"  # a module of the project (obj: its summary)
    ALIAS = "alias"  # ``name = something(...)`` at module level (obj: the Alias)
    FUNCTION = "function"  # a module-level function (obj: its FunctionInfo)
    CLASS = "class"  # a module-level class (obj: its ClassInfo)


class Resolved(NamedTuple):
    kind: Symbol
    summary: Optional[ModuleSummary]  # the module where resolution stopped
    obj: object  # see Symbol
    rest: List[str]  # attribute names left over (``func.delay`` -> ["delay"])


_UNKNOWN = Resolved(Symbol.UNKNOWN, None, None, [])
LIBRARIES = celery_api.names(celery_api.Role.PACKAGE)
APP_EXTENSIONS = celery_api.names(celery_api.Role.APP_EXTENSION)  # top-level names a loose project file must not take


@dataclass(frozen=True)
class TaskDecorator:
    """A decorator that makes a task, and what it means for a fix."""

    defaults: dict  # keyword arguments an alias gives every task (``retry_task = shared_task(bind=True)``)
    star_kwargs: bool  # the alias passes ``**options``: any keyword may hide there
    fixable: bool  # ``ignore_result=...`` can be added to it
    manual_fix: Optional[str] = None  # when not fixable for a reason worth saying: why, and what to do


class HandFix(str):
    """A task's ``manual_fix`` when its decorator cannot take ``ignore_result=...``: as text, the advice for
    CEL001 (ignore_result=True); ``keep_storing`` says it for a task that must keep storing (the global
    strategy's refusal). ``forwards``: whether the decorator hands keyword arguments on to Celery (None: unseen)."""

    reason: str
    forwards: Optional[bool]

    def __new__(cls, reason: str, forwards: Optional[bool]) -> "HandFix":
        made = super().__new__(cls, f"{reason}, so add ignore_result=True where it creates the task")
        made.reason, made.forwards = reason, forwards
        return made

    def __getnewargs__(self):  # a copy (or pickle) is made again from its parts
        return self.reason, self.forwards

    def keep_storing(self, function: str) -> str:
        """The advice for ignore_result=False on the task bound to ``function``. A decorator that drops keyword
        arguments would break on one (a TypeError, or Celery never sees it): the task's attribute, set after it
        is made, is what works."""
        if self.forwards is False:
            return f"{self.reason}: write `{function}.ignore_result = False` after the task's definition"
        return f"{self.reason}, so add ignore_result=False where it creates the task"


class Symbols:
    """Name resolution across the project's modules (one module per dotted name: the first path wins)."""

    def __init__(self, summaries: Sequence[ModuleSummary], task_decorators: FrozenSet[str] = frozenset(),
                 import_roots: FrozenSet[str] = frozenset()):
        """``import_roots``: packages whose directory is on ``sys.path`` too (see ``import_roots``)."""
        self.modules: Dict[str, ModuleSummary] = {}
        for summary in sorted(summaries, key=lambda s: s.path):
            self.modules.setdefault(_import_name(summary), summary)
        self._defs = {module: _definitions(summary) for module, summary in self.modules.items()}
        self.other_names = _namespace_names(self.modules)
        for name, module in _names_from_roots(self.modules, import_roots).items():
            self.other_names.setdefault(name, module)
        self._resolved: Dict[str, Resolved] = {}  # the summaries never change
        self.extra_decorators = task_decorators

    def resolve(self, dotted: Optional[str]) -> Resolved:
        """What ``dotted`` names: followed through imports, aliases of names and star imports."""
        if not dotted:
            return _UNKNOWN
        if dotted not in self._resolved:
            self._resolved[dotted] = self._resolve(dotted, 0, set())
        return self._resolved[dotted]

    def _resolve(self, dotted: str, depth: int, stars_seen: set) -> Resolved:
        if not dotted:
            return _UNKNOWN
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            module = self.other_names.get(module, module)
            if module in self.modules:
                break
        else:
            return Resolved(Symbol.EXTERNAL, None, dotted, [])
        summary, rest = self.modules[module], parts[i:]
        if not rest:
            return Resolved(Symbol.MODULE, summary, summary, [])
        if depth > 12:
            return Resolved(Symbol.UNKNOWN, summary, None, rest)
        head, tail = rest[0], rest[1:]
        definition = self._defs[module].get(head)
        if definition is not None:
            kind, obj = definition
            if kind is Symbol.ALIAS and not obj.called:
                return self._resolve(".".join([obj.ref, *tail]), depth + 1, stars_seen)
            return Resolved(kind, summary, obj, tail)
        if head in summary.imports and summary.imports[head] != dotted:
            return self._resolve(".".join([summary.imports[head], *tail]), depth + 1, stars_seen)
        stars = [target for key, target in summary.imports.items() if key.startswith("*")]
        for star in stars:  # ``from .a import *`` then ``from .b import *``: the first that knows the name
            if (star, head) in stars_seen:  # star imports going round in a circle, or already tried
                continue
            stars_seen.add((star, head))
            found = self._resolve(".".join([star, head, *tail]), depth + 1, stars_seen)
            if found.kind not in (Symbol.UNKNOWN, Symbol.EXTERNAL) or len(stars) == 1:
                return found
        return Resolved(Symbol.UNKNOWN, summary, None, rest)

    def bound_several(self, dotted: Optional[str]) -> Optional[List[Optional[str]]]:
        """What a module-level name bound more than one way may be (``try: from .x import send`` ``except
        ImportError: send = fallback``: ``ModuleSummary.bound_several``), also where another module imports
        it, and an attribute of one (``if v2: from proj import tasks_v2 as tasks`` ``else: from proj import
        tasks``, then ``tasks.render``: each module's ``render``); None for any other name."""
        parts = (dotted or "").split(".")
        for cut in range(len(parts), 1, -1):  # the name itself first, then the names it is an attribute of
            found = self._bound_several(".".join(parts[:cut]))
            if found is not None:
                tail = ".".join(parts[cut:])
                return [f"{each}.{tail}" if each and tail else each for each in found]
        return None

    def _bound_several(self, dotted: str) -> Optional[List[Optional[str]]]:
        for _depth in range(8):
            module, _, name = (dotted or "").rpartition(".")
            summary = self.modules.get(self.other_names.get(module, module))
            if summary is None:
                return None
            if name in summary.bound_several:
                return summary.bound_several[name]
            if name in self._defs[summary.module] or name not in summary.imports:
                return None
            dotted = summary.imports[name]
        return None

    def is_app(self, dotted: Optional[str]) -> bool:
        """Does ``dotted`` name a Celery application object?"""
        kind, _summary, obj, tail = self.resolve(dotted)
        if tail:
            return False
        if kind is Symbol.EXTERNAL:
            return obj in ("celery.current_app",) or obj.rpartition(".")[2] in celery_api.APP_NAMES
        if kind is Symbol.ALIAS:  # ``app = Celery(...)`` or ``celery = make_celery(flask_app)``
            target = self.resolve(obj.ref)
            if target.kind is Symbol.EXTERNAL and target.obj in celery_api.APP_CLASSES:
                return True
            if target.kind is Symbol.CLASS and self.is_subclass(target.obj, celery_api.APP_CLASSES):
                return True
            if target.kind is Symbol.FUNCTION and not target.rest:  # ``app = create_app()``: a factory returning one
                return any(self.makes_app(ref) for ref in target.obj.returns)
            return "celery" in obj.ref.rpartition(".")[2].lower()
        return False

    def makes_app(self, ref: str) -> bool:
        """Does calling ``ref`` make a Celery app (the class, or a subclass of the project's)?"""
        target = self.resolve(ref)
        if target.kind is Symbol.EXTERNAL:
            return target.obj in celery_api.APP_CLASSES or target.obj in APP_EXTENSIONS
        return target.kind is Symbol.CLASS and not target.rest and self.is_subclass(target.obj, celery_api.APP_CLASSES)

    def is_task_class(self, cls: ClassInfo) -> bool:
        return self.is_subclass(cls, celery_api.TASK_CLASSES, app_task=True)

    def is_subclass(self, cls: ClassInfo, roots, app_task: bool = False, depth: int = 0) -> bool:
        """Does the class derive from one of ``roots`` (or, with ``app_task``, from an app's ``app.Task``)?"""
        for base in cls.bases:
            if base is None:
                continue
            kind, _summary, obj, tail = self.resolve(base)
            if kind is Symbol.EXTERNAL and obj in roots:
                return True
            if app_task and base.endswith(".Task") and self.is_app(base[: -len(".Task")]):
                return True
            if kind is Symbol.CLASS and not tail and depth < 8 and self.is_subclass(obj, roots, app_task, depth + 1):
                return True
        return False

    def task_decorator(self, decorator: Decorator, depth: int = 0) -> Optional[TaskDecorator]:
        """What a decorator means when it makes a task; None when it does not."""
        ref = decorator.ref
        if ref is None or depth > 8:
            return None
        if ref in self.extra_decorators or ref.rpartition(".")[2] in self.extra_decorators:
            manual = self._why_keywords_fail(decorator, depth)
            return TaskDecorator({}, False, manual is None, manual)
        kind, _summary, obj, tail = self.resolve(ref)
        if kind is Symbol.EXTERNAL and obj in celery_api.TASK_DECORATORS:
            return TaskDecorator({}, False, True)
        if kind is Symbol.EXTERNAL and obj.endswith(".task") and self.is_app(obj[: -len(".task")]):
            return TaskDecorator({}, False, True)
        if kind is Symbol.ALIAS and tail == ["task"] and self.is_app(f"{_summary.module}.{obj.name}"):
            return TaskDecorator({}, False, True)  # ``@app.task``, also through ``task = app.task``
        if kind is Symbol.ALIAS and not tail and obj.called:  # ``retry_task = shared_task(bind=True)``
            inner = self.task_decorator(Decorator(obj.ref, False, {}, False, 0, 0), depth + 1)
            if inner is not None and not decorator.called:
                return TaskDecorator(dict(obj.kwargs), obj.star_kwargs, False)
        return self._task_decorator_factory(decorator, (kind, _summary, obj, tail), depth)

    def _task_decorator_factory(self, decorator: Decorator, resolved: Resolved, depth: int) -> Optional[TaskDecorator]:
        """A project's own way of making tasks: a function handing its keyword arguments on to a task decorator
        (``def locked_task(**options): ... shared_task(**options)(wrapper)``), a class whose instances decorate
        (``class retryable_task: def __call__(self, f): return shared_task(**self.kwargs)(f)``), or a decorator
        method of a Celery subclass wrapping ``self.task`` (``@celery.periodic_task(...)``)."""
        kind, _summary, obj, tail = resolved
        if kind is Symbol.FUNCTION and not tail and self._makes_tasks(obj.forwards_kwargs, None, depth):
            manual = self._why_keywords_fail(decorator, depth)
            return TaskDecorator({}, False, manual is None, manual)
        if kind is Symbol.CLASS and not tail and decorator.called \
                and self._method_makes_tasks(obj, "__call__", depth):
            return TaskDecorator({}, False, False, HandFix(f"{obj.name} is a class", None))
        if kind is Symbol.ALIAS and len(tail) == 1 and self.is_app(f"{_summary.module}.{obj.name}"):
            app_class = self.resolve(obj.ref)
            if app_class.kind is Symbol.CLASS and not app_class.rest \
                    and self._method_makes_tasks(app_class.obj, tail[0], depth):
                return TaskDecorator({}, False, False, HandFix(f"{tail[0]} is the app's own decorator", None))
        return None

    def _method_makes_tasks(self, cls: ClassInfo, method: str, depth: int) -> bool:
        for found in self._class_and_bases(cls):
            callees = found.task_methods.get(method)
            if callees is not None:
                return self._makes_tasks(callees, found, depth)
        return False

    def _makes_tasks(self, callees, cls: Optional[ClassInfo], depth: int) -> bool:
        """Is one of ``callees`` a task decorator (``self.task`` of a Celery subclass counts)?"""
        for ref in callees:
            if ref == "self.task":
                if cls is not None and self.is_subclass(cls, celery_api.APP_CLASSES):
                    return True
            elif ref and self.task_decorator(Decorator(ref, True, {}, False, 0, 0), depth + 1) is not None:
                return True
        return False

    def _class_and_bases(self, cls: ClassInfo, depth: int = 0):
        yield cls
        for base in cls.bases if depth < 8 else ():
            found = self.resolve(base)
            if found.kind is Symbol.CLASS and not found.rest:
                yield from self._class_and_bases(found.obj, depth + 1)

    def _why_keywords_fail(self, decorator: Decorator, depth: int) -> Optional["HandFix"]:
        """Why ``ignore_result=...`` may not be added to a project decorator, or None when it visibly hands
        its keyword arguments on to a Celery decorator (and can take them in the form the task uses)."""
        name = decorator.ref.rpartition(".")[2]
        kind, _summary, function, tail = self.resolve(decorator.ref)
        if kind is not Symbol.FUNCTION or tail:
            return HandFix(f"celery-lint cannot see whether {name} passes keyword arguments on to Celery", None)
        if not any(ref and self.task_decorator(Decorator(ref, True, {}, False, 0, 0), depth + 1) is not None
                   for ref in function.forwards_kwargs):
            return HandFix(f"{name} does not pass keyword arguments on to Celery", False)
        if not decorator.called and not function.keywords_only:
            return HandFix(f"{name} cannot be called with keyword arguments alone", True)
        return None

    def function_key(self, ref: Optional[str]):
        """(module, qualname) of the project's module-level function ``ref`` names, or None."""
        kind, summary, obj, tail = self.resolve(ref)
        return (summary.module, obj.qualname) if kind is Symbol.FUNCTION and not tail else None

    def callable_key(self, ref: Optional[str]):
        """(module, qualname) of the project's module-level function or class ``ref`` names (a class's calls make
        its instances), or None."""
        kind, summary, obj, tail = self.resolve(ref)
        return (summary.module, obj.qualname) if kind in (Symbol.FUNCTION, Symbol.CLASS) and not tail else None

    def imported_at_run_time(self, dotted: str) -> bool:
        """``mod = import_module(path)`` at module level: a module (or object) known only at run time."""
        kind, _summary, obj, tail = self.resolve(dotted)
        return (kind is Symbol.ALIAS and not tail and obj.called and obj.imports_name is None
                and obj.module_named is None and (obj.ref or "").rpartition(".")[2] in celery_api.RUN_TIME_IMPORTS)

    def module_named(self, dotted: str) -> Optional[str]:
        """``mod = import_module(app + ".urls")`` at module level: the last name of the module it is, or None."""
        kind, _summary, obj, tail = self.resolve(dotted)
        return obj.module_named if kind is Symbol.ALIAS and not tail and obj.called else None


def _import_name(summary: ModuleSummary) -> str:
    """The name the project imports a module by. A loose ``dockerfiles/settings/celery.py`` (no ``__init__.py``
    above it) is named ``celery`` from its folder, but only a process started in that folder imports it so:
    from the project root, ``from celery import Celery`` is the installed library, which it must not shadow."""
    if summary.module in LIBRARIES and "/" in summary.path and not summary.is_package:
        return summary.path[:-3].replace("/", ".") if summary.path.endswith(".py") else summary.path.replace("/", ".")
    return summary.module


def _namespace_names(modules: Dict[str, ModuleSummary]) -> Dict[str, str]:
    """Other names a module may be imported by: a package inside folders without ``__init__.py`` (PEP 420
    namespace packages, ``src/``, one folder per distribution) is named from its topmost package, but a project
    whose path starts higher imports it with those folders in front (``proj/server/tasks/`` imported as
    ``proj.server.tasks``). Each such longer name maps to the module, unless a module has that name itself."""
    others: Dict[str, str] = {}
    for module, summary in modules.items():
        folders = summary.path.split("/")[:-1]
        parts = module.split(".")
        inside = len(parts) if summary.is_package else len(parts) - 1  # folders the module name covers
        above = folders[: len(folders) - inside] if inside <= len(folders) else []
        for i in range(len(above)):
            if all(folder.isidentifier() for folder in above[i:]):
                name = ".".join([*above[i:], *parts])
                if name not in modules:
                    others.setdefault(name, module)
    return others


def import_roots(modules: Iterable[str]) -> FrozenSet[str]:
    """Packages whose directory holds ``manage.py``: Django runs from there, with that directory first on
    ``sys.path``, so ``backend/orders/tasks.py`` is ``orders.tasks`` at run time even where a stray
    ``backend/__init__.py`` makes it ``backend.orders.tasks`` here."""
    return frozenset(module[:-len(".manage")] for module in modules if module.endswith(".manage"))


_NEVER_SHORTENED = frozenset({"celery", "django", "kombu"})  # a module so named beside manage.py: not those


def _names_from_roots(modules: Dict[str, ModuleSummary], roots: FrozenSet[str]) -> Dict[str, str]:
    """The shorter name of each module under an import root (``import_roots``), unless a module has it itself."""
    others: Dict[str, str] = {}
    for root in sorted(roots):
        for module in modules:
            name = module[len(root) + 1:] if module.startswith(root + ".") else ""
            if name and name not in modules and name.partition(".")[0] not in _NEVER_SHORTENED:
                others.setdefault(name, module)
    return others


def _definitions(summary: ModuleSummary) -> Dict[str, tuple]:
    defs: Dict[str, tuple] = {}
    alias: Alias
    for alias in summary.aliases:
        earlier = defs.get(alias.name)
        if earlier is not None and (earlier[0] is Symbol.UNKNOWN or not (alias.called or earlier[1].called)
                                    and earlier[1].ref != alias.ref):
            defs[alias.name] = (Symbol.UNKNOWN, None)  # ``if x: send = a`` ``else: send = b``: either one
            continue
        defs[alias.name] = (Symbol.ALIAS, alias)
    cls: ClassInfo
    for cls in summary.classes:
        if "." not in cls.qualname:
            defs[cls.name] = (Symbol.CLASS, cls)
    function: FunctionInfo
    for function in summary.functions:
        if "." not in function.qualname:
            defs[function.name] = (Symbol.FUNCTION, function)
    return defs
