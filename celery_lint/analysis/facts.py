"""What one file says: the plain data the per-file pass produces and the project linker reads.

Nothing here imports libcst: a warm run rebuilds these objects from the cache without parsing anything.
Every class round-trips through ``to_json``/``from_json``; loading checks every field against its type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..types import Kind, OutcomeKind, UseKind, dump_dataclass, load_dataclass


@dataclass
class Step:
    """One place a result (or the task value that makes it) passes on its way to what decides its outcome: a
    carrier (a local variable, a bound ``.delay`` called, a canvas holding it) or the deciding site itself (the
    read). Recorded by the flow where it follows the value; ``--explain`` prints them."""

    line: int
    col: int  # 0-based, in characters; -1: placed by its line alone (the way of a call's value)
    code: str  # the source from there, one line, shortened
    why: str
    path: Optional[str] = None  # a file other than the use's own (a helper's caller); None: the use's


@dataclass
class Outcome:
    kind: OutcomeKind
    detail: str
    line: int
    via: Optional[str] = None  # returned by this module-level function: its callers decide what happens
    # the way to what decided it, in order (empty for a discarded result: nothing to show)
    steps: List["Step"] = field(default_factory=list)
    # handed to a function that may give it back (``ident(t.delay(1)).get()``): what happens then, one entry per
    # function in turn (``a(b(x))``: b, then a); the project links it (``analysis.returned.passed_on``)
    passed: List["Passed"] = field(default_factory=list)

    def stronger_than(self, other: Optional["Outcome"]) -> bool:
        return other is None or self.kind.rank > other.kind.rank


@dataclass
class Passed:
    """``ident(t.delay(1)).get()``: a result (signature, bound ``.delay``) handed to a function; when the function
    only gives that argument back (``FunctionInfo.gives_back``), its outcome is where the call's value goes (the
    fields below, as an Outcome's), followed as the argument's kind."""

    function: str  # dotted name of the function called
    index: Optional[int]  # the argument's position, None when passed by keyword
    keyword: Optional[str]
    kind: OutcomeKind
    detail: str
    line: int
    via: Optional[str] = None
    steps: List[Step] = field(default_factory=list)
    # a callable handed on (``later(lambda: t.delay())``), its return value the result: dropped when the function
    # only hands that parameter to on_commit (``FunctionInfo.drops_returns``), not given back
    callback: bool = False


@dataclass
class Decorator:
    """A decorator (or ``app.task(...)`` registration call) that may make a task."""

    ref: Optional[str]  # dotted name of the callee as far as this module can resolve it
    called: bool  # ``@x(...)`` rather than ``@x``
    kwargs: Dict[str, Any]  # literal keyword values, DYNAMIC when not a literal
    star_kwargs: bool  # ``**options``: any keyword may be hiding in there
    line: int
    col: int
    spread: List[Optional[str]] = field(default_factory=list)  # dotted names of the ``**options`` (None: not a name)


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
    # How Celery calls it as an errback (``_call_task_errbacks``): with more than one positional parameter (or
    # ``*args``) and no ``bind=True`` it gets ``(request, exc, traceback)``; otherwise the failed task's id.
    positional: int = 0
    varargs: bool = False
    reads_by_id: bool = False  # its body builds a result from an id (``AsyncResult(task_id)``)
    returns: List[str] = field(default_factory=list)  # what it returns, as dotted names: ``Celery`` for a factory
    # A plain module-level function (``def ident(x): return x``): the dotted names its returns may hold, and the
    # parameters whose argument they may hold (name -> position, -1 keyword-only); None: anything else may come
    # back. Made for every such function on the plain path, for those kept whole (``name()``) on the fast one.
    gives: Optional[List[str]] = None
    gives_params: Dict[str, int] = field(default_factory=dict)
    gives_back: List[str] = field(default_factory=list)  # parameters whose value only goes back to the caller
    # parameters only handed to on_commit (``def later(func): transaction.on_commit(func)``): a callable given
    # there runs later, its return value dropped
    drops_returns: Dict[str, int] = field(default_factory=dict)  # name -> position (-1: keyword-only)


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
    # ``task = render_invoice`` in the class body: what ``self.task`` may be (None: not a name this module resolves)
    held: Dict[str, List[Optional[str]]] = field(default_factory=dict)
    instance_attrs: List[str] = field(default_factory=list)  # ``self.x = ...`` in its methods: x is not only held
    # ``cls.x = app.task(...)(local_function)`` in its methods: a task made at run time, none of the project's
    made_attrs: List[str] = field(default_factory=list)
    # methods that make a task of what they are given: method -> the decorators they call (dotted names, or
    # ``self.task`` for the app's own); ``__call__`` makes the class a decorator factory
    task_methods: Dict[str, List[str]] = field(default_factory=dict)
    # ``def __init__(self, task): self._task = task``, and ``self._task`` a carrier in its methods: attribute ->
    # [parameter, its position after ``self`` (None: keyword-only)]; its callers' arguments are what it holds
    kept_params: Dict[str, List[Any]] = field(default_factory=dict)
    # ``self._job = deliver_hook`` in its methods: the dotted names each attribute may be (as ``held`` for its body)
    instance_held: Dict[str, List[str]] = field(default_factory=dict)
    # methods of its file making an instance from inside (``cls(...)``, ``type(self)(...)``): called anywhere, they
    # hand it what they were given ("?": one the text does not name)
    builders: List[str] = field(default_factory=list)


@dataclass
class Registration:
    """``app.task(name="x")(func)``: a task made without decorator syntax."""

    decorator: Decorator
    target: Optional[str]  # dotted name of the function being registered
    noqa: List[str]
    bound_to: Optional[str] = None  # ``send = app.task(...)(_send)`` at module level: the name given to the task


@dataclass
class Alias:
    """A module-level ``name = <ref>`` or ``name = <ref>(kwargs)`` (decorator aliases, Celery apps)."""

    name: str
    ref: Optional[str]
    called: bool
    kwargs: Dict[str, Any]
    star_kwargs: bool
    line: int
    first_arg: Optional[str] = None  # ``f = app.register_task(FTask())``: the dotted name of what is registered
    imports_name: Optional[str] = None  # ``x = import_string(f"{p}.urls.urlpatterns")``: the object's name
    module_named: Optional[str] = None  # ``m = import_module(app + ".urls")``: the last name of the module it is


@dataclass
class OptionDict:
    """``_LIMITS = {"soft_time_limit": 60, "ignore_result": True}`` at module level: options tasks spread in."""

    keys: Dict[str, Any]  # literal values, DYNAMIC when not a literal
    line: int


@dataclass
class Errback:
    """``sig.on_error(e)``, ``t.apply_async(link_error=e)``: Celery runs ``e`` when a task of ``parents`` fails."""

    parents: List[str]  # dotted names of what the errback is attached to; empty when this module cannot tell
    parent_names: List[str]  # registered names (``signature("proj.finish", link_error=e)``)
    errbacks: List[str]  # dotted names of the errback tasks; empty when this module cannot tell
    errback_names: List[str]
    line: int


@dataclass
class ViaParam:
    """A getattr dispatcher's name is this parameter of a module-level function: its callers may name the task."""

    function: str  # dotted name of the function
    param: str
    index: Optional[int]  # its position, None for a keyword-only parameter


