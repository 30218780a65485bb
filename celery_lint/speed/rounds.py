"""The fast path: summaries of only the files (and statements) that can matter, from the cache where it holds.

Phase one takes the files that mention a Celery token. Phase two adds the files, and the statements of files
already summarised, that can reach a task, decorator alias or result-returning helper found so far, by name.
Each round can find new names, so the rounds repeat until a round finds nothing new: a fixed point, never a cap
(names only accumulate, so it ends). The engine's plain path (every file, whole, no cache) must give the same
answers; the tests hold the two side by side.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from ..analysis.facts import Decorator, ModuleSummary
from ..analysis.project import Project
from ..analysis.callers import caller_names
from ..analysis.reach import carried_names, functions_of_module
from ..analysis.readers_imported import reader_names
from ..analysis.returned import returned_functions
from ..analysis.symbols import Symbol
from ..analysis.waits import summary_waiting_names, waiting_function_names
from ..sources import SourceFile, Sources
from ..types import UseKind
from .cache import Cache, Entry
from .defining_modules import modules_to_read
from .modules_handed_on import bare_uses
from .own_names import helper_names, helper_refs
from .parallel import Done, Summarizers, Work
from .prefilter import LOOKED_UP, WORD, Interest, likely_task_names, looks_up_in, mentions_celery
from .reuse import SliceRecord


@dataclass
class _State:
    """What this run knows of one file beyond its source."""

    entry: Entry
    unreached: Optional[frozenset] = None  # names this run found the file cannot reach
    previous: Optional[Tuple[dict, dict]] = None  # its last summary and record, when it changed since
    failed: bool = False  # its worker failed: the summary is the error line, kept for this run only


class FastPath:
    def __init__(self, sources: Sources, cache: Cache, workers: Summarizers, task_decorators: Iterable[str]):
        self.sources = sources
        self.cache = cache
        self.workers = workers
        self.task_decorators = tuple(task_decorators)
        self.states: Dict[str, _State] = {}
        self.summaries: Dict[str, ModuleSummary] = {}
        self.records: Dict[str, SliceRecord] = {}
        self.parsed = self.moved = 0

    def run(self) -> Project:
        files = self.sources.files
        todo = [f for f in files if self._state(f).entry.celery]
        # Start from the names the last run ended with (so an edit re-parses only the edited file), or a guess.
        previous = self.cache.meta.get("names")
        interest = Interest(previous if isinstance(previous, list) else self._likely_task_names(todo))
        # Phase two starts at once, with those names; its files are picked while the workers parse phase one's.
        # Later rounds only add what the real names need.
        first_names = interest

        def phase_two() -> List[SourceFile]:
            return [f for f in files if not self._state(f).entry.celery and self._needs_names(f, first_names)]

        more: Optional[Callable[[], List[SourceFile]]] = phase_two
        known: Set[str] = set()
        modules = {f.module for f in files}
        first_round = True
        while True:
            self._summarise(todo, interest, first_round, more)
            first_round, more = False, None
            # in the files' order, as the plain path has them (which place a verdict cites first follows it)
            ordered = [self.summaries[f.relative] for f in files if f.relative in self.summaries]
            project = Project(ordered, self.task_decorators, [f.module for f in files])
            known.update(names_of_interest(project))
            bases: Set[str] = set()  # of the classes whose methods the callers index follows
            known.update(caller_names(project, bases))
            # ``getattr(ops, name)(...)``: whether ``ops`` is a module of the project (whose functions it calls)
            bases.update(use.target for summary in project.summaries for use in summary.uses
                         if use.run_time_attr and use.target in modules)
            # ``ident(t).delay()``: the returns of this file's ``ident`` stay in its slice (and nothing else reads them)
            known.update(f"{name}()" for record in self.records.values() for name in record.followed)
            defining, defined_names = modules_to_read(project, modules, bases)
            known.update(defined_names)
            # ``from proj.api import tasks`` then ``tasks.render.delay()``: a receiver no summary resolves, by way of
            # a module of the project not read yet (one re-exporting the tasks module). Only the modules: the names
            # on the way would change with each slice, and the rounds would never settle (imports are kept anyway)
            defining |= modules_to_read(project, modules, _unresolved_targets(project, modules), decorators=False)[0]
            # ``ident(t).delay()`` with another module's ident: its returns stay in its slice, its module is summarised
            returning, returning_modules = returned_functions(project.symbols, project.summaries)
            known.update(returning)
            names = sorted(known)
            if self.cache.meta.get("names") != names:
                self.cache.meta["names"], self.cache.dirty = names, True
            interest = Interest(names)
            defining |= returning_modules
            todo = [f for f in files if self._needs_names(f, interest) or self._unread_module(f, defining)]
            if not todo:
                return project

    def digests(self) -> Dict[str, str]:
        return {relative: state.entry.hash for relative, state in self.states.items() if state.entry.hash}

    # ----- what the cache and the text say about a file -----
    def _state(self, f: SourceFile) -> _State:
        """The file's cache entry, refreshed (hash, prefilter) if the file changed since it was made."""
        state = self.states.get(f.relative)
        if state is not None:
            return state
        stat = f.stat()
        entry = self.cache.get(f.relative, stat) if stat is not None and not self.sources.too_large(f, stat) else None
        previous = None
        if entry is None or entry.module != f.module:
            source = self.sources.read(f, stat)
            if source is None:  # not read (a problem the report will show): no entry, never summarised
                entry = Entry("", f.module, False)
            else:
                digest = hashlib.sha1(source).hexdigest()
                old = self.cache.entries.get(f.relative)
                if old and old.hash == digest and old.module == f.module:
                    entry = dataclasses.replace(old)
                else:
                    entry = Entry(digest, f.module, mentions_celery(source))
                    if old and old.summary is not None and old.record is not None:
                        previous = (old.summary, old.record.to_json())
                self.cache.put(f.relative, entry, stat)
        state = self.states[f.relative] = _State(entry, previous=previous)
        return state

    def _source(self, f: SourceFile) -> bytes:
        source = self.sources.read(f)
        return source if source is not None else b""

    def _needs_names(self, f: SourceFile, interest: Interest) -> bool:
        """Does this file name something of interest where its summary did not look (or has no summary)?"""
        state = self._state(f)
        if (not interest.words and not interest.lookups) or f.problem is not None or not state.entry.hash or state.failed:
            return False
        summary, record = self.summaries.get(f.relative), self.records.get(f.relative)
        if summary is not None and record is not None and record.key == interest.key:
            return False
        key = f"{interest.key}/{record.key if summary is not None and record is not None else '-'}"
        answers = state.entry.names
        if key in answers:
            return answers[key]
        if summary is None and state.unreached is not None and interest.reach_keys <= state.unreached:
            hits = False  # none of a superset of these names was reachable from this file
        elif summary is None:
            # Names this run already found unreachable from the file (which has no star import, then) cannot make
            # it reachable now: only the others can, and only if the file holds them at all.
            source = self._source(f)
            hits = _reaches(source, interest, state.unreached)
            if not hits:
                state.unreached = interest.reach_keys
        else:  # a summarised file: does it mention a name its summary did not look for?
            seen = {n.encode() for n in record.names_seen} if record is not None else set()
            source = self._source(f)
            hits = _returns_cut(record) or (may_mention(source, interest.names - seen)
                                            and not interest.names.intersection(WORD.findall(source)) <= seen) \
                or _defines_returning(source, interest, record) or bool(bare_uses(source, interest.lookups_not_in(seen, b")")))
        # Kept even where the answer came free, and both questions a run asks (before and after the file's summary
        # is known), so that the next run with the same names reads no file for them and has nothing to write.
        state.entry.names = {**{k: v for k, v in answers.items() if k.startswith(f"{interest.key}/")}, key: hits}
        self.cache.dirty = True
        return hits

    def _unread_module(self, f: SourceFile, modules: Set[str]) -> bool:
        """Is this file, not summarised yet, one of ``modules`` (``defining_modules``)?"""
        state = self._state(f)
        return (f.module in modules and f.relative not in self.summaries and f.problem is None
                and bool(state.entry.hash) and not state.failed)

    def _likely_task_names(self, todo: List[SourceFile]) -> List[str]:
        """A first guess at task names, from the text alone, so that the first LibCST pass already keeps the
        statements that name them (a wrong guess only costs time: later rounds check the real names)."""
        names: Set[str] = set()
        for f in todo:
            entry = self._state(f).entry
            if entry.likely is None:
                entry.likely = likely_task_names(self._source(f))
            names.update(entry.likely)
        return sorted(names)

    # ----- summaries -----
    def _summarise(self, todo: List[SourceFile], interest: Interest, first_round: bool,
                   more: Optional[Callable[[], List[SourceFile]]] = None) -> None:
        """Summaries from the cache where content and slice are unchanged; the rest in parallel: a changed file's
        last summary with its lines moved where the edit touched only what the slicer cuts, else LibCST.
        ``more``: the rest of ``todo``, asked for once the workers have their first files."""
        to_parse: List[SourceFile] = []

        def work_for(files: List[SourceFile]) -> List[Work]:
            new = [f for f in files if not self._from_cache(f, interest, first_round)]
            to_parse.extend(new)
            return [Work(self._source(f), f.relative, f.module, f.is_package, interest,
                         self.states[f.relative].previous) for f in new]

        done_list = self.workers.run(work_for(todo), (lambda: work_for(more())) if more is not None else None)
        for f, done in zip(to_parse, done_list):
            self._take(f, done)

    def _take(self, f: SourceFile, done: Done) -> None:
        state = self.states[f.relative]
        self.summaries[f.relative] = ModuleSummary.from_json(done.summary)
        if done.record is None:
            # The worker failed (out of memory, a crash): the summary is the file's error line, so its tasks stay
            # "maybe". Not cached (the next run may have the memory), and never asked for again in this run.
            state.failed = True
            self.parsed += 1
            return
        self.records[f.relative] = record = SliceRecord.from_json(done.record)
        state.entry.summary, state.entry.record, state.previous = done.summary, record, None
        self.cache.dirty = True
        if done.moved:
            self.moved += 1
        else:
            self.parsed += 1

    def _from_cache(self, f: SourceFile, interest: Interest, first_round: bool) -> bool:
        entry = self.states[f.relative].entry
        # In the first round any cached summary will do (one sliced with names keeps more, never less).
        if entry.summary is None or entry.record is None or not (first_round or entry.record.key == interest.key):
            return False
        try:
            summary = ModuleSummary.from_json(entry.summary)
        except (KeyError, TypeError, ValueError):
            return False  # an entry from another layout: parse again
        if (summary.path, summary.module, summary.is_package) != (f.relative, f.module, f.is_package):
            return False  # paths come from discovery, never from the cache alone
        self.summaries[f.relative], self.records[f.relative] = summary, entry.record
        return True


