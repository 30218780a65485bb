"""``celery-lint [check] [PATHS]``, ``celery-lint rule CODE``: the command line, over the one engine.

Exit status of ``check``: 0 nothing found, 1 findings (or files that do not parse or cannot be read), 2 usage or
configuration error, or a fix that could not be applied; 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import gc
import os
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional, Sequence

import click

from .. import __version__, config as config_module, engine
from ..config import OUTPUT_FORMATS, STRATEGIES, ConfigError
from ..rules import RULES, rule_for
from ..text import printable, python_lines
from . import output

INTERRUPTED = 130  # 128 + SIGINT, the status a shell gives a command Ctrl-C stopped


def _shown(root: Path, relative: str) -> str:
    """Paths are printed relative to the current directory when possible, like ruff and flake8."""
    absolute = root / relative
    try:
        return printable(os.path.relpath(absolute))
    except ValueError:
        return printable(str(absolute))


class _CheckByDefault(click.Group):
    """``celery-lint [OPTIONS] [PATHS]`` is ``celery-lint check [OPTIONS] [PATHS]`` (a path named like a
    command can be given as ``./rule``)."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        """Ctrl-C (SIGINT) ends the run with one line and status 130, as a shell reports it, not click's
        ``Aborted!`` and status 1 (the worker processes are stopped on the way out)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("celery-lint: interrupted", err=True)
            ctx.exit(INTERRUPTED)

    def format_options(self, ctx, formatter):
        """``celery-lint --help`` also lists check's options (the command run without one), as ruff's does."""
        super().format_options(ctx, formatter)
        check_command = self.commands["check"]
        options = [param for param in check_command.get_params(ctx)
                   if isinstance(param, click.Option) and "--help" not in param.opts]
        with formatter.section("Options of check (celery-lint [OPTIONS] [PATHS])"):
            formatter.write_dl([row for row in map(lambda option: option.get_help_record(ctx), options) if row])


@click.group(cls=_CheckByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="celery-lint")
def main():
    """Find Celery tasks whose results are stored but never read (CEL001), or read but not stored (CEL002).

    Run without a command, celery-lint checks: `celery-lint [OPTIONS] [PATHS]` is `celery-lint check ...`.
    """


def _codes(values: Sequence[str], option: str) -> Optional[tuple]:
    """``--select A,B --select C``: every use of the option adds up."""
    if not values:
        return None
    return config_module.codes([part.strip() for value in values for part in value.split(",") if part.strip()], option)


@main.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--fix", is_flag=True, help="Apply the fixes to the files.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing (also with --fix).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default=None,
              help="per-task: ignore_result=True on each unread task (default); global: task_ignore_result = True "
                   "where the backend is configured, ignore_result=False on each task whose result may be read.")
@click.option("--assume-backend", is_flag=True, default=None,
              help="Report unread results even where no result backend is configured (assume-backend in the config).")
@click.option("--show-fixes", is_flag=True, help="List what was fixed (with --fix) or can be fixed.")
@click.option("--add-noqa", is_flag=True, help="Add '# noqa: CODE' where each finding is reported, and nothing else.")
@click.option("--select", multiple=True, metavar="CODES", help="Rule codes or prefixes to enable (comma-separated; repeatable).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Rule codes to enable on top of those selected.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rule codes or prefixes to disable (comma-separated; repeatable).")
@click.option("--exclude", multiple=True, metavar="PATTERNS",
              help="Paths to exclude, replacing the defaults (comma-separated; repeatable). Excluded files are not "
                   "reported or fixed, but what they enqueue and read still counts.")
@click.option("--extend-exclude", multiple=True, metavar="PATTERNS",
              help="Paths to exclude on top of the defaults and config (not reported; their reads still count).")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip what .gitignore files ignore (default: yes).")
@click.option("-o", "--output-format", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="How findings are printed (default: concise, or output-format in the config).")
@click.option("--statistics", is_flag=True, help="Print how many findings each rule has, instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when --fix fixed something, even if nothing is left.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read settings from this TOML file instead of the project's pyproject.toml.")
@click.option("--explain", is_flag=True, help="Also print every task with what the analysis concluded and why "
                                             "(celery-lint explain TASK... for some).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache directory (default: .celery_lint_cache in the project root).")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("-v", "--verbose", is_flag=True, help="Print the full lists (--strategy global: every package the flag reaches).")
