"""Settings from ``[tool.celery-lint]`` in pyproject.toml (or ``--config FILE``), ruff-style keys."""
from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .discovery import DEFAULT_EXCLUDES
from .rules import KNOWN_CODES
DEFAULT_MAX_FILE_SIZE = 10_000_000
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*", re.IGNORECASE)
_UNITS = {None: 1, "B": 1, "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000}


class ConfigError(Exception):
    """Bad configuration or usage: the CLI exits with status 2."""


@dataclass(frozen=True)
class Config:
    select: tuple = KNOWN_CODES
    ignore: tuple = ()
    exclude: tuple = DEFAULT_EXCLUDES
    extend_exclude: tuple = ()
    per_file_ignores: Dict[str, tuple] = field(default_factory=dict)
    task_decorators: tuple = ()  # dotted names of project decorators that make Celery tasks
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; a larger file is reported and not read

    @property
    def excludes(self) -> tuple:
        return tuple(self.exclude) + tuple(self.extend_exclude)

    def enabled(self, code: str, relative_path: str) -> bool:
        if not any(code.startswith(prefix) for prefix in self.select):
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


def _codes(value, key: str) -> tuple:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of rule codes, got {value!r}")
    for code in value:
        if code != "ALL" and not any(known.startswith(code.upper()) for known in KNOWN_CODES):
            raise ConfigError(f"{key}: unknown rule code {code!r} (known: {', '.join(KNOWN_CODES)})")
    return tuple("CEL" if v.upper() == "ALL" else v.upper() for v in value)


def _strings(value, key: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings, got {value!r}")
    return tuple(value)


def _file_size(value) -> int:
    """``max-file-size``: bytes, or a string such as ``"10MB"`` or ``"512 KB"``."""
    if type(value) is int and value > 0:
        return value
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"max-file-size must be a size such as \"10MB\" or a number of bytes, got {value!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper() if match.group(2) else None])


def parse_codes(text: Optional[str], key: str) -> Optional[tuple]:
    """``--select CEL001,CEL002`` from the command line."""
    if text is None:
        return None
    return _codes([part.strip() for part in text.split(",") if part.strip()], key)


def from_table(table: dict, source: str) -> Config:
    known = {"select", "ignore", "exclude", "extend-exclude", "per-file-ignores", "task-decorators", "max-file-size"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{source}: unknown option(s) {', '.join(sorted(unknown))} in [tool.celery-lint]")
    config = Config()
    values = {}
    if "select" in table:
        values["select"] = _codes(table["select"], "select")
    if "ignore" in table:
        values["ignore"] = _codes(table["ignore"], "ignore")
    if "exclude" in table:
        values["exclude"] = _strings(table["exclude"], "exclude")
    if "extend-exclude" in table:
        values["extend_exclude"] = _strings(table["extend-exclude"], "extend-exclude")
    if "task-decorators" in table:
        values["task_decorators"] = _strings(table["task-decorators"], "task-decorators")
    if "max-file-size" in table:
        values["max_file_size"] = _file_size(table["max-file-size"])
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError("per-file-ignores must be a table of glob = [codes]")
        values["per_file_ignores"] = {glob: _codes(codes, f"per-file-ignores.{glob}") for glob, codes in pfi.items()}
    return replace(config, **values)


def load(root: Path, explicit: Optional[Path] = None) -> Config:
    """Read the project's config; ``explicit`` is ``--config FILE`` (pyproject.toml or a bare table)."""
    path = explicit or root / "pyproject.toml"
    if not path.exists() and not path.is_symlink():
        if explicit is not None:
            raise ConfigError(f"config file not found: {explicit}")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise ConfigError(f"{path}: invalid TOML: {reason}") from None
    if path.name == "pyproject.toml" or "tool" in data:
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: [tool] must be a table")
        table = tool.get("celery-lint", {})
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.celery-lint] must be a table")
    return from_table(table, str(path))
