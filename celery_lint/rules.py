"""The rules. Each one is small, carries its own valid/invalid examples (as Fixit rules do), and only
reports when the project analysis is sure: a task whose result *might* be read is never CEL001."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .model import DYNAMIC, ESCAPES, ID_TAKEN, OUTCOME_RANK, READ, Use
from .project import Project, Task
from .text import printable


@dataclass(frozen=True)
class Fix:
    """Set, add or remove ``ignore_result`` on the decorator (or registration call) at ``line``:``col``."""

    action: str  # add | set | remove
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
    """What the project does with a task's results: read | maybe | unread | unused | ignored-at-call."""

    state: str
    reason: str
    first_read: Optional[str] = None  # ``path:line (detail)``
    places: int = 0


def where(path: str, use: Use) -> str:
    return f"{path}:{use.outcome.line}"


def judge(task: Task, project: Project, unparsed: Dict[str, Optional[bytes]]) -> Verdict:
    """Follow every use of ``task``; anything we cannot follow makes the verdict 'maybe'."""
    settings = project.settings
    if task.updates_state:
        return Verdict("maybe", "it calls update_state(): something polls its progress")
    uses = sorted(task.uses, key=lambda pu: (pu[0], pu[1].outcome.line))
    for path, use in uses:
        if use.ignore_result is False:
            return Verdict("maybe", f"enqueued with ignore_result=False at {where(path, use)}")
    storing = [(p, u) for p, u in uses if u.ignore_result is not True]
    # getattr(module, name): the use may be this task's or a sibling's; a read there is only a maybe.
    reads = [(p, u) for p, u in storing if u.outcome.kind == READ and u.dynamic_module is None]
    if reads:
        path, use = reads[0]
        text = f"{where(path, use)} ({use.outcome.detail})"
        return Verdict("read", f"its result is read at {text}", first_read=text)
    for path, use in storing:
        if use.dynamic_module is not None and use.outcome.kind == READ:
            return Verdict("maybe", f"a task of {use.dynamic_module} named at run time (it may be this one) has its "
                           f"result read at {where(path, use)} ({use.outcome.detail})")
    if settings.custom_backend_at:
        return Verdict("maybe", f"results go to the project's own backend at {settings.custom_backend_at}, "
                       "whose models and views may read them")
    running = _running_task_reason(task, settings)
    if running:
        return Verdict("maybe", running)
    for path, use in storing:
        if use.outcome.kind == ESCAPES:
            return Verdict("maybe", f"its result escapes at {where(path, use)} ({use.outcome.detail})")
    if settings.reads_by_id_at:
        for path, use in storing:
            if use.outcome.kind == ID_TAKEN:
                return Verdict("maybe", f"its result id is taken at {where(path, use)} ({use.outcome.detail}) "
                               f"and results are read by id at {settings.reads_by_id_at}")
    risky = _risky_unknown_uses(project)
    if task.value_escapes and risky:
        named = [pu for pu in task.value_escapes if pu[1].by_name != DYNAMIC]  # the most telling one first
        (vpath, vuse), (upath, uuse) = (named or task.value_escapes)[0], risky[0]
        return Verdict("maybe", f"it is handed on as a value at {where(vpath, vuse)} and a task we cannot name "
                       f"has its result {uuse.outcome.detail} at {where(upath, uuse)}")
    threshold = _risk_threshold(project)
    for upath, uuse in project.dynamic_name_uses:
        if uuse.ignore_result is not True and OUTCOME_RANK[uuse.outcome.kind] >= threshold:
            return Verdict("maybe", f"a task named at run time has its result {uuse.outcome.detail} at "
                           f"{where(upath, uuse)}: it may be this one")
    for path in sorted(unparsed):
        if unparsed[path] is None:
            return Verdict("maybe", f"{path} could not be read: it may read any task's result")
        if _mentions(unparsed[path], task):
            return Verdict("maybe", f"{path} mentions it but does not parse")
    if not uses:
        return Verdict("unused", "never enqueued in this project (its callers may live elsewhere)")
    if not storing:
        return Verdict("ignored-at-call", "every call site passes ignore_result=True")
    return Verdict("unread", "nothing reads its result", places=len(storing))


def _running_task_reason(task: Task, settings) -> Optional[str]:
    """Progress reported, or its own id published, from inside the task or from a helper any task may call."""
    for at, fact in task.running:
        if fact.get("kind") == "id" and settings.reads_by_id_at:
            return (f"it publishes its own id at {at} ({fact.get('detail')}) and results are read by id at "
                    f"{settings.reads_by_id_at}")
        if fact.get("kind") == "progress":
            return f"it reports progress at {at} ({fact.get('detail')}): something polls it"
    for at, fact in settings.running_anywhere:
        if fact.get("kind") == "progress":
            return (f"a helper reports the progress of whichever task runs it at {at} ({fact.get('detail')}); "
                    "any task may call it, and something polls that progress")
        if fact.get("kind") == "id" and settings.reads_by_id_at:
            return (f"a helper publishes the id of whichever task runs it at {at} ({fact.get('detail')}) and "
                    f"results are read by id at {settings.reads_by_id_at}; any task may call it")
    return None


