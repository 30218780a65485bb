"""Where tasks are used: enqueues, signatures, sends by name, errbacks; and how a receiver names the task."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import DYNAMIC, OutcomeKind, UseKind
from .carriers import Reference
from .children import children
from .facts import FunctionInfo, Outcome, ReturnOf, Use
from .flow import call_name
from .literals import (
    code_of,
    first_is_string,
    first_literal,
    MODULE_IMPORTS,
    imported_name,
    is_getattr,
    literal,
    noqa_codes,
    registry_key,
)
from .call_options import chosen_id, ignore_given
from .sites import enqueue_site
from .walk import last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind
SIGNATURE_EXPRESSIONS = (celery_api.SIGNATURE | celery_api.SIGNATURE_CHAINABLE | celery_api.CANVAS
                         | celery_api.names(Role.SIGNATURE_CLASS))
BY_NAME_FUNCTIONS = celery_api.names(Role.SIGNATURE_CLASS, Role.SEND_BY_NAME) | {"maybe_signature"}
_SIGNATURE_CLASSES = frozenset({"celery.Signature", "celery.signature", "celery.canvas.Signature",
                                 "celery.canvas.signature", "celery.subtask", "celery.canvas.subtask"})
# ``group.from_dict(d)``: a canvas rebuilt from its mapping, as ``Signature.from_dict`` rebuilds any signature
_FROM_DICT_CLASSES = _SIGNATURE_CLASSES | {f"celery{module}.{kind}" for module in ("", ".canvas")
                                           for kind in ("chain", "group", "chord", "chunks", "xmap", "xstarmap")}
_OLD_NAMES = {"subtask": "signature", "maybe_subtask": "maybe_signature"}  # celery/canvas.py's compat names
SENDS = celery_api.ENQUEUE | celery_api.ENQUEUE_ON_COMMIT
RECEIVER_METHODS = SENDS | celery_api.SIGNATURE | celery_api.INLINE | celery_api.EAGER | {"AsyncResult"}


def receiver_named(where: Reference, kind: UseKind) -> str:
    """How a use names its task, as ``--explain`` says it at the use's first step."""
    verb = {UseKind.ENQUEUE: "enqueues", UseKind.SIGNATURE: "a signature of"}.get(kind, "uses")
    if where.dynamic_module is not None:
        named = f"by the parameter {where.via_param.param}" if where.via_param else "at run time"
        return f"{verb} getattr({where.dynamic_module}, name): a task of that module named {named}"
    if where.class_attr is not None:
        owner, _, attr = where.class_attr.rpartition(":")
        return (f"{verb} self.{attr} of {owner}: what its class hierarchy (or an instance, or its constructor's "
                "callers) holds there")
    if where.via_param is not None:
        return f"{verb} the parameter {where.via_param.param} of {where.via_param.function}(): what its callers pass"
    if where.by_name == DYNAMIC:
        return f"{verb} a task by a name known only at run time"
    if where.bound_as is not None:
        return f"{verb} the {where.bound_as} of a module imported at run time"
    if where.by_name is not None:
        return f"{verb} {where.by_name!r} by name"
    return f"{verb} it" if where.target is not None else f"{verb} a task this analysis cannot name"


def values_by_name(scope: cst.CSTNode) -> Dict[str, List[Tuple[bool, list]]]:
    """Per variable name, what ``scope`` assigns to it, ``(True, [value])``, and passes to its methods,
    ``(False, [args])`` (``sigs.append(t.s())``), in one fixed order; class bodies aside."""
    by_name: Dict[str, List[Tuple[bool, list]]] = {}
    pending = [scope]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Assign):
            for target in dict.fromkeys(t.target.value for t in node.targets if isinstance(t.target, cst.Name)):
                by_name.setdefault(target, []).append((True, [node.value]))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
            by_name.setdefault(node.func.value.value, []).append((False, [arg.value for arg in node.args]))
        pending.extend(c for c in children(node) if type(c) is not cst.ClassDef)
    return by_name


