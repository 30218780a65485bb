"""Signatures and the canvases built from them: what a task's signature becomes (``t.s()``, ``chain(...)``,
``group(...)``, ``chord(...)``, ``a.s() | b.s()``), as a mixin of ``flow.ResultFlow``.

The canvas algebra, from celery-semantics.md ("Canvas") and Celery's ``canvas.py``:

- ``chain(x, y)`` and ``x | y``: each operand is a chain link; a read chain reads every link;
- ``group(x, y)``: each operand is a group member; a read group reads every member;
- a group with a task after it in a chain (``chain(g, t)``, ``g | t``, ``x | g | t``, ``g`` held in a variable and
  piped later) is a chord (``_chain.prepare_steps``, ``__or__``): its members are chord headers, always read; so
  is a group listed or appended among steps (``[g, t.s()]``, ``steps.append(g)``), which may be chained later;
  a group last in its chain, with nothing after it, stays a group;
- ``chord(header, body)`` / ``chord(header)(body)``: header tasks are read; the body is the chord's result.
"""
from __future__ import annotations

from typing import Optional, Set

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import OutcomeKind
from .call_options import chosen_id
from .facts import Outcome
from .walk import last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind
_SIGNATURE_WRAPPERS = {"maybe_signature"} | celery_api.names(Role.SIGNATURE_CLASS)  # give back the signature
_NOT_READ_BY = (  # callers of a signature that never read the task's result: (names, why)
    (celery_api.LINK_METHODS, "link callback"),
    (celery_api.names(Role.PERIODIC), "periodic task (beat never reads results)"),
)


def call_name(call: cst.Call) -> Optional[str]:
    """The last name of the callee: ``chain`` for ``celery.chain(...)``, ``delay`` for ``t.delay()``."""
    return last_name(call.func)


_OPTIONS_TAKEN = frozenset({"set", "clone", "replace"})  # ``.set(task_id=x)``, ``.clone(task_id=x)``, ``.replace(options=...)``


def call_named(node, names) -> bool:
    return isinstance(node, cst.Call) and call_name(node) in names


def is_pipe(node) -> bool:
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr)


