"""Reading the project's own small files (``pyproject.toml`` or ``--config FILE``, ``.gitignore``,
``.git/info/exclude``), which a repository controls like its code: one that is a FIFO hung the run, one that
links to ``/dev/zero`` read until memory ran out.

A project file is read only when it is a regular file (after following links) of at most
``MAX_PROJECT_FILE_SIZE`` bytes. It is opened without blocking (a FIFO swapped in after the check cannot hang
the open) and checked again once open, and at most one byte over the limit is read (a file that grows meanwhile
cannot take the memory). Anything else is ``Unreadable``, with a reason that completes ``path: ...``; the
caller decides what it costs (a config file: an error, as for a malformed one; an ignore file: a warning).
"""
from __future__ import annotations

import os
import stat

MAX_PROJECT_FILE_SIZE = 1_000_000  # bytes: a pyproject.toml or .gitignore is a few KB; 1 MB is far beyond any
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class Unreadable(Exception):
    """The file is not read; the message says why (``not a regular file``, ``cannot read: ...``)."""


def read_project_file(path) -> bytes:
    """The content of the regular file at ``path``, or ``Unreadable``."""
    try:
        _check(os.stat(path))
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            _check(os.fstat(handle.fileno()))  # what was opened, which may not be what was checked
            data = handle.read(MAX_PROJECT_FILE_SIZE + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_PROJECT_FILE_SIZE:  # it grew since the check
        raise Unreadable(_too_large())
    return data


def _check(info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise Unreadable("cannot read: Is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable("not a regular file (a FIFO, a device or a socket)")
    if info.st_size > MAX_PROJECT_FILE_SIZE:
        raise Unreadable(_too_large())


def _too_large() -> str:
    return f"over {MAX_PROJECT_FILE_SIZE // 1_000_000} MB, the limit for a project file"
