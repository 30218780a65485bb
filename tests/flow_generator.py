"""Generated projects for the value-flow property test (issue 20) and its bench (bench/flow_property.py).

A project has a task module (``proj/tasks.py``, a backend configured) with tasks ``t0``..``tN``; each task has one
or two *uses* in call-site modules. A use takes the task object through 1-3 composed *carriers* (a local, ``self.x``,
a class attribute in a hierarchy, a module global, one imported from another module, containers, a parameter, a
return, a lambda, ``functools.partial``, a conditional expression, ``or``, comprehensions, walrus, ``for``
targets, tuple unpacking), turning it on the way into a bound enqueue method, a signature or a result handle,
and ends in a *sink* that reads the result (``.get()``, ``.state``, a chord header, an old-style errback...)
or does not (a handle dropped, ``.id`` only logged, a chain's earlier link...). The generator knows, for each
task, whether any of its uses reads its result: the ground truth the analysis is held to.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from hypothesis import strategies as st

# ----- value kinds and the conversions between them -----
# T: the task object; Bd/Ba: its bound .delay / .apply_async; S: a signature; R: a result handle
CONVERT = {
    ("T", "Bd"): "{e}.delay", ("T", "Ba"): "{e}.apply_async", ("T", "S"): "{e}.s(1)", ("T", "R"): "{e}.delay(1)",
    ("Bd", "R"): "{e}(1)", ("Ba", "R"): "{e}((1,))", ("S", "R"): "{e}.delay()",
}
PATHS = {  # the kinds a value goes through from the task object to the sink's kind
    "T": [("T",)],
    "S": [("T", "S")],
    "R": [("T", "R"), ("T", "Bd", "R"), ("T", "Ba", "R"), ("T", "S", "R")],
}


@dataclass(frozen=True)
class Sink:
    kind: str
    template: str  # {x}: the value
    read: bool
    takes_id: bool = False  # only the id is taken: silent when the project also reads results by id
    reads_by_id: bool = False  # the project reads results by id (AsyncResult) when this sink is in it


SINKS = [
    # a result handle read (the fact sheet's "What reads the backend")
    Sink("R", "{x}.get()", True), Sink("R", "{x}.get(timeout=10)", True), Sink("R", "{x}.wait()", True),
    Sink("R", "{x}.ready()", True), Sink("R", "return {x}.status", True), Sink("R", "print({x}.result)", True),
    Sink("R", "if {x}.state == 'SUCCESS':\n    pass", True),
    Sink("R", "AsyncResult({x}.id).get()", True, reads_by_id=True),
    # a result handle not read
    Sink("R", "{x}", False), Sink("R", "{x}.forget()", False),
    Sink("R", "log.info('queued %s', {x}.id)", False, takes_id=True),
    # signatures: group / chord headers / chains Celery upgrades to chords are read
    Sink("S", "group([{x}]).delay().get()", True), Sink("S", "chord([{x}])(finish.s())", True),
    Sink("S", "chain(group([{x}]), finish.s()).delay()", True), Sink("S", "(group([{x}]) | finish.s()).delay()", True),
    Sink("S", "chain(finish.s(), {x}).delay().get()", True),
    Sink("S", "{x}.apply_async(link_error=on_error.s())", True, reads_by_id=True),
    # signatures whose results nobody reads
    Sink("S", "group([{x}]).delay()", False), Sink("S", "chain({x}, finish.s()).delay()", False),
    Sink("S", "{x}.apply_async(link=finish.s())", False), Sink("S", "{x}.apply_async(link_error=alert.s())", False),
    # the task object enqueued with an errback: an old-style one reads the failed task by id, a new-style one not
    Sink("T", "{x}.apply_async((1,), link_error=on_error.s())", True, reads_by_id=True),
    Sink("T", "{x}.apply_async((1,), link_error=alert.s())", False),
    Sink("T", "{x}.apply_async((1,), link=finish.s())", False),
]

# ----- carriers -----
HEAD = ("module_global", "imported_global", "class_attr")  # evaluated at import time: before any local carrier
HEAD_FALLBACK = {"module_global": "local", "imported_global": "local", "class_attr": "self_attr"}
LOCAL = ("local", "tuple_unpack", "walrus", "for_target", "list_literal", "chained", "append", "dict_literal", "setitem",
         "update", "list_comp", "dict_comp", "conditional", "or", "lambda_closure", "lambda_param", "param",
         "param_other_module", "return", "return_other_module", "self_attr")
BOUND_ONLY = ("partial",)  # functools.partial of a bound enqueue method
CARRIERS = HEAD + LOCAL + BOUND_ONLY


def carriers_for(kind: str) -> Tuple[str, ...]:
    return CARRIERS if kind in ("Bd", "Ba") else HEAD + LOCAL


@dataclass
class Use:
    task: int
    path: Tuple[str, ...]  # the kinds the value goes through
    steps: Tuple[Tuple[int, str], ...]  # (stage in path, carrier), in order
    sink: Sink
    module: str  # the call-site module: "views_a" or "views_b"

    @property
    def carriers(self) -> Tuple[str, ...]:
        return tuple(name for _, name in self.steps)


@dataclass
class Spec:
    decorators: Tuple[str, ...]  # one per task
    uses: Tuple[Use, ...]

    def read(self, task: int) -> bool:
        """The ground truth: some use of the task reads its result."""
        return any(use.sink.read for use in self.uses if use.task == task)

    def reads_by_id(self) -> bool:
        return any(use.sink.reads_by_id for use in self.uses)

    def uses_of(self, task: int) -> List[Use]:
        return [use for use in self.uses if use.task == task]


@st.composite
def uses(draw, task: int) -> Use:
    sink = draw(st.sampled_from(SINKS))
    path = draw(st.sampled_from(PATHS[sink.kind]))
    count = draw(st.integers(1, 3))
    steps = []
    for _ in range(count):
        stage = draw(st.integers(0, len(path) - 1))
        steps.append((stage, draw(st.sampled_from(carriers_for(path[stage])))))
    steps.sort(key=lambda step: (step[0], step[1] not in HEAD))
    # a head carrier after a local one cannot be evaluated at import time: its in-function counterpart instead
    local_seen, ordered = False, []
    for stage, name in steps:
        if name in HEAD and local_seen:
            name = HEAD_FALLBACK[name]
        local_seen = local_seen or name not in HEAD
        ordered.append((stage, name))
    module = draw(st.sampled_from(["views_a", "views_b"]))
    return Use(task, path, tuple(ordered), sink, module)


@st.composite
def specs(draw, max_tasks: int = 4, max_uses: int = 2) -> Spec:
    count = draw(st.integers(1, max_tasks))
    decorators = tuple(draw(st.sampled_from(["@app.task", "@shared_task", "@app.task(bind=True)"]))
                       for _ in range(count))
    found = []
    for task in range(count):
        for _ in range(draw(st.integers(1, max_uses))):
            found.append(draw(uses(task)))
    return Spec(decorators, tuple(found))


# ----- writing a project -----
APP = """from celery import Celery, shared_task

