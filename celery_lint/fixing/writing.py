"""Putting fixed files on disk without breaking anything around them.

All or nothing (``write_all``): every file a run would change is checked before the first is written (a
writable regular file, inside the project, unchanged since analysed); if one fails, none is written. A write
that still fails midway (a full disk, an editor saving meanwhile) puts back the files already written.

Each file: a fix replaces the file in one step (a temporary file in the same directory, then a rename), so a crash never
leaves half a file. It writes through a symbolic link to the file it names, inside the project only; it keeps
the file's mode, owner and group, or writes nothing. It leaves alone a file it cannot replace without damage
(read-only, hard-linked: a rename would break the other links) and a file whose content is no longer what was
analysed (the user edited it during the run): each of these is a message naming the file, never a traceback.

The temporary file is ``.{name}.XXXXXXXX.celery-lint`` beside the file. A run killed by SIGKILL (which no
handler sees) between writing it and the rename leaves it behind, so before the first write into a directory a
run removes the leftovers of ours there: regular files (never links) whose whole name has that shape and that
are over ``STALE_AFTER_S`` old. A run writing at the same moment is safe: its temporary file lives a few
milliseconds, far less than that. Discovery never analyses them either: their names do not end in ``.py``.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

CHANGED = "changed since it was analysed; not fixed (run celery-lint again)"
OWNED = "owned by another user or group; not fixed (its owner would change)"
TEMP_SUFFIX = ".celery-lint"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX), re.DOTALL)  # mkstemp: 8 of [a-z0-9_]
STALE_AFTER_S = 60  # a temporary file of a live run lives milliseconds; one this old was left by a killed run
_swept: Set[str] = set()  # directories already cleared by this process


class WriteRefused(Exception):
    """The fix was not written; the message says why."""


class NotFixable(WriteRefused):
    """This file's fix cannot be made (its findings stay reported); the other files are still written."""


@dataclass
class FileFix:
    """What fixing one file did: its content before and after, or why it was left as it was."""

    path: str  # relative to the root
    fixes: int  # findings fixed in it
    old: bytes = b""
    new: Optional[bytes] = None  # None when nothing changed or it could not be fixed
    error: Optional[str] = None
    skipped: bool = False  # its fix could not be made (NotFixable): it costs only itself
    written: bool = False
    held: bool = False  # could be written, but another file of the same run could not: left as it was


def fix_report(report, write: bool) -> List[FileFix]:
    """Apply (or with ``write=False`` only compute) the fixes of ``report``, each file on its own: a file is
    fixed only while its content is still what was analysed, and a file that cannot be fixed costs only itself."""
    from .edits import FixError, apply_fixes  # libcst only when fixing

    by_path: Dict[str, list] = {}
    for finding in report.findings:
        if finding.fix is not None:
            by_path.setdefault(finding.path, []).append(finding.fix)
    done = []
    for relative, fixes in sorted(by_path.items()):
        result = FileFix(relative, len(fixes))
        try:
            result.old = read_as_analysed(report, relative)
            try:
                new = apply_fixes(result.old, fixes)
            except FixError as exc:
                raise NotFixable(f"fix not applied: {exc}") from None
            if new != result.old:
                result.new = new
        except WriteRefused as exc:
            result.error, result.skipped = str(exc), isinstance(exc, NotFixable)
        done.append(result)
    if write:
        write_all(report.root, done)
    return done


def write_all(root: Path, results: List[FileFix]) -> None:
    """Write every result that has new content, or none: each is checked first; a failure midway puts back
    what was written. Sets ``written``, or ``error`` on the file that failed and ``held`` on the others."""
    planned = [r for r in results if r.new is not None and r.error is None]
    for result in planned:
        try:
            check_target(root / result.path, root, result.old)
        except WriteRefused as exc:
            result.error = str(exc)
    if not any(r.error is not None and not r.skipped for r in results):
        _write_in_turn(root, planned)
    for result in planned:
        result.held = result.error is None and not result.written


def _write_in_turn(root: Path, planned: List[FileFix]) -> None:
    for index, result in enumerate(planned):
        try:
            write_fixed(root / result.path, root, result.old, result.new)
        except WriteRefused as exc:
            result.error = str(exc)
            _put_back(root, planned[:index])
            return
        result.written = True