@dataclass
class ReturnOf:
    """``ident(t)`` where ``ident`` is a function of another module: what the call gives back, which the project
    links (the function's ``gives``, its parameters standing for this call's arguments)."""

    function: str  # dotted name of the function called
    refs: List[Optional[List[str]]]  # per positional argument, the dotted names it may be (None: not names)
    kwrefs: Dict[str, Optional[List[str]]]


@dataclass
class Call:
    """A call of a module-level function (a helper that may return a result, a getattr dispatcher): its literal
    arguments, and what happens to the value it returns."""

    ref: str
    args: List[Any]
    kwargs: Dict[str, Any]
    star: bool  # ``*args``/``**kwargs`` passed: the arguments are not all known
    outcome: Outcome
    line: int
    # beside ``args``: the dotted names each one may be (``a if x else b``, a local holding one), None: not names
    refs: List[Optional[List[str]]] = field(default_factory=list)
    kwrefs: Dict[str, Optional[List[str]]] = field(default_factory=dict)
    scope: str = ""  # qualname of the function (or class) the call sits in: who calls it
    in_lambda: bool = False  # in a lambda that may be kept and run later: whoever runs it calls it
    value_outcome: Optional[Outcome] = None  # where its value goes, were it a task object (``ResultFlow.task_object``)


