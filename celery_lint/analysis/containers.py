"""Which tasks a local variable may hold, when every way it is filled is visible: dispatch tables and the like.

    EVENTS = {"paid": (send_receipt, "receipt.html"), "shipped": (send_tracking, "tracking.html")}
    task, template = EVENTS.get(event)        # -> send_receipt or send_tracking
    for name, job in {"a": t1, "b": t2}.items(): ...    # job -> t1 or t2
    task = t1 if urgent else t2               # -> t1 or t2

The answer is every dotted name the value may be, or None as soon as one source is anything else (a parameter,
a call, an attribute of an object, a container filled elsewhere in a way we do not read). A caller links the
names; one that is not a task simply matches none.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Set, Union

import libcst as cst

from .bound_names import MODULE_BINDERS, bound_by, imported, module_bindings, names_bound_otherwise, walk_nodes
from .children import children, with_subclasses
from .facts import ReturnOf
from .given import Given
from .literals import imported_literally

MAX_DEPTH = 10  # steps through locals, containers and loops: a chain of them, not a cycle


_OTHERWISE = object()  # a local bound in a way PossibleValues does not follow


class PossibleValues(Given):
    def __init__(self, module: cst.Module, parents: Dict[cst.CSTNode, cst.CSTNode],
                 ref_of: Callable[[cst.CSTNode], Optional[str]],
                 import_target: Optional[Callable[[cst.CSTNode, str], Optional[str]]] = None,
                 several: Optional[Callable[[cst.Name], Optional[List[Optional[str]]]]] = None):
        self.module = module
        self.parents = parents
        self.ref_of = ref_of
        self.import_target = import_target  # (import statement, bound name) -> dotted target: imports in functions
        self.several = several  # a module-level name bound more than once: what its bindings give (bound_names)
        self._module_assignments: Optional[Dict[str, List[cst.BaseExpression]]] = None
        self._in_body: Dict[cst.CSTNode, List[cst.CSTNode]] = {}  # a function's nodes, walked once per summary
        self._nonlocals: Dict[cst.CSTNode, Set[str]] = {}
        self._function_defs: Optional[Dict[str, cst.FunctionDef]] = None
        self.returns_asked: Set[str] = set()  # the names of the functions _returned was asked about
        self._arguments: Dict[cst.FunctionDef, cst.Call] = {}  # the calls whose returns are being followed
        self._parameters: Set[cst.Name] = set()  # see gives: stand-ins for a function's own parameters
        # Went through a module-level table on the last question (other modules may add to it), or a module-level
        # name one of whose bindings cannot be named.
        self.open_table = False

    def names(self, node: cst.BaseExpression, calls: bool = False) -> Optional[List[Union[str, ReturnOf]]]:
        """The dotted names ``node`` may be (``calls``: also other modules' calls, ``ident(t)``, as ReturnOf)."""
        self.open_table = False
        leaves = self._values(node, 0)
        if leaves is None:
            return None
        names: List[Union[str, ReturnOf]] = []
        for leaf in leaves:
            if isinstance(leaf, cst.Name) and leaf.value == "None":
                continue  # ``table.get(key)`` with no such key: nothing is enqueued (it raises)
            if isinstance(leaf, str):  # named by an import already (``_bound_here``, ``several``)
                found = leaf
            else:
                found = self._return_of(leaf) if calls and isinstance(leaf, cst.Call) \
                    else self.ref_of(leaf) if isinstance(leaf, (cst.Name, cst.Attribute)) else None
            if found is None:
                return None
            if found not in names:
                names.append(found)
        return names or None

    # ----- what an expression may evaluate to: leaf expressions -----
    def _values(self, node: cst.BaseExpression, depth: int) -> Optional[List[cst.BaseExpression]]:
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, cst.Name) and node.value == "None":  # ``t if x else None``: names() drops it
            return [node]
        if isinstance(node, cst.Name) and self.ref_of(node) is None:  # a local variable, or a global bound twice
            return self._unresolved(node, depth)
        if isinstance(node, cst.Name) and node.value in self._module_level():  # a table of this module
            self.open_table = True
            return self._union([self._values(v, depth + 1) for v in self._module_level()[node.value]])
        if isinstance(node, (cst.Name, cst.Attribute, cst.Dict, cst.List, cst.Tuple, cst.Set)):
            return [node]
        if isinstance(node, cst.IfExp):
            return self._union([self._values(node.body, depth + 1), self._values(node.orelse, depth + 1)])
        if isinstance(node, cst.BooleanOperation):
            return self._union([self._values(node.left, depth + 1), self._values(node.right, depth + 1)])
        if isinstance(node, cst.Subscript):
            return self._members(node.value, depth + 1)
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp)):
            return [_as_literal(node)]
        return self._called(node, depth) if isinstance(node, cst.Call) else None

    def _called(self, node: cst.Call, depth: int) -> Optional[List[cst.BaseExpression]]:
        """What a call gives: ``import_module("proj.tasks")`` that module (its dotted name); a plain function of
        this module, what it returns; ``table.get(k)``, one of the table's values."""
        imported = imported_literally(node)
        if imported is not None:
            return [imported]
        if isinstance(node.func, cst.Name):
            return self._returned(node, depth)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            return self._method_returned(node, depth)
        return None

    def _unresolved(self, name: cst.Name, depth: int) -> Optional[List[cst.BaseExpression]]:
        """A name this module cannot resolve to one dotted name: a local variable, or a module-level name bound
        more than one way (``try: from .x import t`` ``except ImportError: t = None``), the names its bindings give."""
        several = self.several(name) if self.several is not None else None
        if several is None:
            return self._variable(name, depth)
        self.open_table = self.open_table or None in several  # a binding not named: it may be any task
        return [ref for ref in several if ref is not None]

    def _returned(self, call: cst.Call, depth: int) -> Optional[List[cst.BaseExpression]]:
        """What a call of a plain function of this module gives back (``def ident(x): return x``): what its
        returns hold, its parameters standing for this call's arguments. None for anything else (a decorated or
        rebound function, a bare ``return``, a parameter with a default the call leaves out, ``*args``)."""
        self.returns_asked.add(call.func.value)  # the speed layer keeps its definition
        function = self._functions().get(call.func.value)
        if function is None:  # another module's (``from helpers import ident``): the project links it
            return [call] if self.ref_of(call.func) is not None else None
        if function in self._arguments or any(arg.star for arg in call.args) \
                or self._scope(call) is function:
            return None
        returns = [node for node in walk_nodes(function.body) if isinstance(node, cst.Return)]
        if not returns or any(node.value is None for node in returns):
            return None
        if any(isinstance(node, cst.Nonlocal) for node in _descendants(function)):
            return None  # a closure may rebind a parameter
        self._arguments[function] = call
        try:
            found = self._union([self._values(node.value, depth + 1) for node in returns])
        finally:
            del self._arguments[function]
        # a container may have been filled inside the function in a way not followed: its items are unknown
        return None if found is None or any(isinstance(v, (cst.Dict, cst.List, cst.Tuple, cst.Set)) for v in found) \
            else found

    def _argument(self, function: cst.FunctionDef, name: str, depth: int) -> Optional[List[cst.BaseExpression]]:
        """The argument the call being followed (see _returned) passes for the parameter ``name``."""
        call, params = self._arguments[function], function.params
        positional = [*params.posonly_params, *params.params]
        keyword = next((arg for arg in call.args if arg.keyword is not None and arg.keyword.value == name), None)
        if keyword is not None:
            return self._passed(keyword.value, depth)
        index = next((i for i, param in enumerate(positional) if param.name.value == name), None)
        given = [arg for arg in call.args if arg.keyword is None]
        if index is None or index >= len(given):
            return None
        return self._passed(given[index].value, depth)

    def _functions(self) -> Dict[str, cst.FunctionDef]:
        """The undecorated module-level functions, by name, of names bound once at module level."""
        if self._function_defs is None:
            bound: Dict[str, List[cst.CSTNode]] = {}
            for statement in self.module.body:
                if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                    bound.setdefault(statement.name.value, []).append(statement)
                for node in walk_nodes(statement) if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)) else ():
                    for name in module_bindings(node) if type(node) in MODULE_BINDERS else ():
                        bound.setdefault(name, []).append(node)
            for node in self.parents:  # ``global ident`` in a function: it may rebind the name
                for name in module_bindings(node) if type(node) is cst.Global else ():
                    bound.setdefault(name, []).append(node)
            self._function_defs = {name: nodes[0] for name, nodes in bound.items() if len(nodes) == 1
                                   and isinstance(nodes[0], cst.FunctionDef) and not nodes[0].decorators}
        return self._function_defs

    def _members(self, container: cst.BaseExpression, depth: int) -> Optional[List[cst.BaseExpression]]:
        """The values held in a container (a dict's values, a list's items)."""
        holders = self._values(container, depth)
        if holders is None:
            return None
        found: List[Optional[List[cst.BaseExpression]]] = []
        for holder in holders:
            if isinstance(holder, cst.Dict):
                if any(not isinstance(e, cst.DictElement) for e in holder.elements):
                    return None  # ``{**other}``
                found += [self._values(e.value, depth + 1) for e in holder.elements]
            elif isinstance(holder, (cst.List, cst.Tuple, cst.Set)):
                if any(isinstance(e, cst.StarredElement) for e in holder.elements):
                    return None
                found += [self._values(e.value, depth + 1) for e in holder.elements]
            else:
                return None
        return self._union(found)

    def _iterated(self, iterable: cst.BaseExpression, depth: int) -> Optional[List[cst.BaseExpression]]:
        """What ``for x in iterable`` gives: ``d.items()`` (key, value) pairs as tuples, ``d.values()``, a list's
        items, a dict's keys."""
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute) and not iterable.args:
            method = iterable.func.attr.value
            if method == "values":
                return self._members(iterable.func.value, depth + 1)
            if method == "items":
                holders = self._values(iterable.func.value, depth + 1) or []
                pairs = [cst.Tuple([cst.Element(e.key), cst.Element(e.value)]) for h in holders
                         if isinstance(h, cst.Dict) for e in h.elements if isinstance(e, cst.DictElement)]
                if not holders or len(pairs) != sum(len(h.elements) for h in holders if isinstance(h, cst.Dict)) \
                        or any(not isinstance(h, cst.Dict) for h in holders):
                    return None
                return pairs
            return None
        holders = self._values(iterable, depth + 1)
        if holders is None or any(not isinstance(h, (cst.List, cst.Tuple, cst.Set, cst.Dict)) for h in holders):
            return None
        found = []
        for holder in holders:
            if isinstance(holder, cst.Dict):
                found += [e.key for e in holder.elements if isinstance(e, cst.DictElement)]
            else:  # an item may itself be a local (``[task for task in ...]``): what it holds
                items = self._union([self._values(e.value, depth + 1) for e in holder.elements])
                if items is None:
                    return None
                found += items
        return found

    # ----- where a local variable gets its values -----
    def _variable(self, name: cst.Name, depth: int) -> Optional[List[cst.BaseExpression]]:
        loop = self._comprehension_loop(name)
        if loop is not None:  # a comprehension's own variable: bound there only
            return self._unpacked(self._iterated(loop.iter, depth + 1), _position(loop.target, name.value), depth)
        scope = self._scope(name)
        if isinstance(scope, cst.FunctionDef) and scope in self._arguments and _is_parameter(scope, name.value):
            if any(name.value in module_bindings(node) for node in self._binding_nodes(scope)):
                return None  # the parameter rebound: not followed
            return self._argument(scope, name.value, depth)
        if not isinstance(scope, cst.FunctionDef) or _is_parameter(scope, name.value) \
                or name.value in self._rebound_by_closures(scope):
            return None
        found: List[Optional[List[cst.BaseExpression]]] = []
        for node in self._binding_nodes(scope):
            if _mutates(node, name.value):
                added = _added(node, self.parents.get(node))  # ``jobs.append(t)``, ``jobs[k] = t``: as if the literal held it
                if added is None:
                    return None  # filled in a way not followed
                found.append([added])
                continue
            bound = self._bound_here(node, name.value, depth)
            if bound is _OTHERWISE:
                return None  # bound some other way: not followed
            found.extend(bound)
        if not found:
            return None
        values = self._union(found)
        if values and any(isinstance(v, _MUTABLE) or _holds_containers(v) for v in values) \
                and not self._stays_here(scope, name.value, _holds_containers(*values)):
            return None  # ``fill(jobs)``, ``self.jobs = jobs``, ``alias = jobs``: filled where this cannot see
        return values

    def _rebound_by_closures(self, function: cst.FunctionDef) -> Set[str]:
        """The locals a function nested in ``function`` rebinds (``nonlocal t``): not followed."""
        found = self._nonlocals.get(function)
        if found is None:
            found = self._nonlocals[function] = {item.name.value for node in _descendants(function.body)
                                                 if isinstance(node, cst.Nonlocal) for item in node.names}
        return found

    def _binding_nodes(self, function: cst.FunctionDef) -> List[cst.CSTNode]:
        """The nodes of ``walk_nodes`` of the function's body (in its order) that may bind or fill a local, once: a
        function asked about many variables is walked once, and its other nodes are never asked about."""
        nodes = self._in_body.get(function)
        if nodes is None:
            nodes = self._in_body[function] = [node for node in walk_nodes(function.body) if type(node) in _MAY_BIND]
        return nodes

    def _stays_here(self, scope: cst.FunctionDef, name: str, nested: bool) -> bool:
        """Is every mention of the local container ``name`` one whose effect is all seen: in the function's own
        body (a closure may run at any time), its binding, a fill of its own (``jobs.append(t)``, see _added),
        an item taken or a loop over it (``jobs[0]``, ``table.get(k)``), a call that only reads it
        (``len(jobs)``) or the function's return? Anything else (``fill(jobs)``, ``self.jobs = jobs``, ``alias =
        jobs``, ``[jobs]``, ``yield jobs``) may fill it where this cannot see. ``nested``: it holds containers,
        and an item taken may be filled (``table[k].append(t)``): only bindings, its own fills and returns."""
        for node in _descendants(scope.body):
            if isinstance(node, cst.Name) and node.value == name and not (
                    self._scope(node) is scope and self._seen_whole(node, self.parents.get(node), nested)):
                return False
        return True

    def _seen_whole(self, node: cst.Name, parent: Optional[cst.CSTNode], nested: bool) -> bool:
        """One mention of a local container, as _stays_here asks."""
        if isinstance(parent, cst.AssignTarget):  # ``jobs = [...]``, but not ``jobs = alias = [...]``
            return len(getattr(self.parents.get(parent), "targets", ())) == 1
        if isinstance(parent, cst.Return) \
                or (isinstance(parent, cst.Subscript) and isinstance(self.parents.get(parent), cst.AssignTarget)):
            return True  # ``return jobs``, ``jobs[k] = t``
        if isinstance(parent, cst.Attribute) and parent.value is node:
            call = self.parents.get(parent)
            return isinstance(call, cst.Call) and call.func is parent \
                and (parent.attr.value in _FILLS or (parent.attr.value in _KEEPS_NOTHING and not nested))
        if isinstance(parent, (cst.If, cst.While, cst.Comparison, cst.ComparisonTarget, cst.UnaryOperation)) \
                or (isinstance(parent, cst.IfExp) and parent.test is node):
            return True  # ``if jobs:``, ``t in jobs``, ``not jobs``: a test keeps nothing of it
        if nested:
            return False
        if isinstance(parent, cst.Arg):
            call = self.parents.get(parent)
            return isinstance(call, cst.Call) and _reads_only(call.func)
        return (isinstance(parent, cst.Subscript) and parent.value is node) \
            or (isinstance(parent, (cst.For, cst.CompFor)) and node in (parent.target, parent.iter))

    def _bound_here(self, node: cst.CSTNode, name: str, depth: int):
        """The values ``node`` binds to the local ``name`` (a list of possible-value lists; [] when it binds
        none), or _OTHERWISE when it binds it in a way not followed."""
        if isinstance(node, cst.Assign):
            paths = [_position(target.target, name) for target in node.targets]
            return [self._unpacked(self._values(node.value, depth + 1), path, depth) for path in paths if path is not None]
        if isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name) and node.target.value == name:
            return [self._values(node.value, depth + 1)]  # ``(task := t)``: as ``task = t``
        if isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.With, cst.Global, cst.Nonlocal)):
            bound = any(isinstance(n, cst.Name) and n.value == name for n in walk_nodes(bound_by(node)))
            return _OTHERWISE if bound else []
        if isinstance(node, (cst.For, cst.CompFor)):
            path = _position(node.target, name)
            return [] if path is None else [self._unpacked(self._iterated(node.iter, depth + 1), path, depth)]
        if self.import_target is not None and (isinstance(node, cst.ImportAlias) or (
                isinstance(node, cst.AsName) and isinstance(self.parents.get(node), cst.ImportAlias))):
            given = imported(node, name, self.parents, self.import_target)  # ``from m import b as t``: m.b
            return _OTHERWISE if given == [None] else [given] if given else []
        return _OTHERWISE if name in names_bound_otherwise(node) else []

    def _unpacked(self, values, path: List[int], depth: int) -> Optional[List[cst.BaseExpression]]:
        """``a, b = value``: the element at ``path`` of each possible value (a tuple or list literal)."""
        for index in path:
            if values is None:
                return None
            next_values: List[Optional[List[cst.BaseExpression]]] = []
            for value in values:
                if not isinstance(value, (cst.Tuple, cst.List)) or index >= len(value.elements) \
                        or any(isinstance(e, cst.StarredElement) for e in value.elements):
                    return None
                next_values.append(self._values(value.elements[index].value, depth + 1))
            values = self._union(next_values)
        return values

    def _comprehension_loop(self, name: cst.Name) -> Optional[cst.CompFor]:
        """The ``for`` of an enclosing comprehension that binds ``name`` (the innermost), or None. The first
        loop's iterable is evaluated outside the comprehension: a mention there is not bound by it."""
        path, node = [name], self.parents.get(name)
        while node is not None and not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)):
            if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)) \
                    and node.for_in.iter not in path:
                loops, loop = [], node.for_in
                while loop is not None:
                    loops.append(loop)
                    loop = loop.inner_for_in
                binding = [loop for loop in loops if _position(loop.target, name.value) is not None]
                if binding:
                    return binding[-1]
            path.append(node)
            node = self.parents.get(node)
        return None

    def _scope(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        while node is not None and not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)):
            node = self.parents.get(node)
        return node

    def _module_level(self) -> Dict[str, List[cst.BaseExpression]]:
        """``NAME = <dict/list/tuple literal>`` at module level, when that is the only way NAME is bound there."""
        if self._module_assignments is None:  # once per file: one object answers every question of a module
            assignments: Dict[str, List[cst.BaseExpression]] = {}
            for statement in self.module.body:
                for small in getattr(statement, "body", ()) if isinstance(statement, cst.SimpleStatementLine) else ():
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                            and isinstance(small.targets[0].target, cst.Name) \
                            and isinstance(small.value, (cst.Dict, cst.List, cst.Tuple, cst.Set)):
                        assignments.setdefault(small.targets[0].target.value, []).append(small.value)
            self._module_assignments = {name: values for name, values in assignments.items() if len(values) == 1}
        return self._module_assignments

    module_tables = _module_level  # (asked from elsewhere: ``call_options.ignore_given``)

    @staticmethod
    def _union(parts: List[Optional[List[cst.BaseExpression]]]) -> Optional[List[cst.BaseExpression]]:
        if not parts or any(part is None for part in parts):
            return None
        return [value for part in parts for value in part]


