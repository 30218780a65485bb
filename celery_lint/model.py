"""Plain data produced by the per-file pass and consumed by the project linker.

Nothing here imports libcst: a warm run rebuilds these objects from the cache without parsing anything.
Every class round-trips through ``to_json``/``from_json`` so summaries can be cached on disk.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional

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
class Use:
    """One place that touches a task: enqueues it, builds a signature of it, schedules it, or lets it escape."""

    kind: str  # enqueue | signature | beat | eager | value | async_result
    outcome: Outcome
    target: Optional[str] = None  # dotted reference to the task, when written as a name
    by_name: Optional[str] = None  # the task's registered name, when written as a string
    dynamic_module: Optional[str] = None  # getattr(<module>, <non-literal>): any task of that module
    via_param: Optional[Dict[str, Any]] = None  # ...unless the name is a parameter whose callers we can read
    ignore_result: Any = None  # call-site ignore_result (apply_async/.set/send_task), None if absent


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
    calls: List[Dict[str, Any]] = field(default_factory=list)  # calls of functions named in ``names_seen``
    names_seen: List[str] = field(default_factory=list)  # names of interest this file mentions
    # Of a sliced file: what its summary was made from (see ``reuse``), and the original lines kept, as runs.
    fingerprint: Optional[str] = None
    kept: List[List[int]] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ModuleSummary":
        return _build(cls, data)


_NESTED = {
    ("FunctionInfo", "decorators"): Decorator,
    ("Registration", "decorator"): Decorator,
    ("Use", "outcome"): Outcome,
    ("Call", "outcome"): Outcome,
    ("ModuleSummary", "aliases"): Alias,
    ("ModuleSummary", "functions"): FunctionInfo,
    ("ModuleSummary", "classes"): ClassInfo,
    ("ModuleSummary", "registrations"): Registration,
    ("ModuleSummary", "uses"): Use,
    ("ModuleSummary", "config"): ConfigFact,
}


def _build(cls, data):
    kwargs = {}
    for f in fields(cls):
        value = data[f.name]
        nested = _NESTED.get((cls.__name__, f.name))
        if nested is not None and value is not None:
            value = [_build(nested, v) for v in value] if isinstance(value, list) else _build(nested, value)
        kwargs[f.name] = value
    return cls(**kwargs)
