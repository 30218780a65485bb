"""The project's tasks: which definitions Celery registers as tasks, and what each says of storing its result."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .. import celery_api
from ..types import DYNAMIC, Kind, OutcomeKind, UseKind
from .facts import ClassInfo, Decorator, FunctionInfo, ModuleSummary, Outcome, Registration, RunningTaskFact, Use
from .symbols import Symbol, Symbols


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
    base: object = None  # the ``base=`` option (``{"ref": ...}``, DYNAMIC), or the class of a class-based task
    tracks_started: bool = False  # ``track_started=True``: its STARTED state is stored, for someone polling it

    @property
    def short_name(self) -> str:
        return self.qualname.rpartition(".")[2]


class TaskFinder:
    """Every task the project defines (a decorated function, a registration, a Task subclass), and the
    (module, qualname) each is bound to."""

    def __init__(self, summaries: Sequence[ModuleSummary], symbols: Symbols):
        self.symbols = symbols
        self.tasks: List[Task] = []
        self.by_symbol: Dict[Tuple[str, str], Task] = {}
        for summary in summaries:
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
                base_ignore=self._base_attr(kwargs.get("base")),
                updates_state=function.updates_state or self._wrapped_by_a_reporter(function.decorators, index),
                noqa=function.noqa, old_style_errback=_old_style_errback(kwargs, function),
                reads_by_id=function.reads_by_id, base=kwargs.get("base"),
                tracks_started=kwargs.get("track_started") is True or self._base_attr(kwargs.get("base"),
                                                                                         "track_started") is True,
            ), summary.module, function.qualname)
            if index:  # ``@register`` above ``@app.task``: it is handed the task object, and may keep it in a table
                outer = function.decorators[0]
                self.by_symbol[(summary.module, function.qualname)].value_escapes.append((summary.path, Use(
                    UseKind.VALUE, Outcome(OutcomeKind.ESCAPES, f"handed to its decorator @{outer.ref or '...'}",
                                           outer.line))))
            if _made_by_a_function(summary, function):  # ``def make(name): @app.task(name=name) def t(x)...``
                self.by_symbol[(summary.module, function.qualname)].value_escapes.append((summary.path, Use(
                    UseKind.VALUE, Outcome(OutcomeKind.ESCAPES, "made by a function (a task factory): each call "
                                           "makes one, which goes wherever the call's value goes", decorator.line))))
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
            base_ignore=self._base_attr(kwargs.get("base")), base=kwargs.get("base"),
            updates_state=function.updates_state, noqa=registration.noqa,
            old_style_errback=_old_style_errback(kwargs, function), reads_by_id=function.reads_by_id,
        ), target_summary.module, function.qualname)
        if registration.bound_to:  # ``send = app.task(...)(_send)``: the task is also known as ``send``
            self.by_symbol.setdefault((summary.module, registration.bound_to),
                                            self.by_symbol[(target_summary.module, function.qualname)])

    def _class_task(self, summary: ModuleSummary, cls: ClassInfo) -> None:
        name = cls.attrs.get("name")
        self._add(Task(
            qualname=f"{summary.module}.{cls.qualname}",
            name=name if isinstance(name, str) and name != DYNAMIC else f"{summary.module}.{cls.name}",
            path=summary.path, line=cls.line, col=cls.col, kind=TaskKind.CLASS, decorator=None, fixable=False,
            manual_fix=None, own_ignore=cls.attrs.get("ignore_result"),
            base_ignore=self._class_attr(cls, own=False),
            updates_state=self._class_updates_state(cls), noqa=cls.noqa,
            tracks_started=self._class_attr(cls, own=True, attr="track_started") is True,
            base={"ref": f"{summary.module}.{cls.qualname}"},
        ), summary.module, cls.qualname)

    def _wrapped_by_a_reporter(self, decorators: List[Decorator], index: int) -> bool:
        """``@app.task(bind=True) @tracked def render(self, ...)``: a decorator of the project whose wrapper calls
        ``self.update_state()`` runs inside the task, and reports its progress."""
        for decorator in decorators[:index] + decorators[index + 1:]:
            kind, _summary, obj, tail = self.symbols.resolve(decorator.ref) if decorator.ref else (None,) * 4
            if kind is Symbol.FUNCTION and not tail and obj.updates_state:
                return True
        return False

    def _class_updates_state(self, cls: ClassInfo, depth: int = 0) -> bool:
        """``self.update_state(...)`` in the class or in a base the project defines (a mixin is no Task class, yet
        its ``before_start`` runs for every task built on the class)."""
        if cls.updates_state:
            return True
        for base in cls.bases if depth < 8 else ():
            kind, _summary, obj, tail = self.symbols.resolve(base)
            if kind is Symbol.CLASS and not tail and self._class_updates_state(obj, depth + 1):
                return True
        return False

    def _add(self, task: Task, module: str, qualname: str) -> None:
        if (module, qualname) not in self.by_symbol:
            self.by_symbol[(module, qualname)] = task
            self.tasks.append(task)

    def _base_attr(self, base, attr: str = "ignore_result") -> object:
        if base is None:
            return None
        if not isinstance(base, dict):
            return DYNAMIC
        kind, _summary, obj, tail = self.symbols.resolve(base["ref"])
        if kind is Symbol.EXTERNAL and obj in celery_api.TASK_CLASSES or obj and str(obj).startswith("celery."):
            return None
        if kind is Symbol.CLASS and not tail:
            return self._class_attr(obj, own=True, attr=attr)
        return DYNAMIC  # a base class we cannot read may set ignore_result

    def _class_attr(self, cls: ClassInfo, own: bool, depth: int = 0, attr: str = "ignore_result") -> object:
        """``attr`` (``ignore_result``, ``track_started``) as the class body or a base of it the project defines sets it."""
        if own and attr in cls.attrs:
            return cls.attrs[attr]
        for base in cls.bases:
            kind, _summary, obj, tail = self.symbols.resolve(base)
            if kind is Symbol.CLASS and not tail and depth < 8:
                value = self._class_attr(obj, True, depth + 1, attr)
                if value is not None:
                    return value
            elif kind is not Symbol.EXTERNAL and not (base or "").endswith(".Task"):
                return DYNAMIC
        return None


def _made_by_a_function(summary: ModuleSummary, function: FunctionInfo) -> bool:
    """Is the task defined in a function's body (not a module's or a class's)?"""
    outer = function.qualname.rpartition(".")[0]
    return bool(outer) and any(other.qualname == outer for other in summary.functions)


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
