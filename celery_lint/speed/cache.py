"""On-disk cache of per-file summaries, at ``.celery_lint_cache/`` in the project root.

One index file, keyed by path. An entry is trusted without reading the file while its size, mtime and ctime
are unchanged (a rewrite that puts the old mtime back still moves the ctime) and the file was not modified in
the same two seconds it was checked (the clock's tick: a second edit within it changes no stamp, so such an
entry is hashed again, as git does with "racily clean" entries). The directory and its files are kept by
``cache_dir`` (atomic writes, only its own names, refused when not its own). Every entry is checked field by
field on load; a missing, stale, corrupt or wrong-shaped cache is simply rebuilt.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from .. import __version__
from ..types import load_dataclass
from .cache_dir import RACY_NS, CacheDirectory, code_digest
from .reuse import SliceRecord

# Summaries are only as good as the code that made them: an edit of the analysis can never serve summaries
# missing facts the new rules rely on.
SCHEMA = code_digest(("celery_api.py", "types.py", "text.py", "analysis", "speed"))  # text: the code excerpts of a way
_HASH = re.compile(r"[0-9a-f]{40}")


@dataclass
class Entry:
    """What the cache keeps of one file."""

    hash: str  # sha1 of its content
    module: str
    celery: bool  # does it hold a Celery token (the prefilter's phase one)
    mtime: int = 0  # its stat when read (ns); see ``Cache.get``
    size: int = 0
    ctime: int = 0
    checked: int = 0  # when that stat was taken (ns)
    summary: Optional[Dict[str, Any]] = None  # a ModuleSummary (checked when built)
    record: Optional[SliceRecord] = None  # how the summary was sliced
    names: Dict[str, bool] = field(default_factory=dict)  # phase two's answers: does it reach these names?
    likely: Optional[List[str]] = None  # the first guess at task names (prefilter.likely_task_names)
    syntax: Optional[str] = None  # a file never summarised: "" when it parses, else why not (None: not checked)
    file_noqa: Optional[List[str]] = None  # codes a file-level noqa line exempts it from ("*": all); None: not read

    def valid(self) -> bool:
        return bool(_HASH.fullmatch(self.hash))

    @classmethod
    def from_json(cls, raw) -> "Entry":
        """The same checks as ``load_dataclass(Entry, raw)``, written out: a warm run loads thousands of entries
        (``tests/test_cache_safety.py`` holds the two to the same answers)."""
        if type(raw) is not dict or raw.keys() != _ENTRY_FIELDS:
            raise ValueError("not an entry")
        for key, kind in _TYPES.items():
            if type(raw[key]) is not kind:
                raise ValueError(f"{key}: {type(raw[key]).__name__}")
        summary, record, names, likely = raw["summary"], raw["record"], raw["names"], raw["likely"]
        syntax, file_noqa = raw["syntax"], raw["file_noqa"]
        if summary is not None and not (type(summary) is dict and all(type(k) is str for k in summary)):
            raise ValueError("summary")
        if type(names) is not dict or not all(type(k) is str and type(v) is bool for k, v in names.items()):
            raise ValueError("names")
        if likely is not None and not (type(likely) is list and all(type(n) is str for n in likely)):
            raise ValueError("likely")
        if syntax is not None and type(syntax) is not str:
            raise ValueError("syntax")
        if file_noqa is not None and not (type(file_noqa) is list and all(type(c) is str for c in file_noqa)):
            raise ValueError("file_noqa")
        return cls(**{key: raw[key] for key in _TYPES}, summary=summary, names=names, likely=likely, syntax=syntax,
                   file_noqa=file_noqa,
                   record=None if record is None else load_dataclass(SliceRecord, record))

    def to_json(self) -> dict:
        """``asdict(self)`` without its deep copy of the summary (already plain JSON data): a run that writes the
        index writes every entry (``tests/test_cache_safety.py`` holds the two to the same answers)."""
        return {"hash": self.hash, "module": self.module, "celery": self.celery, "mtime": self.mtime,
                "size": self.size, "ctime": self.ctime, "checked": self.checked, "summary": self.summary,
                "record": None if self.record is None else self.record.to_json(), "names": self.names,
                "likely": self.likely, "syntax": self.syntax,
                "file_noqa": self.file_noqa}


_TYPES = {"hash": str, "module": str, "celery": bool, "mtime": int, "size": int, "ctime": int, "checked": int}
_ENTRY_FIELDS = set(_TYPES) | {"summary", "record", "names", "likely", "syntax", "file_noqa"}


INDEX_NAME = f"index-{__version__}-{SCHEMA}.json"


def holds_an_index(directory: Optional[Path]) -> bool:
    """Is there an index of this code's in ``directory`` (None: no cache)? Asked before the run locks the cache, to
    start the workers early on a cold run: a wrong guess costs an idle pool or a later start, never an answer."""
    return directory is not None and (directory / INDEX_NAME).is_file()


class Cache:
    def __init__(self, directory: Optional[Path], within: Optional[Path] = None):
        """``within``: the directory must lie inside it (a cache directory named by a repository's own config)."""
        self.directory = directory
        self.within = within
        self.entries: Dict[str, Entry] = {}
        self.meta: Dict[str, object] = {}  # project-wide facts of the last run (the names of interest)
        self.dirty = False
        self.place: Optional[CacheDirectory] = None

    @property
    def requested(self) -> Optional[Path]:
        return self.directory

    @property
    def refused(self) -> Optional[str]:
        return None if self.place is None else self.place.refused

    @contextlib.contextmanager
    def exclusive(self):
        """Open the cache for one analysis at a time: when flake8 -j starts several workers on a cold cache,
        the first one fills it and the others then read it, instead of each parsing the whole project.
        The index is read once, after the lock is held."""
        self.place = CacheDirectory(self.directory, self.within)
        with self.place.lock():
            self.entries = self._read()
            yield

    @property
    def index_name(self) -> str:
        return INDEX_NAME

    def _read(self) -> Dict[str, Entry]:
        raw = self.place.read(self.index_name)
        if raw is None:
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return {}
        if not (isinstance(data, dict) and data.get("version") == __version__ and data.get("schema") == SCHEMA
                and isinstance(data.get("files"), dict)):
            return {}
        meta = data.get("meta")
        names = meta.get("names") if isinstance(meta, dict) else None
        if isinstance(names, list) and all(isinstance(name, str) for name in names):
            self.meta = {"names": names}
        entries = {}
        for path, raw in data["files"].items():
            try:
                entry = Entry.from_json(raw)
            except (ValueError, TypeError, RecursionError):
                continue  # a wrong-shaped entry: the file is read again
            if isinstance(path, str) and entry.valid():
                entries[path] = entry
        return entries

    def peek(self, relative: str) -> Optional[Entry]:
        """One file's entry, read without the lock (the index is replaced atomically) and without decoding the
        others (a large project's index is megabytes): for a caller that checks it against the file (its hash,
        its summary's path), so an entry found at the wrong place is refused, never trusted."""
        self.place = CacheDirectory(self.directory, self.within)
        raw = self.place.read(self.index_name)
        header = json.dumps({"version": __version__, "schema": SCHEMA}, separators=(",", ":"))[:-1] + ","
        try:
            text = raw.decode() if raw is not None else ""
            files = text.find('"files":{') if text.startswith(header) else -1
            key = text.find(json.dumps(relative) + ":", files) if files >= 0 else -1
            if key < 0:
                return None
            value, _ = json.JSONDecoder().raw_decode(text, key + len(json.dumps(relative)) + 1)
            entry = Entry.from_json(value)
        except (ValueError, TypeError, RecursionError):
            return None
        return entry if entry.valid() else None

    def get(self, relative: str, stat: os.stat_result) -> Optional[Entry]:
        """The entry of a file whose stat shows it unchanged since the entry was made; else None."""
        entry = self.entries.get(relative)
        if entry and (entry.mtime, entry.size, entry.ctime) == (stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns) \
                and entry.checked - stat.st_mtime_ns > RACY_NS:
            return entry
        return None

    def put(self, relative: str, entry: Entry, stat: Optional[os.stat_result]) -> None:
        """Keep ``entry`` for a file just read (``stat``: what it was when read; None for an editor buffer)."""
        if stat is not None:
            entry.mtime, entry.size, entry.ctime, entry.checked = (stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns,
                                                                   time.time_ns())
            self.entries[relative] = entry
            self.dirty = True

    def prune(self, keep) -> None:
        stale = set(self.entries) - set(keep)
        for relative in stale:
            del self.entries[relative]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if self.place is None or self.place.path is None or not self.dirty:
            return
        files = {relative: entry.to_json() for relative, entry in self.entries.items()}
        self.place.write(self.index_name, json.dumps(
            {"version": __version__, "schema": SCHEMA, "meta": self.meta, "files": files}, separators=(",", ":")))
