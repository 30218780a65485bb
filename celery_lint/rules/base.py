"""What every rule has: its code, name and documentation, examples that are run as tests (as Fixit rules
carry them), and a check that turns a task's verdict into a finding."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Sequence, Tuple

from ..types import DYNAMIC, Finding, Verdict

if TYPE_CHECKING:  # the rules run on a linked project, but importing them (for their codes) costs nothing
    from ..analysis.project import Project, Task


@dataclass(frozen=True)
class Example:
    """A small project. For an invalid example: the exact finding it gives, and the files ``--fix`` changes,
    as they are after it."""

    files: Dict[str, str]
    finding: Optional[str] = None  # ``path:line:col: CODE message``
    fixed: Dict[str, str] = field(default_factory=dict)


class Rule:
    code: str
    name: str
    summary: str  # one line: the README table's "what it means"
    why: str  # a paragraph: why it matters
    fix: str  # what ``--fix`` does
    VALID: Tuple[Example, ...] = ()
    INVALID: Tuple[Example, ...] = ()
    opt_in = False  # not in the default selection: only a ``select`` naming its exact code turns it on

    def check(self, task: Task, verdict: Verdict, project: Project) -> Optional[Finding]:
        """The finding on one task, if any (rules that report at the task's definition)."""
        return None

    def findings(self, project: Project, verdicts: Sequence[Tuple[Task, Verdict]]) -> Iterator[Tuple[Finding, List[str]]]:
        """Every finding, with the noqa codes written where it is reported (a rule reporting elsewhere than at
        a task's definition overrides this)."""
        for task, verdict in verdicts:
            finding = self.check(task, verdict, project)
            if finding is not None:
                yield finding, task.noqa


def ignore_origin(task: "Task", settings) -> str:
    """Where ignore_result comes from, in celery-semantics.md's precedence: ``annotations`` (task_annotations
    may set it), ``own`` (the task's decorator or class), ``base`` (its base class), ``global`` (the app's
    setting) or ``default`` (Celery's)."""
    if settings.annotations_at:
        return "annotations"
    if task.own_ignore is not None:
        return "own"
    if task.base_ignore is not None:
        return "base"
    return "global" if settings.global_ignore is not False else "default"


def effective_ignore(task: "Task", settings) -> Tuple[object, str]:
    """ignore_result as the worker will see it, and where it comes from (``ignore_origin``), in words."""
    origin = ignore_origin(task, settings)
    if origin == "annotations":
        return DYNAMIC, f"task_annotations at {settings.annotations_at} may set it"
    if origin == "own":
        return task.own_ignore, "its decorator"
    if origin == "base":
        return task.base_ignore, "its base class"
    if origin == "global":
        unless = f", unless the environment sets {settings.global_ignore_env}" if settings.global_ignore_env else ""
        return settings.global_ignore, f"the app config at {settings.global_ignore_at}{unless}"
    return False, "Celery's default"
