"""Where files are summarised: in this process for a few files, else in a pool of worker processes started
once per run. A cold run starts the pool first thing, so the workers import LibCST while this process reads
the project; a warm run never starts it (and never imports LibCST), nor does a run where every changed file
keeps its last summary with its lines moved (``reuse``), which is tried first, in the same place.

A worker that crashes (a parser bug on a strange file) costs that file, not the run: the files it may have
held are tried again one at a time, and the one that crashes again becomes an error line. Workers die with
the process that started them (a caller's timeout may kill it with SIGTERM or SIGKILL, without cleanup).
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import Dict, List, Optional, Tuple

PARALLEL_THRESHOLD = 16  # below this many files to parse (and no pool yet), a pool costs more than it saves
CRASHED = "cannot parse: celery-lint's parser crashed on this file"


class Summarizers:
    def __init__(self, jobs: Optional[int]):
        self.jobs = jobs or os.cpu_count() or 1
        self._pool = None

    def start(self) -> None:
        """Start the workers now (they load LibCST in the background)."""
        if self._pool is not None or self.jobs <= 1:
            return
        self._pool = self._new_pool(self.jobs)
        for _ in range(self.jobs):  # one task each, so every worker exists and loads at once
            self._pool.submit(_load)

    def _new_pool(self, workers: int):
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(os.getpid(),))

    def run(self, work: List[tuple]) -> List[Tuple[dict, bool]]:
        """``summarise_one`` of ``work`` items (source, relative, module, is_package, interest, previous summary
        or None), in order."""
        if self._pool is None and (self.jobs <= 1 or len(work) < PARALLEL_THRESHOLD):
            return [summarise_one(item) for item in work]
        self.start()
        # Largest first: the last file to finish is a small one, so no core idles long.
        todo = deque(sorted(range(len(work)), key=lambda index: -len(work[index][0])))
        results: Dict[int, Tuple[dict, bool]] = {}
        while todo:
            suspects = self._run_some(todo, work, results, self.jobs * 2)
            for index in suspects:  # the pool broke while these ran: each alone, to find the one to blame
                if self._run_some(deque([index]), work, results, 1):
                    results[index] = (_crashed(work[index]), False)
        return [results[index] for index in range(len(work))]

    def _run_some(self, todo: deque, work, results, in_flight: int) -> List[int]:
        """Run items from ``todo`` with at most ``in_flight`` at once; when the pool breaks, return the items it
        held (``todo`` keeps the rest) and start a new pool."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        running: Dict[object, int] = {}
        while todo or running:
            while todo and len(running) < in_flight:
                index = todo.popleft()
                running[self._pool.submit(summarise_one, work[index])] = index
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    results[running[future]] = future.result()
                except BrokenProcessPool:
                    suspects = list(running.values())
                    self._pool.shutdown(wait=True, cancel_futures=True)
                    self._pool = self._new_pool(self.jobs)
                    return suspects
                del running[future]
        return []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _crashed(item: tuple) -> dict:
    from .model import ModuleSummary

    _source, relative, module, is_package, _interest, _previous = item
    return ModuleSummary(relative, module, is_package, error=CRASHED).to_json()


def _start_worker(parent: int) -> None:
    """Die with the parent: at once where Linux can tell us (PR_SET_PDEATHSIG), else within a second."""
    try:
        import ctypes
        import signal

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
    from . import summary  # noqa: F401  (imports libcst)


def summarise_one(item: tuple) -> Tuple[dict, bool]:
    """(summary, moved): the file's last summary with its lines moved when only what the slicer cuts changed
    (see ``reuse``: no LibCST needed), else a new one. A bug of ours on one strange file costs that file."""
    try:
        return _summarise_one(item)
    except Exception as exc:  # noqa: BLE001 - reported on the file's error line, never a lost run
        from .model import ModuleSummary

        _source, relative, module, is_package, _interest, _previous = item
        error = f"cannot parse: internal error in celery-lint ({type(exc).__name__}: {exc}); please report it"
        return ModuleSummary(relative, module, is_package, error=error).to_json(), False


def _summarise_one(item: tuple) -> Tuple[dict, bool]:
    source, relative, module, is_package, interest, previous = item
    sliced = None
    if previous is not None and previous.get("fingerprint") is not None:
        from .guard import call_with_deep_stack
        from .model import ModuleSummary
        from .reuse import moved
        from .slicing import slice_source

        try:
            sliced = call_with_deep_stack(slice_source, source, interest)  # made once: a new summary needs it too
            summary = moved(ModuleSummary.from_json(previous), source, interest, sliced)
        except (KeyError, TypeError, ValueError, RecursionError, MemoryError):
            summary = sliced = None  # an entry from another layout, or a file too deep: parse it anew
        if summary is not None:
            return summary.to_json(), True
    from .summary import summarize  # imported here so that warm runs never load libcst

    return summarize(source, relative, module, is_package, keep=interest, sliced=sliced).to_json(), False
