"""What counts as a read: each task's verdict, from every use the project links to it.

The checks run in order and the first that applies decides; anything the analysis cannot follow makes the
verdict ``maybe`` (silent). A task is ``unread`` only when no check finds a reason to doubt it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ..types import DYNAMIC, IGNORE_AT_RUN_TIME, OutcomeKind, UseKind, Verdict, VerdictState
from .facts import Running, Use
from .project import Project, Task

READ, MAYBE = VerdictState.READ, VerdictState.MAYBE


@dataclass
class _Case:
    """One task, with what every check needs."""

    task: Task
    project: Project
    unparsed: Dict[str, Optional[bytes]]  # files that do not parse (None: could not be read at all)
    uses: List[Tuple[str, Use]]  # sorted by place
    storing: List[Tuple[str, Use]]  # those that store a result: not run in-process, not ignore_result=True

    @property
    def settings(self):
        return self.project.settings


def where(path: str, use: Use) -> str:
    return f"{path}:{use.outcome.line}"


def judge(task: Task, project: Project, unparsed: Dict[str, Optional[bytes]]) -> Verdict:
    """Follow every use of ``task``; anything we cannot follow makes the verdict 'maybe'."""
    uses = sorted(task.uses, key=lambda pu: (pu[0], pu[1].outcome.line))
    # ``.apply()`` runs the task in this process and ``.map()`` inside a built-in task: neither stores its result.
    storing = [(p, u) for p, u in uses if u.ignore_result is not True and u.kind is not UseKind.EAGER]
    case = _Case(task, project, unparsed, uses, storing)
    for check in CHECKS:
        verdict = check(case)
        if verdict is not None:
            return verdict
    return Verdict(VerdictState.UNREAD, "nothing reads its result", places=len(case.storing), decided_by=case.storing)


def _progress(case: _Case) -> Optional[Verdict]:
    if case.task.updates_state:
        return Verdict(MAYBE, "it calls update_state(): something polls its progress")
    if case.task.tracks_started:  # (celery/app/trace.py: ``task.track_started and not ignore_result``)
        return Verdict(MAYBE, "track_started=True: its STARTED state is stored for someone polling it, and "
                              "ignore_result=True would stop that")
    return None


def _stored_at_call(case: _Case) -> Optional[Verdict]:
    for path, use in case.uses:
        if use.ignore_result is False or use.ignore_result == IGNORE_AT_RUN_TIME:
            given = "False" if use.ignore_result is False else "an expression that may be False"
            return Verdict(MAYBE, f"enqueued with ignore_result={given} at {where(path, use)}", decided_by=[(path, use)])
    return None


def _read(case: _Case) -> Optional[Verdict]:
    # getattr(module, name): the use may be this task's or a sibling's; a read there is only a maybe.
    for path, use in case.storing:
        if use.outcome.kind is OutcomeKind.READ and use.dynamic_module is None:
            text = f"{where(path, use)} ({use.outcome.detail})"
            return Verdict(READ, f"its result is read at {text}", first_read=text, decided_by=[(path, use)])
    return None


def _read_by_a_sibling_maybe(case: _Case) -> Optional[Verdict]:
    for path, use in case.storing:
        if use.dynamic_module is not None and use.outcome.kind is OutcomeKind.READ:
            module = f"any module named {use.dynamic_module[2:]}" if use.dynamic_module.startswith("*.") \
                else use.dynamic_module
            return Verdict(MAYBE, f"a task of {module} named at run time (it may be this one) has its "
                           f"result read at {where(path, use)} ({use.outcome.detail})", decided_by=[(path, use)])
    return None


def _custom_backend(case: _Case) -> Optional[Verdict]:
    if case.settings.custom_backend_at:
        return Verdict(MAYBE, f"results go to the project's own backend at {case.settings.custom_backend_at}, "
                       "whose models and views may read them")
    return None


def _running_task(case: _Case) -> Optional[Verdict]:
    """Progress reported, or its own id published, from inside the task or from a helper any task may call."""
    reads_by_id = case.settings.reads_by_id_at
    for at, fact in case.task.running:
        if fact.kind is Running.ID and reads_by_id:
            return Verdict(MAYBE, f"it publishes its own id at {at} ({fact.detail}) and results are read by id at "
                           f"{reads_by_id}")
        if fact.kind is Running.PROGRESS:
            return Verdict(MAYBE, f"it reports progress at {at} ({fact.detail}): something polls it")
    for at, fact in case.settings.running_anywhere:
        if fact.kind is Running.PROGRESS:
            return Verdict(MAYBE, f"a helper reports the progress of whichever task runs it at {at} ({fact.detail}); "
                           "any task may call it, and something polls that progress")
        if fact.kind is Running.ID and reads_by_id:
            return Verdict(MAYBE, f"a helper publishes the id of whichever task runs it at {at} ({fact.detail}) and "
                           f"results are read by id at {reads_by_id}; any task may call it")
    return None


def _escapes(case: _Case) -> Optional[Verdict]:
    for path, use in case.storing:
        if use.outcome.kind is OutcomeKind.ESCAPES:
            return Verdict(MAYBE, f"its result escapes at {where(path, use)} ({use.outcome.detail})",
                           decided_by=[(path, use)])
    return None


def _id_taken(case: _Case) -> Optional[Verdict]:
    if not case.settings.reads_by_id_at:
        return None
    for path, use in case.storing:
        if use.outcome.kind is OutcomeKind.ID_TAKEN:
            return Verdict(MAYBE, f"its result id is taken at {where(path, use)} ({use.outcome.detail}) "
                           f"and results are read by id at {case.settings.reads_by_id_at}", decided_by=[(path, use)])
    return None


def _risk_threshold(case: _Case) -> int:
    """How far a result we cannot attribute must get to be a risk: its id is enough when results are read by id."""
    return (OutcomeKind.ID_TAKEN if case.settings.reads_by_id_at else OutcomeKind.ESCAPES).rank


def _handed_on(case: _Case) -> Optional[Verdict]:
    """Handed on as a value while some task we cannot name has its result used: it may be this one."""
    threshold = _risk_threshold(case)
    risky = [(p, u) for p, u in case.project.unknown_uses if u.outcome.kind.rank >= threshold]
    if not (case.task.value_escapes and risky):
        return None
    named = [pu for pu in case.task.value_escapes if pu[1].by_name != DYNAMIC]  # the most telling one first
    (vpath, vuse), (upath, uuse) = (named or case.task.value_escapes)[0], risky[0]
    return Verdict(MAYBE, f"it is handed on as a value at {where(vpath, vuse)} and a task we cannot name "
                   f"has its result {uuse.outcome.detail} at {where(upath, uuse)}",
                   decided_by=[(vpath, vuse), (upath, uuse)])


def _named_at_run_time(case: _Case) -> Optional[Verdict]:
    threshold = _risk_threshold(case)
    for upath, uuse in case.project.dynamic_name_uses:
        if uuse.ignore_result is not True and uuse.outcome.kind.rank >= threshold:
            return Verdict(MAYBE, f"a task named at run time has its result {uuse.outcome.detail} at "
                           f"{where(upath, uuse)}: it may be this one", decided_by=[(upath, uuse)])
    return None


def _unparsed(case: _Case) -> Optional[Verdict]:
    for path in sorted(case.unparsed):
        source = case.unparsed[path]
        if source is None:
            return Verdict(MAYBE, f"{path} could not be read: it may read any task's result")
        if _mentions(source, case.task):
            return Verdict(MAYBE, f"{path} mentions it but does not parse")
    return None


def _unused(case: _Case) -> Optional[Verdict]:
    if not case.uses and case.task.value_escapes:
        path, use = case.task.value_escapes[0]
        return Verdict(MAYBE, f"handed on as a value at {where(path, use)} ({use.outcome.detail}); no enqueue the "
                       "analysis follows from there, and none it cannot name reads a result", decided_by=[(path, use)])
    if not case.uses:
        return Verdict(VerdictState.UNUSED, "never enqueued in this project (its callers may live elsewhere)")
    if all(use.kind is UseKind.EAGER for _path, use in case.uses):
        return Verdict(VerdictState.UNUSED, "only run in this process (.apply()) or inside a built-in task "
                       "(.map()/.chunks()): nothing is stored")
    if not case.storing:
        return Verdict(VerdictState.IGNORED_AT_CALL, "every call site passes ignore_result=True")
    return None


def _mentions(source: bytes, task: Task) -> bool:
    return task.short_name.encode() in source or (task.name is not None and task.name.encode() in source)


CHECKS: Tuple[Callable[[_Case], Optional[Verdict]], ...] = (
    _progress, _stored_at_call, _read, _read_by_a_sibling_maybe, _custom_backend, _running_task, _escapes, _id_taken,
    _handed_on, _named_at_run_time, _unparsed, _unused,
)
