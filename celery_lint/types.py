"""The typed data every layer shares: the kinds the analysis speaks in, and what a run reports."""
from __future__ import annotations

import copy
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

# A literal keyword value we could not evaluate statically (``ignore_result=settings.X``).
DYNAMIC = "<dynamic>"
IGNORE_AT_RUN_TIME = "<known at run time>"  # a call-site ``ignore_result=`` given by an expression


class Kind(str, Enum):
    """An enum whose members are also their plain string values (they are cached as JSON and printed)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class OutcomeKind(Kind):
    """How the result of one enqueue is used, weakest first. The strongest outcome of a task's uses decides."""

    DISCARDED = "discarded"  # nobody looks at the AsyncResult
    ID_TAKEN = "id"  # only its id is taken (logged, stored): read only if the project reads results by id
    ESCAPES = "escapes"  # the result object leaves what we can follow: returned, stored, passed on
    READ = "read"  # something reads the backend: .get(), .state, a chord header, a read chain...

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {kind: rank for rank, kind in enumerate(OutcomeKind)}


class UseKind(Kind):
    """What one place does with a task."""

    ENQUEUE = "enqueue"  # .delay(), .apply_async(), send_task()
    SIGNATURE = "signature"  # .s(), .si(), signature(): followed into the canvas that holds it
    BEAT = "beat"  # a beat schedule entry
    EAGER = "eager"  # .apply(), .map(), .chunks(): run in-process or inside a built-in task
    VALUE = "value"  # the task handed on as a value: it may be enqueued anywhere
    ASYNC_RESULT = "async_result"  # t.AsyncResult(id): a read by id of this task's results
    ERRBACK = "errback"  # an old-style errback gets this task's id when it fails, and may read its result


class VerdictState(Kind):
    """What the project does with a task's results."""

    READ = "read"
    MAYBE = "maybe"  # the analysis cannot tell: silent
    UNREAD = "unread"
    UNUSED = "unused"  # never enqueued in this project
    IGNORED_AT_CALL = "ignored-at-call"  # every call site passes ignore_result=True


class Backend(Kind):
    """Where the project's results go."""

    CONFIGURED = "configured"
    ABSENT = "absent"  # the project makes its app and gives it no backend: nothing is stored
    UNKNOWN = "unknown"  # a library: the application that uses it configures the backend


class FixAction(Kind):
    ADD = "add"
    SET = "set"
    REMOVE = "remove"
    CALL = "call"  # the enqueue call at line:col passes ignore_result=True (``.delay()`` becomes ``.apply_async()``)


@dataclass(frozen=True)
class Fix:
    """Set, add or remove ``ignore_result`` on the decorator (or registration call) at ``line``:``col``; or
    (``CALL``) pass ``ignore_result=True`` to the enqueue call there."""

    action: FixAction
    value: Optional[bool]
    line: int
    col: int


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int  # 1-based, like flake8 and ruff
    code: str
    message: str
    fix: Optional[Fix] = None

    def sort_key(self):
        return (self.path, self.line, self.col, self.code)

    def format(self, shown_path: Optional[str] = None) -> str:
        return f"{shown_path or self.path}:{self.line}:{self.col}: {self.code} {self.message}"


