"""Task values handed on: which expressions may carry a task (a name, ``getattr``, a bound ``.delay``, a parameter,
``self.x``), and what the summary records where one leaves what this module can follow.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import DYNAMIC, OutcomeKind, UseKind
from .facts import ClassInfo, FunctionInfo, Outcome, ReturnOf, Running, ViaParam
from .walk import last_name
from .flow import call_name
from .literals import first_literal, is_getattr, literal, registry_key, unsubscripted

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind
SELF = ("self", "cls")  # the instance (or class) a method is called on, by convention
# unittest.mock: what a test (only there: elsewhere the names may be anything) gives these configures or checks
# a mock, and is never enqueued or read
MOCK_CALLS = frozenset({"patch", "object", "Mock", "MagicMock", "AsyncMock", "NonCallableMock", "create_autospec",
                        "PropertyMock", "call"})


# ``getattr(t, name)`` kept: a bound enqueue or signature method, or any (``name`` known at run time)
_KEPT_LOOKUPS = celery_api.ENQUEUE | celery_api.SIGNATURE | {DYNAMIC}
_TASK_MAKERS = frozenset({"task", "shared_task"})  # ``app.task(...)(f)``, ``shared_task(f)``
# the calls on a receiver the sinks attribute to every task PossibleValues says it holds
NAMED_RECEIVER_CALLS = celery_api.ENQUEUE | celery_api.ENQUEUE_ON_COMMIT | celery_api.SIGNATURE


class Reference(NamedTuple):
    """How an expression names a task (at most one of these is set; none: a receiver we cannot name)."""

    target: Optional[str] = None  # a dotted name
    by_name: Optional[str] = None  # a registered name (DYNAMIC: any task)
    dynamic_module: Optional[str] = None  # ``getattr(module, name)``: any task of that module...
    via_param: Optional[ViaParam] = None  # ...unless the name is a parameter whose callers we can read
    bound_as: Optional[str] = None  # ``getattr(import_module(path), "send")``: a task some module binds as ``send``
    class_attr: Optional[str] = None  # ``self.task``: the class attributes of that name in the class hierarchy
    returned: Optional[ReturnOf] = None  # ``ident(t)``: what a function of another module returns, given these
    # ``getattr(holder, name)(...)``, ``name`` known at run time: ``t.delay`` for a task, a function of a module
    run_time_attr: Optional[bool] = None
    built_on: Optional[str] = None  # ``self.delay()`` in a method of this class: each task built on it

    def __bool__(self) -> bool:
        return any(value is not None for value in self)


class Carriers:
    """The ``_Summarizer``'s handlers for task values handed on (a mixin: it shares the summarizer's state)."""

    # ----- tasks handed on as values -----
    def value_use(self, value: Optional[cst.BaseExpression], objects: bool = True) -> None:
        """A task object (or its bound ``.delay``) handed on as a value: it may be enqueued anywhere. ``objects``
        False: only bound enqueue methods count (the task objects are only called, in this process)."""
        if isinstance(value, (cst.Name, cst.Attribute)) and last_name(value) == "current_task" \
                and self.ref_of(value) in celery_api.CURRENT_TASK:
            # ``ProgressRecorder(current_task)``, ``self.task = current_task``: it may report that task's progress
            self.running_task(Running.PROGRESS, "current_task handed on", value)
        if isinstance(value, cst.IfExp):  # ``t = a_task if x else b_task``: either may be enqueued later
            self.value_use(value.body, objects)
            self.value_use(value.orelse, objects)
        elif isinstance(value, cst.BooleanOperation):  # ``t = custom_task or default_task``
            self.value_use(value.left, objects)
            self.value_use(value.right, objects)
        elif isinstance(value, cst.Attribute) and value.attr.value in celery_api.ENQUEUE:
            self.bound_method_use(value)
        elif isinstance(value, cst.Attribute) and value.attr.value in celery_api.SIGNATURE:
            # ``map(t.s, xs)``, ``mk = t.s`` then ``mk(1).delay()``: its signatures may be made and sent anywhere
            self.value_use(value.value)
        elif isinstance(value, cst.Attribute) and value.attr.value in celery_api.names(Role.SEND_BY_NAME):
            self.kept_send_by_name(value)
        else:
            if is_getattr(value) and len(value.args) >= 2 and literal(value.args[1].value) in _KEPT_LOOKUPS:
                self.looked_up_method(value)  # ``getattr(t, "delay")``; (``getattr(module, name)``: below too)
            if value is not None and objects:
                self.object_handed_on(value)

    def object_handed_on(self, value: cst.BaseExpression) -> None:
        found = self.value_reference(value)
        if found is not None:
            # returned from a module-level function: its callers decide where it goes (``load(path)(config)``)
            via = self.function_of(value) if isinstance(self.parents.get(value), cst.Return) else None
            self.use(UseKind.VALUE, Outcome(ESCAPES, found[1], self.line_of(value), via), found[0])

    def kept_send_by_name(self, method: cst.Attribute) -> None:
        """``st = app.send_task`` then ``st(name).get()``: a send of a task named at run time wherever ``st`` is
        called (its name is not followed)."""
        self.use(UseKind.ENQUEUE, self.bound_method_outcome(method), Reference(by_name=DYNAMIC), at=method,
                 held=f"its bound .{method.attr.value}, called later")

    def method_caller(self, node: cst.Call, name: Optional[str]) -> None:
        """``operator.methodcaller("delay", x)``: an enqueue of whatever it is applied to (a task handed on as a
        value, for this analysis) wherever it is."""
        if name == "methodcaller" and first_literal(node) in celery_api.ENQUEUE \
                and (self.ref_of(node.func) or "").startswith("operator."):
            self.use(UseKind.ENQUEUE, self.bound_method_outcome(node), Reference(), at=node,
                     held="operator.methodcaller(), applied later")

    def kept_locally(self, targets) -> bool:
        """Are these assignment targets local variables only ever bound, or enqueued or signed directly on tasks
        PossibleValues names (``task = t0 if urgent else t1`` ... ``task.delay(1)``)? Each such call is then a
        use of every task named, so the task object goes nowhere else. Anything else (handed to a function,
        ``task.delay`` kept, a binding not followed): it may go anywhere."""
        for target in targets:
            mentions = self.flow.mentions(target) if isinstance(target, cst.Name) else None
            if mentions is None:
                return False
            for mention in mentions:
                if self.flow.rebinds(mention):
                    continue
                method = self.parents.get(mention)
                call = self.parents.get(method)
                if not (isinstance(method, cst.Attribute) and method.value is mention
                        and method.attr.value in NAMED_RECEIVER_CALLS
                        and isinstance(call, cst.Call) and call.func is method and self.held.names(mention)):
                    return False
        return True

    def looked_up_method(self, lookup: cst.Call) -> None:
        """``f = getattr(t, "delay")``: as ``f = t.delay``. A signature method: the task goes where ``f`` goes.
        (Not a name known at run time, ``getattr(obj, key)`` kept: that is most code reading settings or
        attributes, and would make every object a task we cannot name; the task is handed on as a value.)"""
        receiver, name = lookup.args[0].value, literal(lookup.args[1].value)
        if name in celery_api.ENQUEUE:
            self.bound_method_use(lookup, receiver, name)
        else:
            self.value_use(receiver)

    def bound_method_use(self, method: cst.BaseExpression, receiver: Optional[cst.BaseExpression] = None,
                         name: str = "") -> None:
        """``start = t.delay`` (``method``; or ``getattr(receiver, name)``): an enqueue wherever ``start`` is
        called. A receiver we cannot name (``start = make().delay``, a parameter, ``self.task.delay``) is recorded
        too, as ``make().delay()`` is: it may be any task handed on as a value, and a read through ``start`` must
        keep those tasks."""
        if isinstance(method, cst.Attribute):
            receiver, name = method.value, method.attr.value
        ref = self.ref_of(receiver)
        where = Reference(target=ref) if ref else self.carrier_reference(receiver)
        # ``task = t0 if x else t1`` then ``start = task.delay``, ``ident(t).delay``: each task it may hold
        held = self.held.names(receiver, calls=True) if not where else None
        held = None if self.held.open_table else held  # other modules may add to that table
        outcome = self.bound_method_outcome(method)
        for found in held or [None]:
            where = Reference(target=found) if isinstance(found, str) else Reference(returned=found) if found else where
            self.use(UseKind.ENQUEUE, outcome, where, at=method, held=f"its bound .{name}, called later")

    def value_reference(self, value: cst.BaseExpression):
        """(reference, how it is handed on) for an expression that may be a task, or None."""
        if is_getattr(value):
            where = self.task_reference(value)
            return (where, "looked up with getattr()") if where else None
        if isinstance(value, cst.Call) and call_name(value) in celery_api.RUN_TIME_IMPORTS:
            where = self.task_reference(value)  # a run-time path: whatever it imports is caught where enqueued
            if where.target is None and where.bound_as is None:
                return None
            return where, f"imported with {call_name(value)}()"
        if isinstance(value, cst.Subscript) or registry_key(value) is not None:  # ``t = app.tasks["name"]``: handed on
            where = self.task_reference(value)
            return (where, "looked up in app.tasks") if where else None
        if isinstance(value, (cst.Name, cst.Attribute)):
            ref = self.value_ref(value)
            return (Reference(target=ref), "handed on as a value") if ref else None
        return None

    def bound_method_outcome(self, method: cst.BaseExpression) -> Outcome:
        """Whoever calls the bound method decides (``ResultFlow.bound_method``: called later, kept in a table or
        a partial, sent from on_commit); in a test, handing it (or a partial of it) to a mock configures the mock."""
        node = method
        for _ in range(3):
            arg = self.parents.get(node)
            call = self.parents.get(arg) if isinstance(arg, cst.Arg) else None
            if not (self.testing and isinstance(call, cst.Call)):
                break
            if call_name(call) in MOCK_CALLS:
                return Outcome(DISCARDED, f"given to {call_name(call)}() in a test", self.line_of(method))
            if call_name(call) != "partial":
                break
            node = call
        return self.flow.bound_method(method)

    def carrier_reference(self, receiver: cst.BaseExpression) -> Reference:
        """A receiver that carries a task from elsewhere: a parameter (its callers' arguments) or ``self.x``
        (the class attributes ``x`` of the class hierarchy); the project links them."""
        param = self.parameter_of(receiver)
        if param is not None:
            return Reference(via_param=param)
        owner = self.method_owner()
        if owner is not None and isinstance(receiver, cst.Attribute) and _is_self_or_its_class(receiver.value):
            return Reference(class_attr=f"{self.summary.module}.{owner.qualname}:{receiver.attr.value}")
        if owner is not None and isinstance(receiver, cst.Name) and receiver.value in SELF:
            # ``def run_and_wait(self, *a): return self.delay(*a).get()`` in a Task class (or a mixin of one)
            return Reference(built_on=f"{self.summary.module}.{owner.qualname}")
        return Reference()

    def task_made_here(self, value: cst.BaseExpression) -> bool:
        """``app.task(name=...)(run)`` or ``shared_task(run)`` on a function defined in this method: a new task,
        made at run time (pretix's ``cls.async_execute = app.task(...)(async_execute)``), none of the project's.
        (Given a function that is already a task, without a new name, Celery hands back the registered task.)"""
        if not isinstance(value, cst.Call) or len(value.args) != 1 or not isinstance(value.args[0].value, cst.Name):
            return False
        maker = value.func.func if isinstance(value.func, cst.Call) else value.func
        if last_name(maker) not in _TASK_MAKERS:
            return False
        method = self.parents.get(value)
        while method is not None and not isinstance(method, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            method = self.parents.get(method)
        return isinstance(method, cst.FunctionDef) and _defines_function(method, value.args[0].value.value)

    def method_owner(self) -> Optional[ClassInfo]:
        """The class whose method (directly) is being visited."""
        if len(self.stack) >= 2 and isinstance(self.stack[-2], ClassInfo) and isinstance(self.stack[-1], FunctionInfo):
            return self.stack[-2]
        return None

    def bound_task_itself(self, name: cst.BaseExpression) -> Optional[str]:
        """``@app.task(bind=True) def sync(self, ...): self.apply_async(...)``: the first parameter of a bound task
        is the task itself (``module.function``; the project says whether the function is a task)."""
        scope = self.walk.scope_of.get(name) if isinstance(name, cst.Name) else None
        if scope is None or scope.kind != "function" or scope.bindings.get(name.value) != [None]:
            return None  # not a name bound once, as a parameter, in the function it is mentioned in
        function = self.parents.get(name)
        while function is not None and not isinstance(function, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            function = self.parents.get(function)
        if not (isinstance(function, cst.FunctionDef) and isinstance(self.parents.get(function), cst.Module)):
            return None
        first = [*function.params.posonly_params, *function.params.params][:1]
        binds = any(isinstance(d.decorator, cst.Call) and any(
            arg.keyword is not None and arg.keyword.value == "bind" and isinstance(arg.value, cst.Name)
            and arg.value.value == "True" for arg in d.decorator.args) for d in function.decorators)
        return f"{self.summary.module}.{function.name.value}" if binds and first \
            and first[0].name.value == name.value else None

    def parameter_of(self, name: cst.BaseExpression) -> Optional[ViaParam]:
        """Where ``name`` is a parameter of its module-level function, which one."""
        if not isinstance(name, cst.Name):
            return None
        function = name
        while function is not None and not isinstance(function, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            function = self.parents.get(function)
        if not (isinstance(function, cst.FunctionDef) and isinstance(self.parents.get(function), cst.Module)):
            return None
        positional = [*function.params.posonly_params, *function.params.params]
        for index, param in enumerate(positional):
            if param.name.value == name.value:
                return ViaParam(f"{self.summary.module}.{function.name.value}", name.value, index)
        if any(p.name.value == name.value for p in function.params.kwonly_params):
            return ViaParam(f"{self.summary.module}.{function.name.value}", name.value, None)
        return None

    def function_of(self, node: cst.CSTNode) -> Optional[str]:
        """The module-level function ``node`` sits in (``module.name``), or None (methods, nested, module)."""
        while node is not None and not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            node = self.parents.get(node)
        if isinstance(node, cst.FunctionDef) and isinstance(self.parents.get(node), cst.Module):
            return f"{self.summary.module}.{node.name.value}"
        return None

    def visit_Element(self, node: cst.Element) -> None:
        self.value_use(node.value, objects=not self.element_looped_over(node))

    def element_looped_over(self, element) -> bool:
        """``for task in (a, b): task.delay()``, ``for name, task in {"a": a}.items(): ...``, or a local table only
        looped over so: each task it holds goes where the loop variable goes, which is followed (``kept_locally``)."""
        holder = self.parents.get(element)
        if not isinstance(holder, (cst.List, cst.Tuple, cst.Set, cst.Dict)) or not self.in_function():
            return False  # (a module's loop variable stays bound after the loop: another module may import it)
        assign = self.parents.get(holder)
        if isinstance(assign, cst.Assign) and assign.value is holder and len(assign.targets) == 1 \
                and isinstance(assign.targets[0].target, cst.Name):
            mentions = self.flow.mentions(assign.targets[0].target)
            return mentions is not None and all(
                self.flow.rebinds(mention) or self.looped_over(mention, holder) for mention in mentions)
        return self.looped_over(holder, holder)

    def looped_over(self, node: cst.CSTNode, holder: cst.CSTNode) -> bool:
        """Is ``node`` (a container literal, or a local holding ``holder``) the iterable of a ``for`` whose variable
        holding the items stays here? ``d.items()`` gives (key, value) pairs, ``d.values()`` the values; a dict
        itself gives its keys, not the tasks."""
        parent = self.parents.get(node)
        is_dict = isinstance(holder, cst.Dict)
        if isinstance(parent, cst.For) and parent.iter is node:
            return not is_dict and self.kept_locally([parent.target])
        method = parent.attr.value if isinstance(parent, cst.Attribute) and parent.value is node else None
        call = self.parents.get(parent)
        loop = self.parents.get(call)
        if not (is_dict and method in ("items", "values") and isinstance(call, cst.Call) and call.func is parent
                and not call.args and isinstance(loop, cst.For) and loop.iter is call):
            return False
        target = loop.target
        if method == "items":
            if not (isinstance(target, cst.Tuple) and len(target.elements) == 2):
                return False
            target = target.elements[1].value
        # (not ``flow.only_called``: a loop over tasks calling ``t.run_and_wait()`` may call a method of their
        # ``base=`` class that enqueues and reads)
        return self.kept_locally([target])

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = literal(node.key)
        if key == "task":
            value, beat = literal(node.value), self.has_schedule(node)
            outcome = Outcome(DISCARDED, "beat schedule entry (beat never reads results)", self.line_of(node))
            if isinstance(value, str) and value != DYNAMIC and beat:
                self.use(UseKind.BEAT, outcome, Reference(by_name=value))
            elif isinstance(value, str) and value != DYNAMIC:
                # ``chord([{"task": "proj.render", "args": [1]}], ...)``: a signature as a mapping, sent anywhere
                self.use(UseKind.SIGNATURE, Outcome(ESCAPES, "named in a signature written as a mapping, which may be "
                                                    "sent and read anywhere", self.line_of(node)), Reference(by_name=value))
            elif beat and self.beat_entry_by_task_name(node):  # ``"task": cleanup.name``: the task's registered name
                self.use(UseKind.BEAT, outcome, Reference(target=self.ref_of(node.value.value)))
                return
        if isinstance(key, str) and key != DYNAMIC:
            self.setting(key, node.value, node)
        else:  # ``{render: "render.html"}``: a task as a key goes wherever the dict's keys go
            self.value_use(node.key)
        self.value_use(node.value, objects=not self.element_looped_over(node))

    def beat_entry_by_task_name(self, node: cst.DictElement) -> bool:
        """``{"task": cleanup.name, "schedule": ...}``: a beat entry naming a task object's name."""
        value = node.value
        return isinstance(value, cst.Attribute) and value.attr.value == "name" \
            and isinstance(value.value, (cst.Name, cst.Attribute)) and self.ref_of(value.value) is not None

    def has_schedule(self, node: cst.DictElement) -> bool:
        """Is ``node`` an element of a dict literal with a ``schedule`` key? That tells a beat entry from any other
        mapping with a ``task`` key (a signature written as one)."""
        entry = self.parents.get(node)
        return isinstance(entry, cst.Dict) and any(
            isinstance(e, cst.DictElement) and literal(e.key) == "schedule" for e in entry.elements)

    def visit_Return(self, node: cst.Return) -> None:
        self.value_use(node.value)
        self.returned(node.value)

    def returned(self, value: Optional[cst.BaseExpression]) -> None:
        """What a module-level function returns, as dotted names (``Celery`` for an app factory)."""
        info = self.stack[-1] if self.stack else None
        if not isinstance(info, FunctionInfo) or len(self.names) != 1 or value is None:
            return
        values = self.local_values(value, assignments_only=True) if isinstance(value, cst.Name) \
            and self.resolve_name(value) is None else [value]
        info.returns += [ref for ref in self.attribute_of_made(value) if ref not in info.returns]
        for found in values:
            if isinstance(found, cst.Call):
                found = unsubscripted(found.func)
            ref = self.ref_of(found) if isinstance(found, (cst.Name, cst.Attribute)) else None
            if ref is not None and ref not in info.returns:
                info.returns.append(ref)

    def visit_Match(self, node: cst.Match) -> None:
        self.value_use(node.subject)  # ``match t: case x: x.delay()``: captured by the patterns, not followed

    def visit_Yield(self, node: cst.Yield) -> None:
        if not isinstance(node.value, cst.From):
            self.value_use(node.value)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.value_use(node.body)  # ``lambda: my_task``
        self.defaults_handed_on(node.params)

    def defaults_handed_on(self, params: cst.Parameters) -> None:
        """``def notify(user, task=send_mail)``: the default is what the parameter holds when a caller leaves it out
        (the callers this analysis reads only say what they pass): handed on as a value."""
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if param.default is not None:
                self.value_use(param.default)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        # ``CELERY_RESULT_BACKEND: str | None = CELERY_BROKER_URL`` (weblate's settings): a setting as any other
        if node.value is not None and isinstance(node.target, cst.Name) and not self.in_function():
            self.setting(node.target.value, node.value, node, held_by=self.settings_holder())
        if node.value is not None:  # ``self.job: Any = None``, ``obj.job: Any = t``: set as by ``=``
            self.attributes_set_on_self(node)
            self.attributes_set_on_others([node.target])
        here = self.only_here([node.target])
        self.value_use(node.value, objects=not here)
        if here:
            self.alias_mention(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.attributes_set_on_self(node)  # ``self.jobs += [t]``: any value
        self.attributes_set_on_others([node.target])
        self.value_use(node.value)  # ``jobs += t``: handed on to whatever reads ``jobs``

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        # ``(task := t)`` binds like ``task = t``: the value is handed on to whatever reads ``task``
        here = self.only_here([node.target])
        self.value_use(node.value, objects=not here)
        if here:
            self.alias_mention(node.value)

    def only_here(self, targets) -> bool:
        """A task object bound to these targets is not handed on: only called (run in this process), or only
        enqueued where the analysis names it."""
        return self.flow.only_called(targets) or self.kept_locally(targets)


def _is_self_or_its_class(node: cst.BaseExpression) -> bool:
    """``self``, ``cls``, ``type(self)``, ``self.__class__``: class attributes are looked up the same way."""
    if isinstance(node, cst.Name):
        return node.value in SELF
    if isinstance(node, cst.Attribute):
        return node.attr.value == "__class__" and isinstance(node.value, cst.Name) and node.value.value in SELF
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "type"
            and len(node.args) == 1 and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value in SELF)


def _defines_function(method: cst.FunctionDef, name: str) -> bool:
    """Does the method define a function ``name`` in its own body (not a parameter of that name)?"""
    params = method.params
    if any(p.name.value == name for p in [*params.posonly_params, *params.params, *params.kwonly_params]):
        return False
    body = method.body.body if isinstance(method.body, cst.IndentedBlock) else []
    return any(isinstance(statement, cst.FunctionDef) and statement.name.value == name for statement in body)
