"""The typed data every layer shares: the kinds the analysis speaks in, and what a run reports."""
from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

# A literal keyword value we could not evaluate statically (``ignore_result=settings.X``).
DYNAMIC = "<dynamic>"


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


class VerdictState(Kind):
    """What the project does with a task's results."""

    READ = "read"
    MAYBE = "maybe"  # the analysis cannot tell: silent
    UNREAD = "unread"
    UNUSED = "unused"  # never enqueued in this project
    IGNORED_AT_CALL = "ignored-at-call"  # every call site passes ignore_result=True


class FixAction(Kind):
    ADD = "add"
    SET = "set"
    REMOVE = "remove"


@dataclass(frozen=True)
class Fix:
    """Set, add or remove ``ignore_result`` on the decorator (or registration call) at ``line``:``col``."""

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


@dataclass(frozen=True)
class FileMessage:
    """An error or warning about one file (it does not parse, cannot be read, is not a regular file)."""

    path: str  # relative to the root
    message: str


@dataclass
class Report:
    """What one analysis of a project found."""

    root: Path
    findings: List[Finding] = field(default_factory=list)
    errors: List[FileMessage] = field(default_factory=list)  # files that do not parse or cannot be read
    warnings: List[FileMessage] = field(default_factory=list)  # .py paths that are not regular files
    verdicts: List[Tuple[object, Verdict]] = field(default_factory=list)  # (analysis.project.Task, its verdict)
    digests: Dict[str, str] = field(default_factory=dict)  # sha1 of each file's content as analysed
    cache_refused: Optional[Tuple[Path, str]] = None  # a cache directory not used, and why
    parsed: int = 0  # files summarised by LibCST in this run (not from the cache)
    moved: int = 0  # changed files whose last summary still held, lines moved (no LibCST)
    files: int = 0


# ----- loading typed data from JSON (the cache) -----

def load_dataclass(cls, data):
    """``cls`` (a dataclass) from its JSON form, every field checked against its annotation: cached data is
    trusted only if it has exactly the shape this code writes; anything else raises ValueError."""
    if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
        raise ValueError(f"not a {cls.__name__}")
    hints = _hints(cls)
    return cls(**{name: _checked(data[name], hints[name]) for name in data})


_HINTS: Dict[type, Dict[str, Any]] = {}


def _hints(cls) -> Dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _checked(value, hint):
    if hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:  # Optional[X]
        if value is None and type(None) in args:
            return None
        return _checked(value, next(a for a in args if a is not type(None)))
    if origin is list and isinstance(value, list):
        return [_checked(item, args[0]) for item in value]
    if origin is dict and isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {key: _checked(item, args[1]) for key, item in value.items()}
    if is_dataclass(hint):
        return load_dataclass(hint, value)
    if isinstance(hint, type) and issubclass(hint, Enum) and isinstance(value, str):
        return hint(value)
    if hint in (bool, int, str) and type(value) is hint:
        return value
    raise ValueError(f"expected {hint}, got {type(value).__name__}")
