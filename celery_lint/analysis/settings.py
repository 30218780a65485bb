"""What the project's configuration says about result storage: is there a backend, is ignore_result on for
every task, may annotations change it, does the project read results by id.

The backend has three states (``Backend``): *configured* (a value, or a default the code shows), *absent* (the
project makes its app and gives it none, or writes ``None`` where the environment cannot change it) and
*unknown*. Unknown comes with its evidence when something we cannot read may set one (the environment, a config
module outside the project, ``conf.update(<something unseen>)``); without evidence it is a library, whose
application decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from ..types import DYNAMIC, Backend
from .facts import ConfigFact, ModuleSummary, RunningTaskFact, Setting, is_test_path
from .loaded_settings import DjangoSettings, LoadedSources, unseen_source
from .readers_imported import reads_through_imports
from .symbols import Symbol, Symbols

# What settings no app loads may still say (a docker-only celeryconfig, another deployment's Django settings):
# only what keeps tasks silent, never what reports one (``_Collected.unloaded``). Their ``task_ignore_result =
# True`` makes the global ignore "maybe" (DYNAMIC): the deployment may load that module after all (an environment
# variable, a start script), and taking the default False there would report tasks the project ignores globally:
# a false positive. Their ``False`` is dropped: the default is False anyway. Their backend is dropped (a "no
# backend" it hides only misses), except a backend class of the project's own, which keeps its tasks "maybe";
# result_expires / result_extended (report only) are dropped.


@dataclass
class Settings:
    global_ignore: object  # True / False / DYNAMIC
    global_ignore_at: Optional[str]
    backend: Backend
    annotations_at: Optional[str]  # task_annotations that may set ignore_result
    reads_by_id_at: Optional[str]  # first ``AsyncResult(x)``-style read by id
    custom_backend_at: Optional[str] = None  # ``result_backend = "<a class of this project>"``: path:line (value)
    no_backend_at: Optional[str] = None  # where the project says "no backend" (``backend=None``): path:line
    backend_env: Optional[str] = None  # ...unless this environment variable sets one
    global_ignore_env: Optional[str] = None  # the global ignore is a default this environment variable may change
    # every place (path:line) that sets a backend: a setting, ``conf.update(result_backend=...)``, ``Celery(backend=...)``
    backend_at: List[str] = field(default_factory=list)
    # Backend.UNKNOWN with evidence: why a backend may be configured where we cannot see (the first such place)
    backend_unknown: Optional[str] = None
    assumed: bool = False  # ``assume-backend = true``: a backend is assumed where none is seen
    # For the audit report only (no rule reads them): (value, path:line) where set outside tests, else None.
    expires: Optional[Tuple[object, str]] = None  # result_expires: seconds, or DYNAMIC
    extended: Optional[Tuple[object, str]] = None  # result_extended: True / False / DYNAMIC
    # outside any task: a helper reporting progress of (or publishing the id of) whichever task runs it
    running_anywhere: List[Tuple[str, RunningTaskFact]] = field(default_factory=list)

    @property
    def backend_condition(self) -> Optional[str]:
        """The condition a finding states when the backend is unknown with evidence."""
        if self.backend is Backend.UNKNOWN and self.backend_unknown:
            return f"stored if a result backend is configured: {self.backend_unknown}"
        return None


class _Collected:
    """Every config fact of the project, sorted by what it says (one handler per ``Setting``)."""

    def __init__(self, symbols: Symbols, modules: FrozenSet[str]):
        self.symbols, self.modules = symbols, modules
        self.ignores: List[Tuple[object, str]] = []
        self.backends: List[str] = []
        self.nones: List[str] = []  # ``CELERY_RESULT_BACKEND = None``: no backend
        self.apps: List[bool] = []
        self.apps_without_backend: List[str] = []
        self.unseen: List[str] = []  # evidence that a backend may come from where we cannot see
        self.annotations: List[str] = []
        self.custom: List[str] = []
        self.envs: Dict[Setting, str] = {}
        self.report_only: Dict[Setting, Tuple[object, str]] = {}  # EXPIRES / EXTENDED: the first outside tests

    def add(self, fact: ConfigFact, where: str, testing: bool) -> None:
        value = fact.value
        if isinstance(value, dict) and "env" in value:  # read from the environment, with a default
            self.envs.setdefault(fact.key, value["env"])
            if fact.key is Setting.BACKEND and value["default"] is None and not testing:
                # no default: the environment alone decides whether there is a backend
                self.unseen.append(f"{value['env']} is read from the environment at {where}")
                return
            value = value["default"]
        handler = _HANDLERS.get(fact.key)
        if handler is not None:
            handler(self, value, where, testing)

    def unloaded(self, fact: ConfigFact, where: str) -> None:
        """A setting of a module or class no app loads: only what may keep tasks silent (see the note at the top)."""
        value = fact.value["default"] if isinstance(fact.value, dict) and "env" in fact.value else fact.value
        if fact.key is Setting.GLOBAL_IGNORE and value is not False:
            self.ignores.append((DYNAMIC, where))
        elif fact.key is Setting.ANNOTATIONS and value:
            self.annotations.append(where)
        elif fact.key is Setting.BACKEND and _is_project_backend(value, self.symbols):
            self.custom.append(f"{where} ({value})")

    def global_ignore(self, value, where: str, testing: bool) -> None:
        self.ignores.append((value if value in (True, False, DYNAMIC) else bool(value), where))

    def backend(self, value, where: str, testing: bool) -> None:
        if value is None:
            if not testing:  # a test settings file without a backend says nothing of production
                self.nones.append(where)
            return
        self.backends.append(where)
        if _is_project_backend(value, self.symbols):
            self.custom.append(f"{where} ({value})")

    def app(self, value, where: str, testing: bool) -> None:
        if testing:
            return
        self.apps.append(value)
        if value:
            self.backends.append(where)
        else:
            self.apps_without_backend.append(where)

    def run_time_config(self, value, where: str, testing: bool) -> None:
        if not testing:
            self.unseen.append(f"the config module is named by the environment (config_from_envvar at {where})")

    def loaded_config(self, value, where: str, testing: bool) -> None:
        if "django_settings" in value:  # read before the facts (``DjangoSettings``)
            return
        evidence = None if testing else unseen_source(value, self.symbols, self.modules)
        if evidence:
            self.unseen.append(f"{evidence} at {where}")

    def annotation(self, value, where: str, testing: bool) -> None:
        if value:
            self.annotations.append(where)

    def report_only_value(self, key: Setting, value, where: str, testing: bool) -> None:
        if not testing:
            self.report_only.setdefault(key, (value, where))

    def backend_state(self) -> Backend:
        if self.backends:
            return Backend.CONFIGURED
        if self.unseen:  # nothing seen sets one, but something unseen may
            return Backend.UNKNOWN
        if self.apps or self.nones:
            return Backend.ABSENT
        return Backend.UNKNOWN  # a library: the application that uses it decides


_HANDLERS = {
    Setting.GLOBAL_IGNORE: _Collected.global_ignore,
    Setting.BACKEND: _Collected.backend,
    Setting.APP: _Collected.app,
    Setting.DYNAMIC_CONFIG: _Collected.run_time_config,
    Setting.LOADED_CONFIG: _Collected.loaded_config,
    Setting.ANNOTATIONS: _Collected.annotation,
    Setting.EXPIRES: lambda self, value, where, testing: self.report_only_value(Setting.EXPIRES, value, where, testing),
    Setting.EXTENDED: lambda self, value, where, testing: self.report_only_value(Setting.EXTENDED, value, where, testing),
}


def project_settings(summaries: Sequence[ModuleSummary], symbols: Symbols,
                     modules: FrozenSet[str] = frozenset()) -> Settings:
    """``modules``: every module of the project, summarised or not."""
    known = modules | set(symbols.modules)
    collected = _Collected(symbols, known)
    django = DjangoSettings(summaries, symbols, known)
    if django.outside_project:
        collected.unseen.append(django.outside_project)
    loaded = LoadedSources(summaries, symbols, known, django)
    for summary in summaries:
        testing = is_test_path(summary.path)  # a test app or settings (eager, in memory) say nothing of production
        other_deployment = summary.module in django.not_loaded
        for fact in summary.config:
            if other_deployment or not loaded.counts(fact.held_by):
                collected.unloaded(fact, f"{summary.path}:{fact.line}")  # ``settings_docker.py``: never decides
            else:
                collected.add(fact, f"{summary.path}:{fact.line}", testing)
    reads = [f"{s.path}:{line}" for s in summaries for line in s.reads_by_id] + reads_through_imports(summaries, symbols)
    backend = collected.backend_state()
    ignores = collected.ignores
    return Settings(
        global_ignore=_global_ignore({value for value, _ in ignores}),
        global_ignore_at=ignores[0][1] if ignores else None,
        backend=backend,
        annotations_at=collected.annotations[0] if collected.annotations else None,
        reads_by_id_at=min(reads) if reads else None,
        custom_backend_at=collected.custom[0] if collected.custom else None,
        no_backend_at=(collected.nones or collected.apps_without_backend or [None])[0]
        if backend is Backend.ABSENT else None,
        backend_env=collected.envs.get(Setting.BACKEND),
        global_ignore_env=collected.envs.get(Setting.GLOBAL_IGNORE),
        backend_at=list(dict.fromkeys(collected.backends)),  # ``Celery(backend=...)`` is both an app and a setting
        backend_unknown=collected.unseen[0] if backend is Backend.UNKNOWN and collected.unseen else None,
        expires=collected.report_only.get(Setting.EXPIRES),
        extended=collected.report_only.get(Setting.EXTENDED),
    )


def _global_ignore(values: set) -> object:
    """One value everywhere it is set, or DYNAMIC when the project sets it in different ways."""
    if not values:
        return False
    return values.pop() if len(values) == 1 and values <= {True, False} else DYNAMIC


def _is_project_backend(value, symbols: Symbols) -> bool:
    """``result_backend = "proj.celery.backends.JobResultBackend"``: results land where the project's own code
    (its models, its views) reads them, which we cannot follow."""
    if isinstance(value, dict):
        value = value.get("ref")
    if not isinstance(value, str) or value == DYNAMIC or "://" in value or "." not in value:
        return False
    return symbols.resolve(value.replace(":", ".")).kind not in (Symbol.EXTERNAL, Symbol.UNKNOWN)
