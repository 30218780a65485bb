"""A Report from the engine made into an Audit: for every task, whether its results are stored and read, where it
is enqueued and read, whether it returns a value, where its ignore_result comes from and what the fix would
save; the totals; the project's effective result configuration; what a shorter result_expires would do.

The verdicts are the analysis's; this module only combines them with the configuration (a task that ignores
its result stores nothing, whatever its callers do) and prices them with ``costs``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Iterable, List, Optional, Tuple

from ..rules.base import effective_ignore, ignore_origin
from ..types import DYNAMIC, Backend, Kind, OutcomeKind, Report, UseKind, VerdictState
from . import costs
from .expiry_advice import ExpiryAdvice, advise
from .returns import ReturnsFinder


class Status(Kind):
    """The report's verdict on one task: the analysis's, once the configuration has had its say."""

    READ = "read"  # stored, and read
    UNREAD = "unread"  # stored, and nothing reads it: the fix (ignore_result=True) saves every key
    MAYBE = "maybe"  # stored; the analysis cannot tell whether it is read (--explain says why)
    UNUSED = "unused"  # stored when it runs, but never enqueued in this project
    IGNORED = "ignored"  # not stored: ignore_result=True (its decorator, base, the app, or every call site)
    IGNORED_BUT_READ = "ignored-but-read"  # not stored, yet read (CEL002): .get() returns None or hangs
    UNKNOWN = "unknown"  # ignore_result is set in a way we cannot read: stored or not, we cannot tell
    NO_BACKEND = "no-backend"  # the app has no result backend: nothing is stored


STORED = (Status.READ, Status.UNREAD, Status.MAYBE, Status.UNUSED)
_BY_VERDICT = {VerdictState.READ: Status.READ, VerdictState.UNREAD: Status.UNREAD, VerdictState.MAYBE: Status.MAYBE,
               VerdictState.UNUSED: Status.UNUSED}


@dataclass
class Site:
    """One place that enqueues the task (or builds a signature of it, schedules it, runs it eagerly)."""

    at: str  # path:line
    kind: str  # analysis UseKind: enqueue, signature, beat, eager...
    outcome: str  # what happens to its result: discarded, id, escapes, read
    detail: str
    ignore_result: object  # passed at this call: True / False / DYNAMIC, None when not passed


@dataclass
class IgnoreSource:
    value: object  # True / False / DYNAMIC, as the worker will see it
    source: str  # decorator | class | base | global | call-site | annotations | default
    detail: str  # the analysis's words: where exactly


@dataclass
class TaskAudit:
    name: str  # the registered name (the qualname when it is computed at run time)
    qualname: str
    path: str
    line: int
    kind: str  # function | class | registration
    status: Status
    reason: str  # the analysis's verdict, in its words
    stores: Optional[bool]  # does a run store a result; None: can't tell
    sites: List[Site]
    reads: List[str]  # ``path:line (detail)`` of every place that reads its result
    returns_value: Optional[bool]  # None: can't tell
    ignore: IgnoreSource
    finding: Optional[str]  # the rule code reported for it (CEL001, CEL002), after select/ignore/noqa
    fixable: bool  # celery-lint --fix can apply that finding's fix
    savings: Optional[costs.Cost]  # what ignore_result=True saves per costs.RUNS runs (unread tasks only)

    @property
    def enqueue_kinds(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for site in self.sites:
            counts[site.kind] = counts.get(site.kind, 0) + 1
        return counts


@dataclass
class Configuration:
    """What the project's configuration says, with Celery's defaults filled in. ``*_at`` is path:line."""

    backend: str  # configured | absent | unknown (a library: the application configures it)
    backend_at: Optional[str]  # where it is set; for "absent", where the project says there is none
    backend_env: Optional[str]  # the environment variable that may set it
    expires: Optional[int]  # result_expires in seconds; None: never expires (0/None), or not readable
    expires_at: Optional[str]  # None: Celery's default
    expires_known: bool  # False: set in a way we cannot read (a timedelta, a name)
    global_ignore: object  # task_ignore_result: True / False / DYNAMIC
    global_ignore_at: Optional[str]
    global_ignore_env: Optional[str]
    extended: object  # result_extended: True / False / DYNAMIC
    extended_at: Optional[str]
    annotations_at: Optional[str]  # task_annotations that may set ignore_result
    # "unknown" with evidence: why a backend may be configured where celery-lint cannot see; or "assumed"
    # (``assume-backend``) for a backend taken as configured though none is seen
    backend_evidence: Optional[str] = None
    backend_more: int = 0  # other places that set a backend, besides backend_at


@dataclass
class Totals:
    tasks: int = 0
    stored: int = 0  # read + unread + maybe + unused
    by_status: Dict[str, int] = field(default_factory=dict)  # every Status, zero included


@dataclass
class ExpiryOption:
    """Keys alive at steady state for one run per second of a task that stays stored, at one result_expires."""

    seconds: int
    alive: costs.Cost
    current: bool


@dataclass
class Audit:
    root: Path
    tasks: List[TaskAudit]
    totals: Totals
    config: Configuration
    fix_savings: costs.Cost  # ignore_result=True on every unread task, costs.RUNS runs of each
    staying: List[str]  # the tasks whose results stay stored after the fix (read, maybe, unused)
    expiry: List[ExpiryOption]  # the current setting (when it expires at all) and shorter ones
    errors: List[str]  # files the analysis could not read through: ``path: message``
    notes: List[str] = field(default_factory=list)
    live: Optional[object] = None  # live.Live, when --redis was given
    expiry_advice: Optional[ExpiryAdvice] = None  # a result_expires the readers allow, or why none


def build(report: Report, task_filter=None) -> Audit:
    """The audit of ``report``'s tasks (those ``task_filter(task)`` keeps, all by default)."""
    settings = report.settings
    config = configuration(settings)
    findings = {(f.path, f.line, f.col): f for f in report.findings}
    returns = ReturnsFinder(report.root, report.digests)
    tasks, statuses = [], {}
    for task, verdict in sorted(report.verdicts, key=lambda tv: (tv[0].path, tv[0].line, tv[0].col)):
        statuses[id(task)] = str(_status(verdict.state, ignore_source(task, verdict, settings).value, config.backend)[0])
        if task_filter is None or task_filter(task):
            tasks.append(_task(task, verdict, settings, config, findings.get((task.path, task.line, task.col + 1)),
                               returns))
    staying = [t for t in tasks if t.status in STORED and t.status is not Status.UNREAD]
    return Audit(
        root=report.root, tasks=tasks, totals=_totals(tasks), config=config,
        fix_savings=_sum(t.savings for t in tasks),
        staying=[t.name for t in staying],
        expiry=_expiry(config, [t.returns_value for t in staying]),
        errors=_not_analysed(report),
        notes=_notes(config),
        expiry_advice=advise(report, statuses, config.expires, config.expires_known),
    )


