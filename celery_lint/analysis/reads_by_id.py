"""Reads of stored results by id or by name, not through a handle the flow follows: ``AsyncResult(x)``,
``GroupResult.restore(x)``, a backend asked directly (``app.backend.get_task_meta(x)``), and django-celery-results'
``TaskResult`` model (its rows are the stored results).

Whatever id reaches such a read is read: a project with one has every task whose id escapes "maybe". A
``TaskResult`` query names its task (``task_name="proj.tasks.send"``: that task is read), its id (a read by id),
or neither (``TaskResult.objects.filter(status="FAILURE")``: any task's result may be among the rows).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from .. import celery_api
from ..celery_api import READ_BY_ID, Role
from ..types import DYNAMIC, OutcomeKind, UseKind
from .carriers import Reference
from .facts import ClassInfo, FunctionInfo, Outcome, Running, Wait
from .flow import call_name
from .literals import code_of, first_literal, literal
from .walk import last_name

META_KEY = "celery-task-meta-"  # the key of a stored result in a key-value backend (Redis, memcached)
META_TABLE = "celery_taskmeta"  # the database backend's table of results (SQLAlchemy)
_STORED_KEYS = (META_KEY.encode(), META_TABLE.encode())
# the database backend's models of that table and of saved groups' (``session.query(TaskMeta)``)
DATABASE_MODELS = "celery.backends.database.models."
# what a query of TaskResult rows does without reading them
_NOT_READING = frozenset({"delete", "count", "exists", "update"})
_OTHER_TASKS_IDS = frozenset({"parent_id", "root_id"})  # a request's ids of the tasks that started this one
_ROWS_READ = "its stored row read through django-celery-results' TaskResult"
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})  # a Django model's query managers
# Libraries whose views (polled by a page) or helpers read a result by the id they are given: wired into the
# project (``include("celery_progress.urls")``, ``path("p/<id>", get_progress)``, ``Progress(task_id)``), the
# project reads results by id.
POLLING_LIBRARIES = ("celery_progress.", "django_celery_results.views", "django_celery_results.urls")
_READER_WORDS = tuple(name.encode() for name in sorted(celery_api.READ_BY_ID))
_ASSIGNS = (cst.Assign, cst.AnnAssign)
_LIBRARY_PACKAGES = tuple({library.split(".")[0].encode(): None for library in POLLING_LIBRARIES})


class ReadsById:
    """The ``_Summarizer``'s handlers for reads by id (a mixin: it shares the summarizer's state)."""

    def read_by_id(self, node: cst.Call, name: Optional[str]) -> None:
        """``AsyncResult(x)``, ``GroupResult.restore(x)``, ``app.backend.get_task_meta(x)``: whatever id reaches
        it is read."""
        func = node.func
        restore = isinstance(func, cst.Attribute) and f"{last_name(func.value)}.{name}" in celery_api.names(Role.RESTORE)
        backend = name in celery_api.names(Role.BACKEND_READ) and isinstance(func, cst.Attribute) and (
            name in celery_api.OWN_BACKEND_READS  # (``b = app.backend; b.get_task_meta(i)``)
            or isinstance(func.value, cst.Attribute) and func.value.attr.value == "backend"  # ``x.backend.get_...``
            or isinstance(func.value, cst.Name) and func.value.value in self.backend_holders())  # ``be.get_status(i)``
        if name in celery_api.READ_BY_ID or restore or backend or self.reads_a_meta_key(node) \
                or self.renamed_read_by_id(func):
            if self.testing and first_literal(node) is not None:
                return  # ``m.return_value = AsyncResult("x")``: a made-up id configuring a mock reads nothing
            self.reads_some_id(node)
            self.wait_by_id(node, f"{last_name(func.value)}.{name}" if restore or backend else name)
            self.read_of_an_id_celery_gives(node)
            if any(META_KEY + "*" in code_of(arg.value) for arg in node.args):  # ``scan_iter("celery-task-meta-*")``
                self.use(UseKind.ASYNC_RESULT, Outcome(OutcomeKind.READ, "every stored result, by its key's pattern",
                                                       self.line_of(node)), Reference(by_name=DYNAMIC), at=node)
        elif self.is_result_model_query(node):
            self.result_model_query(node)
        elif any(self.names_result_model(arg.value) for arg in node.args):
            # ``get_object_or_404(TaskResult, ...)``, ``ForeignKey(TaskResult)``, ``apps.get_model(..., "TaskResult")``
            self.any_rows_read(node)
        elif name == "connect":
            self.receiver_connected(node)
        elif name == "inspect":
            self.ids_of_other_tasks(node)
        elif self.wires_a_polling_library(node):
            self.reads_some_id(node)

    def wires_a_polling_library(self, node: cst.Call) -> bool:
        """``include("celery_progress.urls")``, ``path(..., get_progress)``, ``Progress(task_id)`` imported from a
        library that reads results by id (``POLLING_LIBRARIES``)."""
        if not self.spells(_LIBRARY_PACKAGES):  # (a file that never names such a library is not looked at again)
            return False
        refs = [first_literal(node)] + [self.ref_of(expression) for expression in
                                        [node.func, *(arg.value for arg in node.args)] if isinstance(expression, cst.Name)]
        return any(isinstance(ref, str) and ref.startswith(POLLING_LIBRARIES) for ref in refs)

    def renamed_read_by_id(self, func: cst.BaseExpression) -> bool:
        """``from celery.result import AsyncResult as AR`` then ``AR(x)``, or ``AR = app.AsyncResult`` (a module-level
        import or alias: a cheap lookup)."""
        if not isinstance(func, cst.Name):
            return False
        ref = self.summary.imports.get(func.value)
        if ref is not None:
            return ref.startswith("celery.") and ref.rpartition(".")[2] in celery_api.READ_BY_ID
        aliases = self.summary.aliases
        known = self.__dict__.get("_by_id_aliases")
        if known is None or known[0] != len(aliases):  # (made again only when the module has bound another)
            known = self.__dict__["_by_id_aliases"] = (len(aliases), {a.name for a in aliases if not a.called and (
                a.ref or "").rpartition(".")[2] in celery_api.READ_BY_ID})
        return func.value in known[1]

    def reads_a_meta_key(self, node: cst.Call) -> bool:
        """``redis.get(f"celery-task-meta-{task_id}")``: the backend's own key of a stored result, or SQL on the
        database backend's table (``"SELECT result FROM celery_taskmeta ..."``) (a file that never spells either
        is not looked at again)."""
        return self.spells(_STORED_KEYS) and any(key in code_of(arg.value) for arg in node.args for key in (META_KEY, META_TABLE))

    def backend_holders(self) -> frozenset:
        """Names the file assigns a result backend to (``be = app.backend``, in any scope): their reads are the
        backend's."""
        found = self.__dict__.get("_backend_holders")
        if found is None:
            found = self.__dict__["_backend_holders"] = frozenset(
                target.value for event, node in self.walk.events if event == "enter" and type(node) in _ASSIGNS
                and isinstance(node.value, cst.Attribute) and node.value.attr.value == "backend"
                for target in _assigned_names(node))
        return found

    def readers_as_values(self) -> None:
        """``map(AsyncResult, ids)``, ``partial(app.AsyncResult, ...)``, ``cls=AsyncResult``, ``class
        JobResult(AsyncResult)``, ``getattr(app, "AsyncResult")``: one of Celery's reads by id handed on as a value,
        which whatever gets it may call with any id (a call of it is ``read_by_id``'s)."""
        if not self.spells(_READER_WORDS):
            return
        aliases = {a.name for a in self.summary.aliases if not a.called and (a.ref or "").rpartition(".")[2] in READ_BY_ID}
        for node in self._reader_mentions(aliases):
            if type(node) is cst.Call or self.reader_handed_on(node):  # (``getattr(app, "AsyncResult")``: any use)
                self.reads_some_id(node)
                return  # (the project reads by id: once is enough)

    def _reader_mentions(self, aliases):
        for event, node in self.walk.events:
            if event == "enter" and type(node) is cst.Attribute and node.attr.value in READ_BY_ID:
                yield node  # ``app.AsyncResult``, ``celery.result.AsyncResult``
            elif event == "enter" and type(node) is cst.Call and call_name(node) == "getattr" and len(node.args) > 1 \
                    and literal(node.args[1].value) in READ_BY_ID:
                yield node
        scopes = list(self.walk.module.descendants())
        names = aliases | {name for scope in scopes for name, targets in scope.bindings.items()  # imported ones
                           if any(isinstance(t, str) and t.rpartition(".")[2] in READ_BY_ID for t in targets)}
        for scope in scopes:
            for name, mentions in scope.mentions.items():
                for node in mentions if name in names else ():
                    ref = self.ref_of(node) or ""
                    if ref.startswith("celery.") and ref.rpartition(".")[2] in READ_BY_ID \
                            or ref == f"{self.summary.module}.{name}" and name in aliases:
                        yield node

    def reader_handed_on(self, node: cst.CSTNode) -> bool:
        """Is this mention of a reader a value handed on: not called there, not an attribute's owner, not in an
        annotation, an import or ``isinstance``?"""
        parent = self.parents.get(node)
        if isinstance(parent, cst.Call) and parent.func is node or isinstance(parent, cst.Attribute) and parent.value is node:
            return False
        child, current = node, parent
        while current is not None and not isinstance(current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            if isinstance(current, (cst.Annotation, cst.Import, cst.ImportFrom)) or isinstance(current, cst.Call) \
                    and current.func is not child and call_name(current) in ("isinstance", "issubclass"):
                return False
            child, current = current, self.parents.get(current)
        return True

    def spells(self, texts: Tuple[bytes, ...]) -> bool:
        """Does the original source hold one of ``texts`` (none spanning lines)? Asked once per file for each."""
        known = self.__dict__.setdefault("_spelled", {})
        found = known.get(texts)
        if found is None:
            whole = self.__dict__.get("_whole_text")
            if whole is None:
                whole = self.__dict__["_whole_text"] = b"\n".join(self.lines)
            found = known[texts] = any(text in whole for text in texts)
        return found

    def reads_some_id(self, node: cst.Call) -> None:
        self.summary.reads_by_id.append(self.line_of(node))
        for info in self.stack:
            if isinstance(info, FunctionInfo):
                info.reads_by_id = True

    def read_of_an_id_celery_gives(self, node: cst.Call) -> None:
        """A read by id in a task signal's receiver (``@task_postrun.connect``) or a Task class's hook
        (``on_success(self, retval, task_id, ...)``): Celery hands it the id of any task that runs (with that
        base), so any task's result may be read there."""
        functions = [info for info in self.stack if isinstance(info, FunctionInfo)]
        receiver = any((d.ref or "").startswith("celery.signals.") for f in functions for d in f.decorators)
        hook = any(f.name in celery_api.TASK_HOOKS for f in functions) and any(isinstance(i, ClassInfo) for i in self.stack)
        if receiver or hook:
            self.read_of_any_tasks_id(node)
        elif any(function.name in self.__dict__.get("_receivers", ()) for function in functions):
            self.read_of_any_tasks_id(node)  # in a function or method connected by a call above
        else:  # ...or maybe below: kept until then
            reads = self.__dict__.setdefault("_id_reads_in", {})
            for function in functions:
                reads.setdefault(function.name, []).append(node)

    def receiver_connected(self, node: cst.Call) -> None:
        """``task_postrun.connect(on_done)`` (or ``watcher.on_done``): a function or method of this module, by its
        name, made a signal receiver by a call, before or after its reads by id are seen."""
        signal = node.func.value if isinstance(node.func, cst.Attribute) else None
        if signal is None or not (self.ref_of(signal) or "").startswith("celery.signals."):
            return
        given = [a.value for a in node.args if a.keyword is None][:1] or \
            [a.value for a in node.args if a.keyword is not None and a.keyword.value == "receiver"]
        name = last_name(given[0]) if given else None
        if name is not None:
            for given, info in self.__dict__.get("_may_receive", {}).pop(name, ()):
                self.follow_ids_given(given, info)  # a receiver: its ``task_id`` is any task's
            self.reads_ids_celery_gives(name)

    def reads_ids_celery_gives(self, name: str) -> None:
        """The function or method ``name`` of this module is given ids by Celery: its reads by id, seen and to
        come, may read any task's result."""
        self.__dict__.setdefault("_receivers", set()).add(name)
        pending = self.__dict__.get("_id_reads_in", {})
        for read in dict.fromkeys(pending.pop(name, [])):
            for others in pending.values():  # (a read in a nested function is kept under each one around it)
                while read in others:
                    others.remove(read)
            self.read_of_any_tasks_id(read)

    def ids_of_other_tasks(self, node: cst.CSTNode) -> None:
        """``self.request.parent_id`` / ``root_id`` (another task's id), ``app.control.inspect().active()`` (the
        ids of whatever runs): a read by id in the same function may read any task's result."""
        if isinstance(node, cst.Attribute):  # (``comment.parent_id`` is no task's)
            given = node.attr.value in _OTHER_TASKS_IDS and last_name(node.value) == "request"
        else:
            func = node.func if isinstance(node, cst.Call) else None
            given = isinstance(func, cst.Attribute) and func.attr.value == "inspect" and last_name(func.value) == "control"
        for info in self.stack if given else ():
            if isinstance(info, FunctionInfo):
                self.reads_ids_celery_gives(info.name)

    def ids_handed_on(self, node: cst.FunctionDef, info: FunctionInfo) -> None:
        """A task signal's receiver (``@task_postrun.connect``) or a Task hook (``on_failure(self, exc, task_id,
        ...)``) handing the id Celery gives it to a helper or a list: with reads by id, any task's result may be
        read from there."""
        receiver = self.celery_receiver(node)
        if receiver:  # (also ``@receiver(task_postrun)``: its reads by id, and ``sender.request.id``, are any task's)
            self.reads_ids_celery_gives(info.name)
        hook = info.name in celery_api.TASK_HOOKS and len(self.stack) > 1 and isinstance(self.stack[-2], ClassInfo)
        given = [param for param in [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
                 if param.name.value in celery_api.ID_PARAMETERS]
        if not given:
            return
        if not (receiver or hook):  # it may be connected by a call (``task_postrun.connect(on_done)``)
            self.__dict__.setdefault("_may_receive", {}).setdefault(info.name, []).append((given, info))
            return
        self.follow_ids_given(given, info)

    def celery_receiver(self, node: cst.FunctionDef) -> bool:
        """``@task_postrun.connect`` (also called: ``.connect(sender=...)``), or Django's ``@receiver(task_postrun)``."""
        for decorator in node.decorators:
            expr = decorator.decorator
            named = [expr.func if isinstance(expr, cst.Call) else expr]
            named += [arg.value for arg in expr.args] if isinstance(expr, cst.Call) else []
            if any((self.ref_of(n) or "").startswith("celery.signals.") for n in named
                   if isinstance(n, (cst.Name, cst.Attribute))):
                return True
        return False

    def in_a_receiver(self) -> bool:
        """Is the code being read in a function Celery hands ids (a task signal's receiver)?"""
        receivers = self.__dict__.get("_receivers", ())
        return any(info.name in receivers for info in self.stack if isinstance(info, FunctionInfo))

    def follow_ids_given(self, given: List[cst.Param], info: FunctionInfo) -> None:
        for param in given:
            for mention in self.flow.mentions(param.name) or ():
                if _handed_to_super(mention, self.parents):
                    continue  # ``super().on_failure(exc, task_id, ...)``: Celery's own hook, which does nothing
                node = mention if param.name.value == "task_id" else _id_part(mention, self.parents)
                if node is None or _kept_on_an_object(node, self.parents):
                    continue  # ``headers["X-Trace"] = ...``, ``request.hostname``: no id; see _kept_on_an_object
                outcome = self.flow.result(node)
                if outcome.kind is OutcomeKind.ESCAPES:  # (logged, or read right here: ``read_of_an_id_celery_gives``)
                    self.running_task(Running.ID, f"the id Celery hands to {info.name}() {outcome.detail}", mention)
                    return

    def read_of_any_tasks_id(self, node: cst.Call) -> None:
        outcome = Outcome(OutcomeKind.READ, "read by an id Celery hands to a signal receiver or a task's hook",
                          self.line_of(node))
        self.use(UseKind.ASYNC_RESULT, outcome, Reference(by_name=DYNAMIC), at=node)

    def wait_by_id(self, node: cst.Call, written: str) -> None:
        """``AsyncResult(x).get()``, followed through local variables: a blocking read of a result known by id."""
        outcome = self.flow.result(node)
        method = outcome.detail.rsplit(" ", 1)[-1]
        if outcome.kind is OutcomeKind.READ and method.lstrip(".") in celery_api.BLOCKING_READS:
            self.summary.waits_by_id.append(Wait(f"{written}(...){method}", outcome.line, ".".join(self.names)))

    def is_result_model_query(self, node: cst.Call) -> bool:
        """``TaskResult.objects.<method>(...)`` (django-celery-results), not one that only deletes or counts rows."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and self.is_result_manager(func.value)
                and func.attr.value not in _NOT_READING):
            return False
        return not self._only_deleted_or_counted(node)

    def is_result_manager(self, node: cst.BaseExpression) -> bool:
        """``TaskResult.objects`` (or its ``_default_manager``)."""
        if not (isinstance(node, cst.Attribute) and node.attr.value in _MANAGERS):
            return False
        model = node.value
        ref = self.ref_of(model) if isinstance(model, (cst.Name, cst.Attribute)) else None
        return (ref or last_name(model) or "").rpartition(".")[2] in celery_api.names(Role.RESULT_MODEL)

    def result_model_kept(self, node: cst.Assign) -> None:
        if self.names_result_model(node.value):
            self.any_rows_read(node)

    def names_result_model(self, node: cst.BaseExpression) -> bool:
        """The model itself, as a value: ``TaskResult``, ``"django_celery_results.TaskResult"``."""
        if isinstance(node, cst.Name):  # (the name itself, or an import under another name: no other lookup)
            name = self.summary.imports.get(node.value, node.value)
            if name.startswith(DATABASE_MODELS):
                return True
        elif isinstance(node, cst.Attribute):
            name = node.attr.value
        elif isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            name = value if isinstance(value, str) else ""
        else:
            return False
        return name.rpartition(".")[2] in celery_api.names(Role.RESULT_MODEL)

    def result_manager_kept(self, node: cst.Attribute) -> None:
        """``rows = TaskResult.objects`` then ``rows.filter(...)``: the manager kept or handed on may read any
        task's rows (as may the model got by name: ``apps.get_model("django_celery_results", "TaskResult")``)."""
        parent = self.parents.get(node)
        if self.is_result_manager(node) and not (isinstance(parent, cst.Attribute) and parent.value is node
                                                 and isinstance(self.parents.get(parent), cst.Call)):
            self.any_rows_read(node)

    def any_rows_read(self, node: cst.CSTNode) -> None:
        self.reads_some_id(node)
        self.use(UseKind.ASYNC_RESULT, Outcome(OutcomeKind.READ, _ROWS_READ, self.line_of(node)),
                 Reference(by_name=DYNAMIC), at=node)

    def _only_deleted_or_counted(self, node: cst.Call) -> bool:
        """``TaskResult.objects.filter(...).delete()``: the query's rows are only deleted, counted or updated."""
        parent = self.parents.get(node)
        while isinstance(parent, cst.Attribute) and isinstance(self.parents.get(parent), cst.Call):
            if parent.attr.value in _NOT_READING:
                return True
            node = self.parents[parent]
            parent = self.parents.get(node)
        return False

    def result_model_query(self, node: cst.Call) -> None:
        """A query of TaskResult rows: the task it names is read; one by id reads whatever id it gets; any other
        may read any task's row."""
        keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
        outcome = Outcome(OutcomeKind.READ, _ROWS_READ, self.line_of(node))
        given = keywords.get("task_name", keywords.get("task_name__in"))
        named = literal(given) if given is not None else None
        names = [named] if isinstance(named, str) else list(named) if isinstance(named, (list, tuple)) else []
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "exclude":
            names = []  # ``exclude(task_name="proj.audit")``: every other task's rows
        if names and all(isinstance(name, str) and name != DYNAMIC for name in names):
            for name in names:  # ``task_name="proj.send"``, ``task_name__in=[...]``: those tasks' rows
                self.use(UseKind.ASYNC_RESULT, outcome, Reference(by_name=name), at=node)
            return
        if "task_id" not in keywords and "task_id__in" not in keywords:
            self.any_rows_read(node)
        else:
            self.reads_some_id(node)


def _handed_to_super(mention: cst.Name, parents) -> bool:
    arg = parents.get(mention)
    call = parents.get(arg) if isinstance(arg, cst.Arg) else None
    func = call.func if isinstance(call, cst.Call) else None
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) and last_name(func.value.func) == "super"


_IDS = frozenset({"id", "task_id", "root_id", "parent_id"})


def _id_part(mention: cst.Name, parents) -> Optional[cst.CSTNode]:
    """Where a task's id comes out of ``headers``, ``request`` or ``body``: ``headers["id"]``, ``headers.get("id")``,
    ``request.id``, or the whole of it handed to a call; None for any other key or attribute (or a store)."""
    parent = parents.get(mention)
    if isinstance(parent, cst.Arg):
        return mention
    if isinstance(parent, cst.Subscript) and parent.value is mention:
        index = parent.slice[0].slice if len(parent.slice) == 1 else None
        key = literal(index.value) if isinstance(index, cst.Index) else None
        return parent if isinstance(key, str) and key in _IDS and not isinstance(parents.get(parent), cst.AssignTarget) \
            else None
    if isinstance(parent, cst.Attribute) and parent.value is mention:
        call = parents.get(parent)
        key = literal(call.args[0].value) if isinstance(call, cst.Call) and call.args else None
        if parent.attr.value == "get" and isinstance(key, str) and key in _IDS:
            return call
        return parent if parent.attr.value in _IDS else None
    return None


def _kept_on_an_object(node: cst.CSTNode, parents) -> bool:
    """``local.request_id = task_id``, ``local.trace.append(task_id)``: any task's id kept on an object, as logging
    contexts and thread-locals do in every worker (taking that for a read would silence every task of pretix). Not
    followed, a known gap: an id handed to a call (``Job.objects.create(tid=task_id)``, a helper, ``cache.set``) or
    added to a module's list still counts."""
    parent = parents.get(node)
    if isinstance(parent, cst.Assign) and parent.value is node:
        return all(isinstance(target.target, cst.Attribute) for target in parent.targets)
    call = parents.get(parent) if isinstance(parent, cst.Arg) else None
    func = call.func if isinstance(call, cst.Call) else None
    return isinstance(func, cst.Attribute) and func.attr.value in ("append", "add", "extend", "insert") \
        and isinstance(func.value, cst.Attribute)


def _assigned_names(node) -> list:
    """The plain names an ``=`` (or annotated assignment) binds."""
    targets = [t.target for t in node.targets] if type(node) is cst.Assign else [node.target]
    return [target for target in targets if isinstance(target, cst.Name)]
