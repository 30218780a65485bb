"""Does a task's function return a value? A task whose every path returns None still stores a result on every
run, and that result is pure waste: nobody can learn anything from it but "it finished".

Answers True (some ``return`` gives a value), False (every path returns None: bare ``return``, ``return None``,
falling off the end, raising) or None ("can't tell"). The function is found by name, not by line: the engine
gives each task's dotted qualname and the module name of its file, and LibCST (no metadata) walks the file's
definitions to the one with that name. Can't tell when the file changed since the analysis read it, when the
name is defined twice or not at all, when the function is a generator or a coroutine, when another decorator
wraps it (the wrapper decides what is returned), or for a class task whose ``run`` is inherited.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import libcst as cst

from .. import discovery
from ..analysis.project import TaskKind

Definition = Union[cst.FunctionDef, cst.ClassDef]


class ReturnsFinder:
    """One project's answers; each file is read and parsed at most once."""

    def __init__(self, root: Path, digests: Dict[str, str]):
        self.root = root
        self.digests = digests  # relative path -> sha1 of the text the analysis read
        self._modules: Dict[str, Optional[cst.Module]] = {}
        self._module_names: Optional[Dict[str, List[str]]] = None

    def returns_value(self, task) -> Optional[bool]:
        """``task``: an analysis.project.Task."""
        located = self._locate(task)
        if located is None:
            return None
        path, inner = located
        module = self._parse(path)
        if module is None:
            return None
        found = _definitions(module.body, inner.split("."))
        if len(found) != 1:
            return None  # not found, or defined twice (if/else, a redefinition): either may be the task
        definition = found[0]
        if isinstance(definition, cst.ClassDef):
            return _class_returns(definition)
        below = _decorators_below_task(definition, task)
        return None if below is None or below else function_returns(definition)

    def _locate(self, task):
        """(relative path of the file that defines the task's function or class, its qualname in that file).

        A decorated function or a class is defined where the task is; ``app.task(...)(func)`` may register a
        function of another module: the file whose module name is the longest prefix of the qualname."""
        if task.kind is not TaskKind.REGISTRATION:
            module = discovery.module_name(self.root / task.path, self.root)[0]
            return (task.path, task.qualname[len(module) + 1:]) if task.qualname.startswith(module + ".") else None
        names = self._names()
        parts = task.qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            paths = names.get(".".join(parts[:cut]), [])
            if len(paths) == 1:
                return paths[0], ".".join(parts[cut:])
            if paths:
                return None  # two files claim that module name: can't tell which one Celery imports
        return None

    def _names(self) -> Dict[str, List[str]]:
        if self._module_names is None:
            self._module_names = {}
            for relative in sorted(self.digests):
                name = discovery.module_name(self.root / relative, self.root)[0]
                self._module_names.setdefault(name, []).append(relative)
        return self._module_names

    def _parse(self, relative: str) -> Optional[cst.Module]:
        if relative not in self._modules:
            self._modules[relative] = None
            try:
                source = (self.root / relative).read_bytes()
            except OSError:
                return None
            if hashlib.sha1(source).hexdigest() != self.digests.get(relative):
                return None  # changed since the analysis: the task's lines may be elsewhere now
            try:
                self._modules[relative] = cst.parse_module(source)
            except cst.ParserSyntaxError:
                return None
        return self._modules[relative]


def _definitions(body: Sequence[cst.CSTNode], names: List[str]) -> List[Definition]:
    """Every definition at the dotted path ``names`` under ``body``, looking inside if/try/with blocks
    (a task defined under ``if settings.X:`` is still a module-level task), not inside other functions'
    bodies unless the path goes through them."""
    found: List[Definition] = []
    for statement in _statements(body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == names[0]:
            if len(names) == 1:
                found.append(statement)
            else:
                found.extend(_definitions(_block(statement.body), names[1:]))
    return found


def _statements(body: Sequence[cst.CSTNode]):
    """The compound and simple statements of a block, through if/else, try/except/finally, with, for, while."""
    for statement in body:
        yield statement
        if isinstance(statement, (cst.If, cst.Try, cst.TryStar, cst.With, cst.For, cst.While)):
            for block in _branches(statement):
                yield from _statements(_block(block))


def _branches(statement: cst.CSTNode):
    blocks = [statement.body]
    orelse = getattr(statement, "orelse", None)
    while orelse is not None:  # an elif chain is an If in orelse
        blocks.append(orelse.body)
        orelse = getattr(orelse, "orelse", None) if isinstance(orelse, cst.If) else None
    if isinstance(statement, (cst.Try, cst.TryStar)):
        blocks += [handler.body for handler in statement.handlers]
        if statement.finalbody is not None:
            blocks.append(statement.finalbody.body)
    return blocks


def _block(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    # a one-line ``class C: x = 1`` holds no definition (function_returns visits one-line bodies whole)
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()


def _decorators_below_task(function: cst.FunctionDef, task) -> Optional[List[cst.Decorator]]:
    """The decorators applied before the task's (listed below it): they wrap the function, and what the
    wrapper returns is what is stored. None when the task's decorator cannot be told apart."""
    decorators = list(function.decorators)
    if task.kind is TaskKind.REGISTRATION:
        return decorators  # ``app.task(...)(func)``: every decorator of func is applied first
    if len(decorators) <= 1:
        return []
    wanted = (task.decorator.ref or "").rpartition(".")[2] if task.decorator is not None else ""
    for index, decorator in enumerate(decorators):
        if wanted and _last_name(decorator.decorator) == wanted:
            return decorators[index + 1:]
    return None


def _last_name(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else None


def _class_returns(cls: cst.ClassDef) -> Optional[bool]:
    """A Task subclass: its own ``run`` (undecorated), or can't tell (inherited: the base decides)."""
    runs = [s for s in _statements(_block(cls.body)) if isinstance(s, cst.FunctionDef) and s.name.value == "run"]
    if len(runs) != 1 or runs[0].decorators:
        return None
    return function_returns(runs[0])


def function_returns(function: cst.FunctionDef) -> Optional[bool]:
    """True when some ``return`` of this function (not of a function or class inside it) gives a value other
    than the literal None; False when none does; None for a generator or a coroutine."""
    if function.asynchronous is not None:
        return None
    visitor = _Returns()
    function.body.visit(visitor)
    if visitor.generator:
        return None
    return visitor.value


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.value = False
        self.generator = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's returns are its own

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and not (isinstance(node.value, cst.Name) and node.value.value == "None"):
            self.value = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self.generator = True
