"""What a file defines and configures: imports, functions, classes, registrations, settings, and the facts about
whichever task runs its code (progress reports, ids handed on).
"""
from __future__ import annotations

import builtins
from typing import Dict, List, Optional

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import DYNAMIC, OutcomeKind, UseKind
from .carriers import Reference
from .config_sources import loaded_config
from .env_values import env_schema, setting_value
from .facts import (
    Alias,
    ClassInfo,
    ConfigFact,
    Decorator,
    FunctionInfo,
    OptionDict,
    Outcome,
    Registration,
    Running,
    RunningTaskFact,
    Setting,
)
from .literals import (
    LITERALS,
    code_of,
    MODULE_IMPORTS,
    imported_name,
    literal,
    noqa_codes,
    unsubscripted,
)
from .walk import dotted_name, last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind
META_KEY = "celery-task-meta-"  # the key prefix of a stored result in a key-value backend (Redis, memcached)
# values no backend, global ignore, expiry or result_extended can be: a schema entry naming the setting
MAPPINGS = (cst.Dict, cst.DictComp, cst.List, cst.Set, cst.Tuple)
APP_CLASS_NAMES = {name.rpartition(".")[2] for name in celery_api.APP_CLASSES}


_BUILTINS = frozenset(dir(builtins))


class Definitions:
    """The ``_Summarizer``'s handlers for definitions and settings (a mixin: it shares its state)."""

    def package(self) -> str:
        s = self.summary
        return s.module if s.is_package else s.module.rpartition(".")[0]

    def absolute(self, module: str, dots: int) -> str:
        if not dots:
            return module
        base = self.package().split(".") if self.package() else []
        if dots > 1:
            base = base[: len(base) - (dots - 1)]
        return ".".join([*base, module] if module else base)

    def import_target(self, node, local: str) -> Optional[str]:
        """The dotted name bound to ``local`` by an Import/ImportFrom node."""
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = dotted_name(alias.name)
                if alias.asname is not None and dotted_name(alias.asname.name) == local:
                    return dotted
                if alias.asname is None and dotted.split(".")[0] == local:
                    return local
            return None
        if isinstance(node, cst.ImportFrom):
            module = dotted_name(node.module) if node.module is not None else ""
            base = self.absolute(module, len(node.relative))
            if isinstance(node.names, cst.ImportStar):
                return None
            for alias in node.names:
                original = dotted_name(alias.name)
                bound = dotted_name(alias.asname.name) if alias.asname is not None else original
                if bound == local:
                    return f"{base}.{original}" if base else original
        return None

    # ----- definitions -----
    def definition_lines(self, node) -> List[int]:
        """Where a ``# noqa`` for a definition may stand: any line of its decorators, and its def/class line."""
        lines = [number for decorator in node.decorators for number in self.walk.lines_of(decorator, decorator.decorator)]
        return [*lines, self.line_of(node.name)]

    def decorator(self, expr: cst.BaseExpression, at: cst.CSTNode) -> Decorator:
        line, col = self.line_of(at), self.col_of(at)
        if isinstance(expr, cst.Call):
            kwargs, star = self.keywords(expr)
            spread = [self.ref_of(a.value) if isinstance(a.value, (cst.Name, cst.Attribute)) else None
                      for a in expr.args if a.star == "**"]
            return Decorator(self.ref_of(expr.func), True, kwargs, star, line, col, spread)
        return Decorator(self.ref_or_builtin(expr), False, {}, False, line, col)

    def ref_or_builtin(self, expr: cst.BaseExpression) -> Optional[str]:
        """``ref_of``, and ``builtins.staticmethod`` / ``builtins.object`` for a builtin the module does not rebind
        (who may call a method depends on them: ``analysis.callers``)."""
        ref = self.ref_of(expr)
        if ref is None and isinstance(expr, cst.Name) and expr.value in _BUILTINS and expr in self.walk.scope_of \
                and self.walk.binding_scope(expr) is None:
            return f"builtins.{expr.value}"
        return ref

    def keywords(self, call: cst.Call):
        kwargs, star = {}, False
        for arg in call.args:
            if arg.star == "**":
                star = True
            elif arg.keyword is not None:
                value = literal(arg.value)
                if value == DYNAMIC:
                    ref = self.ref_of(arg.value)
                    value = {"ref": ref} if ref else DYNAMIC
                kwargs[arg.keyword.value] = value
        return kwargs, star

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.names.append(node.name.value)
        params = node.params
        info = FunctionInfo(
            name=node.name.value,
            qualname=".".join(self.names),
            line=self.line_of(node.name),
            col=self.col_of(node.name),
            decorators=[self.decorator(d.decorator, d) for d in node.decorators],
            updates_state=False,
            noqa=noqa_codes(self.lines, self.definition_lines(node)),
            keywords_only=all(p.default is not None for p in [*params.posonly_params, *params.params]),
            positional=len(params.posonly_params) + len(params.params),
            varargs=isinstance(params.star_arg, cst.Param),
        )
        if node.decorators or len(self.names) == 1:
            self.summary.functions.append(info)
        self.star_kwargs.append(params.star_kwarg.name.value if isinstance(params.star_kwarg, cst.Param) else None)
        self.stack.append(info)
        self.defaults_handed_on(params)
        self.ids_handed_on(node, info)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.names.pop()
        self.stack.pop()
        self.star_kwargs.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.append(node.name.value)
        attrs = {}
        for statement in node.body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        target = small.targets[0].target
                        if isinstance(target, cst.Name) and target.value in celery_api.TASK_CLASS_ATTRIBUTES:
                            attrs[target.value] = literal(small.value)
        info = ClassInfo(
            name=node.name.value,
            qualname=".".join(self.names),
            line=self.line_of(node.name),
            col=self.col_of(node.name),
            bases=[self.ref_or_builtin(arg.value) for arg in node.bases],
            attrs=attrs,
            updates_state=False,
            noqa=noqa_codes(self.lines, self.definition_lines(node)),
            held=self.class_body_holds(node),
        )
        if node.bases or len(self.names) == 1:  # (a module-level class may hold ``@staticmethod @app.task``s)
            self.summary.classes.append(info)
        self.class_body_mentions(node)  # ``analysis.mentions``: a method aliased in the class body
        self.stack.append(info)
        self.star_kwargs.append(None)

    def class_body_holds(self, node: cst.ClassDef) -> Dict[str, List[Optional[str]]]:
        """What each name the class body binds may hold (what ``self.<name>`` is, unless an instance sets it):
        ``task = send_mail`` a dotted name; a method, a property, an unpacking or an annotation without a value:
        None, unknown."""
        held: Dict[str, List[Optional[str]]] = {}
        for statement in node.body.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                held.setdefault(statement.name.value, []).append(None)
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                for bound, target in self.class_body_imports(small):  # ``from .tasks import send as task``
                    held.setdefault(bound, []).append(target)
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                    [small.target] if isinstance(small, (cst.AnnAssign, cst.AugAssign)) else []
                value = getattr(small, "value", None)
                for target in targets:
                    for name in (n for n in _walk_names(target)):
                        plain = target is name and isinstance(small, (cst.Assign, cst.AnnAssign)) and value is not None
                        held.setdefault(name.value, []).append(self.held_name(value) if plain else None)
        return held

    def class_body_imports(self, node: cst.CSTNode) -> List[tuple]:
        """(bound name, dotted target or None) of each name an import statement binds (in a class body)."""
        if not isinstance(node, (cst.Import, cst.ImportFrom)) or isinstance(node.names, cst.ImportStar):
            return []
        found = []
        for alias in node.names:
            bound = dotted_name(alias.asname.name) if alias.asname is not None else dotted_name(alias.name)
            bound = bound.split(".")[0] if alias.asname is None and isinstance(node, cst.Import) else bound
            found.append((bound, self.import_target(node, bound)))
        return found

    def imported_into_class(self, node) -> None:
        """``class View: from .tasks import send as task``: the task (or module) becomes a class attribute, handed
        on as a value as ``task = send`` in the body is (``self.task`` is followed from ``ClassInfo.held``)."""
        outcome = Outcome(ESCAPES, "imported into a class body (a class attribute)", self.line_of(node))
        for _bound, target in self.class_body_imports(node):
            if target:
                self.use(UseKind.VALUE, outcome, Reference(target=target), at=node)

    def held_name(self, value: cst.BaseExpression) -> Optional[str]:
        """What a class attribute holds, as a dotted name ("None" for None and literals: no task); None: unknown."""
        if isinstance(value, cst.Name) and value.value == "None" or isinstance(value, LITERALS):
            return "None"
        return self.ref_of(value) if isinstance(value, (cst.Name, cst.Attribute)) else None

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.pop()
        self.stack.pop()
        self.star_kwargs.pop()

    def visit_Import(self, node: cst.Import) -> None:
        if self.stack:
            if isinstance(self.stack[-1], ClassInfo):
                self.imported_into_class(node)
            return
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if alias.asname is not None:
                self.summary.imports[dotted_name(alias.asname.name)] = dotted
            else:
                top = dotted.split(".")[0]
                self.summary.imports[top] = top

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self.stack and isinstance(self.stack[-1], ClassInfo):
            self.imported_into_class(node)
        if self.stack or isinstance(node.names, cst.ImportStar):
            if isinstance(node.names, cst.ImportStar) and not self.stack:
                module = dotted_name(node.module) if node.module is not None else ""
                stars = [k for k in self.summary.imports if k.startswith("*")]  # ``*``, ``*2``, ``*3``...
                self.summary.imports["*" if not stars else f"*{len(stars) + 1}"] = self.absolute(module, len(node.relative))
            return
        for alias in node.names:
            bound = dotted_name(alias.asname.name) if alias.asname is not None else dotted_name(alias.name)
            target = self.import_target(node, bound)
            if target:
                self.summary.imports[bound] = target

    def option_dict(self, name: str, value: cst.BaseExpression, at: cst.CSTNode) -> None:
        """``_LIMITS = {"soft_time_limit": 60}`` / ``dict(soft_time_limit=60)``: every key known, or not recorded."""
        keys = {}
        if isinstance(value, cst.Dict):
            for element in value.elements:
                key = literal(element.key) if isinstance(element, cst.DictElement) else DYNAMIC
                if not isinstance(key, str) or key == DYNAMIC:
                    return
                keys[key] = literal(element.value)
        elif isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
            if any(arg.keyword is None for arg in value.args):
                return
            keys = {arg.keyword.value: literal(arg.value) for arg in value.args}
        else:
            return
        self.summary.option_dicts[name] = OptionDict(keys, self.line_of(at))

    def setting(self, key: str, value: cst.BaseExpression, at: cst.CSTNode, attribute: bool = False,
                held_by: Optional[str] = None) -> None:
        """``KEY = value`` (a module, a config class, ``app.conf.KEY``, ``dict(KEY=...)``, ``{"KEY": ...}``);
        ``held_by``: the module or class whose body says it (``ConfigFact.held_by``)."""
        if isinstance(value, MAPPINGS) and key not in celery_api.ANNOTATIONS_SETTINGS:
            return  # ``"result_backend": {"description": ..., "default": ...}``: a schema of settings, not one
        if key in celery_api.GLOBAL_IGNORE_SETTINGS and (not attribute or key == "task_ignore_result"):
            self.fact(Setting.GLOBAL_IGNORE, setting_value(value, self.env_schema), at, held_by)
        elif key in celery_api.BACKEND_SETTINGS:
            self.fact(Setting.BACKEND, setting_value(value, self.env_schema), at, held_by)
        elif key in celery_api.ANNOTATIONS_SETTINGS:
            self.fact(Setting.ANNOTATIONS, "ignore_result" in code_of(value), at, held_by)
        elif key in celery_api.EXPIRES_SETTINGS:
            self.fact(Setting.EXPIRES, setting_value(value, self.env_schema), at, held_by)
        elif key in celery_api.EXTENDED_SETTINGS:
            self.fact(Setting.EXTENDED, setting_value(value, self.env_schema), at, held_by)

    def module_alias(self, name: str, value: cst.BaseExpression, at: cst.CSTNode) -> None:
        if isinstance(value, cst.Call):
            ref = self.ref_of(unsubscripted(value.func))  # ``Celery[DjangoTask]("x")``: a generic alias
            if ref is not None:
                kwargs, star = self.keywords(value)
                first = value.args[0].value if value.args and value.args[0].keyword is None else None
                if isinstance(first, cst.Call):  # ``register_task(FTask())``: the class
                    first = first.func
                first_arg = self.ref_of(first) if isinstance(first, (cst.Name, cst.Attribute)) else None
                self.summary.aliases.append(Alias(name, ref, True, kwargs, star, self.line_of(at), first_arg,
                                                  imported_name(value), imported_name(value, MODULE_IMPORTS)))
        elif isinstance(value, (cst.Name, cst.Attribute)):
            ref = self.ref_of(value)
            if ref is not None:
                self.summary.aliases.append(Alias(name, ref, False, {}, False, self.line_of(at)))

    def global_rebound(self, target: cst.Name, value: cst.BaseExpression, at: cst.CSTNode) -> None:
        """``global SEND`` then ``SEND = other_task`` in a function: one more module-level binding of SEND to a
        name (two different ones make it either, see symbols). (A call's value is left as it was: an app.)"""
        scope = self.walk.scope_of.get(target)
        if scope is not None and target.value in scope.globals and isinstance(value, (cst.Name, cst.Attribute)):
            self.module_alias(target.value, value, at)

    def settings_holder(self) -> str:
        """The module, or the class (``module.Class``), whose body the current statement is in."""
        classes = [info for info in self.stack if isinstance(info, ClassInfo)]
        return f"{self.summary.module}.{classes[-1].qualname}" if classes else self.summary.module

    def fact(self, key: Setting, value, at: cst.CSTNode, held_by: Optional[str] = None) -> None:
        self.summary.config.append(ConfigFact(key, value, self.line_of(at), held_by))

    def registration(self, node: cst.Call, task_call: cst.Call) -> None:
        """``app.task(name=...)(func)``."""
        if not node.args:
            return
        target = self.ref_of(node.args[0].value)
        decorator = self.decorator(task_call, node)
        assign = self.parents.get(node)
        bound_to = None
        if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name) \
                and isinstance(self.parents.get(assign), cst.SimpleStatementLine) \
                and isinstance(self.parents.get(self.parents.get(assign)), cst.Module):
            bound_to = assign.targets[0].target.value  # ``send = app.task(name="x")(_send)``
        self.summary.registrations.append(
            Registration(decorator, target, noqa_codes(self.lines, self.walk.lines_of(node)), bound_to))

    def forwarded_kwargs(self, node: cst.Call) -> None:
        """``shared_task(**kwargs)`` inside ``def background_task(func=None, **kwargs)``: the enclosing function
        hands its keyword arguments on to this callee (so a fix may add one to its decorator)."""
        for arg in node.args:
            if arg.star != "**" or not isinstance(arg.value, cst.Name):
                continue
            for info, star_kwargs in zip(reversed(self.stack), reversed(self.star_kwargs)):
                if star_kwargs == arg.value.value:
                    callee = node.func if isinstance(node.func, (cst.Name, cst.Attribute)) else None
                    info.forwards_kwargs.append(self.ref_of(callee))
                    break

    def app_and_config(self, node: cst.Call, name: Optional[str]) -> None:
        """``Celery("x", backend=...)``, ``app.config_from_envvar(...)``, ``conf.update(task_ignore_result=...)``."""
        if name in APP_CLASS_NAMES:
            kwargs, star = self.keywords(node)
            positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
            backend = next((setting_value(arg.value, self.env_schema) for arg in node.args
                            if arg.keyword is not None and arg.keyword.value == "backend"), None)
            self.fact(Setting.APP, backend is not None or star or len(positional) >= 3, node)  # backend=None: none
            if "backend" in kwargs:
                self.fact(Setting.BACKEND, backend, node)
        if name in celery_api.names(Role.DYNAMIC_CONFIG):
            self.fact(Setting.DYNAMIC_CONFIG, True, node)
        source = loaded_config(node, name, name in APP_CLASS_NAMES, self.ref_of)
        if source is not None:
            self.fact(Setting.LOADED_CONFIG, source, node)
        if env_schema(node):
            return  # ``environ.Env(X=(bool, True))`` declares how X is read: the read is the setting
        for arg in node.args:
            if arg.keyword is not None:
                self.setting(arg.keyword.value, arg.value, node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attribute_mention(node)  # ``analysis.mentions``: who may run a method of that name
        self.request_id(node)
        self.progress_method_kept(node)
        self.result_manager_kept(node)
        self.ids_of_other_tasks(node)

    def progress_method_kept(self, node: cst.Attribute) -> None:
        """``up = self.update_state``, ``run_with(self.update_state)``, ``getattr(self, "update_state")``: the
        method kept or handed on, called wherever it goes (as ``self.update_state(...)`` here)."""
        parent = self.parents.get(node)
        if node.attr.value == "update_state" and not (isinstance(parent, cst.Call) and parent.func is node):
            self.reports_progress(node.value, node)

    def reports_progress(self, owner: Optional[cst.BaseExpression], at: cst.CSTNode, backend: bool = False) -> None:
        """``backend``: written with the backend itself, whose key is the id it is given: whichever task runs the
        code (``Progress(self.backend, self.request.id).tick()``), as for ``current_task``."""
        for info in self.stack:
            info.updates_state = True
        if backend or owner is not None and self.ref_of(owner) in celery_api.CURRENT_TASK:
            # A helper reporting the progress of whichever task runs it: the project decides whose.
            self.running_task(Running.PROGRESS, f"{'a backend write' if backend else 'current_task.update_state()'}", at)
        elif any((d.ref or "").startswith("celery.signals.") for info in self.stack if isinstance(info, FunctionInfo)
                 for d in info.decorators):  # the "SENT state" recipe: a task signal's receiver writes any task's
            self.running_task(Running.PROGRESS, "a state written by a task signal's receiver", at)

    def request_id(self, node: cst.Attribute) -> None:
        """``self.request.id`` / ``current_task.request.id`` handed on: a running task publishes its own id."""
        if node.attr.value not in celery_api.names(Role.REQUEST):
            return
        receiver = node.value
        if isinstance(receiver, cst.Name) and (receiver.value == "self" or self.bound_task_itself(receiver)):
            who = receiver.value  # (a ``bind=True`` task's first parameter, whatever its name: the task itself)
        elif self.ref_of(receiver) in celery_api.CURRENT_TASK or last_name(receiver) == "current_task" or (
                isinstance(receiver, cst.Name) and receiver.value in ("sender", "task") and self.in_a_receiver()) \
                or self.own_task(receiver):
            # (``task_success``'s sender is the task that ran: any task; ``render.request`` in render's own body)
            who = "current_task"
        else:
            return
        parent = self.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            if parent.attr.value not in celery_api.REQUEST_IDS:
                return  # ``.retries``, ``.headers``...: nothing that names a stored result
            outcome = self.flow.result(parent)
        else:
            outcome = self.flow.result(node)  # the whole request handed on: any of its ids may be read
        if outcome.kind != DISCARDED:
            self.running_task(Running.ID, f"{who}.request id {outcome.detail}", node, who=who)

    def own_task(self, receiver: cst.BaseExpression) -> bool:
        """``render.request`` in the body of the decorated function ``render``: that task's running request."""
        return isinstance(receiver, cst.Name) and any(
            isinstance(info, FunctionInfo) and info.name == receiver.value and info.decorators for info in self.stack)

    def running_task(self, kind: Running, detail: str, at: cst.CSTNode, who: str = "current_task") -> None:
        self.summary.running.append(RunningTaskFact(kind, who, ".".join(self.names), detail, self.line_of(at)))

    def progress(self, node: cst.Call, name: Optional[str]) -> None:
        """``update_state()``: the task itself, or the class-based task, reports progress someone polls."""
        if name == "getattr" and len(node.args) >= 2 and literal(node.args[1].value) == "update_state":
            self.reports_progress(node.args[0].value, node)  # ``getattr(self, "update_state")``
            return
        if name not in celery_api.names(Role.PROGRESS) or not _reports_a_state(node):
            return
        if name != "update_state" and not (isinstance(node.func, cst.Attribute) and last_name(node.func.value) == "backend"):
            return  # ``store_result``/``mark_as_started`` of a result backend (``self.backend``, ``app.backend``) only
        owner = node.func.value if isinstance(node.func, cst.Attribute) else None
        owner = owner.value if name != "update_state" and isinstance(owner, cst.Attribute) else owner  # (x.backend)
        self.reports_progress(owner, node, backend=name != "update_state")

    def periodic_task_entry(self, node: cst.Call, name: Optional[str]) -> None:
        """``PeriodicTask(task="proj.add", ...)`` (django-celery-beat): a beat entry, which never reads results."""
        if not name or not any(model in name for model in celery_api.names(Role.PERIODIC_TASK_MODEL)):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "task":
                value = literal(arg.value)
                if isinstance(value, str) and value != DYNAMIC:
                    outcome = Outcome(DISCARDED, "periodic task (beat never reads results)", self.line_of(node))
                    self.use(UseKind.BEAT, outcome, Reference(by_name=value))


_PROGRESS_KEYWORDS = frozenset({"task_id", "state", "meta"})  # Celery's ``update_state(task_id, state, meta)``


def _reports_a_state(call: cst.Call) -> bool:
    """Celery's ``update_state`` is given a state or meta (by keyword or position); ``registration.update_state(
    paid=True)`` is a model's own method, which reports nothing to a backend."""
    return any(arg.keyword is None or arg.keyword.value in _PROGRESS_KEYWORDS for arg in call.args)


def _walk_names(target: cst.BaseExpression) -> List[cst.Name]:
    """The names an assignment target binds (``a``, ``a, b``, ``(a, [b, *c])``); attributes and subscripts bind none."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _walk_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _walk_names(target.value)
    return []
