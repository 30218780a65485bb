"""``celery-lint report [PATHS]``: the audit of every task's result storage, as a table, JSON or Markdown.

It finds the project and its configuration as ``check`` does (``engine.analyse`` with ``config.load``), and
reports on the tasks defined under PATHS. With ``--redis URL`` it also scans a live result backend (read-only)
and joins what it holds with the verdicts. Exit status: 0, or 2 for a usage, configuration or Redis error.

The report package (and LibCST, which it parses task bodies with) is imported only when the command runs:
``celery-lint check`` loads this module too, and a warm check must not pay for it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import config as config_module, discovery, engine
from ..config import ConfigError
from ..text import printable

FORMATS = ("table", "json", "markdown")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output-format", "output_format", type=click.Choice(FORMATS), default=None,
              help="table (default) for a terminal, markdown for a pull request, json for tools.")
@click.option("--format", "format_alias", type=click.Choice(FORMATS), default=None, hidden=True)  # its old name
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read settings from this TOML file instead of the project's pyproject.toml.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--redis", "redis_url", metavar="URL",
              help="Also scan this live result backend (read-only: SCAN, MEMORY USAGE, PTTL, GET on a sample).")
@click.option("--sample", type=click.IntRange(min=0), default=None, metavar="N",
              help="With --redis: inspect at most N result keys (default 1000).")
@click.option("--max-keys", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --redis: stop scanning after N keys or N SCAN calls (default 1,000,000).")
@click.option("--deadline", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="With --redis: give up the whole scan after this long (default 300).")
def report(paths, output_format, format_alias, config_file, no_cache, redis_url, sample, max_keys, deadline):
    """Audit PATHS (default: .): per task, is its result stored, read, worth keeping; what the fix saves."""
    output_format = _output_format(output_format, format_alias)
    for stream in (sys.stdout, sys.stderr):  # text from the linted code must never fail to print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if redis_url is None and (sample, max_keys, deadline) != (None, None, None):
        raise click.UsageError("--sample, --max-keys and --deadline go with --redis URL")
    paths = list(paths) or [Path(".")]
    try:
        configs = {}

        def load_config(root: Path):
            configs[root.resolve()] = config_module.load(root, config_file)
            return configs[root.resolve()]

        reports = engine.analyse(paths, load_config, use_cache=not no_cache)
    except ConfigError as exc:
        _fail(str(exc))
    from ..report import audit as audit_module, render
    from ..report.live import join

    targets = [discovery.lexical(p) for p in paths]
    audits = []
    for found in reports:
        _warn(found)
        audits.append(audit_module.build(found, _under(found.root, targets, configs[found.root.resolve()].unreported)))
    if not any(found.files for found in reports):
        click.echo("celery-lint: warning: no Python files found under the given paths", err=True)
    if redis_url is not None:
        scan = _scan(redis_url, sample=sample, max_keys=max_keys, deadline=deadline)
        for audit in audits:
            join(audit, scan)
    if output_format == "json":
        sys.stdout.write(render.to_json(audits))
    elif output_format == "markdown":
        sys.stdout.write(render.markdown(audits, _shown))
    else:
        sys.stdout.write(render.table(audits, _shown))


def _output_format(output_format, format_alias) -> str:
    if output_format and format_alias and output_format != format_alias:
        raise click.UsageError("-o/--output-format and --format (its old name) disagree")
    return output_format or format_alias or "table"


def _under(root: Path, targets, excluded: tuple):
    """The tasks reported: those defined under PATHS and not excluded (the whole project is analysed, as check
    does: what excluded files enqueue and read still counts)."""
    return lambda task: (discovery.under_any(root / task.path, targets)
                         and not (excluded and discovery.is_excluded(task.path, excluded)))


def _scan(url: str, **given):
    from ..redis_scan import RedisScanError, scan_results  # only --redis needs it

    options = {name: value for name, value in given.items() if value is not None}
    try:
        return scan_results(url, **options)
    except RedisScanError as exc:
        _fail(str(exc))


def _warn(found) -> None:
    """What ``check`` warns about on stderr; files that do not parse are listed in the report itself."""
    if not found.marked and found.files:
        click.echo(f"celery-lint: warning: no project root marker ({', '.join(engine.ROOT_MARKERS)}) above the "
                   f"paths; analysing {_shown_path(found.root)} as the project", err=True)
    if found.cache_refused is not None:
        directory, reason = found.cache_refused
        click.echo(f"celery-lint: warning: not using the cache directory {_shown_path(directory)}: {reason}",
                   err=True)
    for warning in found.warnings:
        click.echo(f"{_shown_path(found.root / warning.path)}: warning: {warning.message}", err=True)


def _shown(audit) -> str:
    return _shown_path(audit.root)


def _shown_path(path: Path) -> str:
    """Relative to the current directory when possible, like check's paths."""
    try:
        return printable(os.path.relpath(path))
    except ValueError:  # another drive
        return printable(str(path))


def _fail(message: str):
    click.echo(f"celery-lint: error: {message}", err=True)
    sys.exit(2)
