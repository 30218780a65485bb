"""Where files are summarised: in this process for a few files, else in a pool of worker processes started
once per run. A cold run starts the pool first thing, so the workers import LibCST while this process reads
the project; a warm run never starts it (and never imports LibCST), nor does a run where every changed file
keeps its last summary with its lines moved (``reuse``), which is tried first, in the same place.

A worker that fails (a parser bug on a strange file, the memory running out) costs that file, not the run:
the files it may have held are tried again one at a time, and the one that fails again becomes an error line
(and a summary without a SliceRecord, which the fast path never caches). A file too large to risk in this
process is always sent to a worker, so that not even the kernel's out-of-memory killer can end the run. Workers
die with the process that started them (a caller's timeout may kill it with SIGTERM or SIGKILL, without cleanup),
and an interrupted run (Ctrl-C, SIGINT) kills them at once instead of waiting for the files they hold.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections import deque
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

PARALLEL_THRESHOLD = 16  # below this many files to parse (and no pool yet), a pool costs more than it saves
ISOLATED_BYTES = 1 << 20  # a file this large is parsed in a worker even alone: its failure must not end the run
CRASHED = "cannot analyse: celery-lint's parser crashed on this file"
OUT_OF_MEMORY = "cannot analyse: out of memory"


class Work(NamedTuple):
    """One file to summarise."""

    source: bytes
    path: str
    module: str
    is_package: bool
    interest: object  # the fast path's ``prefilter.Interest``; None: the plain path (the whole file, every call)
    previous: Optional[Tuple[dict, dict]] = None  # its last summary and SliceRecord, when it changed since
    parse_only: bool = False  # only whether LibCST parses it: a summary with just its error (or none)


class Done(NamedTuple):
    summary: dict
    record: Optional[dict]  # the SliceRecord of a fast-path summary
    moved: bool  # the last summary, its lines moved (no LibCST)


class Summarizers:
    def __init__(self, jobs: Optional[int], start_method: Optional[str] = None):
        """``start_method``: how worker processes start (fork, spawn, forkserver); None: the platform's default."""
        self.jobs = jobs or os.cpu_count() or 1
        self.start_method = start_method
        self._pool = None
        self._processes: list = []  # the pool's worker processes, to tell how one died
        self._last_crash = CRASHED

    def start(self, even_alone: bool = False) -> None:
        """Start the workers now (they load LibCST in the background). ``even_alone``: one worker at least,
        even where ``jobs`` asks for no parallelism (a large file must not fail in this process)."""
        if self._pool is not None or (self.jobs <= 1 and not even_alone):
            return
        self._pool = self._new_pool(self.jobs)
        for _ in range(self.jobs):  # one task each, so every worker exists and loads at once
            self._pool.submit(_load)

    def _new_pool(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context(self.start_method) if self.start_method else None
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                                   initargs=(os.getpid(),))
        # The pool's own table of its processes (the same dict the pool fills as it starts them), read only to
        # tell a crash from the out-of-memory killer; an interpreter without it gives the plain crash message.
        processes = getattr(pool, "_processes", None)
        self._processes = processes if isinstance(processes, dict) else {}
        return pool

    def run(self, work: List[Work], more: Optional[Callable[[], List[Work]]] = None) -> List[Done]:
        """``summarise_one`` of each item, in order. ``more``: called once, when the workers have their first
        files, for the rest of the work (the caller prepares it while they parse); its items follow ``work``."""
        work = list(work)
        if self._pool is None:
            if more is not None and self._here(work):  # no worker to keep busy: the rest of the work now
                work += more()
                more = None
            if self._here(work):
                return [summarise_one(item) for item in work]
        self.start(even_alone=True)
        # Largest first: the last file to finish is a small one, so no core idles long.
        todo = deque(_largest_first(work, range(len(work))))

        def take_more() -> None:
            start = len(work)
            work.extend(more())
            rest = _largest_first(work, [*todo, *range(start, len(work))])
            todo.clear()
            todo.extend(rest)

        results: Dict[int, Done] = {}
        started = take_more if more is not None else None
        while todo or started is not None:
            suspects = self._run_some(todo, work, results, self.jobs * 2, started)
            started = None
            for index in suspects:  # the pool broke while these ran: each alone, to find the one to blame
                if self._run_some(deque([index]), work, results, 1):
                    results[index] = Done(_failed(work[index], self._last_crash), None, False)
        return [results[index] for index in range(len(work))]

    def map(self, function: Callable, items: list) -> list:
        """``function`` (of this module's level, never crashing the process) over ``items``: in the workers when
        they are running (a cold run) and the items are many, else here."""
        if self._pool is None or len(items) < PARALLEL_THRESHOLD:
            return [function(item) for item in items]
        return list(self._pool.map(function, items, chunksize=8))

    def submit(self, function: Callable, items: list) -> list:
        """Queue ``function`` (of a module's top level) over ``items`` in the workers now, ahead of any later work;
        the futures, or [] when no pool is running."""
        if self._pool is None:
            return []
        return [self._pool.submit(function, item) for item in items]

    def _here(self, work: List[Work]) -> bool:
        """Is this work better done in this process (while no pool has been started)?"""
        if any(len(item.source) >= ISOLATED_BYTES for item in work):
            return False
        return self.jobs <= 1 or len(work) < PARALLEL_THRESHOLD

    def _run_some(self, todo: deque, work, results, in_flight: int, started: Optional[Callable[[], None]] = None
                  ) -> List[int]:
        """Run items from ``todo`` with at most ``in_flight`` at once; when the pool breaks, return the items it
        held (``todo`` keeps the rest) and start a new pool. ``started``: called once the first items are in."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        running: Dict[object, int] = {}
        while todo or running or started is not None:
            while todo and len(running) < in_flight:
                index = todo.popleft()
                running[self._pool.submit(summarise_one, work[index])] = index
            if started is not None:
                started()
                started = None
                continue  # ``todo`` may have grown
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    results[running[future]] = future.result()
                except BrokenProcessPool:
                    suspects = list(running.values())
                    self._pool.shutdown(wait=True, cancel_futures=True)
                    self._last_crash = _crash_reason(self._processes)
                    self._pool = self._new_pool(self.jobs)
                    return suspects
                del running[future]
        return []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def abandon(self) -> None:
        """Stop the workers now, their work unfinished (the run was interrupted): a clean ``shutdown`` would
        wait for every file already handed to them, a minute on a large project."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()  # SIGKILL: they ignore SIGINT (see ``_start_worker``)
        # Waiting is quick now (the pool sees its workers dead and breaks); not waiting left its manager thread
        # closing a pipe while the interpreter's exit wrote to it: a traceback after the run.
        pool.shutdown(wait=True, cancel_futures=True)


