"""Where does a task's result go? Classifies the AsyncResult (or signature) an expression produces.

The rules come from ``celery-semantics.md``: anything that reads the backend is a read; a result that
leaves what we can follow (returned, stored, passed on) escapes; canvas members take the outcome of the
canvas that holds them, except chord headers (always read) and link callbacks (never read).
Unknown constructs count as escapes: silence is the safe answer.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Dict, Iterable, List, Optional, Set

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import OutcomeKind
from .facts import Outcome, Passed, Step
from .call_options import chosen_id
from .canvas import CanvasFlow, call_name, call_named
from .walk import last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind
MAX_STEPS = 12  # the steps of a result's way kept: each carrier copies them, so a long chain stays linear


_CHOSEN_ID_CALLS = {"apply_async"} | celery_api.names(Role.SEND_BY_NAME)  # the sends that take ``task_id=``
_NO_OPTIONS = {"delay", "delay_on_commit"}  # their keywords are the task's own
# What may be asked of a task object (a use of the task); anything else belongs to some other object.
TASK_ATTRIBUTES = (celery_api.ENQUEUE | celery_api.ENQUEUE_ON_COMMIT | celery_api.SIGNATURE
                   | celery_api.SIGNATURE_CHAINABLE | celery_api.INLINE | celery_api.EAGER
                   | celery_api.names(Role.SEND_BY_NAME)
                   | {"AsyncResult", "name", "run", "request", "update_state", "retry"})
FILLS = frozenset({"append", "extend", "insert", "add"})  # list and set methods that only add to them


def strongest(outcomes: Iterable[Outcome], default: Outcome) -> Outcome:
    best: Optional[Outcome] = None
    for outcome in outcomes:
        if outcome.stronger_than(best):
            best = outcome
    return best or default


# calls whose value is a Celery result handle, or a signature or canvas that sends to one
_CELERY_HANDLES = (celery_api.ENQUEUE | celery_api.names(Role.SEND_BY_NAME) | celery_api.READ_BY_ID | celery_api.SIGNATURE
                   | celery_api.SIGNATURE_CHAINABLE | celery_api.CANVAS | {"restore"})
MAX_PASSES = 256  # calls whose value one question follows (``then`` in passed_to); past it, "passed to f()" stays


class ResultFlow(CanvasFlow):
    """Follows AsyncResults and signatures through one module, with the parents and scopes of ``walk``."""

    def __init__(self, parents, mentions, line_of: Callable[[cst.CSTNode], int], function_of=lambda node: None,
                 place: Optional[Callable[[cst.CSTNode], tuple]] = None, ref_of=lambda node: None,
                 hands_on_locals=lambda name: False):
        self.parents = parents
        self.hands_on_locals = hands_on_locals  # local -> whether its function gives ``locals()`` away
        self.ref_of = ref_of  # node -> the dotted name it refers to (an import, a module-level definition)
        self.place = place  # node -> (line, col, the code there): where a step of a result's way stands
        self.function_of = function_of  # node -> the module-level function it is returned from, if any
        self.mentions = mentions  # local variable -> its other mentions; None for module/class variables
        self.line_of = line_of
        self.children_read: List[cst.CSTNode] = []  # ``r.children``: the results of tasks we cannot name

    # ----- results (what ``.delay()``/``.apply_async()``/``send_task()`` return) -----
    def result(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        outcome = self._result(node, seen)
        if isinstance(node, cst.Call) and call_name(node) in _CHOSEN_ID_CALLS:
            return chosen_id(node, outcome, self.mentions, self.parents, self.line_of)
        return outcome

    def _result(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        return self.follow(node, seen, _RESULT_STEPS, "used in a {}")

    def follow(self, node: cst.CSTNode, seen: Optional[Set[int]], steps, otherwise: str) -> Outcome:
        """Where the value ``node`` goes, by what holds it: the first of ``steps`` (parent types, step) that
        answers decides; none: it escapes (``otherwise`` says how, ``{}`` the parent's type)."""
        if seen is None:  # a new question: a new budget of calls whose value is followed
            seen, self._passes_left, self._asked_of = set(), MAX_PASSES, node
        if id(node) in seen:
            return Outcome(DISCARDED, "already followed", self.line_of(node))
        seen.add(id(node))
        parent = self.parents.get(node)
        for types, step in steps:
            if isinstance(parent, types):
                outcome = step(self, node, parent, seen)
                if outcome is not None:
                    return self.decided(outcome, parent)
        return self.decided(Outcome(ESCAPES, otherwise.format(type(parent).__name__), self.line_of(node)), parent)

    # ----- the way a result went (``Outcome.steps``, for ``--explain``) -----
    def step(self, node: cst.CSTNode, why: str) -> Step:
        line, col, code = self.place(node)
        return Step(line, col, code, why)

    def through(self, outcome: Outcome, node: Optional[cst.CSTNode], why: str) -> Outcome:
        """``outcome``, reached through the carrier ``node``. Only the way to a result that is not discarded is
        kept: it is what ``--explain`` shows, and placing a node costs a little."""
        if outcome.kind is DISCARDED or node is None or self.place is None:
            return outcome
        steps = outcome.steps
        if len(steps) >= MAX_STEPS:  # a way longer than anyone reads (or a generated chain): its start and its end
            steps = [*steps[:MAX_STEPS - 2], steps[-1]]
        return replace(outcome, steps=[self.step(node, why), *steps])

    def decided(self, outcome: Outcome, parent: Optional[cst.CSTNode]) -> Outcome:
        """The site that decided ``outcome`` (the read, the return, the call it is passed to) is ``parent``,
        unless a step further on already placed it."""
        if outcome.steps:
            return outcome
        at = self.parents.get(parent) if isinstance(parent, cst.Arg) else parent
        call = self.parents.get(at) if isinstance(at, cst.Attribute) else None
        why = f"{outcome.detail}: reads the result" if outcome.kind is READ else outcome.detail
        return self.through(outcome, call if isinstance(call, cst.Call) and call.func is at else at, why)

    def _binding(self, target: cst.Name) -> cst.CSTNode:
        """The assignment that binds ``target`` (shown whole: ``handle = t.delay()``), or the name itself."""
        parent = self.parents.get(target)
        if isinstance(parent, cst.AssignTarget):
            parent = self.parents.get(parent)
        return parent if isinstance(parent, (cst.Assign, cst.AnnAssign, cst.NamedExpr)) else target

    def _result_attribute(self, node, parent: cst.Attribute, seen) -> Optional[Outcome]:
        """``res.get()``, ``res.id``, ``res.forget()``."""
        if parent.value is not node:
            return None
        attr, line = parent.attr.value, self.line_of(node)
        if attr in celery_api.ID_ATTRIBUTES:
            return Outcome(ID_TAKEN, f"its .{attr} is taken", line)
        if attr in celery_api.NO_READ:
            return Outcome(DISCARDED, f"only .{attr}()", line)
        if attr in celery_api.RESULT_CHILDREN and call_named(getattr(self, "_asked_of", None), _CELERY_HANDLES):
            self.children_read.append(parent)  # (of a Celery handle: ``Node(...).children()`` is a tree's)
        return Outcome(READ, f".{attr}", line)

    def _result_walrus(self, node, parent: cst.NamedExpr, seen) -> Outcome:
        return strongest([self.result(parent, seen), *self._through_variable(parent.target, self.result, seen)],
                         Outcome(DISCARDED, "result discarded", self.line_of(node)))

    def _result_argument(self, node, parent: cst.Arg, seen) -> Outcome:
        call = self.parents.get(parent)
        if _only_logs(call, self.ref_of):
            return Outcome(ID_TAKEN, "logged", self.line_of(node))
        name = call_name(call) if isinstance(call, cst.Call) else None
        return self.passed_to(call, parent, Outcome(ESCAPES, f"passed to {name or 'a call'}()", self.line_of(node)),
                              self.result, seen)

    def passed_to(self, call, arg: cst.Arg, outcome: Outcome, follow, seen) -> Outcome:
        """``outcome`` (handed to a call), with where the call's value goes (``follow``-ed as the argument's
        kind) should the function give the argument back: the project knows whether it does."""
        ref = self.ref_of(call.func) if isinstance(call, cst.Call) else None
        if ref is None or any(a.star for a in call.args):  # ``f(*rest, x)``: which parameter x binds is unknown
            return outcome
        self._passes_left = getattr(self, "_passes_left", MAX_PASSES) - 1
        if self._passes_left < 0:  # ``r = f(r)`` again and again: each way is followed apart, so they multiply
            return outcome
        index = None if arg.keyword else [a for a in call.args if a.keyword is None].index(arg)
        then = follow(call, set(seen))  # a copy: another argument of the same call follows it too
        back = Passed(ref, index, arg.keyword.value if arg.keyword else None, then.kind, then.detail, then.line,
                      then.via, then.steps)
        return replace(outcome, passed=[back, *then.passed])

    def _result_contained(self, node, parent, seen) -> Outcome:
        inner = self.result(self.container_of(parent), seen)
        return inner if inner.kind == DISCARDED else Outcome(ESCAPES, "kept in a container", self.line_of(node))

    # ----- bound enqueue methods (``start = t.apply_async``) -----
    def bound_method(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        """The outcome for a task whose bound ``.delay``/``.apply_async`` (or a table or partial holding it) is
        ``node``: calling it enqueues the task, so the handle it returns is the task's result."""
        return self.follow(node, seen, _BOUND_STEPS, "its .delay handed on as a value")

    def _bound_called(self, node, parent: cst.Call, seen) -> Optional[Outcome]:
        if parent.func is not node:
            return None
        return self.through(self.result(parent, seen), parent, "called: enqueues it")  # ``start(1)``: the enqueue

    def _bound_looked_up(self, node, parent, seen) -> Optional[Outcome]:
        """``methods[key]``, ``methods.get(key)``: one of a table's bound methods."""
        if isinstance(parent, cst.Subscript) and parent.value is node:
            return self.bound_method(parent, seen)
        if _is_lookup_of(parent, node, self.parents):
            return self.bound_method(self.parents[parent], seen)
        return None

    def _bound_passed(self, node, parent: cst.Arg, seen) -> Optional[Outcome]:
        call = self.parents.get(parent)
        if _is_partial_of(call, parent):  # ``partial(t.delay, x)``; ``partial(t.apply_async, task_id=x)`` chooses its id
            outcome = self.through(self.bound_method(call, seen), call, "a partial of it")
            return outcome if last_name(node) in _NO_OPTIONS else chosen_id(call, outcome, self.mentions, self.parents,
                                                                           self.line_of)
        if call_named(call, celery_api.names(Role.ON_COMMIT)):
            return Outcome(DISCARDED, "sent from on_commit()", self.line_of(node))  # on_commit drops its value
        return self.passed_to(call, parent, Outcome(ESCAPES, "its .delay handed on as a value", self.line_of(node)),
                              self.bound_method, seen)

    # ----- task objects (not results): ``plugin = load_plugin(path, name)`` -----
    def task_object(self, node: cst.CSTNode, seen: Optional[Set[int]] = None) -> Outcome:
        """Where a value that may be a task object goes: called (run in this process, or a class made into a task
        that goes on), asked for what no task has, or dropped: never enqueued from there."""
        return self.follow(node, seen, _OBJECT_STEPS, "task handed on in a {}")

    def _object_attribute(self, node, parent: cst.Attribute, seen) -> Optional[Outcome]:
        if parent.value is not node:
            return None
        if parent.attr.value in TASK_ATTRIBUTES:  # ``.delay()`` on it: recorded where it happens, as a task unnamed
            return Outcome(ESCAPES, f"its .{parent.attr.value} used", self.line_of(node))
        return Outcome(DISCARDED, f"only its .{parent.attr.value}, which no task has", self.line_of(node))


    def gives_back(self, function: cst.FunctionDef, dotted: str) -> List[str]:
        """The parameters of the module-level ``function`` (``dotted``) whose value only goes back to its caller:
        every mention of one is returned (through locals, ``x if c else y``, ``x or y``), nothing else."""
        params = function.params
        found = []
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            outcomes = list(self._through_variable(param.name, self.result, set()))
            if outcomes and all(o.kind is ESCAPES and o.via == dotted and not o.passed for o in outcomes):
                found.append(param.name.value)
        return found

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
    def lambda_outcome(self, lam: cst.Lambda, line: int) -> Outcome:
        """``on_commit(lambda: t.delay())``: Django's on_commit drops the callback's return value."""
        arg = self.parents.get(lam)
        call = self.parents.get(arg) if isinstance(arg, cst.Arg) else None
        if isinstance(call, cst.Call) and call_name(call) in celery_api.names(Role.ON_COMMIT):
            return Outcome(DISCARDED, "sent from on_commit()", line)
        escapes = Outcome(ESCAPES, "returned from a lambda", line)
        ref = self.ref_of(call.func) if isinstance(call, cst.Call) else None
        if ref is None or any(a.star for a in call.args):
            return escapes
        # ``transaction_on_commit(lambda: t.delay())``: dropped if that function only hands it to on_commit
        index = None if arg.keyword else [a for a in call.args if a.keyword is None].index(arg)
        name = call_name(call)
        dropped = Passed(ref, index, arg.keyword.value if arg.keyword else None, DISCARDED,
                         f"sent from on_commit() by {name}()", line, callback=True)
        return replace(escapes, passed=[dropped])

    def drops_returns(self, function: cst.FunctionDef) -> Dict[str, int]:
        """The parameters of ``function`` only ever handed to on_commit (which runs them later and drops what
        they return), with their positions (-1: keyword-only): ``def later(func): transaction.on_commit(func)``."""
        params = function.params
        positional = [*params.posonly_params, *params.params]
        found = {}
        for index, param in [*enumerate(positional), *((-1, p) for p in params.kwonly_params)]:
            mentions = self.mentions(param.name)
            if mentions and all(_handed_to_on_commit(self.parents, mention) for mention in mentions):
                found[param.name.value] = index
        return found

    def in_a_list(self, node, parent, follow, seen) -> Optional[Outcome]:
        """A list of results or signatures built in steps: ``sigs.append(t.s())`` follows ``sigs``; a mention of
        such a list that adds to it, counts it, deletes it or tests it reads nothing; ``for s in sigs`` follows
        ``s``. None: not one of these."""
        line = self.line_of(node)
        if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
            call = self.parents.get(parent)
            func = call.func if isinstance(call, cst.Call) else None
            if isinstance(func, cst.Attribute) and func.attr.value in FILLS and isinstance(func.value, cst.Name) \
                    and self.mentions(func.value) is not None:
                if not self._made_here(func.value):  # ``rs = self.rs`` then ``rs.append(r)``: read elsewhere too
                    return Outcome(ESCAPES, f"added to {func.value.value}, a container not made here", line)
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
        if isinstance(parent, (cst.If, cst.While, cst.Comparison, cst.UnaryOperation)) \
                and not isinstance(getattr(parent, "operator", None), cst.BitInvert):  # (``~sig``: sent, waited for)
            return Outcome(DISCARDED, "only tested", line)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            if isinstance(parent.target, cst.Name) and self.mentions(parent.target) is not None:
                return strongest(self._through_variable(parent.target, follow, seen),
                                 Outcome(DISCARDED, "looped over, never used", line))
            return Outcome(ESCAPES, "looped over", line)
        return None

    def container_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """Climb from an element to the list/tuple/dict/comprehension holding it."""
        while isinstance(node, (cst.Element, cst.DictElement, cst.StarredElement)):
            node = self.parents.get(node)
        return node

    def assigned(self, assign, node, follow, seen) -> Outcome:
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
        if self.hands_on_locals(target):
            yield Outcome(ESCAPES, f"{target.value} handed on with its function's locals()", line)
        for mention in others:
            if self.rebinds(mention):
                continue  # ``result = other.delay()`` in another branch: a new value, not a use of this one
            yield self.through(follow(mention, seen), self._binding(target), f"held in {target.value}")

    def _made_here(self, name: cst.Name) -> bool:
        """Is every binding of the local ``name`` a container made there (``[]``, ``set()``, a comprehension), not
        one held elsewhere too (``self.rs``, a module's list, a parameter, a call's value)?"""
        bindings = [mention for mention in self.mentions(name) or () if self.rebinds(mention)]
        if self.rebinds(name):
            bindings.append(name)
        values = [self.parents.get(self.parents.get(mention)) for mention in bindings]
        return bool(values) and all(isinstance(assign, cst.Assign) and _fresh_container(assign.value) for assign in values)

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


def _fresh_container(value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.List, cst.Set, cst.Dict, cst.Tuple, cst.ListComp, cst.SetComp, cst.DictComp)):
        return True
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Name) \
        and value.func.value in ("list", "set", "dict", "deque", "defaultdict", "OrderedDict")


