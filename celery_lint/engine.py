"""The one engine behind the CLI, the flake8 plugin and pre-commit: files → summaries → project → rules.

libcst is imported only when a file actually has to be parsed, so a warm run never pays for it.
"""
from __future__ import annotations

import bisect
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


@dataclass(frozen=True)
class FileMessage:
    path: str  # relative to the root
    message: str


@dataclass
class Report:
    root: Path
    findings: List[Finding] = field(default_factory=list)
    errors: List[FileMessage] = field(default_factory=list)  # files that do not parse or cannot be read
    warnings: List[FileMessage] = field(default_factory=list)  # .py paths that are not regular files
    verdicts: List[Tuple[Task, Verdict]] = field(default_factory=list)
    digests: Dict[str, str] = field(default_factory=dict)  # sha1 of each file's content as analysed
    cache_refused: Optional[Tuple[Path, str]] = None  # a cache directory not used, and why
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
    problem: Optional[str] = None  # why the file was not read (unreadable, over the size limit)


def analyse_root(
    root: Path,
    config: Config,
    report_on: Sequence[Path] = (),
    overrides: Optional[Dict[Path, bytes]] = None,
    cache_dir: Optional[Path] = None,
    use_cache: bool = True,
    jobs: Optional[int] = None,
    cache_within: Optional[Path] = None,
) -> Report:
    """Analyse the whole project at ``root``; report findings only for files under ``report_on``.
    ``cache_within``: a cache directory outside it is refused (a directory named by a repository's config)."""
    root = root.resolve()
    overrides = {files.lexical(p): src for p, src in (overrides or {}).items()}
    cache = Cache((cache_dir or root / CACHE_DIRNAME) if use_cache else None, within=cache_within)
    workers = Summarizers(jobs)
    try:
        with cache.exclusive():
            if not cache.entries:  # a cold run: let the workers load LibCST while we read the project
                workers.start()
            report = _analyse(root, config, report_on, overrides, cache, workers)
            if cache.refused is not None:
                report.cache_refused = (cache_dir or root / CACHE_DIRNAME, cache.refused)
            return report
    finally:
        workers.close()


def _analyse(root: Path, config: Config, report_on, overrides, cache: Cache, workers: Summarizers) -> Report:
    report = Report(root)

    skipped: List[Tuple[Path, str]] = []
    paths = files.discover(root, config.excludes, skipped)
    report.warnings = [FileMessage(files.relative_to(path, root), reason) for path, reason in skipped]
    # Files named explicitly (or edited in an editor buffer) are linted even where excludes would skip them.
    for path in [*overrides, *(files.lexical(p) for p in report_on if p.is_file())]:
        if path.suffix == ".py" and path not in paths:
            paths.append(path)
    project_files = [_describe(root, path) for path in paths]
    report.files = len(project_files)

    # Phase one: files that mention any Celery API. Phase two: files (and the statements of phase-one files)
    # that can reach a task, decorator alias or helper found so far. Repeat until nothing new turns up.
    summaries: Dict[str, ModuleSummary] = {}
    unparsed: Dict[str, bytes] = {}
    todo = [f for f in project_files if _phase_one(f, cache, overrides, config.max_file_size)]
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
            report.errors.append(FileMessage(relative, summary.error))
            unparsed[relative] = _read(root / relative, overrides)
    for f in project_files:
        if f.problem is not None:  # not read at all: it may mention (and read) any task
            report.errors.append(FileMessage(f.relative, f.problem))
            unparsed[f.relative] = None
        elif f.entry is not None:
            report.digests[f.relative] = f.entry["hash"]
    report.errors.sort(key=lambda e: e.path)

    targets = [files.lexical(p) for p in report_on] or [root]
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
    report.errors = [e for e in report.errors if files.under_any(root / e.path, targets)]
    report.warnings = [w for w in report.warnings if files.under_any(root / w.path, targets)]
    return report


def _describe(root: Path, path: Path) -> _File:
    module, is_package = files.module_name(path, root)
    return _File(path, files.relative_to(path, root), module, is_package)


def _read(path: Path, overrides: Dict[Path, bytes]) -> bytes:
    if overrides and files.lexical(path) in overrides:
        return overrides[files.lexical(path)]
    return path.read_bytes()


_UNREAD = {"hash": None, "celery": False, "summary": None}  # the entry of a file that was not read