def _position(target: cst.BaseExpression, name: str) -> Optional[List[int]]:
    """Where ``name`` sits in an assignment target: [] for ``name = ...``, [1] for ``a, name = ...``."""
    if isinstance(target, cst.Name):
        return [] if target.value == name else None
    if isinstance(target, (cst.Tuple, cst.List)):
        for index, element in enumerate(target.elements):
            if isinstance(element, cst.StarredElement):
                continue
            inner = _position(element.value, name)
            if inner is not None:
                return [index, *inner]
    return None


_FILLS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "__setitem__", "__iadd__"})


def _mutates(node: cst.CSTNode, name: str) -> bool:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
        return node.func.value.value == name and node.func.attr.value in _FILLS
    if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Subscript):
        return isinstance(node.target.value, cst.Name) and node.target.value.value == name
    return False


_MUTABLE = (cst.List, cst.Dict, cst.Set)
# Calls that read a container and keep nothing of it: passing a container to any other call may fill it there.
_READS_ONLY = frozenset({"len", "list", "tuple", "set", "frozenset", "dict", "sorted", "reversed", "enumerate", "iter",
                         "next", "zip", "any", "all", "min", "max", "sum", "choice", "sample", "shuffle", "print"})
_RANDOM_READS = frozenset({"choice", "sample", "shuffle"})


