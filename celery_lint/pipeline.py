"""One analysis of a project: files → summaries → project → verdicts → findings.

Summaries come from the fast path (``speed``: prefilter, slicing, cache, reuse) or, with ``speed=False``, from
the plain path: every file read and parsed whole, nothing cached. Both must give the same answers; the plain
path is what the tests hold the fast one to. libcst is imported only when a file has to be parsed, so a warm
run never pays for it.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from . import discovery
from .analysis.facts import ModuleSummary
from .analysis.project import Project
from .analysis.verdicts import judge
from .config import Config
from .rules import RULES, UNPARSABLE
from .sources import Sources
from .speed.answers import Answers
from .speed.cache import Cache
from .speed.parallel import Summarizers, Work
from .speed.rounds import FastPath
from .speed.syntax import EarlyChecks, file_noqa, unsummarised_errors
from .types import Backend, FileMessage, Finding, Report


def run(root: Path, config: Config, report_on: Sequence[Path], overrides: Optional[Dict[Path, bytes]],
        cache_dir: Optional[Path], jobs: Optional[int], cache_within: Optional[Path], speed: bool,
        start_method: Optional[str], answers: Optional[Answers], workers: Optional[Summarizers] = None) -> Report:
    """See ``engine.analyse_root``. ``cache_dir``: None for no cache. ``answers``: where to keep this answer
    (None: not kept). ``workers``: the run's pool, maybe started already (closed here)."""
    started = time.time_ns()
    report = Report(root)
    workers = workers if workers is not None else Summarizers(jobs, start_method)
    try:
        sources = Sources(root, config.outside_project, report_on, overrides, config.max_file_size,
                          config.respect_gitignore, config.unreported)
        report.files, report.warnings = len(sources.files), sources.warnings
        if not sources.files:
            cache_dir, answers = None, None  # nothing to keep: no cache directory is made where there is no Python
        stamps = answers.stamp(sources.looked_at) if answers is not None else None  # before any file is read
        if speed:
            project, exempt = _fast(report, sources, config, workers, Cache(cache_dir, within=cache_within))
        else:
            project, exempt = _plain(report, sources, config, workers), {}
    except BaseException:  # interrupted (or a bug of ours): the workers' files are no longer wanted
        workers.abandon()
        raise
    finally:
        workers.close()
    targets = [discovery.lexical(p) for p in report_on] or [root]
    by_path = {f.relative: f for f in sources.files}
    project.source_of = lambda relative: sources.read(by_path[relative]) if relative in by_path else None  # CEL004
    _judge(report, project, _unparsed(report, sources), config, targets, sources.unreported)
    _drop_file_noqa(report, sources, exempt)
    if answers is not None and report.cache_refused is None:
        answers.save(report, sources.looked_at, stamps, started)
    return report


def _fast(report: Report, sources: Sources, config: Config, workers: Summarizers, cache: Cache):
    """The project, and the file-level noqa of the files defining its tasks (kept in the cache)."""
    with cache.exclusive():
        early = None
        if not cache.entries:  # a cold run: the workers load LibCST and check files while we read the project
            workers.start()
            early = EarlyChecks(sources, workers)
        fast = FastPath(sources, cache, workers, config.task_decorators)
        project = fast.run()
        unsummarised = unsummarised_errors(sources, fast.states, fast.summaries, cache, workers, early)
        exempt = file_noqa(sources, fast.states, {task.path for task in project.tasks}, cache)
        cache.prune(f.relative for f in sources.files)
        cache.save()
    if cache.refused is not None:
        report.cache_refused = (cache.requested, cache.refused)
    report.parsed, report.moved, report.digests = fast.parsed, fast.moved, fast.digests()
    names = cache.meta.get("names")
    report.names = names if isinstance(names, list) else None
    report.errors = _summary_errors(fast.summaries) + [FileMessage(p, e) for p, e in sorted(unsummarised.items())]
    return project, exempt


