"""Which of the project's settings the apps actually load: ``KEY = value`` in a module or class body is a setting
only where an app loads that module or class (``config_from_object("proj.celeryconfig")``,
``config_from_object(Config)``, ``conf.update(Config)``, Django's settings module and what it star-imports).
A docs example, a test settings file or a docker-only ``celeryconfig.py`` that no app loads says nothing about
the backend the deployment uses.

When what an app loads cannot be told (no app in the project, ``config_from_envvar``, an expression or a module
outside the project, a name that is neither a module nor a class), every module and class counts, as before.
"""
from __future__ import annotations

from typing import FrozenSet, Optional, Sequence, Set

from .facts import ModuleSummary, Setting, is_test_path
from .symbols import Symbol, Symbols

DJANGO_SETTINGS = ("django.conf:settings", "django.conf.settings")  # the project's own settings modules
SHOWN_CODE = 60  # characters of an unreadable config source quoted in a message


class DjangoSettings:
    """Which settings modules a Django project's app loads: ``config_from_object("django.conf:settings")`` reads
    the module ``DJANGO_SETTINGS_MODULE`` names, by default the one ``os.environ.setdefault(...)`` gives (in the
    module loading the settings, else anywhere), and whatever it star-imports (``from .base import *``). The
    project's other settings modules (``settings_docker.py``, ``settings/dev.py``) set no backend; their global
    ignore still counts (it can only keep tasks silent). A default module outside the project may import any of
    them: then all are read, and it is evidence that a backend may be set where celery-lint cannot see."""

    def __init__(self, summaries: Sequence[ModuleSummary], symbols: Symbols, modules: FrozenSet[str]):
        self.not_loaded: Set[str] = set()
        self.loaded: Optional[Set[str]] = None  # the settings modules read, when known
        self.outside_project: Optional[str] = None  # evidence: the default settings module is not in the project
        defaults, self.loaders = self._defaults(summaries)
        chosen = [(m, where) for m, where, module in defaults if module in self.loaders] or \
            [(m, where) for m, where, _ in defaults]
        if not self.loaders or not chosen:
            return
        outside = [(m, where) for m, where in chosen if m not in modules]
        if len(outside) == len(chosen):  # it may import any of the project's settings modules: all are read
            module, where = outside[0]
            self.outside_project = (f"the Django settings module {module} (DJANGO_SETTINGS_MODULE at {where}) is "
                                    "outside the project")
            return
        self.loaded = star_closure({m for m, _ in chosen}, symbols)
        self.not_loaded = {s.module for s in summaries
                           if s.config and _is_settings_module(s.module) and s.module not in self.loaded}

    @staticmethod
    def _defaults(summaries: Sequence[ModuleSummary]):
        """(default settings module, path:line, module setting it) and the modules loading Django's settings."""
        defaults, loaders = [], set()
        for summary in summaries:
            if is_test_path(summary.path):
                continue
            for fact in summary.config:
                if fact.key is not Setting.LOADED_CONFIG:
                    continue
                if "django_settings" in fact.value:
                    defaults.append((fact.value["django_settings"], f"{summary.path}:{fact.line}", summary.module))
                elif (fact.value.get("module") or fact.value.get("ref")) in DJANGO_SETTINGS:
                    loaders.add(summary.module)
        return defaults, loaders


