"""Parse errors in the files the fast path never summarised (most files mention no Celery token): every file of
the paths checked is reported when it does not parse, as ruff does, and a task named in a file that does not
parse is "maybe" wherever that file is. Python's own parser answers first (a C parser, far faster than LibCST's;
in the workers on a cold run); only a file it refuses goes to LibCST, whose answer (the one the summaries give)
decides: a file using syntax newer than the running Python is not an error. The answer is kept in the file's
cache entry, so a warm run parses nothing."""
from __future__ import annotations

from typing import Dict, List

from ..analysis.facts import ModuleSummary
from ..sources import SourceFile, Sources
from .cache import Cache
from .parallel import Summarizers, Work
from .prefilter import python_refuses


def unsummarised_errors(sources: Sources, states: dict, summarised, cache: Cache,
                        workers: Summarizers) -> Dict[str, str]:
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
    refused = [f for f, no in zip(unchecked, workers.map(python_refuses, [f.source for f in unchecked])) if no]
    # LibCST decides, through the workers that survive a parser crash (the whole file, as the plain path reads it)
    done = workers.run([Work(f.source, f.relative, f.module, f.is_package, None) for f in refused])
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