class Sinks:
    """The ``_Summarizer``'s handlers for uses of tasks (a mixin: it shares the summarizer's state)."""

    # ----- uses -----
    def use(self, kind: UseKind, outcome: Outcome, where: Reference, ignore_result=None, call=None, at=None,
            held: str = "") -> None:
        """``at``: the call that uses the task (``call`` is one whose site a rule or a fix needs); the way its
        result goes starts there, with how the receiver names the task (``held``: the tasks a local may hold)."""
        site = enqueue_site(call, self.col_of(call), noqa_codes(self.lines, [self.line_of(call)])) if call else None
        if site is not None:
            site.waited = self.handle_waited(call)
        outcome = self.flow.through(outcome, call or at, held or receiver_named(where, kind))
        self.summary.uses.append(Use(kind, outcome, ignore_result=ignore_result, scope=".".join(self.names),
                                     site=site, **where._asdict()))

    def handle_waited(self, call: cst.Call) -> Optional[float]:
        """``r = t.delay(...)`` and, later in the same block (not in a loop or function of its own), the only other
        mention of ``r`` is ``r.get(timeout=N)``: N, the bound of a wait that starts right after the enqueue."""
        assign = self.parents.get(call)
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 \
                or not isinstance(assign.targets[0].target, cst.Name):
            return None
        others = self.flow.mentions(assign.targets[0].target) or []
        attribute = self.parents.get(others[0]) if len(others) == 1 else None
        wait = self.parents.get(attribute)
        if not isinstance(attribute, cst.Attribute) or attribute.attr.value != "get" or not isinstance(wait, cst.Call) \
                or wait.func is not attribute or self.line_of(wait) < self.line_of(call):
            return None
        timeout = next((literal(arg.value) for arg in wait.args if arg.keyword and arg.keyword.value == "timeout"), None)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not _same_block(self.parents, assign, wait):
            return None
        return float(timeout)

    def task_reference(self, node: cst.CSTNode) -> Reference:
        """How a receiver names a task."""
        if isinstance(node, (cst.Name, cst.Attribute)):
            return Reference(target=self.value_ref(node) or self.attribute_of_held(node))
        key = registry_key(node)
        if key is not None:
            return Reference(by_name=key)  # DYNAMIC: ``app.tasks[name]``
        if is_getattr(node):
            return self.getattr_reference(node)
        if isinstance(node, cst.Call) and call_name(node) in celery_api.RUN_TIME_IMPORTS:
            # ``import_string("proj.tasks.send")``: that task; ``import_string(f"{app}.tasks.send")``: a task some
            # module binds as ``send``; ``import_string(path)``: any task
            first = first_literal(node)
            if first is not None:
                return Reference(target=first.replace(":", "."))
            tail = imported_name(node)
            return Reference(bound_as=tail) if tail else Reference(by_name=DYNAMIC)
        if isinstance(node, cst.Call) and not node.args and isinstance(node.func, (cst.Name, cst.Attribute)):
            # ``MyTask().delay()``: an instance of a class-based task; ``make().delay()``: what make returns
            ref = self.ref_of(node.func)
            return Reference(target=ref, returned=ReturnOf(ref, [], {}) if ref else None)
        return Reference()

    def attribute_of_held(self, node: cst.BaseExpression) -> Optional[str]:
        """``m = import_module("proj.tasks")`` then ``m.send``: an attribute of a local that holds one known
        module or object (what PossibleValues says it holds), as a dotted name."""
        attributes = []
        while isinstance(node, cst.Attribute):
            attributes.append(node.attr.value)
            node = node.value
        if not attributes or not isinstance(node, cst.Name):
            return None
        held = self.held.names(node)
        if held is None or len(held) != 1 or self.held.open_table:
            return None
        return ".".join([held[0], *reversed(attributes)])

    def getattr_reference(self, node: cst.Call) -> Reference:
        """``getattr(tasks, "send")``: that task; ``getattr(tasks, name)``: any task of ``tasks``, unless ``name``
        is a parameter whose callers all pass literals; ``getattr(import_module(path), "send")``: a task some
        module binds as ``send``; ``getattr(import_module(path), name)``: any task."""
        if len(node.args) < 2:
            return Reference()
        holder = node.args[0].value
        attr = literal(node.args[1].value)
        module = self.ref_of(holder)
        if module is None and self.imported_at_run_time(holder):
            if isinstance(attr, str) and attr != DYNAMIC:
                return Reference(bound_as=attr)
            named = self.module_imported_as(holder)  # ``import_module(app + ".signals")``: a module of that name
            return Reference(dynamic_module=f"*.{named}") if named else Reference(by_name=DYNAMIC)
        if module and isinstance(attr, str) and attr != DYNAMIC:
            return Reference(target=f"{module}.{attr}")
        if module:
            return Reference(dynamic_module=module, via_param=self.parameter_of(node.args[1].value))
        return Reference()

    def imported_at_run_time(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """Something imported from a path known only at run time: ``import_string(path)``,
        ``getattr(import_module(m), name)``, ``import_module(m).attr``, or a local variable assigned one of them."""
        if depth > 4:
            return False
        if isinstance(node, cst.Call):
            if call_name(node) in celery_api.RUN_TIME_IMPORTS:  # a module held in a local is not followed
                return first_literal(node) is None or call_name(node) in MODULE_IMPORTS
            if is_getattr(node) and node.args:
                return self.imported_at_run_time(node.args[0].value, depth + 1)
            return False
        if isinstance(node, cst.Subscript):  # ``globals()[name]``, ``tasks.__dict__[name]``, ``sys.modules[path]``
            return self.is_namespace(node.value) or self.is_registry_copy(node.value)
        if isinstance(node, cst.Attribute):
            return self.imported_at_run_time(node.value, depth + 1)
        if not isinstance(node, cst.Name):
            return False
        return any(self.imported_at_run_time(value, depth + 1) for value in self.assigned_values(node)) \
            or any(self.walks_every_task(mention, self.parents.get(mention)) for mention in self.flow.mentions(node) or [])

    def assigned_values(self, name: cst.Name) -> List[cst.BaseExpression]:
        """What ``=`` assigns to the local ``name``, at each of its mentions that one binds."""
        values = []
        for mention in self.flow.mentions(name) or []:
            target = self.parents.get(mention)
            assign = self.parents.get(target) if isinstance(target, cst.AssignTarget) else None
            if isinstance(assign, cst.Assign):
                values.append(assign.value)
        return values

    def walks_every_task(self, mention: cst.Name, target) -> bool:
        """Is ``mention`` bound by a loop over every registered task (``for t in app.tasks.values()``, ``for name,
        t in app.tasks.items()``)? ``target``: its parent."""
        if isinstance(target, cst.For):
            return target.target is mention and self.every_task_of(target.iter)
        if isinstance(target, cst.Element):
            loop = self.parents.get(self.parents.get(target))
            return isinstance(loop, cst.For) and self.every_task_of(loop.iter, "items")
        return False

    def every_task_of(self, node: cst.BaseExpression, method: str = "values") -> bool:
        """``app.tasks.values()``, ``vars(module).values()``, ``module.__dict__.values()`` (or ``.items()``): a
        registry's or a namespace's objects, any task among them."""
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == method):
            return False
        holder = node.func.value
        return self.is_namespace(holder) or (isinstance(holder, cst.Attribute) and holder.attr.value == "tasks") \
            or self.is_registry_copy(holder)

    def is_registry_copy(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """``dict(app.tasks)``, ``app.tasks.copy()``, or a local variable assigned one: every registered task,
        as ``app.tasks`` itself."""
        if isinstance(node, cst.Call) and node.args and call_name(node) in ("dict", "OrderedDict"):
            node = node.args[0].value
        elif isinstance(node, cst.Call) and call_name(node) == "copy" and isinstance(node.func, cst.Attribute):
            node = node.func.value
        if isinstance(node, cst.Attribute):
            return node.attr.value == "tasks"
        if not isinstance(node, cst.Name) or depth > 4:
            return False
        return any(self.is_registry_copy(value, depth + 1) for value in self.assigned_values(node))

    def followed_elsewhere(self, receiver: cst.BaseExpression, name: str) -> bool:
        """``t.s().delay()`` / ``chain(...).delay()``: followed from the signature inside; a Task class's own
        ``apply_async`` handing on to ``super()``: its callers are followed."""
        return (name in celery_api.ENQUEUE and self.is_signature_expr(receiver)) \
            or (name in SENDS and self.overrides_enqueue(receiver))

    def kept_by_an_override(self, node: cst.Call, receiver: cst.BaseExpression, name: str) -> bool:
        """A Task class's ``apply_async`` doing more with super()'s result than giving it back (keeping its id,
        reading it): that happens to every task built on the class, which may be any task."""
        if not (name in SENDS and self.overrides_enqueue(receiver)) or isinstance(self.parents.get(node), cst.Return):
            return False
        outcome = self.flow.result(node)
        if outcome.kind is not OutcomeKind.DISCARDED:  # (``on_commit(lambda: super().apply_async())``: dropped)
            self.use(UseKind.ENQUEUE, outcome, Reference(by_name=DYNAMIC), at=node)
        return True

    def overrides_enqueue(self, receiver: cst.BaseExpression) -> bool:
        """``return super().apply_async(...)`` in a method itself named ``apply_async``/``delay``: a wrapper
        whose result is the one its callers' ``t.apply_async(...)`` gives them, followed there."""
        function = next((info for info in reversed(self.stack) if isinstance(info, FunctionInfo)), None)
        return isinstance(receiver, cst.Call) and call_name(receiver) == "super" and function is not None \
            and function.name in SENDS

    def module_imported_as(self, node: cst.BaseExpression, depth: int = 0) -> Optional[str]:
        """The last name of the module ``import_module(app + ".signals")`` imports (also through a local variable
        assigned it), or None."""
        if isinstance(node, cst.Call):
            return imported_name(node, MODULE_IMPORTS)
        if not isinstance(node, cst.Name) or depth > 4:
            return None
        names = {self.module_imported_as(value, depth + 1) for value in self.assigned_values(node)}
        return names.pop() if len(names) == 1 else None

    def is_namespace(self, node: cst.BaseExpression) -> bool:
        """A mapping of a module's or object's names: ``globals()``, ``vars(x)``, ``x.__dict__``, ``sys.modules``."""
        if isinstance(node, cst.Call):
            return call_name(node) in ("globals", "locals", "vars") and isinstance(node.func, cst.Name)
        if isinstance(node, cst.Attribute) and node.attr.value == "__dict__":
            return True
        return self.ref_of(node) == "sys.modules"

    def method_call(self, node: cst.Call, receiver: cst.BaseExpression, name: str) -> None:
        """``receiver.name(...)``, also written ``getattr(receiver, "name")(...)``."""
        if name in celery_api.names(Role.SEND_BY_NAME):
            self.by_name_call(node, self.flow.result(node), UseKind.ENQUEUE)
            return
        if name == "signature" and (first_is_string(node) or _names_a_task_name(node) or self.app_signature(node, receiver)) \
                or name == "from_dict" and (self.ref_of(receiver) or "") in _FROM_DICT_CLASSES \
                or (self.ref_of(node.func) or "") in _SIGNATURE_CLASSES:  # (``t.name``, ``canvas.Signature(n)``)
            self.by_name_call(node, self.rebuilt_signature(node, name), UseKind.SIGNATURE)
            return
        if name not in RECEIVER_METHODS:
            return
        if name == "signature" and self.ref_of(receiver) in celery_api.NOT_CELERY_SIGNATURE:
            return  # ``inspect.signature(func).parameters``
        if self.kept_by_an_override(node, receiver, name) or self.followed_elsewhere(receiver, name):
            return
        where = self.task_reference(receiver) or self.carrier_reference(receiver)
        if not where and self.imported_at_run_time(receiver):  # ``task = import_string(path); task.delay()``
            where = Reference(by_name=DYNAMIC)
        if not where and name in SENDS | celery_api.SIGNATURE and self.held_tasks(node, receiver, name):
            return
        if name in SENDS:
            # An unknown receiver (``self.task.delay()``) is recorded too: it may be any task handed on as a value.
            outcome = self.enqueued(node, name)
            itself = self.bound_task_itself(receiver)  # ``self.apply_async()`` in a bound task: that task...
            if itself is not None and outcome.kind.rank >= ID_TAKEN.rank:  # ...where its result may be read
                where = Reference(target=itself)
            self.use(UseKind.ENQUEUE, outcome, where, self.call_ignore(node), node)
        elif name in celery_api.SIGNATURE:
            self.use(UseKind.SIGNATURE, self.flow.signature(node), where, self.call_ignore(node), at=node)
        elif where:
            self.use(*self.receiver_use(node, receiver, name), where, at=node)

    def getattr_call(self, node: cst.Call, lookup: cst.Call) -> None:
        """``getattr(t, "delay")(...)``: as ``t.delay(...)``. ``getattr(t, method)(...)``, the method known at run
        time, may be an enqueue: counted where its value is read or kept, never where it is dropped (it may be
        ``apply``, run here: ``Project._link``)."""
        if len(lookup.args) < 2:
            return
        holder, attr = lookup.args[0].value, literal(lookup.args[1].value)
        if self.imported_at_run_time(holder):
            return  # ``getattr(import_module(path), name)(...)`` runs a task here: nothing is enqueued
        if isinstance(attr, str) and attr != DYNAMIC:
            if attr in RECEIVER_METHODS:  # whatever holds it (``job``, ``JOBS[k]``), as ``job.delay(...)`` is
                self.method_call(node, holder, attr)
            return
        where = self.task_reference(holder) or self.carrier_reference(holder) \
            if isinstance(holder, (cst.Name, cst.Attribute)) else None
        if not where:
            return
        outcome = self.flow.result(node)
        if where.target is not None:  # (``getattr(self, handler)(e)``: no)
            # a function of a module, where ``holder`` is a module (``Project._calls_a_module_function``): its
            # callers are no longer all known, even where the value is dropped (it may report progress)
            self.use(UseKind.ENQUEUE, outcome, where._replace(run_time_attr=True), self.call_ignore(node), at=node)

    def app_signature(self, node: cst.Call, receiver: cst.BaseExpression) -> bool:
        """``app.signature(name)``, ``current_app.signature(d)``: the app's signature of a task named by a string
        or a dict (a receiver named like an app, given no argument list)."""
        if _spelled_as_arguments(node):
            return False
        return (self.ref_of(receiver) or last_name(receiver) or "").rpartition(".")[2] in celery_api.APP_NAMES

    def function_call(self, node: cst.Call, func: cst.Name) -> None:
        """``signature("proj.add")``, ``send_task("proj.add")`` imported as bare names (or as another name:
        ``from celery import signature as sig``, ``subtask``, ``maybe_subtask``)."""
        ref = self.ref_of(func) or ""
        name = ref.rpartition(".")[2] if ref.startswith("celery.") else func.value
        name = _OLD_NAMES.get(name, name)
        if name not in BY_NAME_FUNCTIONS:
            return
        if name in celery_api.names(Role.SEND_BY_NAME):
            self.by_name_call(node, self.flow.result(node), UseKind.ENQUEUE)
        elif name == "maybe_signature":  # ``maybe_signature(d)``: a signature rebuilt from a dict
            if node.args and not self.is_signature_expr(node.args[0].value):
                self.by_name_call(node, self.flow.signature(node), UseKind.SIGNATURE)
        elif (ref or "celery").startswith("celery"):  # not ``from inspect import signature``
            self.by_name_call(node, self.flow.signature(node), UseKind.SIGNATURE)

    def rebuilt_signature(self, node: cst.Call, name: str) -> Outcome:
        """What becomes of a signature made by name or from a mapping. A canvas rebuilt from a mapping may be (or
        hold) a chord, which reads its header's results (any task's), whatever is done with it."""
        outcome = self.flow.signature(node)
        rebuilt = Outcome(ESCAPES, "a canvas rebuilt from a mapping: it may be or hold a chord, which reads its "
                          "header's results", self.line_of(node))
        return rebuilt if name == "from_dict" and rebuilt.stronger_than(outcome) else outcome

    def by_name_call(self, node: cst.Call, outcome: Outcome, kind: UseKind) -> None:
        first = node.args[0].value if node.args and node.args[0].keyword is None else None
        if first is None:  # ``send_task(name="x")``
            first = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "name"), None)
        value = literal(first) if first is not None else DYNAMIC
        if isinstance(value, str) and value != DYNAMIC:
            where = Reference(by_name=value)
        elif isinstance(first, cst.Attribute) and first.attr.value == "name" and self.ref_of(first.value):
            where = Reference(target=self.ref_of(first.value))
        else:  # a name we cannot know: it may be any task's
            where = Reference(by_name=DYNAMIC)
        self.use(kind, outcome, where, self.call_ignore(node), at=node)

    def held_tasks(self, node: cst.Call, receiver: cst.BaseExpression, name: str) -> bool:
        """``task, tpl = EVENTS.get(e); task.delay()``: a receiver that holds one of some named tasks (a dispatch
        table, a loop over a literal, a conditional). Each gets the use; a result that may be read through a
        module-level table is also kept as one of a task we cannot name: other modules may add to the table."""
        values = self.held
        held = values.names(receiver, calls=True)  # ``ident(t).delay()``: what another module's ident returns
        if not held:
            return False
        kind = UseKind.ENQUEUE if name in SENDS else UseKind.SIGNATURE
        outcome = self.enqueued(node, name) if kind is UseKind.ENQUEUE else self.flow.signature(node)
        ignore = self.call_ignore(node)
        shown = [ref.rpartition('.')[2] if isinstance(ref, str) else f"what {ref.function.rpartition('.')[2]}() returns"
                 for ref in held[:3]]
        why = f"{'enqueues' if kind is UseKind.ENQUEUE else 'a signature of'} {code_of(receiver)[:40]}, which may hold " \
              f"{', '.join(shown)}{' and more' if len(held) > 3 else ''}"
        for ref in held:
            where = Reference(target=ref) if isinstance(ref, str) else Reference(returned=ref)
            self.use(kind, outcome, where, ignore, at=node, held=why)
        if values.open_table and outcome.kind.rank >= OutcomeKind.ID_TAKEN.rank:
            self.use(kind, outcome, Reference(), ignore, at=node, held=why + " (or whatever other modules add)")
        return True

    def enqueued(self, node: cst.Call, name: str) -> Outcome:
        """Where the result of an enqueue goes; ``.delay_on_commit()`` returns None, so nothing can read it."""
        if name in celery_api.ENQUEUE_ON_COMMIT:
            dropped = Outcome(DISCARDED, f".{name}() returns None: nothing can read it", self.line_of(node))
            if name == "apply_async_on_commit":  # its options reach apply_async: an id may be chosen there
                return chosen_id(node, dropped, self.flow.mentions, self.parents, self.line_of)
            return dropped  # (``delay_on_commit(x, task_id=y)``: the task's own keyword)
        return self.flow.result(node)

    def receiver_use(self, node: cst.Call, receiver: cst.BaseExpression, name: str):
        """(kind, outcome) of ``t.map()``/``t.apply()`` (run in-process) and ``t.AsyncResult(id)`` (a read)."""
        line = self.line_of(node)
        if name in celery_api.INLINE:  # what becomes of the built-in task's result (``--strategy global`` asks)
            sent = self.flow.signature(node)
            kept = "" if sent.kind is DISCARDED else \
                f" inside Celery's built-in task celery.{name}, whose result goes on ({sent.detail})"
            return UseKind.EAGER, Outcome(sent.kind, f"run inline by .{name}(){kept}", line)
        if name in celery_api.EAGER:
            return UseKind.EAGER, Outcome(DISCARDED, "run eagerly with .apply()", line)
        return UseKind.ASYNC_RESULT, Outcome(READ, f"{code_of(receiver)}.AsyncResult()", line)

    def call_ignore(self, call: cst.Call):
        """A call-site ``ignore_result=`` (apply_async, send_task, or ``.set()`` on the signature)."""
        given = ignore_given(call, self.flow.mentions, self.parents, self.held.module_tables())
        if given is not None:
            return given
        parent = self.parents.get(self.parents.get(call))
        if isinstance(parent, cst.Call) and call_name(parent) == "set":
            return self.call_ignore(parent)
        return None

    def canvas_of_unseen_members(self, node: cst.Call, name: Optional[str]) -> None:
        """``group(map(t.s, xs))``, ``chain(*self.steps)``: a canvas with members made where the analysis does not
        follow them (a signature it follows is one it sees made). Its way is recorded as that of a task we cannot
        name: a read of it keeps every task handed on as a value."""
        if name not in celery_api.CANVAS or not (self.ref_of(node.func) or "").startswith("celery."):
            return  # Celery's own (``m.group(1)`` of a regex match, ``itertools.chain``: not canvases)
        unseen = [arg for arg in node.args if (arg.keyword is None or arg.keyword.value == "header")
                  and not self._members_seen(arg.value)]
        # what the canvas makes of them: a chord's header (also a group a task runs after) is read, whatever follows
        outcomes = [self.flow.operand(node, arg, self.line_of(arg)) or self.flow.signature(node) for arg in unseen]
        if outcomes:
            self.use(UseKind.SIGNATURE, max(outcomes, key=lambda outcome: outcome.kind.rank), Reference(), at=node)

    def _members_seen(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return all(self._members_seen(element.value) for element in node.elements)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self._members_seen(node.elt)
        # a local or module variable holds signatures made where they are seen (a parameter: its callers hand them)
        return isinstance(node, cst.Name) or self.is_signature_expr(node)

    def is_signature_expr(self, node) -> bool:
        """A signature or canvas expression (whose uses ResultFlow.signature follows)."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return True
        return isinstance(node, cst.Call) and call_name(node) in SIGNATURE_EXPRESSIONS

    def local_values(self, name: cst.Name, assignments_only: bool = False) -> List[cst.BaseExpression]:
        """What the enclosing function assigns to (or appends to) a local variable."""
        scope = name
        while scope is not None and not isinstance(scope, (cst.FunctionDef, cst.Module)):
            scope = self.parents.get(scope)
        if scope is None:
            return []
        by_name = self.values_in.get(scope)
        if by_name is None:  # one pass over the scope, however many names are asked about
            by_name = self.values_in[scope] = values_by_name(scope)
        return [value for assigned, values in by_name.get(name.value, ()) if assigned or not assignments_only
                for value in values]


SEPARATE_RUNS = (cst.For, cst.While, cst.CompFor, cst.FunctionDef, cst.Lambda, cst.ClassDef)


def _same_block(parents, first: cst.CSTNode, later: cst.CSTNode) -> bool:
    """``later`` runs once after ``first`` each time ``first`` runs: no loop or function between them and the
    block that holds both."""
    holders = set()
    node = parents.get(first)
    while node is not None:
        holders.add(id(node))
        node = parents.get(node)
    node = parents.get(later)
    while node is not None and id(node) not in holders:
        if isinstance(node, SEPARATE_RUNS):
            return False
        node = parents.get(node)
    return node is not None


def _spelled_as_arguments(call: cst.Call) -> bool:
    """``t.signature((1,), {...})``: a task's own signature method is given its arguments first."""
    first = call.args[0] if call.args else None
    return first is None or first.keyword is not None or isinstance(first.value, (cst.Tuple, cst.List, cst.Dict))


def _names_a_task_name(call: cst.Call) -> bool:
    """``app.signature(send.name, ...)``: the first argument is a ``.name`` (a task's own signature method takes
    its arguments first)."""
    first = call.args[0] if call.args else None
    return first is not None and first.keyword is None and isinstance(first.value, cst.Attribute) \
        and first.value.attr.value == "name"