def check(paths, fix, diff, strategy, assume_backend, show_fixes, add_noqa, select, extend_select, ignore, exclude, extend_exclude,
          respect_gitignore, output_format, statistics, exit_zero, exit_non_zero_on_fix, config_file, explain,
          no_cache, cache_dir, quiet, verbose):
    """Check PATHS (default: .); the whole project around them is analysed."""
    for stream in (sys.stdout, sys.stderr):  # text from the linted code must never fail to print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        overrides = dict(
            select=_codes(select, "--select"), extend_select=_codes(extend_select, "--extend-select"),
            ignore=_codes(ignore, "--ignore"), exclude=_patterns(exclude), extend_exclude=_patterns(extend_exclude),
            respect_gitignore=respect_gitignore, output_format=output_format, strategy=strategy,
            assume_backend=assume_backend or None,
        )

        configs = {}

        def load_config(root: Path):
            configs[root] = config_module.load(root, config_file).with_overrides(**overrides)
            return configs[root]

        reports = engine.analyse(list(paths) or [Path(".")], load_config, cache_dir=cache_dir, use_cache=not no_cache)
    except ConfigError as exc:
        click.echo(f"celery-lint: error: {exc}", err=True)
        sys.exit(2)
    _refuse_statistics_format(statistics, configs.values())
    run = _Run(quiet, show_fixes, statistics, output.Color.for_stream(sys.stdout))
    for report in reports:
        run.notes(report)
        if explain:
            run.explain(report, configs[report.root.resolve()])
        if add_noqa:
            run.add_noqa(report, write=not diff, show_diff=diff)
        elif configs[report.root.resolve()].strategy == "global":
            from .global_fix import run_global

            run_global(run, report, fix, diff, _shown, _print_diff)
        elif fix or diff:
            run.apply(report, write=fix and not diff, show_diff=diff)
        run.collect(report, configs[report.root.resolve()].output_format)
    run.finish(fix and not diff, add_noqa, diff)
    if run.failed:
        sys.exit(2)  # a fix that could not be applied: the user must look, even with --exit-zero
    if exit_zero:
        sys.exit(0)
    changed = run.fixed if fix and not diff else 0
    sys.exit(1 if run.remaining or run.errors or (diff and (run.fixable or run.noqa_added)) or (exit_non_zero_on_fix and changed) else 0)


STATISTICS_FORMATS = ("concise", "full", "json")  # as ruff: a table, or JSON


def _refuse_statistics_format(statistics: bool, configs) -> None:
    """``--statistics`` prints a table or JSON; any other format is refused before anything is fixed, as ruff does."""
    refused = sorted({c.output_format for c in configs if c.output_format not in STATISTICS_FORMATS}) if statistics else []
    if refused:
        click.echo(f"celery-lint: error: --statistics cannot be printed as {refused[0]} "
                   f"(use --output-format {', '.join(STATISTICS_FORMATS)})", err=True)
        sys.exit(2)


def _patterns(values: Sequence[str]) -> Optional[tuple]:
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