def configuration(settings) -> Configuration:
    if settings is None:  # no Python file at all: Celery's defaults
        settings = SimpleNamespace(backend=Backend.UNKNOWN, backend_at=[], no_backend_at=None, backend_env=None,
                                   backend_unknown=None, assumed=False, expires=None, global_ignore=False, global_ignore_at=None, global_ignore_env=None,
                                   extended=None, annotations_at=None)
    expires, expires_at, known = costs.DEFAULT_EXPIRES, None, True
    if settings.expires is not None:
        value, expires_at = settings.expires
        known = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        # Celery: 0 or None means the results never expire (Redis SET without a TTL)
        expires = int(value) if known and value else None
    extended, extended_at = settings.extended if settings.extended is not None else (False, None)
    backend_at = settings.backend_at[0] if settings.backend_at else settings.no_backend_at
    return Configuration(
        backend=str(settings.backend), backend_at=backend_at,
        backend_env=settings.backend_env, expires=expires, expires_at=expires_at, expires_known=known,
        global_ignore=settings.global_ignore, global_ignore_at=settings.global_ignore_at,
        global_ignore_env=settings.global_ignore_env,
        extended=extended if extended in (True, False) else DYNAMIC, extended_at=extended_at,
        annotations_at=settings.annotations_at,
        backend_evidence="assumed (assume-backend)" if settings.assumed else settings.backend_unknown,
        backend_more=max(len(settings.backend_at) - 1, 0),
    )


def _task(task, verdict, settings, config: Configuration, finding, returns: ReturnsFinder) -> TaskAudit:
    uses = sorted(task.uses, key=lambda pu: (pu[0], pu[1].outcome.line))
    sites = [Site(f"{path}:{use.outcome.line}", str(use.kind), str(use.outcome.kind), use.outcome.detail,
                  use.ignore_result) for path, use in uses if use.kind is not UseKind.ASYNC_RESULT]
    # as the analysis counts reads: not where a call ignores the result, nor where the task is only one a
    # run-time name may pick (``getattr(module, name)``: its reason says so)
    reads = [f"{path}:{use.outcome.line} ({use.outcome.detail})" for path, use in uses
             if use.outcome.kind is OutcomeKind.READ and use.ignore_result is not True and use.dynamic_module is None
             and use.kind is not UseKind.EAGER]  # (``t.map(xs).delay().get()``: the built-in task's result)
    ignore = ignore_source(task, verdict, settings)
    status, stores = _status(verdict.state, ignore.value, config.backend)
    returns_value = returns.returns_value(task)
    savings = None
    if status is Status.UNREAD:
        savings = costs.runs_cost(costs.RUNS, costs.key_bytes(returns_value, config.extended))
    return TaskAudit(
        name=task.name or task.qualname, qualname=task.qualname, path=task.path, line=task.line, kind=str(task.kind),
        status=status, reason=verdict.reason, stores=stores, sites=sites, reads=reads, returns_value=returns_value,
        ignore=ignore, finding=finding.code if finding else None, fixable=bool(finding and finding.fix),
        savings=savings,
    )


