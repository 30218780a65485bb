"""A scope of a module (module, function, class, comprehension): the names bound there and how, those declared
``global``/``nonlocal``, and the mentions of each name. ``walk.Walk`` builds them.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

LOCALS_CALLS = frozenset({"locals", "vars", "eval", "exec"})
WALRUS = "<walrus>"  # ``Scope.bind``'s mark of a binding by ``:=`` (never a target: it binds a plain value)


class Scope:
    def __init__(self, kind: str, parent: Optional["Scope"]):
        self.kind = kind  # module | function | class | comprehension
        self.parent = parent
        self.children: List[Scope] = []
        self.bindings: Dict[str, list] = {}  # name -> [import target or None for a plain binding]
        self.globals: set = set()  # names declared ``global`` or ``nonlocal`` here
        self.nonlocals: set = set()
        self.mentions: Dict[str, List[cst.Name]] = {}
        # A class body runs once, top down: a name it mentions before (or while) binding it is the enclosing
        # scope's (``render = render``, ``start = staticmethod(start)``, ``task = render`` above ``def render``).
        self.current: Optional[cst.CSTNode] = None  # the node whose bindings are being made
        self.first_bound: Dict[str, cst.CSTNode] = {}  # (a class) name -> the node that bound it first
        self.early: set = set()  # (a class) mentions made before the class bound the name
        if parent is not None:
            parent.children.append(self)

    def bind(self, name: str, target: Optional[str] = None) -> None:
        scope = self
        if target is WALRUS:  # ``[r := f(x) for x in xs]`` binds ``r`` in the scope around the comprehension
            while scope.kind == "comprehension" and scope.parent is not None:
                scope = scope.parent
            target = None
        if name in scope.globals:  # ``global x`` / ``nonlocal x``: bound where it is declared
            scope = scope.declaring(name)
        scope.bindings.setdefault(name, []).append(target)
        if scope.kind == "class":
            scope.first_bound.setdefault(name, self.current)

    def class_mention(self, node: cst.Name, parents: Dict) -> None:
        """A mention of ``node`` in this class's body: had the class bound the name before?"""
        binder = self.first_bound.get(node.value)
        if isinstance(binder, (cst.FunctionDef, cst.ClassDef)) and binder.name is node:
            return  # the definition's own name
        ancestor = parents.get(node)
        while ancestor is not None and ancestor is not binder:
            ancestor = parents.get(ancestor)
        if binder is None or ancestor is binder:
            self.early.add(node)

    def sees(self, name: cst.Name, start: "Scope") -> bool:
        """Does a lookup of ``name`` from the scope ``start`` see this scope's bindings? A class's are seen only
        from its own body, and only once bound there."""
        return self.kind != "class" or (self is start and name not in self.early)

    def descendants(self):
        """This scope and every scope in it."""
        todo = [self]
        while todo:
            scope = todo.pop()
            yield scope
            todo.extend(scope.children)

    def declaring(self, name: str) -> "Scope":
        """The scope a name declared ``global`` (the module) or ``nonlocal`` (the function around) here is of."""
        scope = self.parent
        while scope is not None and scope.parent is not None:
            if name in self.nonlocals and scope.kind == "function" and name in scope.bindings:
                return scope
            scope = scope.parent
        return scope if scope is not None else self
