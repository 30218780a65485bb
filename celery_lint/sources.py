"""The files of one project as the analysis sees them: discovered (plus any named explicitly or open in an
editor), each read at most once, and a file that cannot be read is a problem to report, never an empty file."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from . import discovery
from .types import FileMessage


@dataclass
class SourceFile:
    path: Path
    relative: str
    module: str
    is_package: bool
    overridden: bool = False  # an editor's unsaved buffer stands for what is on disk
    source: Optional[bytes] = None  # read at most once
    problem: Optional[str] = None  # why it was not read: unreadable, over max-file-size

    def stat(self) -> Optional[os.stat_result]:
        """Its stat, or None for an editor buffer (or when it vanished)."""
        if self.overridden:
            return None
        try:
            return self.path.stat()
        except OSError:
            return None


class Sources:
    def __init__(self, root: Path, excludes: Sequence[str], report_on: Sequence[Path] = (),
                 overrides: Optional[Dict[Path, bytes]] = None, max_size: Optional[int] = None,
                 respect_gitignore: bool = True, unreported: Sequence[str] = ()):
        """``excludes``: what is not part of the project; ``unreported``: what is analysed but not reported."""
        self.root = root
        self.max_size = max_size
        self.overrides = {discovery.lexical(p): src for p, src in (overrides or {}).items()}
        skipped: List[Tuple[Path, str]] = []
        # Every path whose stat could change the answer: directories listed, ignore files, and below the files.
        self.looked_at: List[str] = []
        paths = discovery.discover(root, excludes, skipped, respect_gitignore, self.looked_at)
        # Files named explicitly (or edited in an editor buffer) are linted even where excludes would skip them.
        named = [*self.overrides, *(discovery.lexical(p) for p in report_on)]
        for path in named:
            if path.suffix == ".py" and path not in paths and (path in self.overrides or path.is_file()):
                paths.append(path)
        # Files first: an edit is the likeliest change, and a kept answer is checked in this order.
        self.looked_at[:0] = [str(p) for p in (*paths, *named, *(path for path, _ in skipped))]
        self.warnings = [FileMessage(discovery.relative_to(path, root), reason) for path, reason in skipped]
        self.files = [self._describe(path) for path in paths]
        # Relative paths of files analysed but never reported nor fixed (files named explicitly always are).
        # (and a package named like a default exclude, which discovery keeps for its reads: ``discovery.discover``)
        self.unreported = self._unreported((*unreported, *excludes), named) if unreported or excludes else frozenset()

    def _unreported(self, patterns: Sequence[str], named: List[Path]) -> frozenset:
        named_relative = {discovery.relative_to(path, self.root) for path in named}
        return frozenset(f.relative for f in self.files
                         if f.relative not in named_relative and discovery.is_excluded(f.relative, patterns))

    def _describe(self, path: Path) -> SourceFile:
        module, is_package = discovery.module_name(path, self.root)
        return SourceFile(path, discovery.relative_to(path, self.root), module, is_package, path in self.overrides)

    def read(self, file: SourceFile, stat: Optional[os.stat_result] = None) -> Optional[bytes]:
        """The file's content (an editor buffer's, if open), or None with ``file.problem`` set."""
        if file.source is not None or file.problem is not None:
            return file.source
        if file.overridden:
            file.source = self.overrides[file.path]
            return file.source
        try:
            if not self.too_large(file, stat or file.path.stat()):
                file.source = file.path.read_bytes()
        except OSError as exc:
            file.problem = f"cannot read: {exc.strerror or exc}"
        return file.source

    def too_large(self, file: SourceFile, stat: os.stat_result) -> bool:
        """Over max-file-size: it is not read (and ``file.problem`` says so)."""
        if self.max_size is not None and stat.st_size > self.max_size:
            file.problem = f"skipped: {_size(stat.st_size)} is over max-file-size ({_size(self.max_size)})"
        return file.problem is not None

    def file_noqa(self, relative: str) -> frozenset:
        """See ``file_noqa_codes``."""
        file = next((f for f in self.files if f.relative == relative), None)
        return file_noqa_codes(self.read(file) if file is not None else None)

    def problems(self) -> List[FileMessage]:
        return [FileMessage(f.relative, f.problem) for f in self.files if f.problem is not None]


_FILE_NOQA = re.compile(rb"^[ \t]*#[ \t]*(?:flake8|ruff)[ \t]*[:=][ \t]*noqa"
                        rb"(?:[ \t]*:[ \t]*(?P<codes>[A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*))?[ \t]*\r?$",
                        re.IGNORECASE | re.MULTILINE)


def file_noqa_codes(source: Optional[bytes]) -> frozenset:
    """The codes a file-level ``# flake8: noqa`` / ``# ruff: noqa[: CODES]`` line exempts the whole file from
    (``*``: every code), as flake8 and ruff read them: a line holding only that comment."""
    codes = set()
    for match in _FILE_NOQA.finditer(source or b""):
        listed = match.group("codes")
        codes.update(re.findall(rb"[A-Z]+[0-9]+", listed.upper()) if listed else [b"*"])
    return frozenset(code.decode() for code in codes)


def _size(size: int) -> str:
    """``10 MB`` for a round figure (a limit), ``11.2 MB`` otherwise."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if size >= scale:
            return f"{size // scale} {unit}" if size % scale == 0 else f"{size / scale:.1f} {unit}"
    return f"{size} byte" if size == 1 else f"{size} bytes"