def ignore_source(task, verdict, settings) -> IgnoreSource:
    """ignore_result as the worker sees it (the rules' ``effective_ignore`` and ``ignore_origin``: one
    precedence), named by where it comes from; every call site passing ignore_result=True counts too."""
    value, detail = effective_ignore(task, settings)
    source = ignore_origin(task, settings)
    if source == "own":
        source = "class" if str(task.kind) == "class" else "decorator"
    if value is False and verdict.state is VerdictState.IGNORED_AT_CALL:
        return IgnoreSource(True, "call-site", verdict.reason)
    return IgnoreSource(value, source, detail)


def _status(state: VerdictState, ignore: object, backend: str) -> Tuple[Status, Optional[bool]]:
    if backend == str(Backend.ABSENT):
        return Status.NO_BACKEND, False
    if ignore is True:
        return (Status.IGNORED_BUT_READ if state is VerdictState.READ else Status.IGNORED), False
    if ignore is not False:
        return Status.UNKNOWN, None
    if state is VerdictState.IGNORED_AT_CALL:
        return Status.IGNORED, False
    return _BY_VERDICT.get(state, Status.MAYBE), True  # a state this module does not know yet: a maybe


def _totals(tasks: List[TaskAudit]) -> Totals:
    by_status = {str(status): 0 for status in Status}
    for task in tasks:
        by_status[str(task.status)] += 1
    return Totals(len(tasks), sum(by_status[str(s)] for s in STORED), by_status)


def _sum(items: Iterable[Optional[costs.Cost]]) -> costs.Cost:
    found = [c for c in items if c is not None]
    return costs.Cost(sum(c.keys for c in found), sum(c.commands for c in found), sum(c.bytes_low for c in found),
                      sum(c.bytes_high for c in found))


def _expiry(config: Configuration, returns: List[Optional[bool]]) -> List[ExpiryOption]:
    """Keys alive per run per second of a task that stays stored, at the current result_expires and shorter
    ones. Bytes span what those tasks may store (small to typical when any returns a value or may)."""
    if not config.expires_known:
        return []
    per_key = costs.key_bytes(False if returns and all(r is False for r in returns) else None, config.extended)
    options = [ExpiryOption(config.expires, costs.alive_per_run_per_second(config.expires, per_key), True)] \
        if config.expires is not None else []
    options += [ExpiryOption(s, costs.alive_per_run_per_second(s, per_key), False)
                for s in costs.shorter_expires(config.expires)]
    return options


def _notes(config: Configuration) -> List[str]:
    notes = [
        f"Bytes are Redis MEMORY USAGE of one celery-task-meta-<id> key, measured by {costs.MEASURED_BY} (Redis 7, "
        f"Celery 5): {costs.SMALL[False]} B for a task returning None or an int ({costs.SMALL[True]} B with "
        f"result_extended), {costs.TYPICAL[False]} B for a 10-key dict ({costs.TYPICAL[True]} B). The server's "
        f"used_memory grows more ({costs.USED_MEMORY_SMALL[False]} / {costs.USED_MEMORY_TYPICAL[False]} B): "
        "the savings are a floor. Each stored run also sends SETEX + PUBLISH.",
        "Keys alive at steady state = runs per second × result_expires: lowering result_expires shrinks them in "
        "proportion, but a result must still be read before it expires (a poll by id, a slow .get()).",
        "Flower builds its task pages from worker events, not from the result backend: with ignore_result=True "
        "it still shows their state, runtime and args; only /api/task/result (and the result of "
        "/api/task/apply) show PENDING/none (bench/flower_views.py).",
    ]
    if config.extended is not False:
        notes.append("With result_extended, every key also stores the task's name, args, kwargs, worker and queue: "
                     "real keys grow with the arguments.")
    if not config.expires_known:
        notes.append(f"result_expires is set at {config.expires_at} in a way celery-lint cannot read (a timedelta, "
                     "a name): the keys' lifetime is not shown.")
    if config.backend == str(Backend.UNKNOWN) and config.backend_evidence:
        notes.append(f"No result backend is seen, but one may be configured where celery-lint cannot see: "
                     f"{config.backend_evidence}. The tasks counted as storing their results store "
                     "them only if it is.")
    elif config.backend == str(Backend.UNKNOWN):
        notes.append("No Celery app with a result backend in this project (a library?): the application that "
                     "runs these tasks decides whether results are stored.")
    if config.annotations_at:
        notes.append(f"task_annotations at {config.annotations_at} may set ignore_result: stored or not, "
                     "celery-lint cannot tell for any task.")
    return notes


def _not_analysed(report) -> List[str]:
    """``path: message`` for each file that could not be read or parsed (a parse error is a CEL000 finding)."""
    unparsed = [(f.path, f"{f.message} (line {f.line}, column {f.col})") for f in report.findings if f.code == "CEL000"]
    return [f"{path}: {message}" for path, message in sorted(unparsed + [(e.path, e.message) for e in report.errors])]
