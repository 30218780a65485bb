"""What the project's configuration says about result storage: is there a backend, is ignore_result on for
every task, may annotations change it, does the project read results by id."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from ..types import DYNAMIC, Backend
from .facts import ModuleSummary, RunningTaskFact, Setting, is_test_path
from .symbols import Symbol, Symbols


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
    # For the audit report only (no rule reads them): (value, path:line) where set outside tests, else None.
    expires: Optional[Tuple[object, str]] = None  # result_expires: seconds, or DYNAMIC
    extended: Optional[Tuple[object, str]] = None  # result_extended: True / False / DYNAMIC
    # outside any task: a helper reporting progress of (or publishing the id of) whichever task runs it
    running_anywhere: List[Tuple[str, RunningTaskFact]] = field(default_factory=list)


def project_settings(summaries: Sequence[ModuleSummary], symbols: Symbols) -> Settings:
    ignores, backends, nones, apps, dynamic, annotations, custom, envs = [], [], [], [], [], [], [], {}
    report_only = {}  # Setting.EXPIRES / EXTENDED -> (value, where): the first outside tests
    for summary in summaries:
        testing = is_test_path(summary.path)  # a test app or settings (eager, in memory) say nothing of production
        for fact in summary.config:
            where = f"{summary.path}:{fact.line}"
            value = fact.value
            if isinstance(value, dict) and "env" in value:  # read from the environment, with a default
                envs.setdefault(fact.key, value["env"])
                value = value["default"]
            if fact.key is Setting.GLOBAL_IGNORE:
                ignores.append((value if value in (True, False, DYNAMIC) else bool(value), where))
            elif fact.key is Setting.BACKEND and value is None:
                if not testing:
                    nones.append(where)  # ``CELERY_RESULT_BACKEND = None``: no backend
            elif fact.key is Setting.BACKEND:
                backends.append(where)
                if _is_project_backend(value, symbols):
                    custom.append(f"{where} ({value})")
            elif fact.key is Setting.APP and not testing:
                apps.append(value)
                if value:
                    backends.append(where)
            elif fact.key is Setting.DYNAMIC_CONFIG:
                dynamic.append(where)
            elif fact.key is Setting.ANNOTATIONS and fact.value:
                annotations.append(where)
            elif fact.key in (Setting.EXPIRES, Setting.EXTENDED) and not testing:
                report_only.setdefault(fact.key, (value, where))
    reads = [f"{s.path}:{line}" for s in summaries for line in s.reads_by_id]
    if backends or dynamic:
        backend = Backend.CONFIGURED
    elif apps or nones:
        backend = Backend.ABSENT
    else:
        backend = Backend.UNKNOWN
    return Settings(
        global_ignore=_global_ignore({value for value, _ in ignores}),
        global_ignore_at=ignores[0][1] if ignores else None,
        backend=backend,
        annotations_at=annotations[0] if annotations else None,
        reads_by_id_at=min(reads) if reads else None,
        custom_backend_at=custom[0] if custom else None,
        no_backend_at=nones[0] if nones and backend is Backend.ABSENT else None,
        backend_env=envs.get(Setting.BACKEND),
        global_ignore_env=envs.get(Setting.GLOBAL_IGNORE),
        backend_at=backends,
        expires=report_only.get(Setting.EXPIRES),
        extended=report_only.get(Setting.EXTENDED),
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