SUBSTRING_CHECKS = 24  # up to this many names, a text search for each beats listing the file's words


def may_mention(source: bytes, names: frozenset) -> bool:
    """Could ``source`` mention one of ``names`` as a word? False only when none is in it even as text: a later
    round adds a few names, and most files hold none of them (a search each, instead of every word again)."""
    return len(names) > SUBSTRING_CHECKS or any(name in source for name in names)


def _returns_cut(record: Optional[SliceRecord]) -> bool:
    """Did the slicer cut returns this file's summary follows (sliced before ``name()`` was of interest)?"""
    return record is not None and not {f"{name}()" for name in record.followed} <= set(record.names_seen)


def _defines_returning(source: bytes, interest: Interest, record: Optional[SliceRecord]) -> bool:
    """Does the file define at module level a function whose returns another file follows (``name()``, new to
    its record), or may it replace one (``helpers.name = f``, ``setattr``)? Only there does keeping the
    statements that name it change a summary."""
    seen = record.names_seen if record is not None else []
    fresh = [name for name in interest.returning if f"{name.decode()}()" not in seen and name in source]
    replaces = fresh and any(word in source for word in _REPLACING)
    return any(re.search(rb"^(?:async[ \t]+)?def[ \t]+" + name + rb"\b|\." + name + rb"\s*=[^=]", source, re.M)
               or (replaces and re.search(rb"\b" + name + rb"\b", source)) for name in fresh)


