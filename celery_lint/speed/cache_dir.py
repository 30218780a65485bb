"""The cache's directory: the files celery-lint keeps there, and nothing else.

The directory is refused (with a reason the user sees) when it is a symbolic link, lies outside the project
that named it, or holds any file celery-lint did not write; only its own names are ever written or deleted,
never through a link. Writes are atomic (temp file + rename), so concurrent runs (flake8 -j, an editor and
pre-commit) can only lose each other's updates, never corrupt a file. Everything here only stores: what a
stored file means, and whether it still holds, is for its owner (``cache``, ``answers``) to decide.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import stat as stat_module
from pathlib import Path
from typing import Optional, Tuple

CACHE_DIRNAME = ".celery_lint_cache"
RACY_NS = 2_000_000_000  # a file modified this close to its check may change again unseen (FAT: 2 s stamps)
GITIGNORE = "# Created by celery-lint\n*\n"
# The only names ever written here: ``index-<version>-<schema>.json`` (the summaries), ``answer-<version>-<schema>
# .json`` (the last answer), their temp files, the lock and this directory's own .gitignore.
_OWN_NAMES = re.compile(r"\.gitignore|\.lock|(index|answer)-[\w.+!-]+-[0-9a-f]{12}\.json|\.(index|answer)-\w+\.tmp")
_PACKAGE = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=None)
def code_digest(parts: Tuple[str, ...] = ("",)) -> str:
    """A digest of celery-lint's own sources under ``parts`` (files or folders of the package; "" is all of it):
    stored data is only as good as the code that wrote it, so an upgrade or an edit never reads it back."""
    digest = hashlib.sha1()
    for part in parts:
        path = _PACKAGE / part
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            try:
                digest.update(source.read_bytes())
            except OSError:
                digest.update(b"\1")
    return digest.hexdigest()[:12]


class CacheDirectory:
    def __init__(self, path: Optional[Path], within: Optional[Path] = None):
        """``within``: the directory must lie inside it (a cache directory named by a repository's own config)."""
        self.requested = path  # as asked, even when refused
        self.within = within
        self.refused: Optional[str] = None  # why it is not used: a warning for the user
        self.path = path
        if path is not None:
            self.refused = self._refusal()
            if self.refused is not None:
                self.path = None

    def _refusal(self) -> Optional[str]:
        """Why the directory may not be used as a cache, or None."""
        directory = self.path
        if directory.is_symlink():
            return "it is a symbolic link"
        if self.within is not None and not _inside(directory, self.within):
            return "it is outside the project"
        if not directory.exists():
            return None
        if not directory.is_dir():
            return "it is not a directory"
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not _own(entry):
                        return "it holds files celery-lint did not write"
        except OSError as exc:
            return f"it cannot be read ({exc.strerror})"
        return None

    def make(self) -> None:
        if self.path.exists():
            return
        self.path.mkdir(parents=True)
        fd = os.open(self.path / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(GITIGNORE)

    @contextlib.contextmanager
    def lock(self):
        """Held by one analysis at a time (without fcntl or a writable directory: not held, and no harm done)."""
        handle = None
        if self.path is not None:
            try:
                import fcntl

                self.make()
                fd = os.open(self.path / ".lock", os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
                handle = os.fdopen(fd, "a")
                fcntl.flock(handle, fcntl.LOCK_EX)
            except (ImportError, OSError):
                if handle is not None:
                    handle.close()
                handle = None
        try:
            yield
        finally:
            if handle is not None:
                handle.close()

    def read(self, name: str) -> Optional[bytes]:
        if self.path is None:
            return None
        try:
            with open(self.path / name, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def write(self, name: str, payload: str) -> None:
        """Replace ``name`` atomically, then delete the files of the same kind that other versions left (their
        name starts the same way). A read-only checkout still lints, just without a cache."""
        if self.path is None:
            return
        kind = name.split("-", 1)[0]
        try:
            self.make()
            import tempfile  # here: only a run that changed something writes

            fd, temp = tempfile.mkstemp(dir=self.path, prefix=f".{kind}-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(payload)
                os.replace(temp, self.path / name)  # replaces a link itself, never what it points to
            finally:
                if os.path.exists(temp):
                    os.unlink(temp)
            with os.scandir(self.path) as entries:
                stale = [e.path for e in entries if e.name.startswith(f"{kind}-") and e.name != name and _own(e)]
            for path in stale:
                os.unlink(path)
        except OSError:
            pass


def _own(entry: os.DirEntry) -> bool:
    """Is this a file the cache writes: one of its names, a regular file (never a link), a .gitignore of its own?"""
    if not _OWN_NAMES.fullmatch(entry.name):
        return False
    try:
        if not stat_module.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
            return False
        if entry.name == ".gitignore":
            with open(entry.path, encoding="utf-8", errors="replace") as handle:
                return handle.read(1000) == GITIGNORE
    except OSError:
        return False
    return True


def _inside(directory: Path, root: Path) -> bool:
    resolved, top = Path(os.path.realpath(directory)), Path(os.path.realpath(root))
    return resolved == top or top in resolved.parents
