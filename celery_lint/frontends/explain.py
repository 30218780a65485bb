"""``--explain``: every task, what the analysis concluded and why, where it is enqueued, and why a task whose
result nothing reads has no finding."""
from __future__ import annotations

from typing import List, Optional

from .. import discovery
from ..config import Config
from ..rules.base import effective_ignore
from ..text import printable
from ..types import Backend, Report, VerdictState

SITE_KINDS = {"enqueue": "enqueued", "signature": "signature", "beat": "beat entry", "eager": "run in-process",
              "async_result": "read by id", "errback": "errback reads it"}


def explain_lines(report: Report, config: Config, shown) -> List[str]:
    """``shown(path)`` gives the path as the user should see it."""
    lines = []
    flagged = {(f.path, f.line) for f in report.findings}
    for task, verdict in sorted(report.verdicts, key=lambda tv: (tv[0].path, tv[0].line)):
        head = f"{shown(task.path)}:{task.line}: {printable(task.name or task.qualname)}: {verdict.state}: "
        lines.append(head + printable(verdict.reason))
        if verdict.state is VerdictState.UNREAD and (task.path, task.line) not in flagged:
            why = why_no_finding(task, report, config)
            if why:
                lines.append(f"    no finding: {printable(why)}")
        for path, use in sorted(task.uses, key=lambda pu: (pu[0], pu[1].outcome.line)):
            kind = SITE_KINDS.get(str(use.kind), str(use.kind))
            ignored = ", ignore_result=True at the call" if use.ignore_result is True else ""
            lines.append(f"    {shown(path)}:{use.outcome.line}: {kind}: {printable(use.outcome.detail)}{ignored}")
        for path, use in task.value_escapes[:3]:
            lines.append(f"    {shown(path)}:{use.outcome.line}: handed on as a value: {printable(use.outcome.detail)}")
    return lines


def why_no_finding(task, report: Report, config: Config) -> Optional[str]:
    settings = report.settings
    if settings is not None and settings.backend is Backend.ABSENT:
        where = f" ({settings.no_backend_at})" if settings.no_backend_at else ""
        unless = f", unless the environment sets {settings.backend_env}" if settings.backend_env else ""
        return f"no result backend is configured{where}: nothing is stored{unless}"
    if settings is not None:
        ignore, source = effective_ignore(task, report.settings)
        if ignore is True:
            return f"its result is already ignored ({source})"
        if ignore is not False:
            return f"ignore_result may already be set ({source})"
    if "*" in task.noqa or "CEL001" in task.noqa:
        return "suppressed by a noqa comment"
    if not config.enabled("CEL001", task.path):
        return "CEL001 is not selected for this file (select / ignore / per-file-ignores)"
    if config.unreported and discovery.is_excluded(task.path, config.unreported):
        return "its file is excluded (exclude / extend-exclude): analysed, never reported"
    return "the task is outside the paths given"