_REPLACING = (b"setattr", b"vars(", b"__dict__")  # ways to set an attribute (``attributes_set``) by its name


def _reaches(source: bytes, interest: Interest, unreached: Optional[frozenset]) -> bool:
    """Can a file no round summarised reach something of interest? Only what is new since it was last found
    unreachable (``unreached``) is asked about, and each kind of name only where the file may hold it at all."""
    if unreached is None:
        return interest.referenced_in(source) or _replaces_returning(source, interest.returning)
    new_names, new_lookups = interest.since(unreached)
    if may_mention(source, new_names) and interest.referenced_in(source):
        return True
    if new_lookups and b"getattr" in source and any(module.rpartition(b".")[2] in source for module in new_lookups) \
            and looks_up_in(source, frozenset(WORD.findall(source)), new_lookups):
        return True
    if bare_uses(source, new_lookups):  # ``run(tasks)``: the module handed on as a value
        return True
    return _replaces_returning(source, [name for name in interest.returning if b"()" + name not in unreached])


def _replaces_returning(source: bytes, returning) -> bool:
    """May a file no round summarised replace a function whose returns are followed (``api.ident = other``,
    ``setattr``)? Its summary must say so (``attributes_set``), as the plain path's does."""
    fresh = [name for name in returning if name in source]
    replaces = fresh and any(word in source for word in _REPLACING)
    return any(re.search(rb"\." + name + rb"\s*=[^=]", source) or (replaces and re.search(rb"\b" + name + rb"\b", source))
               for name in fresh)


