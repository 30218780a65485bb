"""A result_expires the project's readers allow, when the code says how long they wait.

Advised only when every read of every task that keeps storing its result is a bounded wait right after the
enqueue, ``t.delay(...).get(timeout=N)`` on one line, or ``r = t.delay(...)`` then ``r.get(timeout=N)`` later in
the same block (not in a loop of its own) with ``r`` used nowhere else (the reader is waiting, or about to, when
the result is written, and gives up after N seconds), and nothing reads a result by id (``AsyncResult(x)``,
``GroupResult.restore``: such a reader may come back any time before the key expires). The value is twice the
largest timeout, rounded up to a whole minute. Keys alive at steady state = runs a day × result_expires /
86,400, so lowering it retires runs a day × (now − advised) / 86,400 keys.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from ..types import OutcomeKind, UseKind
from . import costs

# ``.delay(...).get(timeout=5)`` / ``.apply_async(...).get(timeout=2.5, ...)``: the wait starts at the enqueue
BOUNDED_WAIT = re.compile(rb"\.(?:delay|apply_async)\(.*\)\s*\.get\(\s*timeout\s*=\s*([0-9]+(?:\.[0-9]*)?)\s*[,)]")
MARGIN = 2  # the advised value is this many times the largest timeout...
STEP = 60  # ...rounded up to this many seconds
FORMULA = "keys alive = runs a day × result_expires / 86,400"


@dataclass
class ExpiryAdvice:
    seconds: Optional[int]  # the advised result_expires; None: no advice (``why_not`` says why)
    largest_timeout: Optional[float] = None
    waits: List[str] = field(default_factory=list)  # ``path:line`` of every bounded wait counted
    retired_keys: Optional[float] = None  # keys fewer at steady state, per costs.RUNS runs a day
    why_not: List[str] = field(default_factory=list)


def advise(report, statuses: Dict[int, str], expires: Optional[int], expires_known: bool) -> ExpiryAdvice:
    """``statuses``: id(task) -> the audit's status of that task (read, unread, maybe, unused...)."""
    settings = report.settings
    if settings is not None and settings.reads_by_id_at:
        return ExpiryAdvice(None, why_not=[f"results are read by id at {settings.reads_by_id_at} (AsyncResult(x), "
                                           "GroupResult.restore): such a reader may come back for a result at any "
                                           "time before it expires"])
    if not expires_known:
        return ExpiryAdvice(None, why_not=["result_expires is set in a way celery-lint cannot read"])
    lines = _Lines(report.root, report.digests)
    waits, timeouts, why_not = [], [], []
    for task, _verdict in report.verdicts:
        status = statuses.get(id(task))
        if status in ("maybe", "unused"):
            why_not.append(f"{task.name or task.qualname}: {_doubt(status)}")
        elif status == "read":
            for path, use in task.uses:
                timeout = _bounded_wait(path, use, lines)
                if timeout is None and _reads(use):
                    why_not.append(f"{task.name or task.qualname}: read at {path}:{use.outcome.line} "
                                   f"({use.outcome.detail}), not a .get(timeout=N) right after the enqueue")
                elif use.outcome.kind is OutcomeKind.ESCAPES:  # kept, returned, passed on: read later, maybe
                    why_not.append(f"{task.name or task.qualname}: its result handle leaves what celery-lint can "
                                   f"follow at {path}:{use.outcome.line}; whoever holds it may read it any time")
                elif timeout is not None:
                    waits.append(f"{path}:{use.outcome.line}")
                    timeouts.append(timeout)
    if why_not or not timeouts:
        return ExpiryAdvice(None, waits=waits, why_not=why_not or ["no result is read: CEL001's fix saves more"])
    seconds = max(STEP, math.ceil(max(timeouts) * MARGIN / STEP) * STEP)
    if expires is not None and seconds >= expires:
        return ExpiryAdvice(None, max(timeouts), waits, why_not=[f"result_expires is already {expires} s"])
    retired = None if expires is None else costs.RUNS * (expires - seconds) / costs.DEFAULT_EXPIRES
    return ExpiryAdvice(seconds, max(timeouts), waits, retired)


def _doubt(status: str) -> str:
    if status == "maybe":
        return "celery-lint cannot tell who reads its results, nor when"
    return "never enqueued in this project: whoever enqueues it may read its results at any time"


def _reads(use) -> bool:
    return use.outcome.kind is OutcomeKind.READ and use.ignore_result is not True and use.kind is not UseKind.EAGER


def _bounded_wait(path: str, use, lines: "_Lines") -> Optional[float]:
    if not _reads(use) or use.kind is not UseKind.ENQUEUE or use.site is None or use.outcome.detail != ".get":
        return None
    if use.site.waited is not None:  # ``r = t.delay(...)`` then ``r.get(timeout=N)``: the summary followed the handle
        return use.site.waited
    text = lines.line(path, use.outcome.line)
    match = BOUNDED_WAIT.search(text) if text is not None else None
    return float(match.group(1)) if match else None


class _Lines:
    """The project's files as the analysis read them (a file changed since then gives no line)."""

    def __init__(self, root: Path, digests: Dict[str, str]):
        self.root, self.digests = root, digests
        self._files: Dict[str, Optional[List[bytes]]] = {}

    def line(self, path: str, number: int) -> Optional[bytes]:
        if path not in self._files:
            self._files[path] = self._read(path)
        found = self._files[path]
        return found[number - 1] if found is not None and 0 < number <= len(found) else None

    def _read(self, path: str) -> Optional[List[bytes]]:
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return None
        return data.splitlines() if hashlib.sha1(data).hexdigest() == self.digests.get(path) else None


# ----- words -----

def advice_lines(advice: ExpiryAdvice, expires: Optional[int], duration) -> List[str]:
    """The advice in sentences (``duration``: the renderer's seconds-to-words)."""
    if advice.seconds is None:
        return ["No advice: " + reason for reason in advice.why_not]
    lines = [f"Every read is a bounded wait right after the enqueue (.get(timeout=N) at "
             f"{', '.join(advice.waits)}; largest {advice.largest_timeout:g} s) and nothing reads a result by id: "
             f"result_expires = {advice.seconds} s ({duration(advice.seconds)}) is enough "
             f"({MARGIN}× the largest timeout, rounded up to a minute)."]
    if expires is None:
        lines.append(f"Results never expire now: every key stays until deleted; after, {FORMULA}.")
    else:
        lines.append(f"{FORMULA}: per {costs.RUNS:,} runs a day, {costs.RUNS * expires / costs.DEFAULT_EXPIRES:,.1f} "
                     f"keys alive now, {costs.RUNS * advice.seconds / costs.DEFAULT_EXPIRES:,.1f} after: "
                     f"{advice.retired_keys:,.1f} keys retired.")
    return lines


def advice_dict(advice: ExpiryAdvice) -> dict:
    return {"seconds": advice.seconds, "largest_timeout": advice.largest_timeout, "waits": advice.waits,
            "retired_keys_per_runs_a_day": advice.retired_keys, "runs_a_day": costs.RUNS, "formula": FORMULA,
            "why_not": advice.why_not}