def _put_back(root: Path, written: List[FileFix]) -> None:
    for result in reversed(written):
        try:
            write_fixed(root / result.path, root, result.new, result.old)
        except WriteRefused as exc:
            result.error = f"written, and could not be put back after another file failed: {exc}"
        else:
            result.written = False


def write_fixed(path: Path, root: Path, expected: bytes, new: bytes) -> None:
    """Replace the content of ``path`` (``expected``, as analysed) with ``new``."""
    _replace(*check_target(path, root, expected), expected, new)


def check_target(path: Path, root: Path, expected: bytes) -> Tuple[Path, os.stat_result]:
    """The real file behind ``path`` and its status, or ``WriteRefused`` when a fix may not replace it."""
    target = Path(os.path.realpath(path))
    if not _within(target, Path(os.path.realpath(root))):  # the file, or a folder on its way, is a link out
        raise WriteRefused(f"a link to {target}, outside the project; not fixed")
    try:
        info = os.stat(target)
    except OSError as exc:
        raise WriteRefused(f"cannot write: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("not a regular file; not fixed")
    if info.st_nlink > 1:
        raise WriteRefused(f"has {info.st_nlink} hard links; not fixed (a fix would break them)")
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WriteRefused("read-only; not fixed")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise WriteRefused(f"cannot write: Permission denied ({target.parent})")
    if not _owner_can_be_kept(info):
        raise WriteRefused(OWNED)
    if _content(target) != expected:
        raise WriteRefused(CHANGED)
    return target, info


def _replace(target: Path, info: os.stat_result, expected: bytes, new: bytes) -> None:
    sweep_stale_temps(target.parent)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise WriteRefused(f"cannot write: {exc.strerror} ({target.parent})") from None
    try:
        _write_and_rename(fd, temp, target, info, expected, new)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _write_and_rename(fd: int, temp: str, target: Path, info: os.stat_result, expected: bytes, new: bytes) -> None:
    """Write ``new`` to the temporary file (open as ``fd``) with the target's mode and owner, then rename it over
    the target, if the target still holds ``expected``."""
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new)
            handle.flush()
            os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
            _keep_owner(handle.fileno(), info)
            os.fsync(handle.fileno())
        if _content(target) != expected:  # a last look: an editor may have saved it meanwhile
            raise WriteRefused(CHANGED)
        os.replace(temp, target)
    except OSError as exc:  # a full disk, or the temporary file removed under us
        raise WriteRefused(f"cannot write: {exc.strerror or exc}") from None


def sweep_stale_temps(directory: Path) -> None:
    """Remove the temporary files of ours that killed runs left in ``directory`` (once per process)."""
    key = str(directory)
    if key in _swept:
        return
    _swept.add(key)
    now = time.time()
    try:
        with os.scandir(directory) as entries:
            stale = [entry.path for entry in entries if _is_stale_temp(entry, now)]
    except OSError:
        return
    for path in stale:
        try:
            os.unlink(path)
        except OSError:
            pass  # gone already, or not ours to remove: it costs nothing to leave


def _is_stale_temp(entry: os.DirEntry, now: float) -> bool:
    if not _TEMP_NAME.fullmatch(entry.name):
        return False
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_AFTER_S


def _keep_owner(fd: int, info: os.stat_result) -> None:
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (info.st_uid, info.st_gid):
        return
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except OSError:
        raise WriteRefused(OWNED) from None


def _owner_can_be_kept(info: os.stat_result) -> bool:
    """Whether a new file of ours can be given the old file's owner and group (root can; others only their own)."""
    if os.geteuid() == 0:
        return True
    return info.st_uid == os.geteuid() and info.st_gid in (os.getegid(), *os.getgroups())


def read_as_analysed(report, relative: str) -> bytes:
    """The file's content, or ``WriteRefused`` when it cannot be read or is no longer what was analysed."""
    source = _content(report.root / relative)
    if hashlib.sha1(source).hexdigest() != report.digests.get(relative):
        raise WriteRefused(CHANGED)
    return source


def _content(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise WriteRefused(f"cannot read: {exc.strerror}") from None


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