def names_of_interest(project: Project) -> List[str]:
    """Names that let a file without any Celery token still matter: task functions and classes, decorator
    aliases, app factories (``app = create_app()`` makes an app), options spread into decorators, helpers that
    return a result or look a task up by name. (Not registered names such as ``"notify.new-reply"``: a string
    reaches a task only through send_task, signature, app.tasks[...] or beat, all Celery tokens but beat, and
    beat never reads a result.)"""
    names = set()
    for task in project.tasks:
        names.add(task.short_name)
    helpers = _helper_keys(project)
    for summary in project.summaries:
        names.update(_task_aliases(project, summary))
        names.update(_helper_aliases(project, summary, helpers))
        for alias in summary.aliases:
            decorator = Decorator(f"{summary.module}.{alias.name}", False, {}, False, 0, 0)
            if project.symbols.task_decorator(decorator) is not None:
                names.add(alias.name)
        for function in summary.functions:
            if any(project.symbols.makes_app(ref) for ref in function.returns):
                names.add(function.name)
            for decorator in function.decorators:  # shared options spread in, defined in another module
                names.update(ref.rpartition(".")[2] for ref in decorator.spread if ref)
        names.update(helper_names(summary))  # helpers returning a result, getattr dispatchers: all their calls
    names.update(reader_names(project.summaries, project.symbols))  # ``from proj.compat import Result``: a read by id
    names.update(carried_names(project.summaries))  # helpers reporting progress, attributes self.x carries
    # (only a module named like identifiers can be named in code: ``getattr(ops, name)``)
    names.update(f"{LOOKED_UP}{module})" for module in _looked_up_modules(project)
                 if all(part.isidentifier() for part in module.split(".")))
    # functions that wait for a result, and those calling them: a task calling one waits (CEL004)
    names.update(summary_waiting_names(project))
    names.update(waiting_function_names(project))
    return sorted(names)


_RECEIVED = frozenset({UseKind.ENQUEUE, UseKind.SIGNATURE, UseKind.ASYNC_RESULT, UseKind.EAGER})


def _unresolved_targets(project: Project, modules: Set[str]) -> Set[str]:
    """The receivers of enqueues and signatures that no summary resolves and that start in a module of the project
    (not values handed on: most are no task, and reading their modules would only cost)."""
    roots = {module.partition(".")[0] for module in modules}
    found = set()
    for summary in project.summaries:
        for use in summary.uses:
            target = use.target
            if target and use.kind in _RECEIVED and target.partition(".")[0] in roots and target not in found \
                    and project.symbols.resolve(target)[0] in (Symbol.UNKNOWN, Symbol.EXTERNAL):
                found.add(target)
    return found


def _looked_up_modules(project: Project) -> Set[str]:
    """Modules whose attributes, looked up by a name known at run time (``getattr(post, name)``), may be a task or
    a function returning a result (``analysis.reach.index_calls``): a file doing so must be summarised."""
    returning = {project.symbols.function_key(use.outcome.via) for summary in project.summaries
                 for use in summary.uses if use.outcome.via}
    return {summary.module for summary in project.summaries if project.tasks_in_module(summary.module)
            or not returning.isdisjoint(functions_of_module(project.symbols, summary.module))}


def _helper_keys(project: Project) -> Set[tuple]:
    """The functions whose every call matters (``own_names.helper_refs``), as (module, qualname)."""
    refs = {ref for summary in project.summaries for ref in helper_refs(summary)}
    return {key for key in map(project.symbols.function_key, refs) if key is not None}


def _helper_aliases(project: Project, summary: ModuleSummary, helpers: Set[tuple]) -> Set[str]:
    """Names a module binds such a function to by import, under a name of its own (``from proj.service import start
    as launch``): a module importing ``launch`` from it calls the function without naming it."""
    return {name for name, ref in summary.imports.items() if not name.startswith("*")
            and name != ref.rpartition(".")[2] and project.symbols.function_key(ref) in helpers}


def _task_aliases(project: Project, summary: ModuleSummary) -> Set[str]:
    """Names a module binds a task to by import, under a name of its own (``from .tasks import send as notify``,
    ``try: from .x import notify`` ``except ImportError: notify = None``): a module importing ``notify`` from it
    reaches the task without naming it."""
    found = {name for name in summary.imports if not name.startswith("*")
             and project.task_for(f"{summary.module}.{name}") is not None}
    found.update(name for name, refs in summary.bound_several.items()
                 if any(project.task_for(ref) is not None for ref in refs if ref))
    return found
