"""A changed file whose sliced text did not change keeps its last summary, with its lines moved.

A summary is made from the sliced text alone (see ``slicing``), plus where each of its lines came from, the
names of interest the whole file mentions, and the file's path and module. So when an edit touches only what
the slicer cuts (a comment, a docstring, code that cannot reach a task) and the sliced text, names and path
are the same as last time, parsing again would give the same summary at other line numbers: this moves the
lines instead, and needs no LibCST (an editor saving such a file pays for Python's parse and the slicer only).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

from ..analysis.facts import ModuleSummary, Outcome
from ..types import dump_dataclass, load_dataclass

if TYPE_CHECKING:  # a warm run loads records without slicing anything: it need not import the slicer
    from .slicing import Sliced


@dataclass
class SliceRecord:
    """How the fast path made a summary: the interest it sliced for, the names of interest the whole file
    mentions (a later round re-parses it only for names it did not look for), and, when lines were cut, what
    the summary depends on besides line numbers and which original lines it kept (as runs)."""

    key: str  # ``Interest.key``
    names_seen: List[str]
    fingerprint: Optional[str] = None
    kept: List[List[int]] = field(default_factory=list)
    # module-level functions of this file whose returns the summary asked about: the slice must keep them
    # (``name()`` names of interest; a later round re-parses the file if it was sliced without one)
    followed: List[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return dump_dataclass(self)

    @classmethod
    def from_json(cls, data) -> "SliceRecord":
        return load_dataclass(cls, data)


def record_for(sliced: Sliced, seen: List[str], key: str, summary: ModuleSummary) -> SliceRecord:
    if sliced.line_numbers is None or summary.error is not None:
        return SliceRecord(key, seen)
    return SliceRecord(key, seen, fingerprint(sliced.source, seen, summary), runs(sliced.line_numbers),
                       followed(summary, sliced))


def followed(summary: ModuleSummary, sliced: Sliced) -> List[str]:
    """The functions whose returns the summary asked about (``ident(t)``) that this file defines at module level:
    only those can be followed, so only those need keeping. (The slicer keeps the ``def`` of any name a kept
    statement mentions, if not its returns, so this changes only with the sliced text.)"""
    return sorted(set(summary.returns_followed) & sliced.defined)


def fingerprint(sliced: bytes, seen: List[str], summary: ModuleSummary) -> str:
    """Everything a summary of sliced text depends on, except the original line numbers."""
    digest = hashlib.sha1(sliced)
    digest.update(repr((seen, summary.path, summary.module, summary.is_package)).encode())
    return digest.hexdigest()


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


def moved(previous: ModuleSummary, record: SliceRecord, sliced: Sliced, seen: List[str],
          key: str) -> Optional[Tuple[ModuleSummary, SliceRecord]]:
    """``previous`` (the summary of an earlier version of this file, made as ``record`` says) fitted to the
    file's new ``sliced`` text, or None when the sliced text, the names seen or anything else a summary
    depends on changed."""
    if record.fingerprint is None or previous.error is not None or sliced.line_numbers is None:
        return None  # nothing was cut before, or now: the file's own text changed
    if fingerprint(sliced.source, seen, previous) != record.fingerprint:
        return None
    old_numbers = expand(record.kept)
    if len(old_numbers) != len(sliced.line_numbers):
        return None
    to_new = dict(zip(old_numbers, sliced.line_numbers))
    summary = ModuleSummary.from_json(previous.to_json())  # a copy: the caller's stays as it was
    try:
        move_lines(summary, to_new.__getitem__)
    except KeyError:
        return None  # a line that was not one of the kept ones: parse instead
    return summary, SliceRecord(key, seen, record.fingerprint, runs(sliced.line_numbers), followed(summary, sliced))


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
        _move_outcome(use.outcome, move)
    summary.reads_by_id = [move(line) for line in summary.reads_by_id]
    for wait in summary.waits_by_id:
        wait.line = move(wait.line)
    for fact in summary.config:
        fact.line = move(fact.line)
    for fact in summary.running:
        fact.line = move(fact.line)
    _move_calls(summary, move)
    for errback in summary.errbacks:
        errback.line = move(errback.line)
    for options in summary.option_dicts.values():
        options.line = move(options.line)


def _move_calls(summary: ModuleSummary, move: Callable[[int], int]) -> None:
    for call in summary.calls:
        call.line = move(call.line)
        _move_outcome(call.outcome, move)
        if call.value_outcome is not None:  # where its value goes, were it a task object
            _move_outcome(call.value_outcome, move)
    for mention in summary.mentions:
        mention.line = move(mention.line)


def _move_outcome(outcome: Outcome, move: Callable[[int], int]) -> None:
    outcome.line = move(outcome.line)
    for step in outcome.steps:  # all in this file: a step in another file is set by the project, never cached
        step.line = move(step.line)
    for passed in outcome.passed:  # ``ident(t.delay())``: where the call's value goes, in this file too
        passed.line = move(passed.line)
        for step in passed.steps:
            step.line = move(step.line)