class _Run:
    """What one ``check`` prints, across the projects its paths belong to."""

    def __init__(self, quiet: bool, show_fixes: bool, statistics: bool, color: output.Color):
        self.quiet, self.show_fixes, self.statistics, self.color = quiet, show_fixes, statistics, color
        self.remaining: List[output.Located] = []
        self.fixed_findings: List[tuple] = []  # (shown path, finding) fixed by --fix
        self.fixed = self.errors = self.failed = self.noqa_added = self.files = 0
        self.hidden: List[str] = []  # one line per project whose findings no backend hides
        self.refused = False  # --strategy global refused its plan: no fix is on offer
        self.format = "concise"

    @property
    def fixable(self) -> int:
        return sum(1 for item in self.remaining if item.finding.fix is not None)

    def notes(self, report) -> None:
        if not report.marked and report.files:
            click.echo(f"celery-lint: warning: no project root marker ({', '.join(engine.ROOT_MARKERS)}) above the "
                       f"paths; analysing {_shown(report.root, '.')} as the project", err=True)
        if report.cache_refused is not None:
            directory, reason = report.cache_refused
            click.echo(f"celery-lint: warning: not using the cache directory {_shown(Path.cwd(), str(directory))}: "
                       f"{reason}", err=True)
        for warning in report.warnings:
            click.echo(f"{_shown(report.root, warning.path)}: warning: {warning.message}", err=True)
        for error in report.errors:
            click.echo(f"{_shown(report.root, error.path)}: error: {error.message}", err=True)
        self.errors += len(report.errors)
        self.files += report.files
        if report.hidden_without_backend:
            self.hidden.append(_hidden_line(report))

    def explain(self, report, config) -> None:
        from .explain import explain_lines

        for line in explain_lines(report, config, lambda path: _shown(report.root, path)):
            click.echo(line)

    def apply(self, report, write: bool, show_diff: bool) -> None:
        from ..fixing.writing import fix_report

        results = fix_report(report, write)
        self.say_writes(report, results, write, show_diff)
        written = {result.path for result in results if result.written}
        fixed = [f for f in report.findings if f.path in written and f.fix is not None]
        self.fixed += len(fixed)
        self.fixed_findings += [(_shown(report.root, f.path), f) for f in fixed]
        report.findings = [f for f in report.findings if not (f.path in written and f.fix is not None)]

    def add_noqa(self, report, write: bool, show_diff: bool) -> None:
        from ..fixing.noqa import add_noqa

        results = add_noqa(report, write)
        self.say_writes(report, results, write, show_diff)
        self.noqa_added += sum(result.fixes for result in results if result.written or show_diff and result.new)
        report.findings = []

    def say_writes(self, report, results, write: bool, show_diff: bool) -> None:
        """Each file's error on stderr, what was held back because of them, and the diffs (with --diff)."""
        for result in results:
            if result.error is not None:
                click.echo(f"{_shown(report.root, result.path)}: error: {printable(result.error)}", err=True)
                self.failed += 1
            elif result.new is not None and show_diff:
                _print_diff(_shown(report.root, result.path), result.old, result.new)
        held = sum(result.held for result in results)
        if write and held:
            click.echo(f"celery-lint: nothing written: every file is written or none, so {held} other "
                       f"file{'s' if held != 1 else ''} stayed as {'it was' if held == 1 else 'they were'}; fix the "
                       "errors above and run again", err=True)

    def collect(self, report, output_format: str) -> None:
        self.format = output_format
        fixed = None
        if output_format in output.NEEDS_EDITS and any(f.fix for f in report.findings):
            from ..fixing.writing import fix_report

            fixed = {r.path: (r.old, r.new) for r in fix_report(report, write=False) if r.new is not None}
        self.remaining += output.locate(report, report.findings, lambda path: _shown(report.root, path), fixed)

    def finish(self, fixing: bool, add_noqa: bool, diff: bool) -> None:
        if not self.files:
            click.echo("celery-lint: warning: no Python files found under the given paths", err=True)
            return
        items = sorted(self.remaining, key=lambda item: (item.shown, item.finding.line, item.finding.col))
        if diff:
            self._diff_summary(items, add_noqa)
            return
        if self.statistics:
            self._statistics(items)
        else:
            sys.stdout.write(output.FORMATS[self.format](items, self.color))
        if self.format not in output.TEXT_FORMATS or self.quiet:
            return
        if add_noqa:
            click.echo(f"Added {self.noqa_added} noqa directive{'s' if self.noqa_added != 1 else ''}.")
            return
        if self.show_fixes:
            self._show_fixes(items, fixing)
        summary = self._summary(len(items), fixing)
        if summary:
            click.echo(summary)
        for line in self.hidden:
            click.echo(line)

    def _diff_summary(self, items: List[output.Located], add_noqa: bool) -> None:
        """With --diff, stdout holds the diff alone (it can go to ``git apply``); the count goes to stderr."""
        if self.quiet or self.refused:  # a refused --strategy global said so: it would fix nothing
            return
        if add_noqa:
            count = self.noqa_added
            click.echo(f"Would add {count} noqa directive{'s' if count != 1 else ''}.", err=True)
            return
        count, left = self.fixable, len(items) - self.fixable
        click.echo(f"Would fix {count} error{'s' if count != 1 else ''}"
                   f"{f' ({left} not fixable)' if left else ''}.", err=True)

    def _summary(self, remaining: int, fixing: bool) -> str:
        total = remaining + self.fixed
        if total == 0 and not self.errors:
            return "" if self.refused else "All checks passed!"
        noun = "error" if total == 1 else "errors"
        if fixing and self.fixed:
            return f"Found {total} {noun} ({self.fixed} fixed, {remaining} remaining)."
        line = f"Found {total} {noun}."
        if self.fixable and not self.refused:
            line += f"\n{self.color.fixable('[*]')} {self.fixable} fixable with --fix."
        return line

    def _statistics(self, items: List[output.Located]) -> None:
        counts = Counter(item.finding.code for item in items)
        fixable = {item.finding.code for item in items if item.finding.fix is not None}
        rows = [{"code": code, "name": rule_for(code).name if rule_for(code) else "", "count": count,
                 "fixable": code in fixable} for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        if self.format == "json":  # ruff's fields
            import json

            click.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            click.echo(f"{row['count']:>5}\t{row['code']}\t{'[*]' if row['fixable'] else '   '} {row['name']}")

    def _show_fixes(self, items: List[output.Located], fixing: bool) -> None:
        if fixing:
            entries = self.fixed_findings
            title = f"Fixed {len(entries)} error{'s' if len(entries) != 1 else ''}:"
        else:
            entries = [(item.shown, item.finding) for item in items if item.finding.fix is not None]
            title = f"{len(entries)} fixable with --fix:"
        if not entries:
            return
        click.echo(title)
        by_path: dict = {}
        for shown, finding in entries:
            by_path.setdefault(shown, Counter())[finding.code] += 1
        for shown, counts in sorted(by_path.items()):
            click.echo(f"- {shown}:")
            for code, count in sorted(counts.items()):
                rule = rule_for(code)
                click.echo(f"    {count} × {code} ({rule.name if rule else code})")


def _hidden_line(report) -> str:
    """Said once: without a result backend nothing is stored, so unread results are not findings."""
    hidden = report.hidden_without_backend
    where = report.settings.no_backend_at if report.settings is not None else None
    at = f" ({_shown(report.root, where)})" if where else ""
    results = "unread result is" if hidden == 1 else "unread results are"
    return (f"No result backend is configured{at}: {hidden} {results} not reported. If one is configured where "
            "celery-lint cannot see, set assume-backend = true in [tool.celery-lint] (or pass --assume-backend).")


def _print_diff(shown: str, old: bytes, new: bytes) -> None:
    import difflib  # only for --diff

    encoding = _encoding(old)
    old_lines = python_lines(old.decode(encoding, "replace"), keepends=True)
    new_lines = python_lines(new.decode(encoding, "replace"), keepends=True)
    sys.stdout.writelines(difflib.unified_diff(old_lines, new_lines, f"a/{shown}", f"b/{shown}"))


def _encoding(source: bytes) -> str:
    """The file's own encoding (its coding cookie or BOM), as Python reads it."""
    import io
    import tokenize

    try:
        return tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    except SyntaxError:
        return "utf-8"


@main.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Every rule.")
def rule(code, show_all):
    """Print a rule's documentation: what it reports, why it matters, examples, and the fix."""
    if show_all:
        rules = list(RULES)
    elif code is None:
        raise click.UsageError("give a rule code (celery-lint rule CEL001) or --all")
    else:
        found = rule_for(code)
        if found is None:
            click.echo(f"celery-lint: error: unknown rule {code!r} (known: {', '.join(r.code for r in RULES)})", err=True)
            sys.exit(2)
        rules = [found]
    click.echo("\n\n".join(rule_documentation(r) for r in rules))


def rule_documentation(rule) -> str:
    """A rule's documentation in Markdown (README's rule sections are this text)."""
    parts = [f"### {rule.code} {rule.name}", "", f"{rule.summary[0].upper()}{rule.summary[1:]}.", "",
             f"**Why:** {rule.why}", "", f"**Fix:** {rule.fix}."]
    example = rule.INVALID[0]
    parts += ["", "Reported:", "", "```python"]
    for relative, text in example.files.items():
        parts += [f"# {relative}", text.rstrip("\n"), ""]
    parts[-1:] = ["```", "", "```", example.finding, "```"]
    if example.fixed:
        parts += ["", "Fixed by `celery-lint --fix`:", "", "```python"]
        for relative, text in example.fixed.items():
            parts += [f"# {relative}", text.rstrip("\n")]
        parts += ["```"]
    return "\n".join(parts)


# ``report`` lives in its own module; registered here, it is a command name, never taken for a path.
from .report_command import report as report_command  # noqa: E402

main.add_command(report_command)

from .explain import explain as explain_command  # noqa: E402

main.add_command(explain_command)


def run() -> None:
    """The ``celery-lint`` command: ``main`` in a process of its own. Everything loaded before the command runs
    (modules, classes), and everything it builds, lives until the process ends: frozen (``gc.freeze``), the
    garbage collector never walks it again, mid-run or at exit, where it cost a tenth of a warm run."""
    gc.freeze()
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
