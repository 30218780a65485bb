"""Settings from ``[tool.celery-lint]`` in pyproject.toml (or ``--config FILE``), ruff-style keys.

Every key has one type, checked the same way wherever it is set: a list is a list (``select = "CEL001"`` is
an error that shows the list form), a size is a size. ``[tool.celery_lint]`` is the same table.
"""
from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Optional, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .discovery import DEFAULT_EXCLUDES
from .project_files import Unreadable, read_project_file
from .rules import DEFAULT_CODES, KNOWN_CODES, OPT_IN_CODES

DEFAULT_MAX_FILE_SIZE = 10_000_000
STRATEGIES = ("per-task", "global")  # how --fix stops unread results being stored
OUTPUT_FORMATS = ("concise", "full", "json", "json-lines", "github", "gitlab", "sarif", "junit")
TABLES = ("celery-lint", "celery_lint")  # [tool.celery-lint], or the same with an underscore
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*", re.IGNORECASE)
_UNITS = {None: 1, "B": 1, "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000}


class ConfigError(Exception):
    """Bad configuration or usage: the CLI exits with status 2."""


@dataclass(frozen=True)
class Config:
    select: tuple = DEFAULT_CODES
    extend_select: tuple = ()
    ignore: tuple = ()
    exclude: tuple = DEFAULT_EXCLUDES
    extend_exclude: tuple = ()
    per_file_ignores: Dict[str, tuple] = field(default_factory=dict)
    task_decorators: tuple = ()  # dotted names of project decorators that make Celery tasks
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; a larger file is reported and not read
    respect_gitignore: bool = True
    output_format: str = "concise"
    strategy: str = "per-task"
    assume_backend: bool = False  # report unread results even where no result backend is configured

    @property
    def excludes(self) -> tuple:
        return tuple(self.exclude) + tuple(self.extend_exclude)

    @property
    def outside_project(self) -> tuple:
        """The default excludes in use (virtualenvs, build output, VCS folders): not part of the project at all."""
        return tuple(p for p in self.excludes if p in DEFAULT_EXCLUDES)

    @property
    def unreported(self) -> tuple:
        """The user's own excludes: not reported nor fixed, but still part of the project, so that a result
        read there (a script, a management command) still counts as read."""
        return tuple(p for p in self.excludes if p not in DEFAULT_EXCLUDES)

    def enabled(self, code: str, relative_path: str) -> bool:
        selected = (*self.select, *self.extend_select)
        if code in OPT_IN_CODES and code not in selected:
            return False  # an opt-in rule is never turned on by a prefix (``CEL``): only by its own code
        if not any(code.startswith(prefix) for prefix in selected):
            return False
        if any(code.startswith(prefix) for prefix in self.ignore):
            return False
        for pattern, codes in self.per_file_ignores.items():
            if _matches(relative_path, pattern) and any(code.startswith(prefix) for prefix in codes):
                return False
        return True

    def with_overrides(self, **overrides) -> "Config":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _matches(relative_path: str, pattern: str) -> bool:
    return fnmatch.fnmatch(relative_path, pattern) or fnmatch.fnmatch(Path(relative_path).name, pattern)


def _strings(value, key: str, example: str = '["..."]') -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings, such as {key} = {example}; got {value!r}")
    return tuple(value)


def codes(values: Sequence[str], key: str) -> tuple:
    """Rule codes or prefixes (``CEL``, ``CEL001``, ``ALL``), upper-cased, each one known."""
    for code in values:
        if code.upper() != "ALL" and not any(known.startswith(code.upper()) for known in KNOWN_CODES):
            raise ConfigError(f"{key}: unknown rule code {code!r} (known: {', '.join(KNOWN_CODES)})")
    return tuple("CEL" if v.upper() == "ALL" else v.upper() for v in values)


def _codes(value, key: str) -> tuple:
    return codes(_strings(value, key, '["CEL001"]'), key)


def _file_size(value, key: str = "max-file-size") -> int:
    """``max-file-size``: bytes, or a string such as ``"10MB"`` or ``"512 KB"``."""
    if type(value) is int and value > 0:
        return value
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f'{key} must be a size such as "10MB" or a number of bytes, got {value!r}')
    size = int(float(match.group(1)) * _UNITS[match.group(2).upper() if match.group(2) else None])
    if size < 1:  # "0.0000001KB" rounds to nothing: every file would be skipped
        raise ConfigError(f'{key} must be at least 1 byte, got {value!r} (under 1 byte); give a size such as "10MB"')
    return size


def _boolean(value, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return value


def _output_format(value, key: str = "output-format") -> str:
    if value not in OUTPUT_FORMATS:
        raise ConfigError(f"{key} must be one of {', '.join(OUTPUT_FORMATS)}; got {value!r}")
    return value


def _strategy(value, key: str = "strategy") -> str:
    if value not in STRATEGIES:
        raise ConfigError(f"{key} must be one of {', '.join(STRATEGIES)}; got {value!r}")
    return value


def _per_file_ignores(value, key: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f'{key} must be a table of glob = [codes], such as {key} = {{ "legacy/*.py" = ["CEL001"] }}')
    return {glob: _codes(found, f"{key}.{glob}") for glob, found in value.items()}


# key -> (Config field, how its value is read)
_KEYS = {
    "select": ("select", _codes),
    "extend-select": ("extend_select", _codes),
    "ignore": ("ignore", _codes),
    "exclude": ("exclude", _strings),
    "extend-exclude": ("extend_exclude", _strings),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "task-decorators": ("task_decorators", lambda value, key: _strings(value, key, '["myproject.jobs.task"]')),
    "max-file-size": ("max_file_size", _file_size),
    "respect-gitignore": ("respect_gitignore", _boolean),
    "output-format": ("output_format", _output_format),
    "strategy": ("strategy", _strategy),
    "assume-backend": ("assume_backend", _boolean),
}


def from_table(table: dict, source: str) -> Config:
    """``source`` names the table in messages (``pyproject.toml [tool.celery-lint]``)."""
    unknown = set(table) - set(_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown option(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    values = {}
    for key, value in table.items():
        name, read = _KEYS[key]
        try:
            values[name] = read(value, key)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return replace(Config(), **values)


def load(root: Path, explicit: Optional[Path] = None) -> Config:
    """Read the project's config; ``explicit`` is ``--config FILE`` (a pyproject.toml, or a file whose top
    level is the table itself)."""
    path = explicit or root / "pyproject.toml"
    if not path.exists() and not path.is_symlink():
        if explicit is not None:
            raise ConfigError(f"config file not found: {explicit}")
        return Config()
    try:
        data = tomllib.loads(read_project_file(path).decode("utf-8"))
    except Unreadable as exc:  # a FIFO or /dev/zero stops the run as a malformed file does, at once
        raise ConfigError(f"{path}: {exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise ConfigError(f"{path}: invalid TOML: {reason}") from None
    if path.name != "pyproject.toml" and "tool" not in data:
        return from_table(data, str(path))
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    present = [name for name in TABLES if name in tool]
    if len(present) > 1:
        raise ConfigError(f"{path}: both [tool.celery-lint] and [tool.celery_lint]: keep one")
    name = present[0] if present else TABLES[0]
    table = tool.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{name}] must be a table")
    return from_table(table, f"{path} [tool.{name}]")