def _cached_entry(f: _File, cache: Cache, overrides, max_size: Optional[int] = None) -> dict:
    """The cache entry for a file, refreshed (hash, prefilter) if the file changed since; a file that cannot
    be read, or is over ``max_size`` bytes, gets no entry but a ``problem``."""
    if f.entry is not None:
        return f.entry
    stat = None if f.path in overrides else _stat(f.path)
    entry = cache.get(f.relative, stat) if stat is not None else None
    if entry is None or entry.get("module") != f.module:
        try:
            if stat is not None and max_size is not None and stat.st_size > max_size:
                raise _TooLarge(f"skipped: {_size(stat.st_size)} is over max-file-size ({_size(max_size)})")
            f.source = _read(f.path, overrides)
        except OSError as exc:
            f.problem = f"cannot read: {exc.strerror or exc}"
        except _TooLarge as exc:
            f.problem = str(exc)
        if f.problem is not None:
            f.entry = dict(_UNREAD)
            return f.entry
        digest = hashlib.sha1(f.source).hexdigest()
        old = cache.entries.get(f.relative)
        if old and old.get("hash") == digest and old.get("module") == f.module:
            entry = dict(old)
        else:
            entry = {"hash": digest, "module": f.module, "celery": files.mentions_celery(f.source), "summary": None}
            f.previous = old.get("summary") if old else None
        cache.put(f.relative, entry, stat)
    f.entry = entry
    return entry


class _TooLarge(Exception):
    pass


def _size(size: int) -> str:
    """``10 MB`` for a round figure (a limit), ``11.2 MB`` otherwise."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if size >= scale:
            return f"{size // scale} {unit}" if size % scale == 0 else f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _stat(path: Path):
    try:
        return path.stat()
    except OSError:
        return None


def _phase_one(f: _File, cache: Cache, overrides, max_size: Optional[int] = None) -> bool:
    return _cached_entry(f, cache, overrides, max_size)["celery"]


def _needs_names(f: _File, summary: Optional[ModuleSummary], interest, cache: Cache, overrides) -> bool:
    """Does this file name something of interest where the last summary did not look (or not at all)?"""
    if not interest.names or f.problem is not None:
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
                summary = ModuleSummary.from_json(entry["summary"])
                if (summary.path, summary.module, summary.is_package) == (f.relative, f.module, f.is_package):
                    summaries[f.relative] = summary  # paths come from discovery, never from the cache alone
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
    if f.source is None:
        try:
            f.source = _read(f.path, overrides)
        except OSError as exc:  # readable when checked, not now: as good as unreadable
            f.problem = f"cannot read: {exc.strerror or exc}"
            return b""
    return f.source


# A first guess at task names from the text alone (each pattern linear on any input, see ``_likely_names``).
DECORATOR_LINE = re.compile(rb"^[ \t]*@[^\n]*", re.MULTILINE)
DEF_LINE = re.compile(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
TASK_CLASS = re.compile(rb"^[ \t]*class[ \t]+(\w+)\([^)\n]*Task\b", re.MULTILINE)
TASK_ALIAS = re.compile(rb"^(\w+)[ \t]*=[ \t]*[\w.]*task\b", re.IGNORECASE | re.MULTILINE)
_LINE_BREAK = re.compile(rb"\n")
_DECORATOR_REACH = 40  # a task's def is at most this many lines below a decorator that names task or celery


def _likely_names(source: bytes) -> List[str]:
    """Functions decorated by something that says task or celery, Task subclasses, ``x = ...task`` aliases."""
    names = {m.group(1) for pattern in (TASK_CLASS, TASK_ALIAS) for m in pattern.finditer(source)}
    decorators = [m.end() for m in DECORATOR_LINE.finditer(source)
                  if b"task" in m.group(0).lower() or b"celery" in m.group(0).lower()]
    if decorators:
        definitions = [(m.start(), m.group(1)) for m in DEF_LINE.finditer(source)]
        starts = [start for start, _ in definitions]
        breaks = [m.start() for m in _LINE_BREAK.finditer(source)]
        for end in decorators:
            index = bisect.bisect_left(starts, end)
            if index < len(starts) and bisect.bisect(breaks, starts[index]) - bisect.bisect(breaks, end) <= _DECORATOR_REACH:
                names.add(definitions[index][1])
    return sorted(name.decode() for name in names)


def _likely_task_names(todo: List[_File], overrides) -> List[str]:
    """A first guess at task names, from the text alone, so that the first LibCST pass already keeps the
    statements that name them (a wrong guess only costs time: later rounds check the real names)."""
    names = set()
    for f in todo:
        if "likely" not in f.entry:
            f.entry["likely"] = _likely_names(_source(f, overrides))
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
                names.add(use.via_param.function.rpartition(".")[2])
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