CALL, ARGUMENT, OTHER = "call", "argument", "other"  # how a ``Mention`` names a method
LAMBDA = "<lambda>"  # the last part of a scope in a lambda that may be kept and run later


@dataclass
class Mention:
    """``x.name(...)``, or ``x.name`` / ``name`` handed to a call or kept, in ``scope``: who may run a method (or a
    function handed on) found by its name alone, where ``x`` is not a module. ``how``: ``call``, ``argument`` (handed
    to a call that runs it there and then: ``map``, ``sorted``, ``on_commit``), ``other`` (handed to any other call,
    kept, returned, stored: whoever holds it may call it later). The project's callers index reads them
    (``analysis.callers``)."""

    name: str
    scope: str  # qualname of the function (or class) it sits in, "" at module level
    line: int
    how: str


@dataclass
class Site:
    """Where an enqueue call (``t.delay()``/``t.apply_async()``) stands: what a rule that reports at the call
    (CEL003) and a fix that edits it need."""

    col: int  # 0-based column of the call's first character
    fixable: bool  # ``ignore_result=True`` can be passed by rewriting it (no ``*``/``**``, no comment inside)
    noqa: List[str]  # codes suppressed on its first line; ["*"] for a bare noqa
    # ``r = t.delay(...)`` then, in the same block and nowhere else, ``r.get(timeout=N)``: N (the expiry advice)
    waited: Optional[float] = None
    method: str = ""  # ``delay`` or ``apply_async``


@dataclass
class Use:
    """One place that touches a task: enqueues it, builds a signature of it, schedules it, or lets it escape."""

    kind: UseKind
    outcome: Outcome
    target: Optional[str] = None  # dotted reference to the task, when written as a name
    by_name: Optional[str] = None  # the task's registered name, when written as a string
    dynamic_module: Optional[str] = None  # getattr(<module>, <non-literal>): any task of that module
    # ...unless the name is a parameter whose callers we can read; without dynamic_module: the receiver is that
    # parameter (``def fire(task): task.delay()``), the tasks its callers pass
    via_param: Optional[ViaParam] = None
    bound_as: Optional[str] = None  # getattr(<a module known at run time>, "name"): the task a module binds so
    ignore_result: Any = None  # call-site ignore_result (apply_async/.set/send_task), None if absent
    class_attr: Optional[str] = None  # ``self.task`` in a method: ``<module>.<class qualname>:task``
    scope: str = ""  # qualname of the enclosing function or class ("" at module level)
    site: Optional[Site] = None  # a ``t.delay()``/``t.apply_async()`` written on a name: the call itself
    returned: Optional[ReturnOf] = None  # ``ident(t).delay()``: the receiver is what that call returns
    # ``getattr(holder, name)(...)``, ``name`` known at run time (``Reference.run_time_attr``)
    run_time_attr: Optional[bool] = None
    built_on: Optional[str] = None  # ``self.delay()`` in a method of this class (dotted): each task built on it


@dataclass
class Wait:
    """A blocking read (``.get()``, ``.wait()``, ``.join()``) of a result built from an id (``AsyncResult(x).get()``):
    it waits for whatever task has that id. (A wait on an enqueue's own result is a ``Use`` with a READ outcome.)"""

    detail: str  # how it is written, in short: ``AsyncResult(...).get``
    line: int
    scope: str = ""  # qualname of the enclosing function or class ("" at module level)


