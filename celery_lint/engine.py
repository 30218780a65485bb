"""The one entry point behind the CLI, the flake8 plugin and pre-commit: a project's answer.

The answer is the last one kept whole, when the caller needs only findings and nothing that run looked at has
changed (``speed.answers``), or a new analysis (``pipeline``: files → summaries → project → rules). The
analysis is imported only when it runs: a kept answer needs none of it (a quarter of a flake8 run on one file).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from . import discovery
from .config import Config
from .speed.answers import Answers, answer_key, unchanged_by
from .speed.cache_dir import CACHE_DIRNAME, CacheDirectory
from .types import Report


ROOT_MARKERS = discovery.ROOT_MARKERS


def analyse(paths: Sequence[Path], config_loader, overrides: Optional[Dict[Path, bytes]] = None,
            cache_dir: Optional[Path] = None, use_cache: bool = True, jobs: Optional[int] = None) -> List[Report]:
    """Group the given paths by project root and analyse each project once."""
    by_root: Dict[Tuple[Path, bool], List[Path]] = {}
    for path in paths:
        by_root.setdefault(discovery.locate_root(path), []).append(path)
    reports = []
    for (root, marked), targets in sorted(by_root.items()):
        report = analyse_root(root, config_loader(root), targets, overrides, cache_dir, use_cache, jobs)
        report.marked = marked
        reports.append(report)
    return reports


def analyse_root(root: Path, config: Config, report_on: Sequence[Path] = (), overrides: Optional[Dict[Path, bytes]] = None,
                 cache_dir: Optional[Path] = None, use_cache: bool = True, jobs: Optional[int] = None,
                 cache_within: Optional[Path] = None, speed: bool = True, start_method: Optional[str] = None,
                 findings_only: bool = False) -> Report:
    """Analyse the whole project at ``root``; report findings only for files under ``report_on``.

    ``cache_within``: a cache directory outside it is refused (one named by a repository's own config).
    ``speed=False``: the plain path. ``start_method``: how worker processes start (fork, spawn, forkserver).
    ``findings_only``: the caller reads only the findings, errors, warnings and file count (not the verdicts,
    settings or digests), so the last answer may be given back when nothing it looked at has changed.
    """
    root = root.resolve()
    cache = (cache_dir or root / CACHE_DIRNAME) if use_cache else None
    answers = None
    if speed and cache is not None and findings_only:
        answers = Answers(CacheDirectory(cache, cache_within), root, answer_key(root, config, report_on))
        stored = answers.load()
        # An editor's buffer of a file that cannot matter (most files of a project) leaves the answer as it is.
        if stored is not None and (not overrides or unchanged_by(stored, overrides)):
            return stored
        if stored is not None and len(overrides or ()) == 1:  # a task module's buffer that only moves lines
            from .speed.buffer_answer import moved_answer
            from .speed.cache import Cache

            ((path, buffer),) = overrides.items()
            moved = moved_answer(stored, answers.looked_at, path, buffer, config, Cache(cache, within=cache_within))
            if moved is not None:
                return moved
    from .speed.cache import holds_an_index
    from .speed.parallel import Summarizers

    workers = Summarizers(jobs, start_method)
    if not holds_an_index(cache):  # a cold run: the workers load LibCST while this process loads the rest
        workers.start()
    from . import pipeline

    kept = answers if not overrides else None  # an answer is kept for the files on disk only
    return pipeline.run(root, config, report_on, overrides, cache, jobs, cache_within, speed, start_method, kept,
                        workers)
