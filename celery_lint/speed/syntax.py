"""Parse errors in the files the fast path never summarised (most files mention no Celery token): every file of
the paths checked is reported when it does not parse, as ruff does, and a task named in a file that does not
parse is "maybe" wherever that file is. Python's own parser answers first (a C parser, far faster than LibCST's;
in the workers on a cold run); only a file it refuses goes to LibCST, whose answer (the one the summaries give)
decides: a file using syntax newer than the running Python is not an error. The answer is kept in the file's
cache entry, so a warm run parses nothing.

On a cold run the workers start checking at once, reading the files themselves (``EarlyChecks``): the check then
fills the time they would idle while this process reads the project, instead of coming after the summaries. Its
verdict is used only for the very bytes this process read (same digest); any other file is checked as before."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..analysis.facts import ModuleSummary
from ..sources import SourceFile, Sources
from .cache import Cache
from .parallel import Summarizers, Work
from .prefilter import mentions_celery, python_refuses

EARLY_CHUNK = 32  # files per early check: few round trips, and still many chunks to share between the workers
EARLY_MAX_BYTES = 1 << 20  # a larger file is checked the usual way (its parse may need a worker of its own)


class EarlyChecks:
    """Parse checks queued in the workers before any summary: {digest of the bytes checked: refused?}."""

    def __init__(self, sources: Sources, workers: Summarizers):
        paths = [str(f.path) for f in sources.files if not f.overridden and f.problem is None]
        chunks = [paths[i:i + EARLY_CHUNK] for i in range(0, len(paths), EARLY_CHUNK)]
        self._futures = workers.submit(check_paths, chunks)
        self._verdicts: Optional[Dict[str, bool]] = None

    def refused(self, digest: str) -> Optional[bool]:
        """Did Python refuse the file with this digest (None: not checked early)?"""
        if self._verdicts is None:
            self._verdicts = {}
            for future in self._futures:
                try:
                    self._verdicts.update((d, no) for d, no in future.result() if no is not None)
                except Exception:  # noqa: BLE001 - a broken pool: those files are checked the usual way
                    continue
        return self._verdicts.get(digest)


def check_paths(paths: List[str]) -> List[Tuple[str, Optional[bool]]]:
    """(digest, refused?) of each file, read here (in a worker); None for a file the summaries will read anyway
    (it names Celery), a large one, or one that cannot be read."""
    out = []
    for path in paths:
        try:
            file = Path(path)
            source = file.read_bytes() if file.stat().st_size <= EARLY_MAX_BYTES else b""
        except OSError:
            source = b""
        checked = bool(source) and not mentions_celery(source)
        out.append((hashlib.sha1(source).hexdigest(), python_refuses(source) if checked else None))
    return out


def unsummarised_errors(sources: Sources, states: dict, summarised, cache: Cache,
                        workers: Summarizers, early: Optional[EarlyChecks] = None) -> Dict[str, str]:
    """{relative path: error} for the files read but not summarised (``states``: the fast path's, by path)."""
    unchecked: List[SourceFile] = []
    errors = {}
    for f in sources.files:
        state = states.get(f.relative)
        if f.relative in summarised or f.problem is not None or state is None or not state.entry.hash:
            continue
        if state.entry.syntax is None:
            unchecked.append(f)
        elif state.entry.syntax:
            errors[f.relative] = state.entry.syntax
    unchecked = [f for f in unchecked if sources.read(f) is not None]
    known = [early.refused(states[f.relative].entry.hash) if early is not None else None for f in unchecked]
    rest = [f for f, no in zip(unchecked, known) if no is None]
    answers = dict(zip((f.relative for f in rest), workers.map(python_refuses, [f.source for f in rest])))
    refused = [f for f, no in zip(unchecked, known) if (answers[f.relative] if no is None else no)]
    # LibCST decides, through the workers that survive a parser crash (the whole file, as the plain path reads it)
    done = workers.run([Work(f.source, f.relative, f.module, f.is_package, None, parse_only=True)
                        for f in refused])
    verdicts = {f.relative: ModuleSummary.from_json(d.summary).error or "" for f, d in zip(refused, done)}
    for f in unchecked:
        states[f.relative].entry.syntax = verdicts.get(f.relative, "")
        if states[f.relative].entry.syntax:
            errors[f.relative] = states[f.relative].entry.syntax
    cache.dirty = cache.dirty or bool(unchecked)
    return errors


def file_noqa(sources: Sources, states: dict, paths, cache: Cache) -> Dict[str, frozenset]:
    """{relative path: codes its file-level noqa line exempts it from} for ``paths`` (the files defining tasks),
    kept in the file's cache entry like its parse check: a warm run reads no file for it."""
    exempt = {}
    for f in sources.files:
        state = states.get(f.relative)
        if f.relative not in paths or state is None:
            continue
        if state.entry.file_noqa is None:
            state.entry.file_noqa = sorted(sources.file_noqa(f.relative))
            cache.dirty = True
        exempt[f.relative] = frozenset(state.entry.file_noqa)
    return exempt