def _plain(report: Report, sources: Sources, config: Config, workers: Summarizers) -> Project:
    workers.start()  # every file is parsed: the workers load LibCST while this process reads them
    files = [f for f in sources.files if sources.read(f) is not None]
    work = [Work(f.source, f.relative, f.module, f.is_package, None) for f in files]
    summaries = {f.relative: ModuleSummary.from_json(done.summary) for f, done in zip(files, workers.run(work))}
    report.parsed = len(files)
    report.digests = {f.relative: hashlib.sha1(f.source).hexdigest() for f in files}
    report.errors = _summary_errors(summaries)
    return Project(list(summaries.values()), config.task_decorators, [f.module for f in sources.files])


def _summary_errors(summaries: Dict[str, ModuleSummary]) -> List[FileMessage]:
    return [FileMessage(relative, s.error) for relative, s in sorted(summaries.items()) if s.error is not None]


def _unparsed(report: Report, sources: Sources) -> Dict[str, Optional[bytes]]:
    """The files the analysis could not read through: their text (None when not read at all, so they may
    mention any task). Their errors join the report."""
    by_path = {f.relative: f for f in sources.files}
    unparsed: Dict[str, Optional[bytes]] = {e.path: sources.read(by_path[e.path]) or b"" for e in report.errors}
    problems = sources.problems()
    unparsed.update((problem.path, None) for problem in problems)
    report.errors = sorted(report.errors + problems, key=lambda e: e.path)
    return unparsed


def _drop_file_noqa(report: Report, sources: Sources, known: Dict[str, frozenset]) -> None:
    """Findings in a file exempted by a file-level ``# flake8: noqa`` / ``# ruff: noqa[: CODES]`` line (``known``:
    what the cache kept; any other file with findings is read for it). A file that does not parse is still
    reported (CEL000), as in ruff."""
    paths = {f.path for f in report.findings if f.code != UNPARSABLE.code}
    exempt = {path: known[path] if path in known else sources.file_noqa(path) for path in paths}
    report.findings = [f for f in report.findings
                       if f.code == UNPARSABLE.code or not {"*", f.code} & exempt[f.path]]


def _judge(report: Report, project: Project, unparsed, config: Config, targets: List[Path],
           unreported: frozenset) -> None:
    root = report.root

    def reported(path: str) -> bool:
        """Under the paths checked and not excluded: the rest of the project is analysed, never reported."""
        return path not in unreported and discovery.under_any(root / path, targets)

    without_backend = project.settings.backend is Backend.ABSENT
    if config.assume_backend and project.settings.backend is not Backend.CONFIGURED:  # absent or unknown: taken as set
        project.settings = replace(project.settings, backend=Backend.CONFIGURED, assumed=True)
        without_backend = False
    report.settings = project.settings
    report.verdicts = [(task, judge(task, project, unparsed)) for task in project.tasks]
    found = _findings(report.verdicts, project, config, reported)
    report.findings += found
    if without_backend:  # what a backend would show: counted for the summary, never reported
        assumed = replace(project.settings, backend=Backend.CONFIGURED, assumed=True)
        report.hidden_without_backend += len(_findings(report.verdicts, _Assuming(project, assumed), config,
                                                       reported)) - len(found)
    errors = [e for e in report.errors if reported(e.path)]
    # A file that does not parse is a finding (CEL000) whatever select and ignore say, as in ruff.
    report.findings += [f for f in map(UNPARSABLE.finding, errors) if f is not None]
    report.findings.sort(key=Finding.sort_key)
    report.errors = [e for e in errors if UNPARSABLE.finding(e) is None]
    report.warnings = [w for w in report.warnings  # an ignore file shapes the whole project, whatever the targets
                       if discovery.is_ignore_file(w.path) or reported(w.path)]


def _findings(verdicts, project, config: Config, reported) -> List[Finding]:
    found = []
    for rule in RULES:
        for finding, noqa in rule.findings(project, verdicts):
            if not config.enabled(finding.code, finding.path) or "*" in noqa or finding.code in noqa:
                continue
            if reported(finding.path):
                found.append(finding)
    return found


class _Assuming:
    """The project as the rules would see it with a result backend (``assume-backend``)."""

    def __init__(self, project: Project, settings):
        self._project, self.settings = project, settings

    def __getattr__(self, name):
        return getattr(self._project, name)