@dataclass
class Verdict:
    state: VerdictState
    reason: str
    first_read: Optional[str] = None  # ``path:line (detail)``
    places: int = 0
    # the uses (path, analysis.facts.Use) that decided it, each with the way its result went (``Outcome.steps``):
    # the read; the escape; the value handed on and the unknown that may hold it; for ``unread``, every storing use
    decided_by: List[Tuple[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class FileMessage:
    """An error or warning about one file (it does not parse, cannot be read, is not a regular file)."""

    path: str  # relative to the root
    message: str


@dataclass
class Report:
    """What one analysis of a project found."""

    root: Path
    marked: bool = True  # the root was found by a marker (pyproject.toml, .git, manage.py...), not assumed
    findings: List[Finding] = field(default_factory=list)
    errors: List[FileMessage] = field(default_factory=list)  # files that do not parse or cannot be read
    warnings: List[FileMessage] = field(default_factory=list)  # .py paths that are not regular files
    verdicts: List[Tuple[object, Verdict]] = field(default_factory=list)  # (analysis.project.Task, its verdict)
    settings: Optional[object] = None  # analysis.settings.Settings: what the project's configuration says
    digests: Dict[str, str] = field(default_factory=dict)  # sha1 of each file's content as analysed
    cache_refused: Optional[Tuple[Path, str]] = None  # a cache directory not used, and why
    parsed: int = 0  # files summarised by LibCST in this run (not from the cache)
    moved: int = 0  # changed files whose last summary still held, lines moved (no LibCST)
    files: int = 0
    stored: bool = False  # the answer of an earlier run: nothing it looked at has changed since (speed.answers)
    # no result backend is configured, so CEL001 is silent: how many findings that hides (``assume-backend``)
    hidden_without_backend: int = 0
    names: Optional[List[str]] = None  # the names of interest the fast path ended with (speed.rounds)


# ----- typed data to JSON and back (the cache, and summaries sent back by worker processes) -----

def dump_dataclass(value) -> dict:
    """``dataclasses.asdict(value)``, the same dicts and lists, made faster: each class's field names are looked
    up once, and the values JSON holds as they are (str, int, bool, None, a ``Kind``) are not deep-copied. A
    worker sends every summary it makes this way; ``asdict`` was 3% of a cold run."""
    return _plain(value)


_ATOMS = frozenset({str, int, bool, float, type(None)})
_FIELD_NAMES: Dict[type, Optional[Tuple[str, ...]]] = {}  # a dataclass's field names; None: not a dataclass


def _plain(value):
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return [_plain(item) for item in value]
    if kind is dict:
        return {_plain(key): _plain(item) for key, item in value.items()}
    if kind is tuple:
        return tuple(_plain(item) for item in value)
    if kind not in _FIELD_NAMES:
        _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None
    names = _FIELD_NAMES[kind]
    if names is None:
        return value if isinstance(value, Enum) else copy.deepcopy(value)  # as ``asdict`` does
    return {name: _plain(getattr(value, name)) for name in names}


def load_dataclass(cls, data):
    """``cls`` (a dataclass) from its JSON form, every field checked against its annotation: cached data is
    trusted only if it has exactly the shape this code writes; anything else raises ValueError."""
    return _checker(cls)(data)


_CHECKERS: Dict[Any, Callable[[Any], Any]] = {}  # one checker per type, built once (warm runs load thousands)


def _checker(hint) -> Callable[[Any], Any]:
    checker = _CHECKERS.get(hint)
    if checker is None:
        checker = _CHECKERS[hint] = _build_checker(hint)
    return checker


def _build_checker(hint) -> Callable[[Any], Any]:
    if hint is Any:
        return lambda value: value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:  # Optional[X]
        inner = _checker(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    if origin is list:
        item = _checker(args[0])
        return lambda value: [item(v) for v in value] if type(value) is list else _wrong(hint, value)
    if origin is dict:
        item = _checker(args[1])
        return lambda value: ({k: item(v) for k, v in value.items() if type(k) is str or _wrong(hint, k)}
                              if type(value) is dict else _wrong(hint, value))
    if is_dataclass(hint):
        return _dataclass_checker(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda value: hint(value) if isinstance(value, str) else _wrong(hint, value)
    if hint in (bool, int, str):
        return lambda value: value if type(value) is hint else _wrong(hint, value)
    if hint is float:  # JSON writes a whole float as one (``45.0``); an int is a number too
        return lambda value: float(value) if type(value) in (int, float) else _wrong(hint, value)
    raise TypeError(f"no checker for {hint}")


def _dataclass_checker(cls) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(cls)
    checks = {f.name: _checker(hints[f.name]) for f in fields(cls)}  # the types here are never recursive
    names = frozenset(checks)

    def check(data):
        if type(data) is not dict or data.keys() != names:
            _wrong(cls, data)
        return cls(**{name: checks[name](value) for name, value in data.items()})

    return check


def _wrong(hint, value):
    raise ValueError(f"expected {hint}, got {type(value).__name__}")
