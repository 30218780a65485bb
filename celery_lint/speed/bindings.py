"""What a statement binds and holds, read off Python's own tree: the slicer's view of names and blocks."""
from __future__ import annotations

import ast
from typing import List, Set

from .. import celery_api

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPES = FUNCTIONS + (ast.ClassDef,)
_COMPOUND_BLOCKS = ("body", "orelse", "finalbody")
# ``match`` came with Python 3.10: before it, no node is one of these (``isinstance(x, ())`` is False).
_MATCH = tuple(getattr(ast, name) for name in ("Match",) if hasattr(ast, name))
_MATCH_CAPTURES = tuple(getattr(ast, name) for name in ("MatchAs", "MatchStar") if hasattr(ast, name))
_MATCH_MAPPING = tuple(getattr(ast, name) for name in ("MatchMapping",) if hasattr(ast, name))


def sets_class_attr(statement) -> bool:
    """``name = "proj.add"`` / ``abstract = True`` in a class body: read from class-based tasks."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id in celery_api.TASK_CLASS_ATTRIBUTES for t in targets)


def blocks(statement) -> List[list]:
    """The statement lists nested in a compound statement (bodies, else, finally, handlers, match cases)."""
    found = []
    for name in _COMPOUND_BLOCKS:
        block = getattr(statement, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            found.append(block)
    for holder in list(getattr(statement, "handlers", ())) + list(getattr(statement, "cases", ())):
        if holder.body:
            found.append(holder.body)
    found.sort(key=lambda block: block[0].lineno)
    return found


def bindings(statement, walrus: bool) -> Set[bytes]:
    """Names the statement's own parts bind in its scope (parameters aside): targets, imports, a def or
    class name, ``except ... as``, ``global``/``nonlocal``, ``del``, walrus and match captures."""
    names = set(_named(statement))
    names.update(handler.name for handler in getattr(statement, "handlers", ()) if handler.name)
    for target in _targets(statement):
        names.update(_target_names(target))
    if walrus or isinstance(statement, _MATCH):  # deep only where it can bind: walrus (its text says), match
        names.update(_bound_inside(statement))
    return {name.encode() for name in names}


def _targets(statement) -> list:
    if isinstance(statement, (ast.Assign, ast.Delete)):
        return statement.targets
    if isinstance(statement, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return [statement.target]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in statement.items if item.optional_vars is not None]
    return []


def _named(statement) -> List[str]:
    """What an import, def, class, ``global`` or ``nonlocal`` binds by name."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in statement.names]
    if isinstance(statement, SCOPES):
        return [statement.name]
    if isinstance(statement, (ast.Global, ast.Nonlocal)):
        return list(statement.names)
    return []


def _bound_inside(statement) -> List[str]:
    """Walrus targets and match captures anywhere in the statement's own expressions."""
    names: List[str] = []
    for node in _own_nodes(statement):
        if isinstance(node, ast.NamedExpr):
            names.extend(_target_names(node.target))
        elif isinstance(node, _MATCH_CAPTURES) and node.name:
            names.append(node.name)
        elif isinstance(node, _MATCH_MAPPING) and node.rest:
            names.append(node.rest)
    return names


def _target_names(target) -> List[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []  # ``x.attr = ...`` / ``x[k] = ...`` bind nothing


def _own_nodes(statement):
    """Every node of the statement but those of the statements nested in it."""
    todo = [statement]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.stmt) and node is not statement:
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))
