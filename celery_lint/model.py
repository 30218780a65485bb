"""Plain data produced by the per-file pass and consumed by the project linker.

Nothing here imports libcst: a warm run rebuilds these objects from the cache without parsing anything.
Every class round-trips through ``to_json``/``from_json`` so summaries can be cached on disk.
"""
from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Dict, List, Optional, Union

# A literal keyword value we could not evaluate statically (``ignore_result=settings.X``).
DYNAMIC = "<dynamic>"

# How the result of one enqueue is used, weakest first. The strongest outcome of a task's uses decides.
DISCARDED = "discarded"  # nobody looks at the AsyncResult
ID_TAKEN = "id"  # only its id is taken (logged, stored): read only if the project reads results by id
ESCAPES = "escapes"  # the result object leaves what we can follow: returned, stored, passed on
READ = "read"  # something reads the backend: .get(), .state, a chord header, a read chain...
OUTCOME_RANK = {DISCARDED: 0, ID_TAKEN: 1, ESCAPES: 2, READ: 3}

# Class attributes read from a class-based task's body.
CLASS_ATTRS = {"ignore_result", "name", "abstract", "store_errors_even_if_ignored"}


@dataclass
class Outcome:
    kind: str
    detail: str
    line: int
    via: Optional[str] = None  # returned by this module-level function: its callers decide what happens

    def __post_init__(self) -> None:
        if self.kind not in OUTCOME_RANK:
            raise ValueError(f"unknown outcome {self.kind!r}")

    def stronger_than(self, other: Optional["Outcome"]) -> bool:
        return other is None or OUTCOME_RANK[self.kind] > OUTCOME_RANK[other.kind]


@dataclass
class Decorator:
    """A decorator (or ``app.task(...)`` registration call) that may make a task."""

    ref: Optional[str]  # dotted name of the callee as far as this module can resolve it
    called: bool  # ``@x(...)`` rather than ``@x``
    kwargs: Dict[str, Any]  # literal keyword values, DYNAMIC when not a literal
    star_kwargs: bool  # ``**options``: any keyword may be hiding in there
    line: int
    col: int


@dataclass
class FunctionInfo:
    name: str
    qualname: str  # dotted path inside the module: ``send`` or ``Outer.setup.send``
    line: int
    col: int
    decorators: List[Decorator]
    updates_state: bool  # calls ``update_state``: someone polls its progress
    noqa: List[str]  # codes suppressed on its decorator or def lines; ["*"] for a bare noqa
    # What a project decorator does with keyword arguments: the callees it hands its own ``**kwargs`` to, and
    # whether it can be called with keywords alone (every positional parameter has a default).
    forwards_kwargs: List[Optional[str]] = field(default_factory=list)
    keywords_only: bool = False


@dataclass
class ClassInfo:
    name: str
    qualname: str
    line: int
    col: int
    bases: List[Optional[str]]
    attrs: Dict[str, Any]  # literal class attributes we care about (ignore_result, name, ...)
    updates_state: bool
    noqa: List[str]


@dataclass
class Registration:
    """``app.task(name="x")(func)``: a task made without decorator syntax."""

    decorator: Decorator
    target: Optional[str]  # dotted name of the function being registered
    noqa: List[str]


@dataclass
class Alias:
    """A module-level ``name = <ref>`` or ``name = <ref>(kwargs)`` (decorator aliases, Celery apps)."""

    name: str
    ref: Optional[str]
    called: bool
    kwargs: Dict[str, Any]
    star_kwargs: bool
    line: int


@dataclass
class ViaParam:
    """A getattr dispatcher's name is this parameter of a module-level function: its callers may name the task."""

    function: str  # dotted name of the function
    param: str
    index: Optional[int]  # its position, None for a keyword-only parameter


@dataclass
class Call:
    """A call of a module-level function named in ``names_seen`` (a helper that returns a result, a getattr
    dispatcher): its literal arguments, and what happens to the value it returns."""

    ref: str
    args: List[Any]
    kwargs: Dict[str, Any]
    star: bool  # ``*args``/``**kwargs`` passed: the arguments are not all known
    outcome: Outcome
    line: int


USE_KINDS = ("enqueue", "signature", "beat", "eager", "value", "async_result")


@dataclass
class Use:
    """One place that touches a task: enqueues it, builds a signature of it, schedules it, or lets it escape."""

    kind: str  # enqueue | signature | beat | eager | value | async_result
    outcome: Outcome
    target: Optional[str] = None  # dotted reference to the task, when written as a name
    by_name: Optional[str] = None  # the task's registered name, when written as a string
    dynamic_module: Optional[str] = None  # getattr(<module>, <non-literal>): any task of that module
    via_param: Optional[ViaParam] = None  # ...unless the name is a parameter whose callers we can read
    ignore_result: Any = None  # call-site ignore_result (apply_async/.set/send_task), None if absent

    def __post_init__(self) -> None:
        if self.kind not in USE_KINDS:
            raise ValueError(f"unknown use {self.kind!r}")


@dataclass
class ConfigFact:
    """A setting relevant to result storage: global ignore, backend, annotations, dynamic config."""

    key: str  # task_ignore_result | result_backend | annotations | dynamic_config | app
    value: Any
    line: int


@dataclass
class ModuleSummary:
    path: str  # relative to the project root, with forward slashes
    module: str  # dotted module name
    is_package: bool
    imports: Dict[str, str] = field(default_factory=dict)
    aliases: List[Alias] = field(default_factory=list)
    functions: List[FunctionInfo] = field(default_factory=list)
    classes: List[ClassInfo] = field(default_factory=list)
    registrations: List[Registration] = field(default_factory=list)
    uses: List[Use] = field(default_factory=list)
    reads_by_id: List[int] = field(default_factory=list)  # lines of AsyncResult(x) & co
    config: List[ConfigFact] = field(default_factory=list)
    error: Optional[str] = None  # set when the file does not parse; everything else is empty
    dropped: List[List[int]] = field(default_factory=list)  # line ranges blanked before parsing
    calls: List[Call] = field(default_factory=list)  # calls of functions named in ``names_seen``
    names_seen: List[str] = field(default_factory=list)  # names of interest this file mentions
    # Of a sliced file: what its summary was made from (see ``reuse``), and the original lines kept, as runs.
    fingerprint: Optional[str] = None
    kept: List[List[int]] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ModuleSummary":
        return _build(cls, data)


def _build(cls, data):
    """``cls`` from its JSON form, checking every field against its annotation: a cached summary is trusted
    only if it has exactly the shape this code writes (anything else raises ValueError, and the file is parsed
    again)."""
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
        return _build(hint, value)
    if hint in (bool, int, str) and type(value) is hint:
        return value
    raise ValueError(f"expected {hint}, got {type(value).__name__}")
