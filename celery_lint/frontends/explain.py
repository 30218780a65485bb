"""``--explain`` and ``celery-lint explain TASK...``: every task (or the ones named), what the analysis concluded
and why, where it is enqueued, and why a task whose result nothing reads has no finding."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import click

from .. import discovery
from ..config import Config
from ..rules.base import effective_ignore
from ..text import printable
from ..types import Backend, Report, VerdictState

SITE_KINDS = {"enqueue": "enqueued", "signature": "signature", "beat": "beat entry", "eager": "run in-process",
              "async_result": "read by id", "errback": "errback reads it"}
SHOWN_SITES = 4  # a task enqueued in more places shows these, then how many more
# what each decided use of a verdict is, as the heading of the way its result went
WAY_HEADINGS = {VerdictState.READ: "how its result is read", VerdictState.MAYBE: "why it may be read"}


def explain_lines(report: Report, config: Config, shown, wanted: Callable[[object], bool] = lambda task: True) -> List[str]:
    """``shown(path)`` gives the path as the user should see it; ``wanted(task)``: the tasks to explain."""
    lines = []
    flagged = {(f.path, f.line) for f in report.findings}
    for task, verdict in sorted(report.verdicts, key=lambda tv: (tv[0].path, tv[0].line)):
        if not wanted(task):
            continue
        head = f"{shown(task.path)}:{task.line}: {printable(task.name or task.qualname)}: {verdict.state}: "
        lines.append(head + printable(verdict.reason))
        if verdict.state is VerdictState.UNREAD and (task.path, task.line) not in flagged:
            why = why_no_finding(task, report, config)
            if why:
                lines.append(f"    no finding: {printable(why)}")
        lines += _task_details(task, verdict, shown)
    return lines


def _task_details(task, verdict, shown) -> List[str]:
    """The way each deciding use's result went, then the other places that use the task (at most a few; the
    unread ones of an unread task), each said once."""
    lines = []
    ways = [(path, use) for path, use in verdict.decided_by if use.outcome.steps] \
        if verdict.state in WAY_HEADINGS else []
    if ways:
        lines.append(f"    {WAY_HEADINGS[verdict.state]}:")
        for path, use in ways:
            lines += way_lines(path, use.outcome.steps, shown)
    shown_ways = {id(use) for _path, use in ways}
    sites = []
    for path, use in sorted(task.uses, key=lambda pu: (pu[0], pu[1].outcome.line)):
        if id(use) not in shown_ways:
            kind = SITE_KINDS.get(str(use.kind), str(use.kind))
            ignored = ", ignore_result=True at the call" if use.ignore_result is True else ""
            sites.append(f"    {shown(path)}:{use.outcome.line}: {kind}: {printable(use.outcome.detail)}{ignored}")
    for path, use in task.value_escapes:
        if id(use) not in shown_ways:
            detail = "" if use.outcome.detail == "handed on as a value" else f": {printable(use.outcome.detail)}"
            sites.append(f"    {shown(path)}:{use.outcome.line}: handed on as a value{detail}")
    sites = [line for line in dict.fromkeys(sites) if line not in lines]
    more = len(sites) - SHOWN_SITES
    return lines + (sites[:SHOWN_SITES] + [f"    and {more} more"] if more > 1 else sites)


def way_lines(path: str, steps, shown) -> List[str]:
    """One line per place the result went through, in order: ``path:line:col``, the code there, and what it
    did; steps at one place are one line (a call that enqueues and reads at once)."""
    merged: List[list] = []
    for step in steps:
        where = f"{shown(step.path or path)}:{step.line}" + (f":{step.col + 1}" if step.col >= 0 else "")
        if merged and merged[-1][0] == where:
            if step.why not in merged[-1][2]:
                merged[-1][2].append(step.why)
        else:
            merged.append([where, step.code, [step.why]])
    width = max(len(where) for where, _code, _whys in merged)
    code_width = min(40, max(len(code) for _where, code, _whys in merged))
    return [f"      {where.ljust(width)}  {printable(code).ljust(code_width)}  ({printable('; '.join(whys))})"
            for where, code, whys in merged]


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
    if {"*", "CEL001"} & _file_noqa(report.root / task.path):
        return "suppressed by a file-level noqa comment (# flake8: noqa or # ruff: noqa)"
    if not config.enabled("CEL001", task.path):
        return "CEL001 is not selected for this file (select / ignore / per-file-ignores)"
    if config.unreported and discovery.is_excluded(task.path, config.unreported):
        return "its file is excluded (exclude / extend-exclude): analysed, never reported"
    return "the task is outside the paths given"


def matches(task, name: str) -> bool:
    """``name`` is the task's registered name, its dotted Python name, or a dotted suffix of either
    (``send_welcome``, ``emails.send_welcome``)."""
    return any(full == name or full.endswith("." + name) for full in (task.name or "", task.qualname) if full)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("names", nargs=-1, required=True, metavar="TASK...")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read settings from this TOML file instead of the project's pyproject.toml.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
def explain(names: Sequence[str], config_file, no_cache):
    """Explain TASK...: what the analysis concluded about each task of the project (here) and why, and where it
    is enqueued. A task is named by its registered name, its dotted name, or the end of either (send_welcome)."""
    from .. import config as config_module, engine

    configs = {}

    def load_config(root: Path):
        configs[root.resolve()] = config_module.load(root, config_file)
        return configs[root.resolve()]

    try:
        reports = engine.analyse([Path(".")], load_config, use_cache=not no_cache)
    except config_module.ConfigError as exc:
        click.echo(f"celery-lint: error: {exc}", err=True)
        sys.exit(2)
    tasks = [task for report in reports for task, _verdict in report.verdicts]
    unknown = [name for name in names if not any(matches(task, name) for task in tasks)]
    if unknown:
        click.echo(f"celery-lint: error: no task named {', '.join(map(repr, unknown))} in this project "
                   "(celery-lint --explain lists every task)", err=True)
        sys.exit(2)
    for report in reports:
        lines = explain_lines(report, configs[report.root.resolve()], lambda path, root=report.root: _shown(root, path),
                              lambda task: any(matches(task, name) for name in names))
        for line in lines:
            click.echo(line)


def _file_noqa(path: Path) -> frozenset:
    from ..sources import file_noqa_codes

    try:
        return file_noqa_codes(path.read_bytes())
    except OSError:
        return frozenset()


def _shown(root: Path, relative: str) -> str:
    """As ``check`` prints paths: relative to the current directory when possible."""
    try:
        return printable(os.path.relpath(root / relative))
    except ValueError:
        return printable(str(root / relative))