def _reads_only(func: cst.BaseExpression) -> bool:
    """A builtin of _READS_ONLY, or ``random.choice``-like: a method of any other object (``store.set(jobs)``,
    ``registry.list(jobs)``) may keep the container and fill it later."""
    if isinstance(func, cst.Name):
        return func.value in _READS_ONLY
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "random" \
        and func.attr.value in _RANDOM_READS


# Methods of a container that add nothing to it and hand none of its items on as a container
_KEEPS_NOTHING = frozenset({"get", "items", "values", "keys", "pop", "popitem", "remove", "discard", "clear", "sort",
                            "reverse", "index", "count", "copy"})


def _holds_containers(*values: cst.BaseExpression) -> bool:
    """Does a literal hold a mutable container (``{"pdf": [render]}``, also inside a tuple)? Its items may be
    filled in turn. (A tuple of tasks holds none: ``{"paid": (send_receipt, "r.html")}``.)"""
    for value in values:
        for element in value.elements if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.Tuple)) else ():
            item = getattr(element, "value", None)
            if isinstance(item, _MUTABLE + (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)) \
                    or _holds_containers(item):
                return True
    return False


def _added(node: cst.CSTNode, parent: Optional[cst.CSTNode]) -> Optional[cst.BaseExpression]:
    """What a mutation found by _mutates adds, as a container literal holding it, or None when not followed."""
    if isinstance(node, cst.AssignTarget):  # ``jobs[k] = t``
        index = node.target.slice[0].slice if len(node.target.slice) == 1 else None
        if not isinstance(index, cst.Index) or not isinstance(parent, cst.Assign):
            return None
        return cst.Dict([cst.DictElement(index.value, parent.value)])
    method, args = node.func.attr.value, node.args
    if any(arg.star for arg in args):
        return None
    if method in ("append", "add") and len(args) == 1 and args[0].keyword is None:
        return cst.List([cst.Element(args[0].value)])
    if method == "insert" and len(args) == 2 and all(arg.keyword is None for arg in args):
        return cst.List([cst.Element(args[1].value)])
    if method == "setdefault" and len(args) == 2 and all(arg.keyword is None for arg in args):
        return cst.Dict([cst.DictElement(args[0].value, args[1].value)])
    if method == "update" and all(arg.keyword is not None for arg in args):  # ``d.update(k=t)``
        return cst.Dict([cst.DictElement(cst.SimpleString(repr(arg.keyword.value)), arg.value) for arg in args])
    if method in ("update", "extend") and len(args) == 1 and args[0].keyword is None \
            and isinstance(args[0].value, (cst.Dict, cst.List, cst.Tuple, cst.Set)):
        return args[0].value  # ``d.update({"k": t})``, ``jobs.extend([t1, t2])``
    return None


def _is_parameter(function: cst.FunctionDef, name: str) -> bool:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return any(p.name.value == name for p in every)


# Every node ``_mutates``, ``_bound_here`` or ``module_bindings`` says anything of: for the others they answer
# False, [] and [] (``type(node) in`` rather than ``isinstance``, which runs Python code for LibCST's ABCMeta).
_MAY_BIND = with_subclasses((cst.Call, cst.AssignTarget, cst.Assign, cst.NamedExpr, cst.AugAssign, cst.AnnAssign,
                              cst.With, cst.Global, cst.Nonlocal, cst.For, cst.CompFor, cst.AsName, cst.ImportAlias,
                              cst.MatchAs, cst.MatchStar, cst.MatchMapping))



def _as_literal(comprehension) -> cst.BaseExpression:
    """A comprehension as the literal of what it holds: its element, over its loops' targets (see _variable)."""
    if isinstance(comprehension, cst.DictComp):
        return cst.Dict([cst.DictElement(comprehension.key, comprehension.value)])
    return cst.List([cst.Element(comprehension.elt)])


def _descendants(node: cst.CSTNode) -> List[cst.CSTNode]:
    """Every node under ``node``, nested functions and classes included."""
    pending, found = [node], []
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children(current))
    return found
