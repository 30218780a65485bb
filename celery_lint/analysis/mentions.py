"""Who may run a method: its name called (``self.set_progress(1)``, ``job.perform()``), handed to a call that
runs it there and then (``map(self.tick, xs)``), or handed on or kept some other way (``bus.on(self.tick)``),
recorded per scope as plain data (``facts.Mention``); a scope ending in ``<lambda>`` is a lambda that may be kept.
The receiver is rarely known, so the project matches methods by name (``analysis.callers``): more mentions only
make it less precise, never wrong.

On the fast path only the names asked for are recorded (``record_calls_of``); the plain path records all.
"""
from __future__ import annotations

import libcst as cst

from ..types import DYNAMIC
from .facts import ARGUMENT, CALL, LAMBDA, OTHER, Mention
from .children import children
from .literals import literal
from .walk import last_name

# callees that run the callable they are given before they return (``on_commit``: when the task's transaction
# commits, in the same run; outside a transaction, at once)
RUNNING_CALLS = frozenset({"map", "filter", "sorted", "sort", "min", "max", "reduce", "on_commit"})
# where an attribute is written, not read: ``self.x = ...``, ``for self.x in ...``, ``del self.x``
_STORES = (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.AsName, cst.CompFor, cst.Del)


class Mentions:
    """Mixin of the summarizer: ``summary``, ``names``, ``parents``, ``line_of``, ``ref_of`` and
    ``record_calls_of`` come from it."""

    def attribute_mention(self, node: cst.Attribute) -> None:
        """``x.name(...)``, ``f(x.name)``, ``cb = x.name``, where ``x`` is not a module (a module's function is
        a ``Call``, resolved)."""
        parent = self.parents.get(node)
        if isinstance(parent, cst.Call) and parent.func is node:
            how = CALL
        elif isinstance(parent, cst.Arg) and isinstance(self.parents.get(parent), cst.Call):
            how = self.handed_how(self.parents.get(parent))
        elif isinstance(parent, cst.Attribute) and parent.value is node:
            return  # ``x.name.y``: ``name`` is an object whose attribute is taken, not a method run
        elif isinstance(parent, _STORES):
            return
        else:
            how = OTHER
        self.mention(node.attr.value, node, how)

    def argument_mentions(self, call: cst.Call) -> None:
        """``on_commit(publish)``, ``restore(progress=report)``: a function the module names, handed to a call that
        may run it then (a ``Use`` of kind VALUE records it too, as a value that may go anywhere)."""
        for arg in call.args:
            if isinstance(arg.value, cst.Name) and self.ref_of(arg.value) is not None:
                self.mention(arg.value.value, arg.value, self.handed_how(call))

    @staticmethod
    def handed_how(call: cst.Call) -> str:
        """Only a callee known to run what it is given there and then (``map``, ``sorted(key=f)``, ``on_commit``)
        makes the caller's scope the one running it; any other may keep it (``hooks.append(f)``,
        ``bus.on(f)``, a project function storing it) and run it later, in another task's run."""
        return ARGUMENT if last_name(call.func) in RUNNING_CALLS else OTHER

    def getattr_mention(self, call: cst.Call) -> None:
        """``getattr(self, "tick")(1)``: the method named by a literal, as ``self.tick(1)`` (a computed name names
        no method: one the project never calls by its name is run from where nothing can be named)."""
        name = literal(call.args[1].value) if len(call.args) >= 2 else None
        if isinstance(name, str) and name != DYNAMIC and name.isidentifier():
            parent = self.parents.get(call)
            self.mention(name, call, CALL if isinstance(parent, cst.Call) and parent.func is call else OTHER)

    def class_body_mentions(self, node: cst.ClassDef) -> None:
        """``__call__ = update``, ``tick = property(_tick)``: a class body naming one of its methods makes it
        reachable by another name (called as the instance, read as an attribute): as good as kept."""
        for statement in node.body.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            pending = [small.value if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)) else small
                       for small in getattr(statement, "body", ())] if isinstance(statement, cst.SimpleStatementLine) \
                else [statement]
            while pending:
                current = pending.pop()
                if isinstance(current, cst.Name):
                    self.mention(current.value, current, OTHER)
                elif isinstance(current, cst.CSTNode):
                    pending.extend(children(current))

    def alias_mention(self, value: cst.BaseExpression) -> None:
        """``rep = helpers.report`` (or ``rep = self.tick``), the local only called afterwards: a call of that
        function here. Either branch of ``a if x else b``, ``a or b``."""
        if isinstance(value, cst.IfExp):
            self.alias_mention(value.body)
            self.alias_mention(value.orelse)
        elif isinstance(value, cst.BooleanOperation):
            self.alias_mention(value.left)
            self.alias_mention(value.right)
        elif isinstance(value, (cst.Name, cst.Attribute)):
            self.mention(last_name(value), value, CALL)
            ref = self.value_ref(value)
            if ref is not None and ref not in self.summary.aliased:  # its callers are not all seen (``index_calls``)
                self.summary.aliased.append(ref)

    def in_kept_lambda(self, node: cst.CSTNode) -> bool:
        """Is ``node`` in a lambda that may be kept and run later (``hooks.append(lambda: m.tick())``), that is any
        lambda not handed straight to a call that runs it (``sorted(xs, key=lambda x: ...)``)?"""
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Module)):
            if isinstance(parent, cst.Lambda):
                arg = self.parents.get(parent)
                call = self.parents.get(arg) if isinstance(arg, cst.Arg) else None
                if not (isinstance(call, cst.Call) and last_name(call.func) in RUNNING_CALLS):
                    return True
            parent = self.parents.get(parent)
        return False

    def mention(self, name: str, node: cst.CSTNode, how: str) -> None:
        if self.record_calls_of is not None and name not in self.record_calls_of:
            return
        seen = self.__dict__.setdefault("_mentioned", set())
        scope = ".".join(self.names) + (f".{LAMBDA}" if self.in_kept_lambda(node) else "")
        line = self.line_of(node)
        key = (name, scope, how, line if how == ARGUMENT else 0)  # an argument is matched to its VALUE use by line
        if key not in seen:
            seen.add(key)
            self.summary.mentions.append(Mention(name, scope, line, how))
