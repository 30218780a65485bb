"""A changed file whose sliced text did not change keeps its last summary, with its lines moved.

A summary is made from the sliced text alone (see ``slicing``), plus where each of its lines came from, the
names of interest the whole file mentions, and the file's path and module. So when an edit touches only what
the slicer cuts (a comment, a docstring, code that cannot reach a task) and the sliced text, names and path
are the same as last time, parsing again would give the same summary at other line numbers: this moves the
lines instead, and needs no LibCST (an editor saving such a file pays for Python's parse and the slicer only).
"""
from __future__ import annotations

import hashlib
from typing import Callable, List, Optional

from .files import WORD
from .model import ModuleSummary
from .slicing import Sliced, slice_source


def fingerprint(sliced: bytes, seen: List[str], path: str, module: str, is_package: bool) -> str:
    """Everything a summary of sliced text depends on, except the original line numbers."""
    digest = hashlib.sha1(sliced)
    digest.update(repr((seen, path, module, is_package)).encode())
    return digest.hexdigest()


def names_seen(source: bytes, keep) -> List[str]:
    """The names of interest ``source`` mentions anywhere (a name only in what was cut needs no second look)."""
    names = getattr(keep, "names", frozenset())
    return sorted(w.decode() for w in names.intersection(WORD.findall(source))) if names else []


def runs(line_numbers: List[int]) -> List[List[int]]:
    """``[1, 2, 3, 7, 10, 11]`` as ``[[1, 3], [7, 7], [10, 11]]``: the line map, small enough to cache."""
    out: List[List[int]] = []
    for number in line_numbers:
        if out and out[-1][1] == number - 1:
            out[-1][1] = number
        else:
            out.append([number, number])
    return out


def expand(kept: List[List[int]]) -> List[int]:
    return [number for first, last in kept for number in range(first, last + 1)]


def moved(previous: ModuleSummary, source: bytes, keep, sliced: Optional[Sliced] = None) -> Optional[ModuleSummary]:
    """``previous`` (the summary of an earlier version of this file) fitted to ``source``, or None when the
    sliced text, the names seen or anything else a summary depends on changed. ``sliced``: the slice of
    ``source`` with ``keep``, if already made."""
    if previous.fingerprint is None or previous.error is not None:
        return None
    sliced = sliced or slice_source(source, keep)
    if sliced.line_numbers is None:
        return None  # nothing cut: the file's own text changed
    seen = names_seen(source, keep)
    if fingerprint(sliced.source, seen, previous.path, previous.module, previous.is_package) != previous.fingerprint:
        return None
    old_numbers = expand(previous.kept)
    if len(old_numbers) != len(sliced.line_numbers):
        return None
    to_new = dict(zip(old_numbers, sliced.line_numbers))
    summary = ModuleSummary.from_json(previous.to_json())  # a copy: the caller's stays as it was
    try:
        move_lines(summary, to_new.__getitem__)
    except KeyError:
        return None  # a line that was not one of the kept ones: parse instead
    summary.dropped, summary.kept = sliced.dropped, runs(sliced.line_numbers)
    return summary


def move_lines(summary: ModuleSummary, move: Callable[[int], int]) -> None:
    """Every line number a summary holds (columns stay: the slicer cuts whole lines)."""
    for alias in summary.aliases:
        alias.line = move(alias.line)
    for function in summary.functions:
        function.line = move(function.line)
        for decorator in function.decorators:
            decorator.line = move(decorator.line)
    for info in summary.classes:
        info.line = move(info.line)
    for registration in summary.registrations:
        registration.decorator.line = move(registration.decorator.line)
    for use in summary.uses:
        use.outcome.line = move(use.outcome.line)
    summary.reads_by_id = [move(line) for line in summary.reads_by_id]
    for fact in summary.config:
        fact.line = move(fact.line)
    for call in summary.calls:
        call.line = move(call.line)
        call.outcome.line = move(call.outcome.line)