class LoadedSources:
    """The modules and config classes the apps load settings from; ``holders`` None: cannot be told, every one
    counts.

    A config class counts with every config class of the project, not alone: the fast path cuts a class without
    a setting of interest (``class ProdConfig(BaseConfig): broker_url = ...``), even a whole module, and with
    it what it inherits from; both paths must answer the same. Counting another class too only errs towards
    "backend seen" (harmless reports) or a global ignore set in different ways (silence). Only names resolve
    here, never definitions, for the same reason."""

    def __init__(self, summaries: Sequence[ModuleSummary], symbols: Symbols, modules: FrozenSet[str],
                 django: DjangoSettings):
        self.symbols, self.modules = symbols, modules
        self.classes = {fact.held_by for s in summaries for fact in s.config
                        if fact.held_by is not None and fact.held_by != s.module}
        self.holders: Optional[Set[str]] = self._holders(summaries, django)

    def counts(self, held_by: Optional[str]) -> bool:
        """Does a setting written in the body of ``held_by`` reach an app (None: the app's own configuration)?"""
        return held_by is None or self.holders is None or held_by in self.holders

    def _holders(self, summaries: Sequence[ModuleSummary], django: DjangoSettings) -> Optional[Set[str]]:
        apps, roots = False, set()
        for summary in summaries:
            if is_test_path(summary.path):
                continue  # a test app (eager, in memory) says nothing of what production loads
            for fact in summary.config:
                if fact.key is Setting.DYNAMIC_CONFIG:
                    return None  # ``config_from_envvar``: the environment names the module
                apps = apps or fact.key is Setting.APP
                if fact.key is not Setting.LOADED_CONFIG or "django_settings" in fact.value:
                    continue
                dotted = fact.value.get("module") or fact.value.get("ref")
                if dotted in DJANGO_SETTINGS:
                    continue
                found = self._resolve(dotted) if dotted else None
                if found is None:
                    return None  # an expression, a module outside the project, an object of unknown shape
                roots |= found
        if django.loaders:
            if django.loaded is None:
                return None  # Django's settings module is not known (or outside the project): any may be read
            roots |= django.loaded
        if not apps and not django.loaders:
            return None  # no app here (a library): the application that uses it decides what it loads
        return star_closure(roots, self.symbols)

    def _resolve(self, dotted: str) -> Optional[Set[str]]:
        """The holders a config source names: a module (``celeryconfig`` also as ``proj.celeryconfig``: an app
        run from inside its package); for an object of a project module (a class, a mapping), every config
        class; None when it is outside the project."""
        dotted = dotted.replace(":", ".")
        modules = {m for m in self.modules if m == dotted or m.endswith(f".{dotted}")}
        if modules:
            return modules
        if any(dotted.startswith(f"{m}.") for m in self.modules):
            return set(self.classes)
        return None


def star_closure(modules: Set[str], symbols: Symbols) -> Set[str]:
    """The modules and everything they star-import, transitively."""
    found, todo = set(), list(modules)
    while todo:
        module = todo.pop()
        if module in found:
            continue
        found.add(module)
        summary = symbols.modules.get(module)
        if summary is not None:
            todo += [target for key, target in summary.imports.items() if key.startswith("*")]
    return found


def _is_settings_module(module: str) -> bool:
    return any("settings" in part for part in module.split("."))


def unseen_source(value, symbols: Symbols, modules: FrozenSet[str]) -> Optional[str]:
    """``config_from_object(x)`` / ``Celery(config_source=x)`` / ``conf.update(x)``: a sentence saying why x
    cannot be read (a module outside the project, an expression), or None when its settings are in the project."""
    if not isinstance(value, dict):
        return None
    if "code" in value:
        code = value["code"]
        shown = code if len(code) <= SHOWN_CODE else code[:SHOWN_CODE - 3] + "..."
        return f"the config is loaded from {shown}, which celery-lint cannot read,"
    dotted = value.get("module") or value.get("ref")
    if not dotted or dotted in DJANGO_SETTINGS or _in_project(dotted, symbols, modules):
        return None
    return f"the config is loaded from {dotted}, outside the project,"


def _in_project(dotted: str, symbols: Symbols, modules: FrozenSet[str]) -> bool:
    """A module or object of the project: by its full name, or by a name relative to one of its folders (an app
    run from inside its package imports ``celeryconfig`` for ``proj/celeryconfig.py``)."""
    dotted = dotted.replace(":", ".")
    if symbols.resolve(dotted).kind is not Symbol.EXTERNAL:
        return True
    parts = dotted.split(".")
    names = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}  # the module may end anywhere in it
    return any(module in names or any(module.endswith(f".{name}") for name in names) for module in modules)
