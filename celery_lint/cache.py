"""On-disk cache of per-file summaries, at ``.celery_lint_cache/`` in the project root.

One index file, keyed by path; an entry is trusted while the file's size and mtime are unchanged, and
carries the content hash it was built from. Written atomically (temp file + rename), so concurrent runs
(flake8 -j, an editor and pre-commit) can only lose each other's updates, never corrupt the file.
A missing, stale or corrupt cache is simply rebuilt.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Dict, Optional

from . import __version__

CACHE_DIRNAME = ".celery_lint_cache"
# Summaries are only as good as the code that made them: key the cache on that code itself, so an upgrade or
# an edit of the analysis can never serve summaries missing facts the new rules rely on.
_SUMMARY_CODE = ("model.py", "reuse.py", "slicing.py", "summary.py", "flow.py", "walk.py", "files.py", "parallel.py",
                 "cache.py", "engine.py")


def _code_key() -> str:
    digest = hashlib.sha1()
    here = Path(__file__).resolve().parent
    for name in _SUMMARY_CODE:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:12]


SCHEMA = _code_key()


class Cache:
    def __init__(self, directory: Optional[Path]):
        self.directory = directory
        self.entries: Dict[str, dict] = {}
        self.meta: Dict[str, object] = {}  # project-wide facts of the last run (the names of interest)
        self.dirty = False

    @contextlib.contextmanager
    def exclusive(self):
        """Open the cache for one analysis at a time: when flake8 -j starts several workers on a cold cache,
        the first one fills it and the others then read it, instead of each parsing the whole project.
        The index is read once, after the lock is held (without fcntl or a writable directory: unlocked)."""
        handle = None
        if self.directory is not None:
            try:
                import fcntl

                self.directory.mkdir(parents=True, exist_ok=True)
                handle = open(self.directory / ".lock", "a")
                fcntl.flock(handle, fcntl.LOCK_EX)
            except (ImportError, OSError):
                if handle is not None:
                    handle.close()
                handle = None
            self.entries = self._read()
        try:
            yield
        finally:
            if handle is not None:
                handle.close()

    @property
    def index(self) -> Optional[Path]:
        return None if self.directory is None else self.directory / f"index-{__version__}-{SCHEMA}.json"

    def _read(self) -> Dict[str, dict]:
        try:
            with open(self.index, "rb") as handle:
                data = json.loads(handle.read())
            if data.get("version") == __version__ and data.get("schema") == SCHEMA and isinstance(data.get("files"), dict):
                self.meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
                return data["files"]
        except (OSError, ValueError, AttributeError):
            pass
        return {}

    def get(self, relative: str, stat: os.stat_result) -> Optional[dict]:
        entry = self.entries.get(relative)
        if entry and entry.get("mtime") == stat.st_mtime_ns and entry.get("size") == stat.st_size:
            return entry
        return None

    def put(self, relative: str, entry: dict) -> None:
        self.entries[relative] = entry
        self.dirty = True

    def prune(self, keep) -> None:
        stale = set(self.entries) - set(keep)
        for relative in stale:
            del self.entries[relative]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if self.directory is None or not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Created by celery-lint\n*\n")
            import tempfile  # here: only a run that changed something writes

            payload = json.dumps({"version": __version__, "schema": SCHEMA, "meta": self.meta, "files": self.entries}, separators=(",", ":"))
            fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".index-", suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
            os.replace(temp, self.index)
            for stale in self.directory.glob("index-*.json"):  # left by another version of celery-lint
                if stale != self.index:
                    stale.unlink()
        except OSError:
            pass  # a read-only checkout still lints, just without a cache
