"""What every rule has: its code, name and documentation, examples that are run as tests (as Fixit rules
carry them), and a check that turns a task's verdict into a finding."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Optional, Tuple

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

    def check(self, task: Task, verdict: Verdict, project: Project) -> Optional[Finding]:
        raise NotImplementedError


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
        unless = f", unless the environment sets {settings.global_ignore_env}" if settings.global_ignore_env else ""
        return settings.global_ignore, f"the app config at {settings.global_ignore_at}{unless}"
    return False, "Celery's default"