app = Celery("proj", backend="redis://")
"""
HELPER_TASKS = '''

@app.task
def finish(*results):
    return results


@app.task
def alert(request, exc, traceback):
    # new-style errback: nothing is read
    print(request.id, exc)
'''
ON_ERROR = '''

@app.task(bind=True)
def on_error(self, task_id, *args, **kwargs):
    # old-style errback: Celery passes the failed task's id, read back from the backend
    failed = self.app.AsyncResult(task_id)
    print(failed.result)
'''
HEADER = """import functools
import logging

from celery import chain, chord, group
from celery.result import AsyncResult

from proj.tasks import alert, finish{tasks}

log = logging.getLogger(__name__)
"""
CALL_SITE_MODULES = ("views_a", "views_b", "helpers", "shared")


def _indent(lines: List[str], by: int = 1) -> List[str]:
    return ["    " * by + line if line else line for line in lines]


@dataclass
class _Writer:
    spec: Spec
    tops: Dict[str, List[str]] = field(default_factory=lambda: {m: [] for m in CALL_SITE_MODULES})
    imports: Dict[str, List[str]] = field(default_factory=lambda: {m: [] for m in CALL_SITE_MODULES})
    counter: "itertools.count" = field(default_factory=itertools.count)

    def fresh(self) -> int:
        return next(self.counter)

    def use(self, use: Use) -> None:
        body = self.emit(use, 0, 0, f"t{use.task}", use.module, True)
        self.tops[use.module].append(f"\n\ndef use_{self.fresh()}():\n" + "\n".join(_indent(body)) + "\n")

    def emit(self, use: Use, step: int, stage: int, expr: str, module: str, module_level: bool) -> List[str]:
        """The lines (of a function body in ``module``) that take ``expr`` (at ``stage`` of the use's path)
        through the carriers from ``step`` on, then into the sink."""
        if step < len(use.steps) and use.steps[step][0] == stage:
            return self.carry(use, step, stage, expr, module, module_level)
        if stage + 1 < len(use.path):
            converted = CONVERT[(use.path[stage], use.path[stage + 1])].format(e=expr)
            return self.emit(use, step, stage + 1, converted, module, module_level)
        return use.sink.template.format(x=expr).splitlines()

    def carry(self, use: Use, step: int, stage: int, expr: str, module: str, module_level: bool) -> List[str]:
        name, n = use.steps[step][1], self.fresh()
        v = f"v{n}"

        def rest(value: str, where: str = module, top: bool = False) -> List[str]:
            return self.emit(use, step + 1, stage, value, where, top)

        if name == "module_global":
            self.tops[module].append(f"\nG{n} = {expr}\n")
            return rest(f"G{n}", top=True)
        if name == "imported_global":
            self.tops["shared"].append(f"\nG{n} = {expr}\n")
            self.imports[module].append(f"from proj.shared import G{n}")
            return rest(f"G{n}", top=True)
        if name == "class_attr":
            method = _indent(rest("self.value"), 2)
            self.tops[module].append(f"\n\nclass Base{n}:\n    value = {expr}\n\n\nclass Sub{n}(Base{n}):\n"
                                     f"    def run(self):\n" + "\n".join(method) + "\n")
            return [f"Sub{n}().run()"]
        if name == "self_attr":
            method = _indent(rest("self.value"), 2)
            self.tops[module].append(f"\n\nclass Holder{n}:\n    def __init__(self, value):\n        self.value = value"
                                     f"\n\n    def run(self):\n" + "\n".join(method) + "\n")
            return [f"Holder{n}({expr}).run()"]
        if name in ("param", "param_other_module"):
            where = "helpers" if name == "param_other_module" else module
            body = _indent(rest("x", where))
            self.tops[where].append(f"\n\ndef pass{n}(x):\n" + "\n".join(body) + "\n")
            if where != module:
                self.imports[module].append(f"from proj.helpers import pass{n}")
            return [f"pass{n}({expr})"]
        if name in ("return", "return_other_module"):
            where = "helpers" if name == "return_other_module" else module
            self.tops[where].append(f"\n\ndef ident{n}(x):\n    y = x\n    return y\n")
            if where != module:
                self.imports[module].append(f"from proj.helpers import ident{n}")
            return rest(f"ident{n}({expr})")
        if name in ("walrus", "for_target"):
            head = f"if ({v} := {expr}) is not None:" if name == "walrus" else f"for {v} in [{expr}]:"
            return [head] + _indent(rest(v))
        lines, value = _local_carrier(name, v, expr)
        return lines + rest(value)

    def files(self) -> Dict[str, str]:
        # the old-style errback reads results by id: only in the projects that use it
        errback = any("on_error" in use.sink.template for use in self.spec.uses)
        names = (", on_error" if errback else "") + "".join(f", t{i}" for i in range(len(self.spec.decorators)))
        tasks = [APP, HELPER_TASKS + (ON_ERROR if errback else "")]
        for index, decorator in enumerate(self.spec.decorators):
            params = "self, *args" if "bind=True" in decorator else "*args"
            tasks.append(f"\n\n{decorator}\ndef t{index}({params}):\n    return 1\n")
        files = {"proj/__init__.py": "", "proj/tasks.py": "".join(tasks)}
        for module in CALL_SITE_MODULES:
            imports = "".join(line + "\n" for line in sorted(set(self.imports[module])))
            files[f"proj/{module}.py"] = HEADER.format(tasks=names) + imports + "".join(self.tops[module])
        return files


def _local_carrier(name: str, v: str, expr: str) -> Tuple[List[str], str]:
    """(lines, the expression that holds the value after them) for the carriers within one function."""
    table = {
        "local": ([f"{v} = {expr}"], v),
        "tuple_unpack": ([f"{v}, _{v} = {expr}, None"], v),
        "list_literal": ([f"{v} = [{expr}]"], f"{v}[0]"),
        "chained": ([f"{v} = _{v} = [{expr}]"], f"{v}[0]"),  # two names for one list: either may fill it
        "append": ([f"{v} = []", f"{v}.append({expr})"], f"{v}[0]"),
        "dict_literal": ([f"{v} = {{'k': {expr}}}"], f"{v}['k']"),
        "setitem": ([f"{v} = {{}}", f"{v}['k'] = {expr}"], f"{v}['k']"),
        "update": ([f"{v} = {{}}", f"{v}.update(k={expr})"], f"{v}['k']"),
        "list_comp": ([f"{v} = [item for item in [{expr}]]"], f"{v}[0]"),
        "dict_comp": ([f"{v} = {{key: item for key, item in [('k', {expr})]}}"], f"{v}['k']"),
        "conditional": ([f"{v} = {expr} if log.disabled else None"], v),
        "or": ([f"{v} = None or {expr}"], v),
        "lambda_closure": ([f"{v} = lambda: {expr}"], f"{v}()"),
        "lambda_param": ([f"{v} = lambda value: value"], f"{v}({expr})"),
        "partial": ([f"{v} = functools.partial({expr})"], v),
    }
    return table[name]


def project_files(spec: Spec) -> Dict[str, str]:
    """{relative path: source} of the project ``spec`` describes."""
    writer = _Writer(spec)
    for use in spec.uses:
        writer.use(use)
    return writer.files()


def write(root: Path, spec: Spec) -> Dict[str, str]:
    files = project_files(spec)
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return files


# ----- judging a run against the ground truth -----
@dataclass(frozen=True)
class Gaps:
    """What the analysis does not follow yet for an UNREAD value (the property test lists them; a task whose use
    goes through one of them may be left "maybe", never anything else)."""

    carriers: frozenset  # (carrier, kind of value): not followed at all
    last_only: frozenset = frozenset()  # carriers of the task object followed only as the last before its use
    first_only: frozenset = frozenset()  # carriers of the task object followed only as the first
    not_after: frozenset = frozenset()  # (carrier, carrier) of the task object: the second not followed after the first
    # an old-style errback attached to a value that came through carriers: its parent is not named, so its read
    # by id is one of a task we cannot name (any task handed on as a value may be it)
    errback_parent_unnamed: bool = False


def unfollowed(use: Use, gaps: Gaps) -> List[str]:
    """The steps of ``use`` the analysis does not follow yet, described."""
    lost = [f"{name} ({use.path[stage]})" for stage, name in use.steps if (name, use.path[stage]) in gaps.carriers]
    held = [name for stage, name in use.steps if use.path[stage] == "T"]  # the carriers of the task object
    for index, name in enumerate(held):
        if name in gaps.last_only and index < len(held) - 1:
            lost.append(f"{name} before {held[index + 1]}")
        if name in gaps.first_only and index > 0:
            lost.append(f"{name} after {held[index - 1]}")
        if index > 0 and (held[index - 1], name) in gaps.not_after:
            lost.append(f"{name} after {held[index - 1]}")
    return lost


@dataclass
class Judged:
    false_positives: List[str] = field(default_factory=list)  # read, yet CEL001 (the safety property)
    read: int = 0
    unread: int = 0
    found: int = 0  # unread and CEL001
    silent_unfollowed: int = 0  # unread, "maybe": one of its uses goes through a carrier not followed yet
    silent_unknown_read: int = 0  # unread, "maybe": handed on as a value while an unfollowed read is elsewhere
    silent_id: int = 0  # unread, "maybe": its id is taken while the project reads results by id
    missed: List[str] = field(default_factory=list)  # unread, silent, through followed carriers only


def unknown_read(spec: Spec, task: int, gaps: Gaps) -> bool:
    """``task`` is handed on as a value (a carrier holds the task object) while another task's use goes through a
    carrier not followed yet and is read, or hands on a bound method, signature or handle the analysis then
    loses (it may be read anywhere): the analysis cannot name the task there, so it may be this one."""
    handed_on = any(use.path[stage] == "T" for use in spec.uses_of(task) for stage, _ in use.steps)
    return handed_on and any(_lost_read(use, gaps) for use in spec.uses if use.task != task)


def _lost_read(use: Use, gaps: Gaps) -> bool:
    if gaps.errback_parent_unnamed and use.steps and use.sink.reads_by_id and "link_error" in use.sink.template:
        return True
    lost = unfollowed(use, gaps)
    if not lost:
        return False
    return use.sink.read or any(use.path[stage] != "T" and (name, use.path[stage]) in gaps.carriers
                                for stage, name in use.steps)


def silence_reason(spec: Spec, task: int, gaps: Gaps) -> Optional[str]:
    """Why the analysis may stay silent on unread ``task``, or None: it must report it."""
    uses = spec.uses_of(task)
    if any(unfollowed(use, gaps) for use in uses):
        return "unfollowed"
    if unknown_read(spec, task, gaps):
        return "unknown_read"
    if spec.reads_by_id() and any(use.sink.takes_id for use in uses):
        return "id"  # the fact sheet's conservative rule: a taken id may be read by a polling endpoint
    return None


def judge(spec: Spec, report, gaps: Gaps) -> Judged:
    reported = {f.message.split("'")[1] for f in report.findings if f.code == "CEL001"}
    judged = Judged()
    for task in range(len(spec.decorators)):
        qualname = f"proj.tasks.t{task}"
        if spec.read(task):
            judged.read += 1
            if qualname in reported:
                judged.false_positives.append(qualname)
            continue
        judged.unread += 1
        reason = silence_reason(spec, task, gaps)
        if qualname in reported:
            judged.found += 1
        elif reason is not None:
            setattr(judged, f"silent_{reason}", getattr(judged, f"silent_{reason}") + 1)
        else:
            judged.missed.append(qualname)
    return judged
