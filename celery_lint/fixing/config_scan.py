"""What the global strategy must know about how a project builds its Celery app, read from source with LibCST.

The analysis records *that* a backend is set; the global flag needs more: how many apps there are, which
settings namespace they read (``config_from_object(..., namespace="CELERY")``), whether their config comes
from somewhere the project does not hold, and which packages outside the project register tasks on the app
(Django ``INSTALLED_APPS``, ``Celery(include=[...])``, ``autodiscover_tasks([...])``): the global flag reaches
their tasks too, and the analysis cannot see them. Only files that mention one of these names are parsed.
"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from .. import discovery
from ..analysis.facts import is_test_path
from ..analysis.flow import call_name
from ..analysis.walk import last_name
from ..analysis.env_values import literal
from ..types import DYNAMIC

TOKENS = (b"Celery", b"INSTALLED_APPS", b"autodiscover_tasks", b"config_from_object", b"config_from_envvar",
          b"conf.update")
DJANGO_SETTINGS = "django.conf:settings"


class ScanError(Exception):
    """A file could not be read as it was analysed: the plan cannot be trusted."""


@dataclass
class AppConfig:
    apps: List[str] = field(default_factory=list)  # path:line of each ``Celery(...)`` outside tests
    namespaces: Dict[Optional[str], str] = field(default_factory=dict)  # config_from_object namespace -> where
    unseen_config: List[str] = field(default_factory=list)  # ``config_from_object("mod")``, mod not in the project
    envvar: List[str] = field(default_factory=list)  # ``config_from_envvar(...)``: config chosen at run time
    unseen_update: List[str] = field(default_factory=list)  # ``app.conf.update(load())``: settings nobody can see
    reaches: List[Tuple[str, str, str]] = field(default_factory=list)  # (what, package, path:line)


def scan(root: Path, digests: Dict[str, str]) -> AppConfig:
    """Read the project's files (as analysed: each must still have its digest) for how its apps are made."""
    modules = _project_modules(root, digests)
    tops = {name.split(".")[0] for name in modules}
    found = AppConfig()
    for relative in sorted(digests):
        if is_test_path(relative):
            continue  # a test app (eager, in memory) says nothing of production
        try:
            source = (root / relative).read_bytes()
        except OSError as exc:
            raise ScanError(f"{relative}: cannot read: {exc.strerror}") from None
        if hashlib.sha1(source).hexdigest() != digests[relative]:
            raise ScanError(f"{relative}: changed since it was analysed (run celery-lint again)")
        if any(token in source for token in TOKENS) and _may_matter(source):
            _scan_file(relative, source, modules, tops, found)
    return found


def _project_modules(root: Path, relatives: Iterable[str]) -> Set[str]:
    return {discovery.module_name(root / relative, root)[0] for relative in relatives}


