"""``celery-lint [PATHS]``: a thin front end over the engine.

Exit status: 0 nothing found, 1 findings (or files that do not parse), 2 usage or configuration error.
"""
from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from .. import __version__, config as config_module, engine
from ..text import printable


def _shown(root: Path, relative: str) -> str:
    """Paths are printed relative to the current directory when possible, like ruff and flake8."""
    absolute = root / relative
    try:
        return printable(os.path.relpath(absolute))
    except ValueError:
        return printable(str(absolute))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--fix", is_flag=True, help="Apply the fixes to the files.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--select", metavar="CODES", help="Comma-separated rule codes (or prefixes) to enable.")
@click.option("--ignore", metavar="CODES", help="Comma-separated rule codes (or prefixes) to disable.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read settings from this TOML file instead of the project's pyproject.toml.")
@click.option("--explain", is_flag=True, help="Also print every task with what the analysis concluded and why.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache directory (default: .celery_lint_cache in the project root).")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary line.")
@click.version_option(__version__, "--version", prog_name="celery-lint")
def main(paths, fix, diff, select, ignore, exit_zero, config_file, explain, no_cache, cache_dir, quiet):
    """Find Celery tasks whose results are stored but never read (CEL001), or read but not stored (CEL002).

    PATHS (default: .) are reported on; the whole project around them is analysed.
    """
    for stream in (sys.stdout, sys.stderr):  # text from the linted code must never fail to print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        overrides = dict(
            select=config_module.parse_codes(select, "--select"),
            ignore=config_module.parse_codes(ignore, "--ignore"),
        )

        def load_config(root: Path):
            return config_module.load(root, config_file).with_overrides(**overrides)

        reports = engine.analyse(list(paths) or [Path(".")], load_config, cache_dir=cache_dir, use_cache=not no_cache)
    except config_module.ConfigError as exc:
        click.echo(f"celery-lint: error: {exc}", err=True)
        sys.exit(2)

    findings = errors = fixed = fix_errors = 0
    for report in reports:
        if report.cache_refused is not None:
            directory, reason = report.cache_refused
            click.echo(f"celery-lint: warning: not using the cache directory {_shown(Path.cwd(), str(directory))}: "
                       f"{reason}", err=True)
        for warning in report.warnings:
            click.echo(f"{_shown(report.root, warning.path)}: warning: {warning.message}", err=True)
        for error in report.errors:
            click.echo(f"{_shown(report.root, error.path)}: error: {error.message}", err=True)
        errors += len(report.errors)
        if explain:
            _explain(report)
        written: set = set()
        if fix or diff:
            count, failed, written = _apply(report, write=fix and not diff, show_diff=diff)
            fixed += count
            fix_errors += failed
        remaining = [f for f in report.findings if f.path not in written or f.fix is None]
        for finding in remaining:
            click.echo(finding.format(_shown(report.root, finding.path)))
        findings += len(remaining)
    if not quiet:
        _summary_line(findings, fixed, errors + fix_errors, fix and not diff)
    if fix_errors:
        sys.exit(2)  # a fix that could not be applied: the user must look, even with --exit-zero
    if exit_zero:
        sys.exit(0)
    sys.exit(1 if findings or errors or (diff and fixed) else 0)


def _apply(report, write: bool, show_diff: bool):
    """(fixes applied, files that could not be fixed, files written)."""
    from ..fixing.writing import fix_report

    count, failed, written = 0, 0, set()
    for result in fix_report(report, write):
        shown = _shown(report.root, result.path)
        if result.error is not None:
            click.echo(f"{shown}: error: {printable(result.error)}", err=True)
            failed += 1
        elif result.new is not None:
            if show_diff:
                _print_diff(shown, result.old, result.new)
            if write:
                written.add(result.path)
            count += result.fixes
    return count, failed, written


def _print_diff(shown: str, old: bytes, new: bytes) -> None:
    encoding = _encoding(old)
    old_lines = old.decode(encoding, "replace").splitlines(keepends=True)
    new_lines = new.decode(encoding, "replace").splitlines(keepends=True)
    sys.stdout.writelines(difflib.unified_diff(old_lines, new_lines, f"a/{shown}", f"b/{shown}"))


def _encoding(source: bytes) -> str:
    """The file's own encoding (its coding cookie or BOM), as Python reads it."""
    import io
    import tokenize

    try:
        return tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    except SyntaxError:
        return "utf-8"


def _explain(report) -> None:
    for task, verdict in sorted(report.verdicts, key=lambda tv: (tv[0].path, tv[0].line)):
        shown = _shown(report.root, task.path)
        click.echo(f"{shown}:{task.line}: {printable(task.name or task.qualname)}: {verdict.state}: "
                   f"{printable(verdict.reason)}")


def _summary_line(findings: int, fixed: int, errors: int, fix: bool) -> None:
    parts = []
    if fix:
        parts.append(f"fixed {fixed}")
    parts.append("no findings" if findings == 0 else f"{findings} finding{'s' if findings != 1 else ''}")
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    click.echo("celery-lint: " + ", ".join(parts), err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
