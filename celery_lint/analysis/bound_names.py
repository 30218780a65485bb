"""What a statement binds, as LibCST nodes: the names each form binds, and what an import or a plain assignment
binds a name to. Also the module-level names bound in more than one way, the compatibility idiom:

    try:
        from proj.extra import send
    except ImportError:
        send = send_fallback

``send`` is either, so what its bindings give is kept (``ModuleSummary.bound_several``): a result read through
``send`` is a read of each, here and in every module importing ``send`` from this one.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import libcst as cst

from .children import children, with_subclasses

MAX_BINDINGS = 8  # a name bound more ways than this is not followed: it stays unknown
_NO_TASK = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Integer, cst.Float)  # literals


def walk_nodes(nodes) -> List[cst.CSTNode]:
    """Every node under these (not into nested functions or classes: their variables are their own)."""
    pending = list(nodes) if isinstance(nodes, (list, tuple)) else [nodes]
    found = []
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(c for c in children(node) if type(c) not in _SCOPES)
    return found


_SCOPES = with_subclasses((cst.FunctionDef, cst.ClassDef, cst.Lambda))  # (``type() in``: see with_subclasses)


# Every node ``module_bindings`` finds a name in: checked by ``type() in`` first where most nodes bind nothing, as
# LibCST's classes make each ``isinstance`` that fails a slow one.
MODULE_BINDERS = with_subclasses((cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor,
                                  cst.NamedExpr, cst.AsName, cst.ImportAlias, cst.Global, cst.Nonlocal))


def module_bindings(node: cst.CSTNode) -> List[str]:
    """Names a statement at module level binds (an import, an assignment, a loop...): any that is also a
    function's name means that name may be something else."""
    if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr)):
        return [n.value for n in walk_nodes(node.target) if isinstance(n, cst.Name)]
    if isinstance(node, cst.AsName):
        return [n.value for n in walk_nodes(node.name) if isinstance(n, cst.Name)]
    if isinstance(node, cst.ImportAlias) and node.asname is None:
        name = node.name
        while isinstance(name, cst.Attribute):  # ``import a.b`` binds ``a``
            name = name.value
        return [name.value if isinstance(name, cst.Name) else ""]
    if isinstance(node, (cst.Global, cst.Nonlocal)):
        return [n.name.value for n in node.names]
    return []


def names_bound_otherwise(node: cst.CSTNode) -> List[str]:
    """Names ``node`` binds as none of the forms PossibleValues follows: an ``except ... as t``, a ``match``
    capture (``case {"k": t}``, ``case [*t]``, ``case {**t}``), an import (unless ``imported`` reads it)."""
    if isinstance(node, (cst.AsName, cst.ImportAlias)):
        return module_bindings(node)
    if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
        return [node.name.value]
    if isinstance(node, cst.MatchMapping) and node.rest is not None:
        return [node.rest.value]
    return []


def bound_by(node: cst.CSTNode) -> List[cst.CSTNode]:
    if isinstance(node, (cst.AugAssign, cst.AnnAssign)):
        return [node.target]
    if isinstance(node, cst.NamedExpr):
        return [node.target]
    if isinstance(node, cst.With):
        return [item.asname for item in node.items if item.asname is not None]
    return list(node.names) if isinstance(node, (cst.Global, cst.Nonlocal)) else []


def imported(node: cst.CSTNode, name: str, parents: Dict[cst.CSTNode, cst.CSTNode],
             import_target: Callable[[cst.CSTNode, str], Optional[str]]):
    """What an import binds ``name`` to, where ``node`` is part of an import that binds it: [dotted name], or
    [None] when it cannot be named; [] for the ``as t`` of an import (its alias answers) and anything else."""
    if isinstance(node, cst.AsName) and isinstance(parents.get(node), cst.ImportAlias):
        return []
    if not isinstance(node, cst.ImportAlias):
        return []
    bound = module_bindings(node.asname) if node.asname is not None else module_bindings(node)
    if name not in bound:
        return []
    statement = parents.get(node)
    return [import_target(statement, name) if isinstance(statement, (cst.Import, cst.ImportFrom)) else None]


def bound_several(module: cst.Module, names: List[str], module_name: str, parents: Dict[cst.CSTNode, cst.CSTNode],
                  ref_of: Callable[[cst.CSTNode], Optional[str]],
                  import_target: Callable[[cst.CSTNode, str], Optional[str]]) -> Dict[str, List[Optional[str]]]:
    """For each module-level name of ``names`` (each bound more than once at module level), the dotted name
    each of its bindings gives: an import's target, a name or attribute assigned (``None`` and literals hold
    no task: left out), a def or class of that name; None for a binding that cannot be named (a call, a loop,
    ``global`` in a function, a star import that may bind it)."""
    wanted = set(names)
    found: Dict[str, List[Optional[str]]] = {name: [] for name in names}
    nodes = walk_nodes(module.body)
    stars = any(type(node) is cst.ImportStar for node in nodes)
    binders = [node for node in nodes if type(node) in _BINDERS] + [n for n in parents if type(n) is cst.Global]
    for node in binders:
        for name in wanted.intersection(_names_bound_by(node)):
            found[name].extend(_given(node, name, module_name, parents, ref_of, import_target))
    return {name: values for name, values in found.items()
            if values and len(values) <= MAX_BINDINGS and not stars}


# Every node ``_names_bound_by`` finds a name in (as MODULE_BINDERS)
_BINDERS = MODULE_BINDERS | with_subclasses((cst.FunctionDef, cst.ClassDef, cst.MatchAs, cst.MatchStar,
                                             cst.MatchMapping, cst.With))


def _names_bound_by(node: cst.CSTNode) -> List[str]:
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return [node.name.value]
    if isinstance(node, cst.ImportAlias) and node.asname is not None:  # ``from m import a as t``: the alias answers
        return module_bindings(node.asname)
    if isinstance(node, cst.AsName) and not isinstance(node.name, cst.Name):
        return []
    return module_bindings(node) or names_bound_otherwise(node) \
        + [n.value for n in walk_nodes(bound_by(node)) if isinstance(n, cst.Name)]


def _given(node, name: str, module_name: str, parents, ref_of, import_target) -> List[Optional[str]]:
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return [f"{module_name}.{name}"]  # the project resolves it to the definition
    if isinstance(node, cst.ImportAlias) or isinstance(node, cst.AsName) and isinstance(parents.get(node), cst.ImportAlias):
        return imported(node, name, parents, import_target)
    assign = parents.get(node) if isinstance(node, cst.AssignTarget) else None
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(node.target, cst.Name):
        value = assign.value
        if isinstance(value, _NO_TASK) or isinstance(value, cst.Name) and value.value == "None":
            return []  # ``send = None``: no task
        if isinstance(value, (cst.Name, cst.Attribute)) and ref_of(value) is not None:
            return [ref_of(value)]
    return [None]
