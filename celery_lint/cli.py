"""``celery-lint [PATHS]``: a thin front end over the engine.

Exit status: 0 nothing found, 1 findings (or files that do not parse), 2 usage or configuration error.
"""
from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from . import __version__, config as config_module, engine


def _shown(root: Path, relative: str) -> str:
    """Paths are printed relative to the current directory when possible, like ruff and flake8."""
    absolute = root / relative
    try:
        return os.path.relpath(absolute)
    except ValueError:
        return str(absolute)


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

    findings = errors = fixed = 0
    for report in reports:
        for error in report.errors:
            relative, _, message = error.partition(": ")
            click.echo(f"{_shown(report.root, relative)}: error: {message}", err=True)
        errors += len(report.errors)
        if explain:
            _explain(report)
        if fix or diff:
            fixed += _apply(report, write=fix, show_diff=diff)
        remaining = [f for f in report.findings if not (fix and f.fix is not None)]
        for finding in remaining:
            click.echo(finding.format(_shown(report.root, finding.path)))
        findings += len(remaining)
    if not quiet:
        _summary_line(findings, fixed, errors, fix)
    if exit_zero:
        sys.exit(0)
    sys.exit(1 if findings or errors or (diff and fixed) else 0)


def _apply(report, write: bool, show_diff: bool) -> int:
    from .fixes import FixError, fix_files, write_atomically  # libcst only when fixing

    def read(path: Path) -> bytes:
        return path.read_bytes()

    try:
        changes = fix_files(report.root, report.findings, read)
    except FixError as exc:
        click.echo(f"celery-lint: error: fix not applied: {exc}", err=True)
        return 0
    count = 0
    for relative, (old, new) in changes.items():
        shown = _shown(report.root, relative)
        count += sum(1 for f in report.findings if f.path == relative and f.fix is not None)
        if show_diff:
            old_lines = old.decode("utf-8", "replace").splitlines(keepends=True)
            new_lines = new.decode("utf-8", "replace").splitlines(keepends=True)
            sys.stdout.writelines(difflib.unified_diff(old_lines, new_lines, f"a/{shown}", f"b/{shown}"))
        if write:
            write_atomically(report.root / relative, new)
    return count


def _explain(report) -> None:
    for task, verdict in sorted(report.verdicts, key=lambda tv: (tv[0].path, tv[0].line)):
        shown = _shown(report.root, task.path)
        click.echo(f"{shown}:{task.line}: {task.name or task.qualname}: {verdict.state}: {verdict.reason}")


def _summary_line(findings: int, fixed: int, errors: int, fix: bool) -> None:
    parts = []
    if fix:
        parts.append(f"fixed {fixed}")
    parts.append("no findings" if findings == 0 else f"{findings} finding{'s' if findings != 1 else ''}")
    if errors:
        parts.append(f"{errors} file{'s' if errors != 1 else ''} could not be parsed")
    click.echo("celery-lint: " + ", ".join(parts), err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