def _risk_threshold(project: Project) -> int:
    return OUTCOME_RANK[ID_TAKEN] if project.settings.reads_by_id_at else OUTCOME_RANK[ESCAPES]


def _risky_unknown_uses(project: Project) -> List[Tuple[str, Use]]:
    threshold = _risk_threshold(project)
    return [(p, u) for p, u in project.unknown_uses if OUTCOME_RANK[u.outcome.kind] >= threshold]


def _mentions(source: bytes, task: Task) -> bool:
    short = task.qualname.rpartition(".")[2].encode()
    return short in source or (task.name is not None and task.name.encode() in source)


def effective_ignore(task: Task, project: Project) -> Tuple[object, str]:
    """ignore_result as the worker will see it, and where it comes from (celery-semantics.md precedence)."""
    settings = project.settings
    if settings.annotations_at:
        return DYNAMIC, f"task_annotations at {settings.annotations_at} may set it"
    if task.own_ignore is not None:
        return task.own_ignore, "its decorator"
    if task.base_ignore is not None:
        return task.base_ignore, "its base class"
    if settings.global_ignore is not False:
        return settings.global_ignore, f"the app config at {settings.global_ignore_at}"
    return False, "Celery's default"


class Rule:
    code: str
    name: str
    summary: str
    VALID: List[Dict[str, str]] = []
    INVALID: List[Dict[str, str]] = []

    def check(self, task: Task, verdict: Verdict, project: Project) -> Optional[Finding]:
        raise NotImplementedError


class UnreadResult(Rule):
    code = "CEL001"
    name = "unread-result"
    summary = "the task's result is stored in the backend but nothing in the project reads it"
    VALID = [
        {"tasks.py": "from celery import shared_task\n\n@shared_task(ignore_result=True)\ndef ping():\n    pass\n",
         "views.py": "from tasks import ping\n\ndef view():\n    ping.delay()\n"},
        {"tasks.py": "from celery import shared_task\n\n@shared_task\ndef add(x, y):\n    return x + y\n",
         "views.py": "from tasks import add\n\ndef view():\n    return add.delay(1, 2).get(timeout=5)\n"},
    ]
    INVALID = [
        {"tasks.py": "from celery import shared_task\n\n@shared_task\ndef ping():\n    pass\n",
         "views.py": "from tasks import ping\n\ndef view():\n    ping.delay()\n"},
    ]

    def check(self, task, verdict, project):
        if verdict.state != "unread" or project.settings.backend == "absent":
            return None
        ignore, _source = effective_ignore(task, project)
        if ignore is not False:
            return None
        fix = None
        if task.decorator is not None and (task.fixable or task.own_ignore is False):
            if task.own_ignore is False and project.settings.global_ignore is True and task.base_ignore is not False:
                fix = Fix("remove", None, task.decorator.line, task.decorator.col)
            elif task.own_ignore is False:
                fix = Fix("set", True, task.decorator.line, task.decorator.col)
            else:
                fix = Fix("add", True, task.decorator.line, task.decorator.col)
        places = "1 place" if verdict.places == 1 else f"{verdict.places} places"
        if fix is None and task.manual_fix:
            advice = f"fix by hand: {task.manual_fix}"
        elif fix is None:
            advice = "add ignore_result=True by hand (no autofix for this decorator form)"
        else:
            advice = "remove ignore_result=False" if fix.action == "remove" else "add ignore_result=True"
        message = f"result of task '{task.name or task.qualname}' is stored but never read (enqueued at {places}); {advice}"
        return Finding(task.path, task.line, task.col + 1, self.code, printable(message), fix)


class IgnoredResultRead(Rule):
    code = "CEL002"
    name = "ignored-result-read"
    summary = "the task ignores its result but the project reads it: .get() returns None or hangs"
    VALID = [
        {"tasks.py": "from celery import shared_task\n\n@shared_task\ndef add(x, y):\n    return x + y\n",
         "views.py": "from tasks import add\n\ndef view():\n    return add.delay(1, 2).get(timeout=5)\n"},
    ]
    INVALID = [
        {"tasks.py": "from celery import shared_task\n\n@shared_task(ignore_result=True)\ndef add(x, y):\n    return x + y\n",
         "views.py": "from tasks import add\n\ndef view():\n    return add.delay(1, 2).get(timeout=5)\n"},
    ]

    def check(self, task, verdict, project):
        if verdict.state != "read":
            return None
        ignore, source = effective_ignore(task, project)
        if ignore is not True:
            return None
        fix = None
        if task.decorator is not None:
            line, col = task.decorator.line, task.decorator.col
            if project.settings.global_ignore is True or task.own_ignore is None:
                if task.own_ignore is True:
                    fix = Fix("set", False, line, col)
                elif task.fixable:
                    fix = Fix("add", False, line, col)
            elif task.own_ignore is True:
                fix = Fix("remove", None, line, col)
        message = (f"task '{task.name or task.qualname}' ignores its result (set by {source}) but it is read at "
                   f"{verdict.first_read}: .get() would return None or hang")
        return Finding(task.path, task.line, task.col + 1, self.code, printable(message), fix)


RULES: List[Rule] = [UnreadResult(), IgnoredResultRead()]
RULES_BY_CODE = {rule.code: rule for rule in RULES}
