"""Where files are summarised: in this process for a few files, else in a pool of worker processes started
once per run. A cold run starts the pool first thing, so the workers import LibCST while this process reads
the project; a warm run never starts it (and never imports LibCST), nor does a run where every changed file
keeps its last summary with its lines moved (``reuse``), which is tried first, in the same place."""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

PARALLEL_THRESHOLD = 16  # below this many files to parse (and no pool yet), a pool costs more than it saves


class Summarizers:
    def __init__(self, jobs: Optional[int]):
        self.jobs = jobs or os.cpu_count() or 1
        self._pool = None

    def start(self) -> None:
        """Start the workers now (they load LibCST in the background)."""
        if self._pool is not None or self.jobs <= 1:
            return
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_load)
        for _ in range(self.jobs):  # one task each, so every worker exists and loads at once
            self._pool.submit(_load)

    def run(self, work: List[tuple]) -> List[Tuple[dict, bool]]:
        """``summarise_one`` of ``work`` items (source, relative, module, is_package, interest, previous summary
        or None), in order."""
        if self._pool is None and (self.jobs <= 1 or len(work) < PARALLEL_THRESHOLD):
            return [summarise_one(item) for item in work]
        self.start()
        # Largest first, one at a time: the last file to finish is a small one, so no core idles long.
        order = sorted(range(len(work)), key=lambda index: -len(work[index][0]))
        futures = [(index, self._pool.submit(summarise_one, work[index])) for index in order]
        results: List[Optional[Tuple[dict, bool]]] = [None] * len(work)
        for index, future in futures:
            results[index] = future.result()
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _load() -> None:
    from . import summary  # noqa: F401  (imports libcst)


def summarise_one(item: tuple) -> Tuple[dict, bool]:
    """(summary, moved): the file's last summary with its lines moved when only what the slicer cuts changed
    (see ``reuse``: no LibCST needed), else a new one."""
    source, relative, module, is_package, interest, previous = item
    sliced = None
    if previous is not None and previous.get("fingerprint") is not None:
        from .model import ModuleSummary
        from .reuse import moved
        from .slicing import slice_source

        sliced = slice_source(source, interest)  # made once: a new summary needs it too
        try:
            summary = moved(ModuleSummary.from_json(previous), source, interest, sliced)
        except (KeyError, TypeError, ValueError):
            summary = None  # an entry from another layout
        if summary is not None:
            return summary.to_json(), True
    from .summary import summarize  # imported here so that warm runs never load libcst

    return summarize(source, relative, module, is_package, keep=interest, sliced=sliced).to_json(), False