def _may_matter(source: bytes) -> bool:
    """Does the file hold a call or assignment a ``_FileScan`` handler reads? Python's own parser answers
    about eight times faster than LibCST, and most files with a token hold none (``CeleryTask`` in a
    docstring, ``dict.update``): the global run would otherwise cost a second full parse of each."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # LibCST decides (and the analysis already reported a file it cannot parse)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _matters(node.func):
            return True
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        if any(isinstance(t, ast.Name) and t.id == "INSTALLED_APPS" for t in targets):
            return True
    return False


def _matters(func: ast.expr) -> bool:
    while isinstance(func, ast.Subscript):  # ``Celery[DjangoTask]("x")``
        func = func.value
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name == "update":  # only ``<x>.conf.update(...)``
        return isinstance(func.value, ast.Attribute) and func.value.attr == "conf"
    return name in _CALLS


def _scan_file(relative: str, source: bytes, modules: Set[str], tops: Set[str], found: AppConfig) -> None:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        # a tree parsed here for this scan alone: no need for the defensive deep copy
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    except cst.ParserSyntaxError:
        return  # the analysis already reported it
    scan = _FileScan(relative, wrapper.resolve(PositionProvider), modules, tops, found)
    for node in _walk(wrapper.module):
        if isinstance(node, cst.Call):
            func = node.func.value if isinstance(node.func, cst.Subscript) else node  # ``Celery[DjangoTask]("x")``
            handler = _CALLS.get(last_name(func) if func is not node else call_name(node))
            if handler is not None:
                handler(scan, node)
        elif isinstance(node, (cst.Assign, cst.AugAssign)):
            scan.installed_apps(node)


@dataclass
class _FileScan:
    """What one file tells about its apps, one method per call that matters."""

    relative: str
    positions: dict
    modules: Set[str]
    tops: Set[str]
    found: AppConfig

    def where(self, node) -> str:
        return f"{self.relative}:{self.positions[node].start.line}"

    def outside(self, what: str, node) -> None:
        """Packages named in ``node`` that are not the project's: the global flag reaches their tasks too."""
        for value, string in _strings(node):  # each entry at its own line
            if value.split(".")[0] not in self.tops and not value.startswith("django."):
                self.found.reaches.append((what, value, self.where(string)))

    def app(self, node) -> None:
        self.found.apps.append(self.where(node))
        include = _keyword(node, "include")
        if include is not None:
            self.outside("Celery(include=...)", include)

    def autodiscover(self, node) -> None:
        import libcst as cst

        packages = _keyword(node, "packages") or _positional(node, 0)
        if isinstance(packages, (cst.List, cst.Tuple)):  # ``lambda: settings.INSTALLED_APPS``: listed below
            self.outside("autodiscover_tasks()", packages)

    def envvar(self, node) -> None:
        self.found.envvar.append(self.where(node))

    def config_object(self, node) -> None:
        namespace = _keyword(node, "namespace")  # not a literal: a namespace no key can be written for
        key = None if namespace is None else _string(namespace) or DYNAMIC
        self.found.namespaces.setdefault(key, self.where(node))
        target = _string(_keyword(node, "obj") or _positional(node, 0))
        if target and target != DJANGO_SETTINGS and target.split(":")[0] not in self.modules:
            self.found.unseen_config.append(f"{self.where(node)} ({target})")

    def conf_update(self, node) -> None:
        """``app.conf.update(load())``, ``conf.update(**extra)``: settings in a style nobody can see."""
        import libcst as cst

        func = node.func
        if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Attribute) \
                or func.value.attr.value != "conf":
            return
        if any(arg.star == "**" or (arg.keyword is None and not _is_literal_mapping(arg.value)) for arg in node.args):
            self.found.unseen_update.append(self.where(node))

    def installed_apps(self, node) -> None:
        import libcst as cst

        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        if any(isinstance(t, cst.Name) and t.value == "INSTALLED_APPS" for t in targets):
            self.outside("INSTALLED_APPS", node.value)


_CALLS = {"Celery": _FileScan.app, "autodiscover_tasks": _FileScan.autodiscover, "config_from_envvar": _FileScan.envvar,
          "config_from_object": _FileScan.config_object, "update": _FileScan.conf_update}


def _is_literal_mapping(node) -> bool:
    """``{"task_serializer": "json"}`` / ``dict(a=1)``: its keys are in plain sight."""
    import libcst as cst

    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) for e in node.elements)
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict" \
        and all(arg.keyword is not None for arg in node.args)


def _walk(node):
    """Every node under ``node``, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _keyword(call, name: str):
    return next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == name), None)


def _positional(call, index: int):
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index] if index < len(positional) else None


def _string(node) -> Optional[str]:
    value = literal(node)
    return value if isinstance(value, str) and value != DYNAMIC else None


def _strings(node) -> List[tuple]:
    """Every plain string literal inside ``node`` (a list, a tuple, ``BASE + [...]``): (value, its node)."""
    import libcst as cst

    return [(value, child) for child in _walk(node) if isinstance(child, cst.SimpleString)
            for value in [_string(child)] if value]