def _largest_first(work: List[Work], indices: Iterable[int]) -> List[int]:
    return sorted(indices, key=lambda index: -len(work[index][0]))


def _crash_reason(processes) -> str:
    """Why a worker died, from its exit code: SIGKILL is the kernel's out-of-memory killer (or a person), an
    abort is often a failed allocation in the native parser; the pool itself stops the others with SIGTERM."""
    try:
        codes = [process.exitcode for process in list(processes.values())]
    except (AttributeError, TypeError):
        return CRASHED
    signals = {-code for code in codes if code is not None and code < 0 and code != -signal.SIGTERM}
    if signal.SIGKILL in signals:
        return f"{OUT_OF_MEMORY} (its worker was killed)"
    if signals == {signal.SIGABRT}:  # how LibCST's native parser ends when an allocation fails
        return f"{CRASHED} (SIGABRT: most often out of memory)"
    if signals:
        return f"{CRASHED} ({', '.join(sorted(_signal_name(number) for number in signals))})"
    return CRASHED


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _failed(work: Work, error: str) -> dict:
    from ..analysis.facts import ModuleSummary

    return ModuleSummary(work.path, work.module, work.is_package, error=error).to_json()


def _start_worker(parent: int) -> None:
    """Die with the parent: at once where Linux can tell us (PR_SET_PDEATHSIG), else within a second. Ctrl-C
    is the parent's to handle: it stops the workers itself (a worker of its own would print a traceback)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):
        pass
    starter = os.getppid()  # the parent, or the fork server that started us for it
    if not _alive(parent):
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, starter), daemon=True, name="celery-lint-watch").start()
    _load()


def _watch(parent: int, starter: int) -> None:
    while True:
        time.sleep(1)
        if os.getppid() != starter or not _alive(parent):
            os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, we may just not signal it
    return True


def _load() -> None:
    from ..analysis import summary  # noqa: F401  (imports libcst)


def summarise_one(work: Work) -> Done:
    """The file's summary: its last one with its lines moved when only what the slicer cuts changed (see
    ``reuse``: no LibCST needed), else a new one. A bug of ours on one strange file costs that file."""
    from ..analysis.guard import call_with_deep_stack

    try:
        return call_with_deep_stack(_summarise_one, work)
    except RecursionError:
        return Done(_failed(work, "cannot parse: nested too deeply for celery-lint's parser"), None, False)
    except MemoryError:
        return Done(_failed(work, OUT_OF_MEMORY), None, False)
    except Exception as exc:  # noqa: BLE001 - reported on the file's error line, never a lost run
        return Done(_failed(work, failure_message(exc)), None, False)


def failure_message(exc: BaseException) -> str:
    """``cannot analyse: ValueError: <the first line of its message>``: enough to report, one line to print."""
    lines = str(exc).strip().splitlines()
    first = lines[0][:200] if lines else ""
    return f"cannot analyse: {type(exc).__name__}: {first}" if first else f"cannot analyse: {type(exc).__name__}"


def _summarise_one(work: Work) -> Done:
    if work.parse_only:
        from ..analysis.facts import ModuleSummary
        from ..analysis.summary import parse_error

        summary = ModuleSummary(work.path, work.module, work.is_package, error=parse_error(work.source) or None)
        return Done(summary.to_json(), None, False)
    if work.interest is None:  # the plain path: the whole file, every call recorded
        from ..analysis.summary import summarize_cut

        return Done(summarize_cut(work.source, work.path, work.module, work.is_package)[0].to_json(), None, False)
    from .slicing import slice_source

    interest = work.interest
    sliced = slice_source(work.source, interest)  # made once: reuse and a new summary both need it
    found = _reused(work, sliced, interest.seen_in(work.source)) if work.previous is not None else None
    moved = found is not None
    summary, record = found if moved else _sliced_summary(work, interest, sliced)
    summary, record, again = _with_own_names(work, interest, summary, record)
    return Done(summary.to_json(), record.to_json(), moved and not again)


def _sliced_summary(work: Work, interest, sliced):
    from ..analysis.summary import summarize_cut  # only now: moving a summary's lines needs no libcst
    from .reuse import record_for

    seen = interest.seen_in(work.source)
    summary, from_cut = summarize_cut(work.source, work.path, work.module, work.is_package, sliced.cut, frozenset(seen))
    return summary, record_for(sliced if from_cut else sliced._replace(line_numbers=None), seen, interest.key, summary)


def _with_own_names(work: Work, interest, summary, record):
    """(summary, record, sliced again?): the file sliced again while its own summary names more of what it
    mentions (``own_names``). The record is keyed by the names it ends with, whichever way it was made (a moved
    summary and a fresh parse of the same text give the same record)."""
    from .own_names import own_names
    from .slicing import slice_source

    again = False
    while True:
        interest = interest.plus(own_names(summary, record.followed))
        if set(interest.seen_in(work.source)) <= set(record.names_seen):
            return summary, dataclasses.replace(record, key=interest.key), again
        summary, record = _sliced_summary(work, interest, slice_source(work.source, interest))
        again = True


def _reused(work: Work, sliced, seen):
    """The last summary and its record, its lines moved, when only what the slicer cuts changed; else None."""
    from ..analysis.facts import ModuleSummary
    from .reuse import SliceRecord, moved

    try:
        previous = ModuleSummary.from_json(work.previous[0])
        record = SliceRecord.from_json(work.previous[1])
    except (KeyError, TypeError, ValueError):
        return None  # an entry from another layout
    if (previous.path, previous.module, previous.is_package) != (work.path, work.module, work.is_package):
        return None
    found = moved(previous, record, sliced, seen, work.interest.key)
    if found is None and set(seen) < set(record.names_seen):
        found = _moved_for_names_seen(work, previous, record)
    return found


def _moved_for_names_seen(work: Work, previous, record):
    """The last summary was sliced for more names than this run's (names of interest come and go), so its
    sliced text cannot match this run's slice: compare with the slice for the names it was made for instead.
    A slice depends only on the names the file mentions, so that is the summary a parse for those names gives,
    and a run takes it as it takes any cached summary made for more names than it needs."""
    from .prefilter import Interest
    from .reuse import moved
    from .slicing import slice_source

    names = Interest(record.names_seen)
    seen = names.seen_in(work.source)
    if seen != record.names_seen:
        return None
    return moved(previous, record, slice_source(work.source, names), seen, names.key)
