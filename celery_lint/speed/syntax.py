"""Parse errors in the files the fast path never summarised (most files mention no Celery token): every file of
the paths checked is reported when it does not parse, as ruff does, and a task named in a file that does not
parse is "maybe" wherever that file is. Python's own parser answers first (a C parser, far faster than LibCST's);
only a file it refuses goes to LibCST, whose answer (the one the summaries give) decides: a file using syntax
newer than the running Python is not an error. The answer is kept in the file's cache entry."""
from __future__ import annotations

import warnings
from typing import Dict, Optional

from ..sources import SourceFile, Sources
from .cache import Cache


def unsummarised_errors(sources: Sources, states: dict, summarised, cache: Cache) -> Dict[str, str]:
    """{relative path: error} for the files read but not summarised (``states``: the fast path's, by path)."""
    errors = {}
    for f in sources.files:
        state = states.get(f.relative)
        if f.relative in summarised or f.problem is not None or state is None or not state.entry.hash:
            continue
        if state.entry.syntax is None:
            source = sources.read(f)
            if source is None:
                continue
            state.entry.syntax = parse_error(source, f) or ""
            cache.dirty = True
        if state.entry.syntax:
            errors[f.relative] = state.entry.syntax
    return errors


def parse_error(source: bytes, f: SourceFile) -> Optional[str]:
    """Why the file cannot be parsed or read, in the summaries' words; None when it parses."""
    import ast

    try:
        with warnings.catch_warnings():  # invalid escapes and the like: the linted code's business, not ours
            warnings.simplefilter("ignore")
            compile(source, f.relative, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        return None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    from ..analysis.summary import summarize_cut  # rare: a file Python's parser refused

    summary, _cut = summarize_cut(source, f.relative, f.module, f.is_package)
    return summary.error
