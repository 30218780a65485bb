"""What ``check --strategy global`` prints and does for one project: the plan on stderr (what the global flag
also reaches first, so the user sees it before anything is written), then, with ``--fix`` or ``--diff``, the
edits through ``fixing.global_strategy``."""
from __future__ import annotations

import click

from ..fixing import global_strategy
from ..text import printable

PREFIX = "celery-lint: --strategy global"


def run_global(run, report, fix: bool, diff: bool, shown, print_diff) -> None:
    """``run`` is the CLI's ``_Run``: its counters and the report's findings are updated as ``--fix`` does."""
    plan = global_strategy.plan(report)
    if plan.setting is not None:  # the flag is about to be written (or would be): its reach first
        _say_reaches(plan)
    if plan.refused is not None:
        _say(f"{PREFIX}: not applied, nothing changed: {plan.refused}")
        run.failed += 1 if fix or diff else 0
        run.refused = True  # the summary must not say otherwise (all passed, fixable with --fix)
        return
    if plan.note is not None or plan.empty:
        if not run.quiet:
            _say(f"{PREFIX}: nothing to change{': ' + plan.note if plan.note else ''}")
        return
    writing = fix and not diff
    if not (fix or diff):
        if not run.quiet:
            _say_plan(plan, writing=False)
        return
    results = global_strategy.apply(report, plan, writing)
    if not _applied(run, report, results, shown):
        return
    if not run.quiet:  # said only once it is true
        _say_plan(plan, writing)
    for result in (r for r in results if diff and r.new is not None):
        print_diff(shown(report.root, result.path), result.old, result.new)
    if writing:
        fixed = [f for f in report.findings if (f.path, f.line) in plan.resolved]
        run.fixed += len(fixed)
        run.fixed_findings += [(shown(report.root, f.path), f) for f in fixed]
        report.findings = [f for f in report.findings if (f.path, f.line) not in plan.resolved]


def _applied(run, report, results, shown) -> bool:
    """Whether every file of the plan was made (and written, when writing); if not, each file's error and
    what that means for the project, in one line that is true."""
    failed = [r for r in results if r.error is not None]
    for result in failed:
        click.echo(f"{shown(report.root, result.path)}: error: {printable(result.error)}", err=True)
    run.failed += len(failed)
    if not failed:
        return True
    run.refused = True  # as a refused plan: the summary must not say otherwise
    stuck = [shown(report.root, r.path) for r in results if r.written]
    if stuck:  # a write failed midway and these could not be put back
        _say(f"{PREFIX}: applied in part: {', '.join(stuck)} written and not put back; check them by hand")
    else:
        _say(f"{PREFIX}: not applied, nothing changed: {len(failed)} of the {len(results)} files to change "
             "could not be changed (above)")
    return False


def _say(text: str) -> None:
    click.echo(printable(text), err=True)


def _say_reaches(plan) -> None:
    """One line per package that may define tasks; the packages that cannot (installed here, no file mentioning
    Celery) only under --verbose."""
    from ..fixing.task_packages import can_define_tasks

    context = click.get_current_context(silent=True)
    verbose = bool(context is not None and context.params.get("verbose"))
    may = [(w, p, at) for w, p, at in plan.reaches if can_define_tasks(p, w)]
    cannot = [reach for reach in plan.reaches if reach not in may]
    if not may and not (verbose and cannot):
        return
    _say(f"{PREFIX}: warning: the global flag also reaches tasks the analysis cannot see; they stop storing "
         "results unless they set ignore_result=False:")
    for what, package, where in may:
        _say(f"  {package}  ({what} at {where})")
    if verbose:
        for what, package, where in cannot:
            _say(f"  {package}  ({what} at {where}; installed, no file mentions Celery)")
    elif cannot:
        _say(f"  ...and {len(cannot)} installed package{'s' if len(cannot) != 1 else ''} where no file mentions "
             "Celery (--verbose lists them)")


def _say_plan(plan, writing: bool) -> None:
    def done(what: str) -> str:  # "set x" -> "would set x", or "set x" / "removed x" / "wrote x"
        verb, _, rest = what.partition(" ")
        return f"{DONE.get(verb, verb)} {rest}" if writing else f"would {what}"

    if plan.setting is not None:
        s = plan.setting
        _say(f"{PREFIX}: {done(f'write {s.text}')} beside {s.beside} at {s.path}:{s.line}")
    for what, edits in plan.groups():
        _say(f"{PREFIX}: {done(what)} ({len(edits)}): {', '.join(e.label for e in edits)}")


DONE = {"write": "wrote", "remove": "removed"}
