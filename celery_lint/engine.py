"""The one engine behind the CLI, the flake8 plugin and pre-commit: files → summaries → project → rules.

libcst is imported only when a file actually has to be parsed, so a warm run never pays for it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from . import files
from .cache import CACHE_DIRNAME, Cache
from .config import Config
from .model import Decorator, ModuleSummary
from .parallel import Summarizers
from .project import Project, Task
from .rules import RULES, Finding, Verdict, judge


@dataclass
class Report:
    root: Path
    findings: List[Finding] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # "path: message" for files that do not parse
    verdicts: List[Tuple[Task, Verdict]] = field(default_factory=list)
    parsed: int = 0  # files summarised by LibCST in this run (not from the cache)
    moved: int = 0  # changed files whose last summary still held, lines moved (no LibCST)
    files: int = 0


@dataclass
class _File:
    path: Path
    relative: str
    module: str
    is_package: bool
    source: Optional[bytes] = None
    entry: Optional[dict] = None
    unreached: Optional[frozenset] = None  # names this run found the file cannot reach
    previous: Optional[dict] = None  # the cached summary of this file's last version, when it changed since


def analyse_root(
    root: Path,
    config: Config,
    report_on: Sequence[Path] = (),
    overrides: Optional[Dict[Path, bytes]] = None,
    cache_dir: Optional[Path] = None,
    use_cache: bool = True,
    jobs: Optional[int] = None,
) -> Report:
    """Analyse the whole project at ``root``; report findings only for files under ``report_on``."""
    root = root.resolve()
    overrides = {p.resolve(): src for p, src in (overrides or {}).items()}
    cache = Cache((cache_dir or root / CACHE_DIRNAME) if use_cache else None)
    workers = Summarizers(jobs)
    try:
        with cache.exclusive():
            if not cache.entries:  # a cold run: let the workers load LibCST while we read the project
                workers.start()
            return _analyse(root, config, report_on, overrides, cache, workers)
    finally:
        workers.close()


def _analyse(root: Path, config: Config, report_on, overrides, cache: Cache, workers: Summarizers) -> Report:
    report = Report(root)

    paths = files.discover(root, config.excludes)
    # Files named explicitly (or edited in an editor buffer) are linted even where excludes would skip them.
    for path in [*overrides, *(p.resolve() for p in report_on if p.is_file())]:
        if path.suffix == ".py" and path not in paths:
            paths.append(path)
    project_files = [_describe(root, path) for path in paths]
    report.files = len(project_files)

    # Phase one: files that mention any Celery API. Phase two: files (and the statements of phase-one files)
    # that can reach a task, decorator alias or helper found so far. Repeat until nothing new turns up.
    summaries: Dict[str, ModuleSummary] = {}
    unparsed: Dict[str, bytes] = {}
    todo = [f for f in project_files if _phase_one(f, cache, overrides)]
    # Start from the names the last run ended with (so an edit re-parses only the edited file), or a guess.
    previous = cache.meta.get("names")
    interest = files.Interest(previous if isinstance(previous, list) else _likely_task_names(todo, overrides))
    # Phase two starts at once, with those names: later rounds only add what the real names need.
    todo += [f for f in project_files if not f.entry["celery"] and _needs_names(f, None, interest, cache, overrides)]
    for _round in range(4):
        _summarise(todo, interest, cache, overrides, summaries, report, workers, first_round=_round == 0)
        project = Project(list(summaries.values()), config.task_decorators)
        names = _names_of_interest(project)
        if cache.meta.get("names") != names:
            cache.meta["names"], cache.dirty = names, True
        interest = files.Interest(names)
        todo = [f for f in project_files if _needs_names(f, summaries.get(f.relative), interest, cache, overrides)]
        if not todo:
            break
    cache.prune(f.relative for f in project_files)
    cache.save()

    for relative, summary in sorted(summaries.items()):
        if summary.error is not None:
            report.errors.append(f"{relative}: {summary.error}")
            unparsed[relative] = _read(root / relative, overrides)

    targets = [p.resolve() for p in report_on] or [root]
    for task in project.tasks:
        verdict = judge(task, project, unparsed)
        report.verdicts.append((task, verdict))
        for rule in RULES:
            finding = rule.check(task, verdict, project)
            if finding is None or not config.enabled(finding.code, finding.path):
                continue
            if "*" in task.noqa or finding.code in task.noqa:
                continue
            if files.under_any(root / finding.path, targets):
                report.findings.append(finding)
    report.findings.sort(key=Finding.sort_key)
    report.errors = [e for e in report.errors if files.under_any(root / e.split(":")[0], targets)]
    return report


def _describe(root: Path, path: Path) -> _File:
    module, is_package = files.module_name(path, root)
    return _File(path, files.relative_to(path, root), module, is_package)


def _read(path: Path, overrides: Dict[Path, bytes]) -> bytes:
    if overrides and path.resolve() in overrides:
        return overrides[path.resolve()]
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _cached_entry(f: _File, cache: Cache, overrides) -> dict:
    """The cache entry for a file, refreshed (hash, prefilter) if the file changed since."""
    if f.entry is not None:
        return f.entry
    stat = None if f.path in overrides else _stat(f.path)
    entry = cache.get(f.relative, stat) if stat is not None else None
    if entry is None or entry.get("module") != f.module:
        f.source = _read(f.path, overrides)
        digest = hashlib.sha1(f.source).hexdigest()
        old = cache.entries.get(f.relative)
        if old and old.get("hash") == digest and old.get("module") == f.module:
            entry = dict(old, mtime=stat.st_mtime_ns if stat else None, size=stat.st_size if stat else None)
        else:
            entry = {"hash": digest, "module": f.module, "celery": files.mentions_celery(f.source), "summary": None}
            f.previous = old.get("summary") if old else None
            if stat is not None:
                entry.update(mtime=stat.st_mtime_ns, size=stat.st_size)
        if stat is not None:
            cache.put(f.relative, entry)
    f.entry = entry
    return entry


def _stat(path: Path):
    try:
        return path.stat()
    except OSError:
        return None


def _phase_one(f: _File, cache: Cache, overrides) -> bool:
    return _cached_entry(f, cache, overrides)["celery"]


def _needs_names(f: _File, summary: Optional[ModuleSummary], interest, cache: Cache, overrides) -> bool:
    """Does this file name something of interest where the last summary did not look (or not at all)?"""
    if not interest.names:
        return False
    entry = _cached_entry(f, cache, overrides)
    if summary is not None and entry.get("slice") == interest.key:
        return False
    key = f"{interest.key}/{entry.get('slice') if summary is not None else '-'}"
    answers = entry.get("names") if isinstance(entry.get("names"), dict) else {}
    if key in answers:
        return answers[key]
    if summary is None and f.unreached is not None and interest.names <= f.unreached:
        hits = False  # none of a superset of these names was reachable from this file
    elif summary is None:
        hits = interest.referenced_in(_source(f, overrides))
        if not hits:
            f.unreached = interest.names
    else:  # a phase-one file: does it mention a name its summary did not look for?
        words = files.WORD.findall(_source(f, overrides))
        hits = not interest.names.intersection(words) <= {n.encode() for n in summary.names_seen}
    # Kept even where the answer came free, and both questions a run asks (before and after the file's summary
    # is known), so that the next run with the same names reads no file for them and has nothing to write.
    entry["names"] = {**{k: v for k, v in answers.items() if k.startswith(f"{interest.key}/")}, key: hits}
    cache.dirty = True
    return hits


def _summarise(todo: List[_File], interest, cache: Cache, overrides, summaries, report: Report,
               workers: Summarizers, first_round: bool) -> None:
    """Summaries from the cache where content and slice are unchanged; the rest in parallel: a changed file's
    last summary with its lines moved where the edit touched only what the slicer cuts, else LibCST."""
    to_parse: List[_File] = []
    for f in todo:
        entry = _cached_entry(f, cache, overrides)
        # In the first round any cached summary will do (one sliced with names keeps more, never less).
        if entry.get("summary") is not None and (first_round or entry.get("slice") == interest.key):
            try:
                summaries[f.relative] = ModuleSummary.from_json(entry["summary"])
                continue
            except (KeyError, TypeError, ValueError):
                pass  # an entry from another layout: parse again
        to_parse.append(f)
    work = [(_source(f, overrides), f.relative, f.module, f.is_package, interest, f.previous) for f in to_parse]
    for f, (result, moved) in zip(to_parse, workers.run(work)):
        summaries[f.relative] = ModuleSummary.from_json(result)
        f.entry.update(summary=result, slice=interest.key)
        f.previous = None
        cache.dirty = True
        if moved:
            report.moved += 1
        else:
            report.parsed += 1


def _source(f: _File, overrides) -> bytes:
    return f.source if f.source is not None else _read(f.path, overrides)


LIKELY_TASK = re.compile(
    rb"^[ \t]*@[^\n]*(?:task|celery)[^\n]*\n(?:[^\n]*\n){0,40}?[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)"
    rb"|^[ \t]*class[ \t]+(\w+)\([^)]*Task\b|^(\w+)[ \t]*=[ \t]*[\w.]*task\b",
    re.IGNORECASE | re.MULTILINE,
)


def _likely_task_names(todo: List[_File], overrides) -> List[str]:
    """A first guess at task names, from the text alone, so that the first LibCST pass already keeps the
    statements that name them (a wrong guess only costs time: later rounds check the real names)."""
    names = set()
    for f in todo:
        if "likely" not in f.entry:
            source = _source(f, overrides)
            f.entry["likely"] = sorted({g.decode() for m in LIKELY_TASK.finditer(source) for g in m.groups() if g})
        names.update(f.entry["likely"])
    return sorted(names)


def _names_of_interest(project: Project) -> List[str]:
    """Names that let a file without any Celery token still matter: task functions and classes, decorator
    aliases, helpers that return a result or look a task up by name. (Not registered names such as
    ``"notify.new-reply"``: a string reaches a task only through send_task, signature, app.tasks[...] or
    beat, all Celery tokens but beat, and beat never reads a result.)"""
    names = set()
    for task in project.tasks:
        names.add(task.qualname.rpartition(".")[2])
    for summary in project.summaries:
        for alias in summary.aliases:
            if project.task_decorator(_decorator_for(f"{summary.module}.{alias.name}")) is not None:
                names.add(alias.name)
        for use in summary.uses:  # helpers returning a result, getattr dispatchers: we need all their calls
            if use.outcome.via:
                names.add(use.outcome.via.rpartition(".")[2])
            if use.via_param:
                names.add(use.via_param["function"].rpartition(".")[2])
    return sorted(names)


def _decorator_for(ref: str) -> Decorator:
    return Decorator(ref, False, {}, False, 0, 0)


def analyse(
    paths: Sequence[Path],
    config_loader,
    overrides: Optional[Dict[Path, bytes]] = None,
    cache_dir: Optional[Path] = None,
    use_cache: bool = True,
    jobs: Optional[int] = None,
) -> List[Report]:
    """Group the given paths by project root and analyse each project once."""
    by_root: Dict[Path, List[Path]] = {}
    for path in paths:
        by_root.setdefault(files.find_root(path), []).append(path)
    return [
        analyse_root(root, config_loader(root), targets, overrides, cache_dir, use_cache, jobs)
        for root, targets in sorted(by_root.items())
    ]