class CanvasFlow:
    """Follows signatures; the ``ResultFlow`` it is mixed into gives ``parents``, ``mentions``, ``line_of``, the
    result and variable following."""

    def signature(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        """The outcome for a task whose signature is ``node``."""
        outcome = self.follow(node, seen, _SIGNATURE_STEPS, "signature used in a {}")
        if isinstance(node, cst.Call) and call_name(node) in ("signature", "subtask"):  # ``task_id=`` an option
            return chosen_id(node, outcome, self.mentions, self.parents, self.line_of)
        return outcome

    def _signature_attribute(self, node, parent: cst.Attribute, seen) -> Optional[Outcome]:
        """``sig.delay()``, ``sig.apply()``, ``sig.set(...)``, ``sig.link(...)``."""
        if parent.value is not node:
            return None
        call, attr, line = self.parents.get(parent), parent.attr.value, self.line_of(node)
        if not (isinstance(call, cst.Call) and call.func is parent):
            return Outcome(ESCAPES, f"signature .{attr} taken", line)
        if attr in celery_api.ENQUEUE:
            return self.result(call, seen)
        if attr in celery_api.EAGER:
            return Outcome(DISCARDED, "run eagerly with .apply()", line)
        if attr == "freeze":
            return self._frozen(call, seen)
        if attr in celery_api.SIGNATURE_CHAINABLE:
            outcome = self.signature(call, seen)
            return chosen_id(call, outcome, self.mentions, self.parents, self.line_of) if attr in _OPTIONS_TAKEN \
                else outcome
        return Outcome(ESCAPES, "linked callbacks" if attr == "link" else f"signature .{attr}()", line)

    def _frozen(self, call: cst.Call, seen) -> Outcome:
        """``sig.freeze()`` fixes the signature's id and gives back the handle of the send to come (an
        ``AsyncResult``); ``sig.freeze(task_id)``: the caller chose that id."""
        outcome = self.through(self.result(call, seen), call, "frozen: the handle of its send")
        chosen = Outcome(ID_TAKEN, "its id is chosen by the caller (freeze(id))", self.line_of(call))
        return chosen if call.args and chosen.stronger_than(outcome) else outcome

    def _signature_called(self, node, parent: cst.Call, seen) -> Optional[Outcome]:
        if parent.func is not node:
            return None
        if self._one_task_signature(node, set()):
            return Outcome(DISCARDED, "signature called in-process", self.line_of(node))
        return self.result(parent, seen)  # calling a canvas sends it, like apply_async()

    def _one_task_signature(self, node, seen: Set[int]) -> bool:
        """Is ``node`` certainly one task's signature (``t.s(1)``, ``t.si()`` with ``.set(...)`` and the like, or a
        local bound only to such), whose call runs the task here? Anything else may be a canvas (``chain(...)``,
        ``a | b``, ``c.set(queue=q)``, ``c.clone()``), which a call sends."""
        if id(node) in seen:
            return False
        seen.add(id(node))
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            attr = node.func.attr.value
            if attr in celery_api.SIGNATURE_CHAINABLE and attr != "freeze":
                return self._one_task_signature(node.func.value, seen)  # what it is called on, with options
            return attr in celery_api.SIGNATURE
        if isinstance(node, cst.Name):
            values = self._bound_values(node)
            return bool(values) and all(self._one_task_signature(value, seen) for value in values)
        return False

    def _bound_values(self, name: cst.Name) -> list:
        """What the local ``name`` is assigned (``x = v``, ``x: T = v``); [] when any other form binds it."""
        values = []
        for mention in self.mentions(name) or ():
            parent = self.parents.get(mention)
            owner = self.parents.get(parent) if isinstance(parent, cst.AssignTarget) else parent
            if isinstance(owner, cst.Assign) and parent.target is mention:
                values.append(owner.value)
            elif isinstance(owner, cst.AnnAssign) and owner.target is mention:
                if owner.value is not None:
                    values.append(owner.value)
            elif _stored(mention, self.parents):
                return []  # ``for x in ...``, ``x |= ...``, a parameter, ``(a, x) = ...``: not followed
        return values

    def _signature_piped(self, node, parent, seen) -> Optional[Outcome]:
        """``a | b``: a chain link (a group in it is a chord's header: ``runs_before_a_task``)."""
        return self._member(self.signature(parent, seen), "chain link", node) if is_pipe(parent) else None

    def _signature_argument(self, node, arg: cst.Arg, seen) -> Outcome:
        call = self.parents.get(arg)
        line = self.line_of(node)
        if not isinstance(call, cst.Call):
            return Outcome(ESCAPES, "signature passed on", line)
        if call_named(call.func, celery_api.CHORD):
            return self._member(self.result(call, seen), "chord body", arg)  # chord(header)(body)
        keyword = arg.keyword.value if arg.keyword else None
        if keyword in celery_api.LINK_KEYWORDS:
            return Outcome(DISCARDED, f"{keyword} callback", line)
        for names, why in _NOT_READ_BY:
            if call_name(call) in names:
                return Outcome(DISCARDED, why, line)
        operand = self.operand(call, arg, line, seen)
        if operand is not None:
            return operand
        if call_name(call) in _SIGNATURE_WRAPPERS:
            return self.signature(call, seen)
        return self.passed_to(call, arg, Outcome(ESCAPES, f"signature passed to {call_name(call) or 'a call'}()", line),
                              self.signature, seen)

    # ----- the canvas algebra -----
    def operand(self, call: cst.Call, arg: cst.Arg, line: int, seen=None) -> Optional[Outcome]:
        """What ``chain``/``group``/``chord`` make of a signature given as one of their arguments."""
        name = call_name(call)
        if name in celery_api.CHORD:
            positional = [a for a in call.args if a.keyword is None]
            if (arg.keyword is not None and arg.keyword.value == "header") or (positional and positional[0] is arg):
                return Outcome(READ, "chord header", line)
            return self._member(self.signature(call, seen), "chord body", arg)
        if name in celery_api.CHAIN:
            return self._member(self.signature(call, seen), "chain link", arg)
        if name in celery_api.GROUP:
            if self.runs_before_a_task(call):  # Celery upgrades the group and the task after it to a chord
                return Outcome(READ, "chord header (a group followed by a task in a chain)", line)
            return self._member(self.signature(call, seen), "group member", arg)
        return None

    def runs_before_a_task(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> bool:
        """Does a task run after the canvas ``node`` in a chain? ``chain(c, t)``, ``c | t``: yes; ``chain(t, c)``,
        ``t | c``: only if something runs after that whole chain."""
        seen = seen if seen is not None else set()
        if id(node) in seen:
            return False
        seen.add(id(node))
        parent = self.parents.get(node)
        if is_pipe(parent):
            return node is parent.left or self.runs_before_a_task(parent, seen)
        if isinstance(parent, (cst.IfExp, cst.BooleanOperation, cst.Await)):
            return self.runs_before_a_task(parent, seen)
        if isinstance(parent, (cst.Element, cst.StarredElement)) or self._added_to_a_list(parent) \
                or (isinstance(parent, (cst.ListComp, cst.GeneratorExp, cst.SetComp)) and parent.elt is node):
            # ``steps = [group(...), t.s()]`` / ``steps.append(group(...))`` / ``[group(...) for b in batches]``:
            # steps may be chained
            return True
        if isinstance(parent, cst.Arg) and call_named(self.parents.get(parent), celery_api.CHAIN):
            return self._before_last_link(self.parents[parent], parent, seen)
        if isinstance(parent, cst.Attribute) and parent.attr.value in celery_api.SIGNATURE_CHAINABLE \
                and call_named(self.parents.get(parent), celery_api.SIGNATURE_CHAINABLE):
            return self.runs_before_a_task(self.parents[parent], seen)  # ``group(...).set(queue=q) | t.s()``
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:  # ``header = group(...)``, piped later
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            return any(self.runs_before_a_task(mention, seen) for target in targets
                       if isinstance(target, cst.Name) for mention in self.mentions(target) or ()
                       if not self.rebinds(mention))
        return False

    def _added_to_a_list(self, parent) -> bool:
        """``steps.append(group(...))``, ``.extend``, ``.insert``: the group goes into a list of steps."""
        call = self.parents.get(parent) if isinstance(parent, cst.Arg) else None
        return isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
            and call.func.attr.value in ("append", "extend", "insert", "appendleft")

    def _before_last_link(self, chain: cst.Call, arg: cst.Arg, seen) -> bool:
        links = [a for a in chain.args if a.keyword is None]
        if arg.star or arg not in links:
            return False  # ``chain(*sigs)``: where it sits is not known (the members escape anyway)
        return links[-1] is not arg or self.runs_before_a_task(chain, seen)

    def _member(self, whole: Outcome, role: str, at: cst.CSTNode) -> Outcome:
        # A member needs its result exactly when the canvas result is used: every link of a read chain,
        # every member of a read group. See celery-semantics.md, "Canvas".
        return self.through(Outcome(whole.kind, f"{role}; canvas {whole.detail}", whole.line, steps=whole.steps),
                            at, role)


def _inverted(flow, node, parent, seen) -> Outcome:
    """``~sig``: ``Signature.__invert__`` is ``apply_async().get()``; ``not sig`` only tests it."""
    if isinstance(parent.operator, cst.BitInvert):
        return Outcome(READ, "~signature: sent and waited for (apply_async().get())", flow.line_of(node))
    return Outcome(DISCARDED, "only tested", flow.line_of(node))


def _never_sent(flow, node, parent, seen) -> Outcome:
    return Outcome(DISCARDED, "signature never sent", flow.line_of(node))


def _returned(flow, node, parent, seen) -> Outcome:
    return Outcome(ESCAPES, "signature returned to the caller", flow.line_of(node))


def _contained(flow, node, parent, seen) -> Outcome:
    return flow.signature(flow.container_of(parent), seen)


def _wrapped(flow, node, parent, seen) -> Outcome:
    return flow.signature(parent, seen)


def _assigned(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.assigned(parent, node, flow.signature, seen) if parent.value is node else None


def _listed(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.in_a_list(node, parent, flow.signature, seen)


# (parent types, step): the first step that answers decides; ``flow.follow`` runs them.
_SIGNATURE_STEPS = (
    (object, _listed),
    (cst.Attribute, CanvasFlow._signature_attribute),
    (cst.Call, CanvasFlow._signature_called),
    (cst.BinaryOperation, CanvasFlow._signature_piped),
    (cst.Arg, CanvasFlow._signature_argument),
    ((cst.Element, cst.ListComp, cst.GeneratorExp, cst.SetComp), _contained),
    ((cst.Assign, cst.AnnAssign), _assigned),
    ((cst.IfExp, cst.BooleanOperation, cst.Await), _wrapped),
    (cst.UnaryOperation, _inverted),
    (cst.Expr, _never_sent),
    ((cst.Return, cst.Yield), _returned),
)


_UNPACKING = (cst.Tuple, cst.List, cst.Element, cst.StarredElement)
# where a name written as (or inside) the target is stored, not loaded
_TARGETS = (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.AsName, cst.Del)
_NAME_BINDERS = (cst.Param, cst.NameItem, cst.MatchAs, cst.MatchStar, cst.FunctionDef, cst.ClassDef, cst.ImportAlias,
                 cst.AssignTarget, cst.Del)  # (whatever part of it the name is)


def _stored(name: cst.Name, parents) -> bool:
    """Is this mention of a variable a store of any kind (unpacking, ``+=``, a loop, a parameter, ``global``...)?"""
    node, parent = name, parents.get(name)
    while isinstance(parent, _UNPACKING):
        node, parent = parent, parents.get(parent)
    if isinstance(parent, _NAME_BINDERS):
        return True
    return isinstance(parent, _TARGETS) and getattr(parent, "target", getattr(parent, "name", None)) is node