def _only_logs(call, ref_of) -> bool:
    """``logger.info(r)``, ``print(r)``; not ``self.info(r)``, nor ``log(r)`` with ``log`` a function of the project
    (defined or imported): those decide for themselves."""
    func = call.func if call_named(call, celery_api.LOGGING) else None
    if isinstance(func, cst.Attribute):
        return not (isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"))
    return func is not None and (ref_of(func) or "logging.").startswith("logging.")


def _is_partial_of(call, arg: cst.Arg) -> bool:
    """``functools.partial(method, ...)``: ``method`` is its first positional argument."""
    return call_named(call, {"partial"}) and arg.keyword is None and not arg.star and call.args[0] is arg


def _is_lookup_of(parent, node, parents) -> bool:
    """``table.get(key)`` / ``table.pop(key)``: one of the table's values."""
    return isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in ("get", "pop") \
        and isinstance(parents.get(parent), cst.Call) and parents[parent].func is parent


def _discarded(flow, node, parent, seen) -> Outcome:
    return Outcome(DISCARDED, "result discarded", flow.line_of(node))


def _tested(flow, node, parent, seen) -> Outcome:
    return Outcome(DISCARDED, "only tested", flow.line_of(node))


def _wrapped(flow, node, parent, seen) -> Outcome:
    return flow.result(parent, seen)


def _assigned(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.assigned(parent, node, flow.result, seen) if parent.value is node else None


def _returned(flow, node, parent, seen) -> Outcome:
    return Outcome(ESCAPES, "returned to the caller", flow.line_of(node), via=flow.function_of(parent))


def _yielded(flow, node, parent, seen) -> Outcome:
    return Outcome(ESCAPES, "yielded to the caller", flow.line_of(node))


def _in_lambda(flow, node, parent, seen) -> Outcome:
    return flow.lambda_outcome(parent, flow.line_of(node))


def _formatted(flow, node, parent, seen) -> Outcome:
    return Outcome(ID_TAKEN, "formatted into a string", flow.line_of(node))


def _listed(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.in_a_list(node, parent, flow.result, seen)


# (parent types, step) for a result: the first step that answers decides (``ResultFlow.follow``).
_RESULT_STEPS = (
    (cst.Expr, _discarded),
    (object, _listed),
    (cst.Attribute, ResultFlow._result_attribute),
    ((cst.Await, cst.IfExp, cst.BooleanOperation), _wrapped),
    ((cst.If, cst.While, cst.Comparison, cst.UnaryOperation), _tested),
    (cst.NamedExpr, ResultFlow._result_walrus),
    ((cst.Assign, cst.AnnAssign), _assigned),
    (cst.Return, _returned),
    (cst.Yield, _yielded),
    (cst.Lambda, _in_lambda),
    (cst.Arg, ResultFlow._result_argument),
    (cst.FormattedStringExpression, _formatted),
    ((cst.Element, cst.DictElement, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp),
     ResultFlow._result_contained),
)


def _bound_wrapped(flow, node, parent, seen) -> Outcome:
    return flow.bound_method(parent, seen)


def _bound_contained(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.bound_method(flow.container_of(parent), seen) if parent.value is node else None  # a table of them


def _bound_assigned(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.assigned(parent, node, flow.bound_method, seen) if parent.value is node else None


def _bound_walrus(flow, node, parent, seen) -> Optional[Outcome]:
    """``(start := t.delay)``: the bound method goes on both as the expression's value and as ``start``."""
    if parent.value is not node:
        return None
    return strongest([flow.bound_method(parent, seen), flow.assigned(parent, node, flow.bound_method, seen)],
                     Outcome(DISCARDED, "assigned and never used", flow.line_of(node)))


def _object_called(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.task_object(parent, seen) if parent.func is node else None


def _object_wrapped(flow, node, parent, seen) -> Outcome:
    return flow.task_object(parent, seen)


def _object_assigned(flow, node, parent, seen) -> Optional[Outcome]:
    return flow.assigned(parent, node, flow.task_object, seen) if parent.value is node else None


# (parent types, step) for a task object (``ResultFlow.follow``).
_OBJECT_STEPS = (
    (cst.Expr, _discarded),
    (cst.Attribute, ResultFlow._object_attribute),
    (cst.Call, _object_called),
    ((cst.Await, cst.IfExp, cst.BooleanOperation), _object_wrapped),
    ((cst.If, cst.While, cst.Comparison, cst.UnaryOperation), _tested),
    ((cst.Assign, cst.AnnAssign), _object_assigned),
    (cst.Return, _returned),
)


# (parent types, step) for a bound enqueue method (``ResultFlow.follow``).
_BOUND_STEPS = (
    (cst.Call, ResultFlow._bound_called),
    ((cst.IfExp, cst.BooleanOperation, cst.Await), _bound_wrapped),
    ((cst.Subscript, cst.Attribute), ResultFlow._bound_looked_up),
    ((cst.Element, cst.DictElement), _bound_contained),
    (cst.Arg, ResultFlow._bound_passed),
    ((cst.Assign, cst.AnnAssign), _bound_assigned),
    (cst.NamedExpr, _bound_walrus),
    ((cst.If, cst.While, cst.Comparison, cst.UnaryOperation), _tested),  # ``(start := pick()) is not None``
    (cst.Lambda, _in_lambda),
)


def _handed_to_on_commit(parents, mention) -> bool:
    arg = parents.get(mention)
    call = parents.get(arg) if isinstance(arg, cst.Arg) else None
    return (isinstance(call, cst.Call) and arg.value is mention and not arg.star
            and call_name(call) in celery_api.names(Role.ON_COMMIT))