class Setting(Kind):
    GLOBAL_IGNORE = "task_ignore_result"  # value: True / False / DYNAMIC
    BACKEND = "result_backend"  # value: a literal, {"ref": dotted name}, or DYNAMIC
    ANNOTATIONS = "annotations"  # value: whether they mention ignore_result
    DYNAMIC_CONFIG = "dynamic_config"  # config_from_envvar(): anything may be set
    # config_from_object(x), Celery(config_source=x), conf.update(x): value {"module": name} / {"ref": dotted
    # name}, resolved by the project, or {"code": source text} for an expression nobody can read
    LOADED_CONFIG = "loaded_config"
    APP = "app"  # a Celery app is made here; value: whether it is given a backend
    EXPIRES = "result_expires"  # value: seconds (a literal), or DYNAMIC (a timedelta, a name...)
    EXTENDED = "result_extended"  # value: True / False / DYNAMIC


@dataclass
class ConfigFact:
    """A setting relevant to result storage."""

    key: Setting
    value: Any
    line: int
    # ``KEY = value`` in a module or class body: that module's or class's dotted name, which counts only where an
    # app loads it (``settings.loaded_sources``); None: the app's own configuration (a call's keywords,
    # ``app.conf.KEY = ...``, a mapping)
    held_by: Optional[str] = None


class Running(Kind):
    PROGRESS = "progress"  # reports the progress of the task running it: someone polls it
    ID = "id"  # hands on the id of the task running it: read by id, maybe


@dataclass
class RunningTaskFact:
    """``self.update_state()`` / ``current_task.update_state()`` / ``self.request.id`` handed on: something
    about whichever task runs this code (the project decides which, from ``scope``)."""

    kind: Running
    who: str  # self | current_task
    scope: str  # qualname of the enclosing function or class ("" at module level)
    detail: str
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
    waits_by_id: List[Wait] = field(default_factory=list)  # ``AsyncResult(x).get()`` & co: blocking reads by id
    config: List[ConfigFact] = field(default_factory=list)
    running: List[RunningTaskFact] = field(default_factory=list)
    calls: List[Call] = field(default_factory=list)  # calls of functions the summary was asked to record
    mentions: List[Mention] = field(default_factory=list)  # methods called or handed on by name (those asked for)
    errbacks: List[Errback] = field(default_factory=list)
    option_dicts: Dict[str, OptionDict] = field(default_factory=dict)  # module-level dicts of literal keys
    # names called whose returns were asked which tasks they hold (``ident(t).delay()``; builtins too): the fast
    # path keeps whole those this file defines at module level (speed.reuse.followed)
    returns_followed: List[str] = field(default_factory=list)
    # attribute names this file sets on objects other than ``self`` (``View.task = t``, ``setattr(v, "task", t)``):
    # a class attribute of that name may hold more than its class body says
    attributes_set: List[str] = field(default_factory=list)
    # ``f = fire`` then ``f(x)``, a local only called: dotted names whose calls through it are not recorded as theirs
    aliased: List[str] = field(default_factory=list)
    # module-level names bound more than one way (``try: from .x import send`` ``except ImportError: send = f``):
    # the dotted name each binding gives, None where one cannot be named (``bound_names.bound_several``)
    bound_several: Dict[str, List[Optional[str]]] = field(default_factory=dict)
    error: Optional[str] = None  # set when the file does not parse; everything else is empty

    def to_json(self) -> Dict[str, Any]:
        return dump_dataclass(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ModuleSummary":
        """Checked field by field: a cached summary of any other shape raises ValueError (and is made anew)."""
        return load_dataclass(cls, data)


def is_test_path(path: str) -> bool:
    """Test modules and test settings: ``tests/...``, ``test_x.py``, ``x_test.py``, ``settings/test.py``."""
    parts = path.split("/")
    stem = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
    if any(part in ("tests", "test", "testing") for part in parts[:-1]):
        return True
    return stem in ("test", "tests", "testing", "conftest") or stem.startswith("test_") or stem.endswith(("_test", "_tests"))
