"""Where does a task's result go? Classifies the AsyncResult (or signature) an expression produces.

The rules come from ``celery-semantics.md``: anything that reads the backend is a read; a result that
leaves what we can follow (returned, stored, passed on) escapes; canvas members take the outcome of the
canvas that holds them, except chord headers (always read) and link callbacks (never read).
Unknown constructs count as escapes: silence is the safe answer.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional, Set

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import OutcomeKind
from .facts import Outcome
from .walk import last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind


_CHOSEN_ID_CALLS = {"apply_async"} | celery_api.names(Role.SEND_BY_NAME)  # the sends that take ``task_id=``
# What may be asked of a task object (a use of the task); anything else belongs to some other object.
TASK_ATTRIBUTES = (celery_api.ENQUEUE | celery_api.ENQUEUE_ON_COMMIT | celery_api.SIGNATURE | celery_api.SIGNATURE_CHAINABLE | celery_api.INLINE
                   | celery_api.EAGER | celery_api.names(Role.SEND_BY_NAME)
                   | {"AsyncResult", "name", "run", "request", "update_state", "retry"})
FILLS = frozenset({"append", "extend", "insert", "add"})  # list and set methods that only add to them
_SIGNATURE_WRAPPERS = {"maybe_signature"} | celery_api.names(Role.SIGNATURE_CLASS)  # give back the signature


def strongest(outcomes: Iterable[Outcome], default: Outcome) -> Outcome:
    best: Optional[Outcome] = None
    for outcome in outcomes:
        if outcome.stronger_than(best):
            best = outcome
    return best or default


def call_name(call: cst.Call) -> Optional[str]:
    """The last name of the callee: ``chain`` for ``celery.chain(...)``, ``delay`` for ``t.delay()``."""
    return last_name(call.func)


class ResultFlow:
    """Follows AsyncResults and signatures through one module, with the parents and scopes of ``walk``."""

    def __init__(self, parents, mentions, line_of: Callable[[cst.CSTNode], int], function_of=lambda node: None):
        self.parents = parents
        self.function_of = function_of  # node -> the module-level function it is returned from, if any
        self.mentions = mentions  # local variable -> its other mentions; None for module/class variables
        self.line_of = line_of

    # ----- results (what ``.delay()``/``.apply_async()``/``send_task()`` return) -----
    def result(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        outcome = self._result(node, seen)
        if isinstance(node, cst.Call) and call_name(node) in _CHOSEN_ID_CALLS:
            return self._chosen_id(node, outcome)
        return outcome

    def _chosen_id(self, call: cst.Call, outcome: Outcome) -> Outcome:
        """``apply_async(task_id=job.pk)`` / ``.set(task_id=x)``: the caller knows the id before the send, as
        good as taking ``.id`` from the result (a project that reads results by id may read this one)."""
        if any(arg.keyword is not None and arg.keyword.value == "task_id" for arg in call.args):
            chosen = Outcome(ID_TAKEN, "its id is chosen by the caller (task_id=)", self.line_of(call))
            if chosen.stronger_than(outcome):
                return chosen
        return outcome

    def _result(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        seen = seen if seen is not None else set()
        if id(node) in seen:
            return Outcome(DISCARDED, "already followed", self.line_of(node))
        seen.add(id(node))
        parent = self.parents.get(node)
        line = self.line_of(node)
        if isinstance(parent, cst.Expr):
            return Outcome(DISCARDED, "result discarded", line)
        held = self._in_a_list(node, parent, self.result, seen)
        if held is not None:
            return held
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            if attr in celery_api.ID_ATTRIBUTES:
                return Outcome(ID_TAKEN, f"its .{attr} is taken", line)
            if attr in celery_api.NO_READ:
                return Outcome(DISCARDED, f"only .{attr}()", line)
            return Outcome(READ, f".{attr}", line)
        if isinstance(parent, (cst.Await, cst.IfExp, cst.BooleanOperation)):
            return self.result(parent, seen)
        if isinstance(parent, (cst.If, cst.While, cst.Comparison, cst.UnaryOperation)):
            return Outcome(DISCARDED, "only tested", line)
        if isinstance(parent, cst.NamedExpr):
            return strongest(
                [self.result(parent, seen), *self._through_variable(parent.target, self.result, seen)],
                Outcome(DISCARDED, "result discarded", line),
            )
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
            return self._assigned(parent, node, self.result, seen)
        if isinstance(parent, cst.Return):
            return Outcome(ESCAPES, "returned to the caller", line, via=self.function_of(parent))
        if isinstance(parent, cst.Yield):
            return Outcome(ESCAPES, "yielded to the caller", line)
        if isinstance(parent, cst.Lambda):
            return self._lambda(parent, line)
        if isinstance(parent, cst.Arg):
            call = self.parents.get(parent)
            if isinstance(call, cst.Call) and call_name(call) in celery_api.LOGGING:
                return Outcome(ID_TAKEN, "logged", line)
            name = call_name(call) if isinstance(call, cst.Call) else None
            return Outcome(ESCAPES, f"passed to {name or 'a call'}()", line)
        if isinstance(parent, (cst.FormattedStringExpression,)):
            return Outcome(ID_TAKEN, "formatted into a string", line)
        if isinstance(parent, (cst.Element, cst.DictElement, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            container = self._container_of(parent)
            inner = self.result(container, seen)
            if inner.kind == DISCARDED:
                return inner
            return Outcome(ESCAPES, "kept in a container", line)
        return Outcome(ESCAPES, f"used in a {type(parent).__name__}", line)

    # ----- signatures and canvases (``t.s()``, ``chain(...)``, ``a.s() | b.s()``) -----
    def signature(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        """The outcome for a task whose signature is ``node``."""
        seen = seen if seen is not None else set()
        if id(node) in seen:
            return Outcome(DISCARDED, "already followed", self.line_of(node))
        seen.add(id(node))
        parent = self.parents.get(node)
        line = self.line_of(node)
        held = self._in_a_list(node, parent, self.signature, seen)
        if held is not None:
            return held
        if isinstance(parent, cst.Attribute) and parent.value is node:
            call = self.parents.get(parent)
            attr = parent.attr.value
            if not (isinstance(call, cst.Call) and call.func is parent):
                return Outcome(ESCAPES, f"signature .{attr} taken", line)
            if attr in celery_api.ENQUEUE:
                return self.result(call, seen)
            if attr in celery_api.EAGER:
                return Outcome(DISCARDED, "run eagerly with .apply()", line)
            if attr in celery_api.SIGNATURE_CHAINABLE:
                return self._chosen_id(call, self.signature(call, seen)) if attr == "set" else self.signature(call, seen)
            if attr == "link":
                return Outcome(ESCAPES, "linked callbacks", line)
            return Outcome(ESCAPES, f"signature .{attr}()", line)
        if isinstance(parent, cst.Call) and parent.func is node:
            if self._is_canvas(node):  # calling a canvas sends it, like apply_async()
                return self.result(parent, seen)
            return Outcome(DISCARDED, "signature called in-process", line)
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.BitOr):
            return self._piped(parent, node, seen)
        if isinstance(parent, cst.Arg):
            return self._signature_argument(parent, node, seen)
        if isinstance(parent, (cst.Element, cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            container = self._container_of(parent)
            return self.signature(container, seen)
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
            return self._assigned(parent, node, self.signature, seen)
        if isinstance(parent, (cst.IfExp, cst.BooleanOperation, cst.Await)):
            return self.signature(parent, seen)
        if isinstance(parent, cst.Expr):
            return Outcome(DISCARDED, "signature never sent", line)
        if isinstance(parent, (cst.Return, cst.Yield)):
            return Outcome(ESCAPES, "signature returned to the caller", line)
        return Outcome(ESCAPES, f"signature used in a {type(parent).__name__}", line)

    def _signature_argument(self, arg: cst.Arg, node: cst.CSTNode, seen) -> Outcome:
        call = self.parents.get(arg)
        line = self.line_of(node)
        if not isinstance(call, cst.Call):
            return Outcome(ESCAPES, "signature passed on", line)
        if isinstance(call.func, cst.Call) and call_name(call.func) in celery_api.CHORD:
            return self._member(self.result(call, seen), "chord body")  # chord(header)(body)
        keyword = arg.keyword.value if arg.keyword else None
        name = call_name(call)
        if keyword in celery_api.LINK_KEYWORDS:
            return Outcome(DISCARDED, f"{keyword} callback", line)
        if name in celery_api.LINK_METHODS:
            return Outcome(DISCARDED, "link callback", line)
        if name in celery_api.names(Role.PERIODIC):
            return Outcome(DISCARDED, "periodic task (beat never reads results)", line)
        if name in celery_api.CHORD:
            position = [a for a in call.args if a.keyword is None].index(arg) if keyword is None else None
            if keyword == "header" or position == 0:
                return Outcome(READ, "chord header", line)
            return self._member(self.signature(call, seen), "chord body")
        if name in celery_api.CHAIN:
            return self._member(self.signature(call, seen), "chain link")
        if name in celery_api.GROUP:
            if self.runs_before_a_task(call):  # Celery upgrades the group and the task after it to a chord
                return Outcome(READ, "chord header (a group followed by a task in a chain)", line)
            return self._member(self.signature(call, seen), "group member")
        if name in _SIGNATURE_WRAPPERS:
            return self.signature(call, seen)
        return Outcome(ESCAPES, f"signature passed to {name or 'a call'}()", line)

    def _piped(self, op: cst.BinaryOperation, node: cst.CSTNode, seen) -> Outcome:
        """``a | b``: a chain (a group in it is a chord's header: ``runs_before_a_task``)."""
        return self._member(self.signature(op, seen), "chain link")

    # ----- the canvas algebra: where a canvas sits in the chain that holds it -----
    def runs_before_a_task(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> bool:
        """Does a task run after the canvas ``node`` in a chain? ``chain(c, t)``, ``c | t``: yes; ``chain(t, c)``,
        ``t | c``: only if something runs after that whole chain. Celery (``_chain.prepare_steps``,
        ``__or__``) turns a group with a task after it into a chord, whose header tasks need results."""
        seen = seen if seen is not None else set()
        if id(node) in seen:
            return False
        seen.add(id(node))
        parent = self.parents.get(node)
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.BitOr):
            return node is parent.left or self.runs_before_a_task(parent, seen)
        if isinstance(parent, cst.Arg) and _call_named(self.parents.get(parent), celery_api.CHAIN):
            return self._before_last_link(self.parents[parent], parent, seen)
        if isinstance(parent, (cst.IfExp, cst.BooleanOperation, cst.Await)):
            return self.runs_before_a_task(parent, seen)
        if isinstance(parent, cst.Attribute) and parent.attr.value in celery_api.SIGNATURE_CHAINABLE \
                and _call_named(self.parents.get(parent), celery_api.SIGNATURE_CHAINABLE):
            return self.runs_before_a_task(self.parents[parent], seen)  # ``group(...).set(queue=q) | t.s()``
        if isinstance(parent, cst.Assign) and parent.value is node:  # ``header = group(...)``, piped later
            return any(self.runs_before_a_task(mention, seen) for target in parent.targets
                       if isinstance(target.target, cst.Name) for mention in self.mentions(target.target) or ()
                       if not self.rebinds(mention))
        return False

    def _before_last_link(self, chain: cst.Call, arg: cst.Arg, seen) -> bool:
        links = [a for a in chain.args if a.keyword is None]
        if arg.star or arg not in links:
            return False  # ``chain(*sigs)``: where it sits is not known (the members escape anyway)
        return links[-1] is not arg or self.runs_before_a_task(chain, seen)

    def _member(self, whole: Outcome, role: str) -> Outcome:
        # A member needs its result exactly when the canvas result is used: every link of a read chain,
        # every member of a read group. See celery-semantics.md, "Canvas".
        return Outcome(whole.kind, f"{role}; canvas {whole.detail}", whole.line)

    def _is_canvas(self, node) -> bool:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return True
        return isinstance(node, cst.Call) and call_name(node) in celery_api.CANVAS

    # ----- bound enqueue methods (``start = t.apply_async``) -----
    def bound_method(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        """The outcome for a task whose bound ``.delay``/``.apply_async`` (or a table or partial holding it) is
        ``node``: calling it enqueues the task, so the handle it returns is the task's result."""
        seen = seen if seen is not None else set()
        if id(node) in seen:
            return Outcome(DISCARDED, "already followed", self.line_of(node))
        seen.add(id(node))
        parent = self.parents.get(node)
        line = self.line_of(node)
        if isinstance(parent, cst.Call) and parent.func is node:
            return self.result(parent, seen)  # ``start(1)``: the enqueue itself
        if isinstance(parent, (cst.IfExp, cst.BooleanOperation, cst.Await)) or _is_lookup_of(parent, node, self.parents) \
                or (isinstance(parent, cst.Subscript) and parent.value is node):
            return self.bound_method(parent if not isinstance(parent, cst.Attribute) else self.parents[parent], seen)
        if isinstance(parent, (cst.Element, cst.DictElement)) and parent.value is node:
            return self.bound_method(self._container_of(parent), seen)  # a table of bound methods
        if isinstance(parent, cst.Arg) and _is_partial_of(self.parents.get(parent), parent):
            return self.bound_method(self.parents[parent], seen)  # ``partial(t.delay, x)`` is one too
        if isinstance(parent, cst.Arg) and _call_named(self.parents.get(parent), celery_api.names(Role.ON_COMMIT)):
            return Outcome(DISCARDED, "sent from on_commit()", line)  # on_commit drops what it returns
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
            return self._assigned(parent, node, self.bound_method, seen)
        if isinstance(parent, cst.Lambda):
            return self._lambda(parent, line)
        return Outcome(ESCAPES, "its .delay handed on as a value", line)

    # ----- task objects (not results) held in a local variable -----
    def only_called(self, targets) -> bool:
        """Are these assignment targets local variables that are only ever called directly afterwards
        (``handler = getattr(module, name)`` then ``handler(x)``), or only asked for something no task has
        (``signal = getattr(module, name)`` then ``signal.send(x)``)? Calling a task object runs it in this
        process: nothing is stored, nothing is handed on."""
        for target in targets:
            mentions = self.mentions(target) if isinstance(target, cst.Name) else None
            if mentions is None:
                return False  # an attribute, a subscript, a module or class variable: anyone may read it
            for mention in mentions:
                call = self.parents.get(mention)
                if not (self.rebinds(mention) or (isinstance(call, cst.Call) and call.func is mention)
                        or (isinstance(call, cst.Attribute) and call.value is mention
                            and call.attr.value not in TASK_ATTRIBUTES and not call.attr.value.startswith("_"))):
                    return False
        return True

    # ----- helpers -----
    def _lambda(self, lam: cst.Lambda, line: int) -> Outcome:
        """``on_commit(lambda: t.delay())``: Django's on_commit drops the callback's return value."""
        arg = self.parents.get(lam)
        call = self.parents.get(arg) if isinstance(arg, cst.Arg) else None
        if isinstance(call, cst.Call) and call_name(call) in celery_api.names(Role.ON_COMMIT):
            return Outcome(DISCARDED, "sent from on_commit()", line)
        return Outcome(ESCAPES, "returned from a lambda", line)

    def _in_a_list(self, node, parent, follow, seen) -> Optional[Outcome]:
        """A list of results or signatures built in steps: ``sigs.append(t.s())`` follows ``sigs``; a mention of
        such a list that adds to it, counts it, deletes it or tests it reads nothing; ``for s in sigs`` follows
        ``s``. None: not one of these."""
        line = self.line_of(node)
        if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
            call = self.parents.get(parent)
            func = call.func if isinstance(call, cst.Call) else None
            if isinstance(func, cst.Attribute) and func.attr.value in FILLS and isinstance(func.value, cst.Name) \
                    and self.mentions(func.value) is not None:
                return strongest(self._through_variable(func.value, follow, seen),
                                 Outcome(DISCARDED, f"added to {func.value.value}, never used", line))
            if isinstance(func, cst.Name) and func.value == "len":
                return Outcome(DISCARDED, "only counted with len()", line)
        if not isinstance(node, cst.Name):
            return None
        if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in FILLS:
            return Outcome(DISCARDED, f"{node.value}.{parent.attr.value}() adds to it", line)
        if isinstance(parent, cst.Del):
            return Outcome(DISCARDED, "deleted", line)
        if isinstance(parent, (cst.If, cst.While, cst.Comparison, cst.UnaryOperation)):
            return Outcome(DISCARDED, "only tested", line)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            if isinstance(parent.target, cst.Name) and self.mentions(parent.target) is not None:
                return strongest(self._through_variable(parent.target, follow, seen),
                                 Outcome(DISCARDED, "looped over, never used", line))
            return Outcome(ESCAPES, "looped over", line)
        return None

    def _container_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """Climb from an element to the list/tuple/dict/comprehension holding it."""
        while isinstance(node, (cst.Element, cst.DictElement, cst.StarredElement)):
            node = self.parents.get(node)
        return node

    def _assigned(self, assign, node, follow, seen) -> Outcome:
        targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
        line = self.line_of(node)
        outcomes = []
        for target in targets:
            if isinstance(target, cst.Name):
                outcomes.extend(self._through_variable(target, follow, seen))
            else:
                outcomes.append(Outcome(ESCAPES, "stored on an object or in a container", line))
        return strongest(outcomes, Outcome(DISCARDED, "assigned and never used", line))

    def _through_variable(self, target: cst.Name, follow, seen):
        """Every later use of a local variable, followed further. Module and class variables escape."""
        others = self.mentions(target)
        line = self.line_of(target)
        if others is None:
            yield Outcome(ESCAPES, "kept in a module or class variable", line)
            return
        for mention in others:
            if self.rebinds(mention):
                continue  # ``result = other.delay()`` in another branch: a new value, not a use of this one
            yield follow(mention, seen)

    def rebinds(self, name: cst.Name) -> bool:
        """Is this mention of a variable a store (an assignment target), not a load?"""
        parent = self.parents.get(name)
        if isinstance(parent, cst.AssignTarget):
            return True
        if isinstance(parent, (cst.AnnAssign, cst.For, cst.CompFor)) and parent.target is name:
            return True
        if isinstance(parent, cst.NamedExpr) and parent.target is name:
            return True
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef)) and parent.name is name:
            return True  # ``def signal(...)``: a binding (of the enclosing scope), not a use
        return isinstance(parent, cst.AsName) and parent.name is name


def _call_named(node, names) -> bool:
    return isinstance(node, cst.Call) and call_name(node) in names


def _is_partial_of(call, arg: cst.Arg) -> bool:
    """``functools.partial(method, ...)``: ``method`` is its first positional argument."""
    return _call_named(call, {"partial"}) and arg.keyword is None and not arg.star and call.args[0] is arg


def _is_lookup_of(parent, node, parents) -> bool:
    """``table.get(key)`` / ``table.pop(key)``: one of the table's values."""
    return isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in ("get", "pop") \
        and isinstance(parents.get(parent), cst.Call) and parents[parent].func is parent
