"""Links the per-file summaries: which names are tasks, who enqueues them, and what happens to the results."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .model import (
    DYNAMIC,
    ESCAPES,
    OUTCOME_RANK,
    Call,
    ClassInfo,
    Decorator,
    FunctionInfo,
    ModuleSummary,
    Outcome,
    Use,
    ViaParam,
)

CELERY_DECORATORS = {
    "celery.shared_task", "celery.task", "celery.app.shared_task", "celery.decorators.task",
    "celery.task.task", "celery.current_app.task", "celery.app.task",
}
CELERY_APP_CLASSES = {"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"}
CELERY_TASK_CLASSES = {"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.app.Task"}
IMPORT_CALLS = {"import_module", "import_string", "__import__", "symbol_by_name"}
# Names real projects give their Celery app when it is imported from a package we cannot see.
APP_NAMES = {"app", "celery", "celery_app", "capp", "celeryapp", "current_app"}


@dataclass
class Task:
    qualname: str  # python path: ``shop.emails.send_welcome``
    name: Optional[str]  # registered name; None when computed at run time
    path: str
    line: int
    col: int
    kind: str  # function | class | registration
    decorator: Optional[Decorator]  # where the fix goes
    fixable: bool  # a keyword can be added to the decorator
    manual_fix: Optional[str]  # when not fixable for a reason worth saying: why, and what to do by hand
    own_ignore: object  # ignore_result from the decorator (or alias), None when unset, DYNAMIC if unknown
    base_ignore: object  # from ``base=`` / the class hierarchy
    updates_state: bool
    noqa: List[str]
    uses: List[Tuple[str, Use]] = field(default_factory=list)  # (path, use)
    value_escapes: List[Tuple[str, Use]] = field(default_factory=list)
    # ``self.request.id`` handed on, ``current_task.update_state()`` inside it: (path:line, fact value)
    running: List[Tuple[str, dict]] = field(default_factory=list)


@dataclass
class Settings:
    global_ignore: object  # True / False / DYNAMIC
    global_ignore_at: Optional[str]
    backend: str  # configured | absent | unknown
    annotations_at: Optional[str]  # task_annotations that may set ignore_result
    reads_by_id_at: Optional[str]  # first ``AsyncResult(x)``-style read by id
    custom_backend_at: Optional[str] = None  # ``result_backend = "<a class of this project>"``: path:line (value)
    # outside any task: a helper reporting progress of (or publishing the id of) whichever task runs it
    running_anywhere: List[Tuple[str, dict]] = field(default_factory=list)


class Project:
    def __init__(self, summaries: Sequence[ModuleSummary], task_decorators: Iterable[str] = ()):
        self.summaries = [s for s in summaries if s.error is None]
        self._resolved: Dict[str, tuple] = {}  # resolve() results: the summaries never change
        self.modules: Dict[str, ModuleSummary] = {}
        for summary in sorted(self.summaries, key=lambda s: s.path):
            self.modules.setdefault(summary.module, summary)
        self.extra_decorators = set(task_decorators)
        self._defs = {m: _definitions(s) for m, s in self.modules.items()}
        self.tasks: List[Task] = []
        self._task_by_symbol: Dict[Tuple[str, str], Task] = {}
        self._find_tasks()
        self.tasks_by_name = {t.name: t for t in self.tasks if t.name}
        self.unknown_uses: List[Tuple[str, Use]] = []  # enqueues whose receiver we cannot name
        self.dynamic_name_uses: List[Tuple[str, Use]] = []  # enqueues by a task name computed at run time
        self._calls, self._function_values = self._index_calls()
        self._link_uses()
        self.settings = self._settings()
        self._link_running_tasks()

    # ----- name resolution across modules -----
    def resolve(self, dotted: Optional[str], depth: int = 0):
        """(kind, module summary, object, remaining attribute names) for a dotted name."""
        if not dotted:
            return ("unknown", None, None, [])
        if depth == 0:
            if dotted not in self._resolved:
                self._resolved[dotted] = self._resolve(dotted, 0, set())
            return self._resolved[dotted]
        return self._resolve(dotted, depth, set())

    def _resolve(self, dotted: str, depth: int, stars_seen: set):
        if not dotted:
            return ("unknown", None, None, [])
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            if module in self.modules:
                break
        else:
            return ("external", None, dotted, [])
        summary, rest = self.modules[module], parts[i:]
        if not rest:
            return ("module", summary, summary, [])
        if depth > 12:
            return ("unknown", summary, None, rest)
        head, tail = rest[0], rest[1:]
        kind_obj = self._defs[module].get(head)
        if kind_obj is not None:
            kind, obj = kind_obj
            if kind == "alias" and not obj.called:
                return self._resolve(".".join([obj.ref, *tail]), depth + 1, stars_seen)
            return (kind, summary, obj, tail)
        if head in summary.imports and summary.imports[head] != dotted:
            return self._resolve(".".join([summary.imports[head], *tail]), depth + 1, stars_seen)
        stars = [target for key, target in summary.imports.items() if key.startswith("*")]
        for star in stars:  # ``from .a import *`` then ``from .b import *``: the first that knows the name
            if (star, head) in stars_seen:  # star imports going round in a circle, or already tried
                continue
            stars_seen.add((star, head))
            found = self._resolve(".".join([star, head, *tail]), depth + 1, stars_seen)
            if found[0] not in ("unknown", "external") or len(stars) == 1:
                return found
        return ("unknown", summary, None, rest)

    def is_app(self, dotted: Optional[str], depth: int = 0) -> bool:
        """Does ``dotted`` name a Celery application object?"""
        kind, _summary, obj, tail = self.resolve(dotted)
        if tail or depth > 8:
            return False
        if kind == "external":
            return obj in ("celery.current_app",) or obj.rpartition(".")[2] in APP_NAMES
        if kind == "alias":  # ``app = Celery(...)`` or ``celery = make_celery(flask_app)``
            target = self.resolve(obj.ref)
            if target[0] == "external" and target[2] in CELERY_APP_CLASSES:
                return True
            if target[0] == "class" and self.is_subclass(target[2], CELERY_APP_CLASSES):
                return True
            return "celery" in obj.ref.rpartition(".")[2].lower()
        return False

    def is_subclass(self, cls: ClassInfo, roots, depth: int = 0) -> bool:
        """Does the class derive from one of ``roots`` (or from ``app.Task`` when roots are task classes)?"""
        for base in cls.bases:
            if base is None:
                continue
            kind, _summary, obj, tail = self.resolve(base)
            if kind == "external" and obj in roots:
                return True
            if roots is CELERY_TASK_CLASSES and base.endswith(".Task") and self.is_app(base[: -len(".Task")]):
                return True
            if kind == "class" and not tail and depth < 8 and self.is_subclass(obj, roots, depth + 1):
                return True
        return False

    def task_decorator(self, decorator: Decorator, depth: int = 0):
        """None, or (default kwargs from an alias, star kwargs, fixable, why not fixable) when the decorator
        makes a task."""
        ref = decorator.ref
        if ref is None or depth > 8:
            return None
        if ref in self.extra_decorators or ref.rpartition(".")[2] in self.extra_decorators:
            manual = self._why_keywords_fail(decorator, depth)
            return ({}, False, manual is None, manual)
        kind, _summary, obj, tail = self.resolve(ref)
        if kind == "external" and obj in CELERY_DECORATORS:
            return ({}, False, True, None)
        if kind == "external" and obj.endswith(".task") and self.is_app(obj[: -len(".task")]):
            return ({}, False, True, None)
        if kind == "alias" and tail == ["task"] and self.is_app(ref[: -len(".task")]):
            return ({}, False, True, None)
        if kind == "alias" and not tail and obj.called:  # ``retry_task = shared_task(bind=True)``
            inner = self.task_decorator(Decorator(obj.ref, False, {}, False, 0, 0), depth + 1)
            if inner is not None and not decorator.called:
                return (dict(obj.kwargs), obj.star_kwargs, False, None)
        return None

    def _why_keywords_fail(self, decorator: Decorator, depth: int) -> Optional[str]:
        """Why ``ignore_result=...`` may not be added to a project decorator, or None when it visibly hands
        its keyword arguments on to a Celery decorator (and can take them in the form the task uses)."""
        name = decorator.ref.rpartition(".")[2]
        where = "so add ignore_result=True where it creates the task"
        kind, _summary, function, tail = self.resolve(decorator.ref)
        if kind != "function" or tail:
            return f"celery-lint cannot see whether {name} passes keyword arguments on to Celery, {where}"
        if not any(ref and self.task_decorator(Decorator(ref, True, {}, False, 0, 0), depth + 1) is not None
                   for ref in function.forwards_kwargs):
            return f"{name} does not pass keyword arguments on to Celery, {where}"
        if not decorator.called and not function.keywords_only:
            return f"{name} cannot be called with keyword arguments alone, {where}"
        return None

    # ----- tasks -----
    def _find_tasks(self) -> None:
        for summary in self.summaries:
            for function in summary.functions:
                self._function_task(summary, function)
            for registration in summary.registrations:
                self._registered_task(summary, registration)
            for cls in summary.classes:
                if self.is_subclass(cls, CELERY_TASK_CLASSES):
                    self._class_task(summary, cls)

    def _function_task(self, summary: ModuleSummary, function: FunctionInfo) -> None:
        for decorator in function.decorators:
            found = self.task_decorator(decorator)
            if found is None:
                continue
            defaults, star, fixable, manual = found
            kwargs = {**defaults, **decorator.kwargs}
            self._add(Task(
                qualname=f"{summary.module}.{function.qualname}",
                name=_registered_name(kwargs, summary.module, function.name),
                path=summary.path, line=decorator.line, col=decorator.col, kind="function",
                decorator=decorator, fixable=fixable and "ignore_result" not in defaults, manual_fix=manual,
                own_ignore=_own_ignore(kwargs, star or decorator.star_kwargs),
                base_ignore=self._base_ignore(kwargs.get("base")),
                updates_state=function.updates_state, noqa=function.noqa,
            ), summary.module, function.qualname)
            return

    def _registered_task(self, summary: ModuleSummary, registration) -> None:
        found = self.task_decorator(registration.decorator)
        kind, target_summary, function, tail = self.resolve(registration.target)
        if found is None or kind != "function" or tail:
            return
        kwargs = registration.decorator.kwargs
        self._add(Task(
            qualname=f"{target_summary.module}.{function.qualname}",
            name=_registered_name(kwargs, target_summary.module, function.name),
            path=summary.path, line=registration.decorator.line, col=registration.decorator.col,
            kind="registration", decorator=registration.decorator, fixable=found[2], manual_fix=found[3],
            own_ignore=_own_ignore(kwargs, registration.decorator.star_kwargs),
            base_ignore=self._base_ignore(kwargs.get("base")),
            updates_state=function.updates_state, noqa=registration.noqa,
        ), target_summary.module, function.qualname)

    def _class_task(self, summary: ModuleSummary, cls: ClassInfo) -> None:
        name = cls.attrs.get("name")
        self._add(Task(
            qualname=f"{summary.module}.{cls.qualname}",
            name=name if isinstance(name, str) and name != DYNAMIC else f"{summary.module}.{cls.name}",
            path=summary.path, line=cls.line, col=cls.col, kind="class", decorator=None, fixable=False, manual_fix=None,
            own_ignore=cls.attrs.get("ignore_result"),
            base_ignore=self._class_ignore(summary, cls, own=False),
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
        kind, summary, obj, tail = self.resolve(base["ref"])
        if kind == "external" and obj in CELERY_TASK_CLASSES or obj and str(obj).startswith("celery."):
            return None
        if kind == "class" and not tail:
            return self._class_ignore(summary, obj, own=True)
        return DYNAMIC  # a base class we cannot read may set ignore_result

    def _class_ignore(self, summary, cls: ClassInfo, own: bool, depth: int = 0) -> object:
        if own and "ignore_result" in cls.attrs:
            return cls.attrs["ignore_result"]
        for base in cls.bases:
            kind, base_summary, obj, tail = self.resolve(base)
            if kind == "class" and not tail and depth < 8:
                value = self._class_ignore(base_summary, obj, True, depth + 1)
                if value is not None:
                    return value
            elif kind != "external" and not (base or "").endswith(".Task"):
                return DYNAMIC
        return None

    # ----- uses -----
    def task_for(self, dotted: Optional[str]) -> Optional[Task]:
        kind, summary, obj, tail = self.resolve(dotted)
        if kind in ("function", "class") and not tail:
            return self._task_by_symbol.get((summary.module, obj.qualname))
        return None

    def tasks_in_module(self, dotted: Optional[str], depth: int = 0) -> Optional[List[Task]]:
        """Every task an attribute of the module ``dotted`` may be: its own and the ones it imports.

        None when ``dotted`` is not a module of the project (an object, an external module): such an
        object holds a task only if the project put one there, and that task is then handed on as a value
        somewhere (``Registry(task=t)``, ``class C: t = my_task``), which that task's own value escapes record.
        """
        kind, summary, obj, tail = self.resolve(dotted)
        if kind == "alias" and not tail and obj.called and (obj.ref or "").rpartition(".")[2] in IMPORT_CALLS:
            return list(self.tasks)  # ``mod = import_module(path)``: a module known only at run time
        if kind != "module" or tail:
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

    def _imported_at_run_time(self, dotted: str) -> bool:
        kind, _summary, obj, tail = self.resolve(dotted)
        return kind == "alias" and not tail and obj.called and (obj.ref or "").rpartition(".")[2] in IMPORT_CALLS

    def _through_unseen_package(self, dotted: str) -> List[Task]:
        """``from pkg.tasks import send`` where ``pkg/tasks/__init__.py`` was never summarised (it only does
        ``from .emails import *``, naming no task): the tasks called ``send`` in the modules under ``pkg.tasks``."""
        package, _, name = dotted.rpartition(".")
        if not package or package in self.modules:
            return []
        prefix = package + "."
        if not any(module.startswith(prefix) for module in self.modules):
            return []  # not a package of this project
        return [t for t in self.tasks if t.qualname.startswith(prefix) and t.qualname.rpartition(".")[2] == name]

    # ----- calls of project functions (results returned by helpers, getattr dispatchers) -----
    def _function_key(self, ref: Optional[str]):
        kind, summary, obj, tail = self.resolve(ref)
        return (summary.module, obj.qualname) if kind == "function" and not tail else None

    def _index_calls(self):
        """Every recorded call of a project function, and the functions handed on as values (whose callers
        we therefore cannot all see)."""
        calls: Dict[tuple, List[Tuple[str, Call]]] = {}
        values = set()
        for summary in self.summaries:
            for call in summary.calls:
                key = self._function_key(call.ref)
                if key is not None:
                    calls.setdefault(key, []).append((summary.path, call))
            for use in summary.uses:
                if use.kind == "value" and use.target is not None:
                    key = self._function_key(use.target)
                    if key is not None:
                        values.add(key)
        return calls, values

    def _callers(self, function: Optional[str]) -> Optional[List[Tuple[str, Call]]]:
        """All calls of a module-level function, or None when we cannot know them all."""
        key = self._function_key(function)
        if key is None or key in self._function_values or not self._calls.get(key):
            return None  # not ours, handed on as a value, or called from elsewhere (a library's users)
        return self._calls[key]

    def _followed(self, use: Use) -> Use:
        """A result returned by a helper function takes the outcome of the helper's calls."""
        outcome = use.outcome
        for _depth in range(3):
            if outcome.kind != ESCAPES or not outcome.via:
                break
            callers = self._callers(outcome.via)
            if callers is None:
                break
            path, call = max(callers, key=lambda pc: OUTCOME_RANK[pc[1].outcome.kind])
            best = call.outcome
            detail = f"returned by {outcome.via.rpartition('.')[2]}(), whose value at {path}:{best.line}: {best.detail}"
            outcome = Outcome(best.kind, detail, use.outcome.line, best.via)
        return use if outcome is use.outcome else replace(use, outcome=outcome)

    def _literal_arguments(self, via: ViaParam) -> Optional[List[str]]:
        """The names a getattr dispatcher receives, when every call passes a string literal."""
        callers = self._callers(via.function)
        if callers is None:
            return None
        names = []
        for _path, call in callers:
            if call.star:
                return None
            if via.param in call.kwargs:
                value = call.kwargs[via.param]
            elif via.index is not None and via.index < len(call.args):
                value = call.args[via.index]
            else:
                return None  # the default value, or passed some other way
            if not isinstance(value, str) or value == DYNAMIC:
                return None
            names.append(value)
        return names

    def _link_uses(self) -> None:
        for summary in self.summaries:
            for use in summary.uses:
                self._link(summary.path, use)

    def _link(self, path: str, use: Use) -> None:
        use = self._followed(use)
        names = self._literal_arguments(use.via_param) if use.via_param else None
        if use.dynamic_module is not None and names is not None:  # every caller names the task: no guess left
            targets = [t for t in (self.task_for(f"{use.dynamic_module}.{n}") for n in names) if t is not None]
            use = replace(use, dynamic_module=None)
        elif use.dynamic_module is not None:
            targets = self.tasks_in_module(use.dynamic_module)
            if targets is None:  # getattr(obj, name): as good as a receiver we cannot name
                targets = []
        elif use.by_name == DYNAMIC:  # ``send_task(name)`` / ``app.tasks[name]``: a name known at run time
            if use.kind == "value":
                targets = list(self.tasks)
            else:
                if use.kind in ("enqueue", "signature"):
                    self.dynamic_name_uses.append((path, use))
                return
        elif use.by_name is not None:
            task = self.tasks_by_name.get(use.by_name)
            targets = [task] if task else []
        elif use.target is not None:
            task = self.task_for(use.target)
            targets = [task] if task else []
            if task is None and use.kind == "value":  # a module handed on: any of its tasks may be looked up
                targets = self.tasks_in_module(use.target) or []
            if not targets:
                targets = self._through_unseen_package(use.target)
                if len(targets) > 1:  # two submodules define that name: either may be meant
                    use = replace(use, dynamic_module=use.target.rpartition(".")[0])
        else:
            targets = []
        if use.kind == "value":
            for task in targets:
                task.value_escapes.append((path, use))
            return
        if not targets and use.target is not None and use.kind in ("enqueue", "signature") \
                and self._imported_at_run_time(use.target):
            self.dynamic_name_uses.append((path, use))  # ``send = import_string(setting)`` at module level
            return
        if not targets and use.by_name is None and use.kind in ("enqueue", "signature"):
            self.unknown_uses.append((path, use))
        for task in targets:
            task.uses.append((path, use))

    # ----- global settings -----
    def _settings(self) -> Settings:
        ignores, backend_facts, apps, dynamic, annotations, custom = [], [], [], [], [], []
        for summary in self.summaries:
            for fact in summary.config:
                where = f"{summary.path}:{fact.line}"
                if fact.key == "task_ignore_result":
                    ignores.append((fact.value, where))
                elif fact.key == "result_backend":
                    backend_facts.append(where)
                    if self._is_project_backend(fact.value):
                        custom.append(f"{where} ({fact.value})")
                elif fact.key == "app":
                    if is_test_path(summary.path):
                        continue  # a test app (eager, in-memory) says nothing about production's backend
                    apps.append(fact.value)
                    if fact.value:
                        backend_facts.append(where)
                elif fact.key == "dynamic_config":
                    dynamic.append(where)
                elif fact.key == "annotations" and fact.value:
                    annotations.append(where)
        values = {value for value, _ in ignores}
        global_ignore = False if not values else values.pop() if len(values) == 1 and values <= {True, False} else DYNAMIC
        if backend_facts or dynamic:
            backend = "configured"
        elif apps:
            backend = "absent"
        else:
            backend = "unknown"  # a library: the application that uses it configures the backend
        reads = [f"{s.path}:{line}" for s in self.summaries for line in s.reads_by_id]
        return Settings(
            global_ignore=global_ignore,
            global_ignore_at=ignores[0][1] if ignores else None,
            backend=backend,
            annotations_at=annotations[0] if annotations else None,
            reads_by_id_at=min(reads) if reads else None,
            custom_backend_at=custom[0] if custom else None,
        )

    def _is_project_backend(self, value) -> bool:
        """``result_backend = "proj.celery.backends.JobResultBackend"``: results land where the project's own code
        (its models, its views) reads them, which we cannot follow."""
        if isinstance(value, dict):
            value = value.get("ref")
        if not isinstance(value, str) or value == DYNAMIC or "://" in value or "." not in value:
            return False
        kind = self.resolve(value.replace(":", "."))[0]
        return kind not in ("external", "unknown")

    def _link_running_tasks(self) -> None:
        """Attribute each ``running_task`` fact to the task whose body holds it, or to no task in particular."""
        for summary in self.summaries:
            for fact in summary.config:
                if fact.key != "running_task" or not isinstance(fact.value, dict):
                    continue
                where = f"{summary.path}:{fact.line}"
                scope = fact.value.get("scope") or ""
                parts = scope.split(".") if scope else []
                owner = None
                for i in range(len(parts), 0, -1):
                    owner = self._task_by_symbol.get((summary.module, ".".join(parts[:i])))
                    if owner is not None:
                        break
                if owner is not None:
                    owner.running.append((where, fact.value))
                elif fact.value.get("who") == "current_task":
                    self.settings.running_anywhere.append((where, fact.value))
                # ``self.request.id`` outside any task: ``self`` is something else (a view's request...)


def is_test_path(path: str) -> bool:
    """Test modules and test settings: ``tests/...``, ``test_x.py``, ``x_test.py``, ``settings/test.py``."""
    parts = path.split("/")
    stem = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
    if any(part in ("tests", "test", "testing") for part in parts[:-1]):
        return True
    return stem in ("test", "tests", "testing", "conftest") or stem.startswith("test_") or stem.endswith(("_test", "_tests"))


def _definitions(summary: ModuleSummary) -> Dict[str, tuple]:
    defs: Dict[str, tuple] = {}
    for alias in summary.aliases:
        defs[alias.name] = ("alias", alias)
    for cls in summary.classes:
        if "." not in cls.qualname:
            defs[cls.name] = ("class", cls)
    for function in summary.functions:
        if "." not in function.qualname:
            defs[function.name] = ("function", function)
    return defs


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
