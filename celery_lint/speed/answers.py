"""The last answer for a project, kept whole: while nothing it depended on has changed, it is the answer.

A run that asks only for findings (the flake8 plugin, in every flake8 process) would otherwise discover
the project, load every file's summary, link them and judge every task again to say what it said last time.
The answer is kept with the stamp (mtime, ctime, size) of every path its run looked at: each directory
listed (creating, deleting or renaming a file in it changes its stamp), each ``.py`` file, each ignore file,
each path named on the command line (or its absence). It is used only when every stamp is unchanged and it
was made by the same celery-lint code and Python, the same configuration and for the same paths; a path modified
within the clock's tick of the run (``RACY_NS``) means the answer is not kept at all. So a stored answer is
what the analysis would say again: this module can skip work, never change an answer
(``tests/test_answers.py`` holds it to the plain path).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .. import __version__
from ..types import FileMessage, Finding, Report, dump_dataclass, load_dataclass
from .cache_dir import RACY_NS, CacheDirectory, code_digest

_MISSING = [-1, -1, -1]
def answer_key(root: Path, config, report_on: Sequence[Path]) -> str:
    """What else the answer depends on: the project, its configuration, the paths reported on, and the Python
    that ran (its parser decides what parses; another environment may hold another LibCST)."""
    targets = sorted(str(Path(os.path.abspath(p))) for p in report_on)
    return hashlib.sha1(repr((str(root), config, targets, sys.version, sys.executable)).encode()).hexdigest()


class Answers:
    """The answer kept in a cache directory (``CacheDirectory``: refused when not celery-lint's own)."""

    def __init__(self, place: CacheDirectory, root: Path, key: str):
        self.place = place
        self.root = root
        self.key = key
        self.name = f"answer-{__version__}-{code_digest()}.json"  # all the code: any of it may change an answer
        self.looked_at: List[str] = []  # the paths the loaded answer's run looked at

    def load(self) -> Optional[Report]:
        """The stored report, if every path it looked at is as it was; else None."""
        raw = self.place.read(self.name)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if type(data) is not dict or data.get("key") != self.key or not self._holds(data["paths"], data["stamps"]):
                return None
            report = self._report(data["report"])
            self.looked_at = data["paths"]  # relative inside the root: every file discovered, directory listed
            return report
        except (ValueError, TypeError, KeyError, RecursionError):
            return None  # a wrong-shaped answer: analysed again

    def _holds(self, paths, stamps) -> bool:
        """Does every path the answer's run looked at still have its stamp?"""
        if type(paths) is not list or type(stamps) is not list or len(paths) != len(stamps):
            return False
        return all(type(p) is str for p in paths) and _unchanged(self.root, paths, stamps)

    def _report(self, stored) -> Report:
        """The stored report, every field checked (a wrong shape raises ValueError or TypeError)."""
        report = Report(self.root, stored=True)
        report.files = stored["files"]
        if type(report.files) is not int:
            raise ValueError("files")
        report.findings = [load_dataclass(Finding, f) for f in stored["findings"]]
        report.errors = [load_dataclass(FileMessage, e) for e in stored["errors"]]
        report.warnings = [load_dataclass(FileMessage, w) for w in stored["warnings"]]
        report.names = stored["names"]
        if report.names is not None and not (type(report.names) is list and all(type(n) is str for n in report.names)):
            raise ValueError("names")
        return report

    def stamp(self, looked_at: List[str]) -> List[list]:
        """The stamps of ``looked_at``: (mtime, ctime, size) in ns and bytes, or -1s for a missing path. The
        cache directory is made first: making it changes the stamp of the directory that holds it."""
        if self.place.path is not None:
            try:
                self.place.make()
            except OSError:
                pass  # then nothing is kept
        return _stamps(self.root, self._watched(looked_at))

    def _watched(self, looked_at: List[str]) -> List[str]:
        """The paths to stamp, relative to the root where they are inside it. Not the cache directory itself
        (named with ``--cache-dir`` inside the project): every write there changes its stamp, and it can hold
        nothing that changes an answer (a file celery-lint did not write makes it refused)."""
        cache = None if self.place.path is None else os.path.realpath(self.place.path)
        return [_relative(path, self.root) for path in looked_at if path != cache]

    def save(self, report: Report, looked_at: List[str], stamped: List[list], started: int) -> None:
        """Keep ``report``, made from the files as ``stamped`` (after discovery, before any file was read) in a
        run that began at ``started`` (``time.time_ns()``, before discovery). Not kept when a path was modified
        since the clock's tick before that: it may have changed while it was looked at, or may change unseen."""
        if any(stamp[0] > started - RACY_NS for stamp in stamped):
            return
        paths = self._watched(looked_at)
        stored = {"files": report.files, "findings": [dump_dataclass(f) for f in report.findings],
                  "errors": [dump_dataclass(e) for e in report.errors],
                  "warnings": [dump_dataclass(w) for w in report.warnings], "names": report.names}
        self.place.write(self.name, json.dumps(
            {"key": self.key, "paths": paths, "stamps": stamped, "report": stored}, separators=(",", ":")))


def unchanged_by(report: Report, overrides: Dict[Path, bytes]) -> bool:
    """Does an editor's buffer leave this answer (for the files on disk) as it is? Only when neither the buffer
    nor the file on disk can matter: no Celery token and none of the names of interest the answer's run ended
    with (so neither is ever summarised: every summary, the names and the verdicts stay the same), both parse
    (no CEL000, no task "maybe" for either), and the answer has nothing to say about the file."""
    from .. import discovery
    from .prefilter import Interest, mentions_celery, python_refuses

    if report.names is None or len(overrides) != 1:
        return False
    ((path, buffer),) = overrides.items()
    relative = discovery.relative_to(discovery.lexical(path), report.root)
    if any(item.path == relative for item in (*report.findings, *report.errors, *report.warnings)):
        return False
    try:
        disk = path.read_bytes()
    except OSError:
        return False  # a file not on disk yet: it joins the project
    interest = Interest(report.names)
    return not any(mentions_celery(text) or interest.referenced_in(text) or python_refuses(text)
                   for text in (buffer, disk))


def _unchanged(root: Path, paths: List[str], stamps: list) -> bool:
    """Does every path still have its stamp? Stops at the first that does not (files come first: most edits).
    Relative paths are looked up from the root's descriptor, not joined to it: on a project of 12,000 paths (a
    directory per language per app) the joins were a third of an editor's check."""
    if os.stat not in os.supports_dir_fd:  # Windows: joined after all
        return all(_stamp(os.path.join(str(root), path)) == kept for path, kept in zip(paths, stamps))
    try:
        base = os.open(root, os.O_RDONLY)
    except OSError:
        return False
    try:
        return all(_stamp_at(base, path) == kept for path, kept in zip(paths, stamps))
    finally:
        os.close(base)


def _stamp_at(base: int, path: str) -> list:
    """``_stamp`` of ``path`` relative to the directory open as ``base`` (an absolute path ignores it)."""
    try:
        s = os.stat(path, dir_fd=base)
    except OSError:
        return _MISSING
    return [s.st_mtime_ns, s.st_ctime_ns, s.st_size]


def _stamps(root: Path, paths: List[str]) -> List[list]:
    base = str(root)
    return [_stamp(os.path.join(base, path)) for path in paths]


def _stamp(path: str) -> list:
    """(mtime, ctime, size) in ns and bytes, as JSON keeps it; -1s for a missing path."""
    try:
        s = os.stat(path)
    except OSError:
        return _MISSING
    return [s.st_mtime_ns, s.st_ctime_ns, s.st_size]


def _relative(path: str, root: Path) -> str:
    prefix = str(root) + os.sep
    return path[len(prefix):] if path.startswith(prefix) else path  # os.path.join keeps an absolute one whole
