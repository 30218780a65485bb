"""Modules the rounds must read because a task's decorator names something defined there.

``@app.task(base=AuditedTask, **RETRY_OPTIONS)``: whether the task already ignores its result depends on
``RETRY_OPTIONS``'s keys and on ``AuditedTask``'s class attributes, down its bases. Where they are defined, the
file may hold no Celery word and import nothing of interest: no name leads the rounds there (a name reaches a
file through an import or an attribute, and a definition is neither). The plain path reads every file, so the
fast path reads these too, or it would say "ignore_result may already be set" where the plain path reports the
task. Each round follows the references as far as the summaries so far go (imports, star imports, base classes)
and asks for the first project module on the way that has no summary yet.
"""
from __future__ import annotations

from collections import deque
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..analysis.facts import ModuleSummary
from ..analysis.project import Project
from ..analysis.symbols import Symbol

MAX_HOPS = 12  # as symbols.resolve: an import chain longer than this is not followed


def modules_to_read(project: Project, modules: Set[str], also: Iterable[str] = (),
                    decorators: bool = True) -> Tuple[Set[str], Set[str]]:
    """Modules of ``modules`` (the project's) without a summary that a decorator's options or base class lead to
    (or one of ``also``: the bases of the classes whose methods ``analysis.callers`` follows, and the holders of
    ``getattr(holder, name)(...)``, which may be modules), and the names on the
    way there (the slicer must keep their imports and definitions). A reference that leads out of the project (an
    installed package's base class) or to what a summary already holds adds nothing."""
    by_module = {summary.module: summary for summary in project.summaries}
    refs = deque([*(_decorator_refs(project.summaries) if decorators else ()), *sorted(also)])
    seen: Set[str] = set()
    wanted: Set[str] = set()
    names: Set[str] = set()
    while refs:
        ref = refs.popleft()
        if not ref or ref in seen:
            continue
        seen.add(ref)
        if ref in modules and ref not in by_module:  # a module itself (``getattr(config, key)``): read it
            wanted.add(ref)
            continue
        kind, _summary, obj, tail = project.symbols.resolve(ref)
        if kind is Symbol.CLASS and not tail:
            refs.extend(obj.bases)  # a base class's own bases decide too
        elif kind in (Symbol.UNKNOWN, Symbol.EXTERNAL):
            way: List[str] = []
            module = _first_unread(ref, by_module, modules, way)
            if module is not None:  # it ends in the project: at a module to read, or a slice that cut the name
                wanted.add(module)
                names.update(way)
    return wanted - {""}, names


def _decorator_refs(summaries: Iterable[ModuleSummary]):
    for summary in summaries:
        decorators = [d for f in summary.functions for d in f.decorators]
        decorators += [registration.decorator for registration in summary.registrations]
        for decorator in decorators:
            yield from decorator.spread
            base = decorator.kwargs.get("base")
            if isinstance(base, dict):
                yield base.get("ref")


def _first_unread(ref: str, by_module: Dict[str, ModuleSummary], modules: Set[str], way: List[str]) -> Optional[str]:
    """The first module without a summary on ``ref``'s way through imports; "" when the way ends in a summary
    that does not hold the name (its slice may have cut it); None when it leaves the project. ``way`` gets the
    name looked up in each module on the way."""
    module = _module_of(ref, modules)
    if not module or len(way) > MAX_HOPS:
        return None
    head, *tail = ref[len(module) + 1:].split(".")
    way.append(head)
    summary = by_module.get(module)
    if summary is None:
        return module
    target = summary.imports.get(head)
    if target is not None and target != ref:
        return _first_unread(".".join([target, *tail]), by_module, modules, way)
    stars = [star for key, star in summary.imports.items() if key.startswith("*")]  # ``from .options import *``
    for star in stars:
        found = _first_unread(".".join([star, head, *tail]), by_module, modules, way)
        if found:
            return found
    return ""


def _module_of(ref: str, modules: Set[str]) -> Optional[str]:
    """The longest proper prefix of the dotted ``ref`` that is one of ``modules`` ("" if none)."""
    parts = ref.split(".")
    return next((".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1) if ".".join(parts[:end]) in modules), "")
