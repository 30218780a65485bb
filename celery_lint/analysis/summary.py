"""What a file says: the one LibCST pass per file, which turns a module into a ``ModuleSummary`` of plain,
cacheable data.

Names are resolved only as far as this module can see (its imports and its own definitions); linking
across modules is the project's job. Nothing here knows which names are tasks yet, so the summary keeps
every use that *could* be a task's. What a result's use means (read, escapes, discarded) is ``flow``'s.
"""
from __future__ import annotations

import ast
import gc
import re
from typing import Collection, Dict, List, NamedTuple, Optional, Tuple

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import DYNAMIC, OutcomeKind, UseKind
from .facts import (
    Alias,
    Call,
    ClassInfo,
    ConfigFact,
    Decorator,
    Errback,
    FunctionInfo,
    ModuleSummary,
    OptionDict,
    Outcome,
    Registration,
    Running,
    RunningTaskFact,
    Setting,
    Use,
    ViaParam,
    is_test_path,
)
from .config_sources import loaded_config
from .env_values import env_schema, literal, setting_value
from .task_forms import TaskForms
from .containers import PossibleValues
from .flow import ResultFlow, call_name
from .guard import MAX_NESTING, call_with_deep_stack, too_deeply_nested
from .depth import too_deep
from .parsing import parse_module
from .sites import enqueue_site
from .statements import SourceCut
from .walk import Walk, dotted_name, last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind
SIGNATURE_EXPRESSIONS = (celery_api.SIGNATURE | celery_api.SIGNATURE_CHAINABLE | celery_api.CANVAS
                         | celery_api.names(Role.SIGNATURE_CLASS))
BY_NAME_FUNCTIONS = celery_api.names(Role.SIGNATURE_CLASS, Role.SEND_BY_NAME)
RECEIVER_METHODS = celery_api.ENQUEUE | celery_api.SIGNATURE | celery_api.INLINE | celery_api.EAGER | {"AsyncResult"}
# unittest.mock: what a test (only there: elsewhere the names may be anything) gives these configures or checks
# a mock, and is never enqueued or read
MOCK_CALLS = frozenset({"patch", "object", "Mock", "MagicMock", "AsyncMock", "NonCallableMock", "create_autospec",
                        "PropertyMock", "call"})
NOT_HANDED_ON = celery_api.LINK_KEYWORDS | {"base", "task_cls"}
ERRBACK_METHODS = celery_api.LINK_METHODS - {"link"}  # .on_error(e), .link_error(e)
APP_CLASS_NAMES = {name.rpartition(".")[2] for name in celery_api.APP_CLASSES}
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


class Reference(NamedTuple):
    """How an expression names a task (at most one of these is set; none: a receiver we cannot name)."""

    target: Optional[str] = None  # a dotted name
    by_name: Optional[str] = None  # a registered name (DYNAMIC: any task)
    dynamic_module: Optional[str] = None  # ``getattr(module, name)``: any task of that module...
    via_param: Optional[ViaParam] = None  # ...unless the name is a parameter whose callers we can read
    bound_as: Optional[str] = None  # ``getattr(import_module(path), "send")``: a task some module binds as ``send``

    def __bool__(self) -> bool:
        return any(value is not None for value in self)


def summarize(source: bytes, path: str, module: str, is_package: bool, cut: Optional[SourceCut] = None,
              record_calls_of: Optional[Collection[str]] = None) -> ModuleSummary:
    """Parse ``source`` once and extract everything the project linker needs.

    ``cut``: the source with the statements that cannot matter cut out (by the speed layer), and where each
    kept line came from; LibCST then parses and walks only that, and positions are mapped back. ``record_calls_of``:
    the function names whose calls to record (helpers returning a result, getattr dispatchers); None: every
    call of a function this module can name.
    """
    return summarize_cut(source, path, module, is_package, cut, record_calls_of)[0]


def summarize_cut(source: bytes, path: str, module: str, is_package: bool, cut: Optional[SourceCut] = None,
                  record_calls_of: Optional[Collection[str]] = None) -> Tuple[ModuleSummary, bool]:
    """``summarize``, and whether the summary was made from ``cut`` (False when LibCST had to read the whole
    file because it could not parse the cut, or when there was no cut)."""
    # Two parses and a walk allocate millions of objects, which would set off hundreds of garbage collections
    # mid-file, each going over everything alive (5-8% of the time). The walk and the slicer undo their own
    # cycles, so the file's objects go by reference counting; one young collection after it catches the rest.
    paused = gc.isenabled()
    gc.disable()
    try:
        return call_with_deep_stack(_summarize, source, path, module, is_package, cut, record_calls_of)
    except (RecursionError, MemoryError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "too large to hold in memory"
        return ModuleSummary(path, module, is_package, error=f"cannot parse: {reason} for celery-lint's parser"), False
    finally:
        if paused:
            gc.enable()
            gc.collect(0)


def _summarize(source: bytes, path: str, module: str, is_package: bool, cut: Optional[SourceCut],
               record_calls_of) -> Tuple[ModuleSummary, bool]:
    text, line_numbers = (cut.text, cut.line_numbers) if cut is not None else (source, None)
    if line_numbers is None:  # LibCST gets the whole file: first make sure it cannot overflow its stack
        refused = _refused_by_python(source)
        if refused is not None:
            return ModuleSummary(path, module, is_package, error=f"cannot parse: {refused}"), False
    deep = too_deep(text)  # before LibCST, which would take minutes on it
    if deep is not None:
        return ModuleSummary(path, module, is_package, error=deep), False
    try:
        tree = parse_module(text)
    except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
        if line_numbers is None:
            return ModuleSummary(path, module, is_package, error=_unreadable(source, exc)), False
        # Python's parser read the whole file, so the cut is at fault: it may cost time, never a finding.
        # LibCST gets the whole file.
        text, line_numbers = source, None
        try:
            tree = parse_module(source)
        except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, ValueError) as whole_exc:
            return ModuleSummary(path, module, is_package, error=_unreadable(source, whole_exc)), False
    summary = ModuleSummary(path, module, is_package)
    # Python's own line breaks (str.splitlines would also break at \f and friends): noqa comments by line.
    _Summarizer(tree, text, summary, source.splitlines(), record_calls_of, line_numbers).run()
    return summary, line_numbers is not None


def _refused_by_python(source: bytes) -> Optional[str]:
    """Python's message for a file nested deeper than it accepts (which could crash LibCST's native parser)."""
    if not too_deeply_nested(source):
        return None
    try:
        ast.parse(source)
    except SyntaxError as error:
        return _located(source, error)
    except (ValueError, RecursionError, MemoryError):
        pass
    return f"too many nested parentheses (deeper than {MAX_NESTING})"


def _unreadable(source: bytes, exc: Exception) -> str:
    if isinstance(exc, cst.ParserSyntaxError):
        return f"cannot parse: {_syntax_error(source, exc)}"
    return f"cannot read: {exc}"  # undecodable bytes, a bad coding cookie


def _syntax_error(source: bytes, exc) -> str:
    """Python's own message where it has one (clearer than LibCST's), else LibCST's."""
    try:
        ast.parse(source)
    except SyntaxError as error:
        return _located(source, error)
    except ValueError as error:  # older Pythons: null bytes
        return _located(source, SyntaxError(str(error)))
    except (RecursionError, MemoryError):
        pass
    return f"{str(exc).splitlines()[0]} (line {exc.raw_line})"


def _located(source: bytes, error: SyntaxError) -> str:
    """Python's message with its position; a null byte has none, so it is found by hand."""
    line, column = error.lineno, error.offset
    if line is None and b"\0" in source:
        offset = source.index(b"\0")
        line = source.count(b"\n", 0, offset) + 1
        column = offset - (source.rfind(b"\n", 0, offset) + 1) + 1
    where = f" (line {line}, column {column})" if line is not None else ""
    return f"{error.msg.replace('source code string', 'source code')}{where}"


def noqa_codes(lines: List[bytes], line_numbers) -> List[str]:
    codes: List[str] = []
    for number in line_numbers:
        if not 0 < number <= len(lines):
            continue
        match = NOQA.search(lines[number - 1].decode("utf-8", "replace"))
        if match is None:
            continue
        if match.group("codes") is None:
            return ["*"]
        codes.extend(code.upper() for code in re.split(r"[,\s]+", match.group("codes")) if code)
    return codes


class _Summarizer(TaskForms):
    """Runs the ``visit_*``/``leave_*`` handlers below over the nodes a fast walk collected, in source order,
    once parents and scopes are known for the whole module (so results can be followed forwards)."""

    HANDLED = (cst.FunctionDef, cst.ClassDef, cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign, cst.Attribute,
               cst.Call, cst.Element, cst.DictElement, cst.Return, cst.Yield, cst.Lambda)

    def __init__(self, tree: cst.Module, source: bytes, summary: ModuleSummary, lines: List[bytes],
                 record_calls_of: Optional[Collection[str]], line_numbers: Optional[List[int]] = None):
        self.summary = summary
        self.lines = lines  # of the original source, for noqa comments
        self.record_calls_of = record_calls_of  # None: all
        self.walk = Walk(tree, source, self.import_target, self.HANDLED, line_numbers)
        self.parents = self.walk.parents
        self.held = PossibleValues(tree, self.parents, self.ref_of)  # which tasks a local or table may hold
        self.flow = ResultFlow(self.parents, self.walk.mentions, self.line_of, self.function_of)
        self.stack: List[object] = []  # FunctionInfo / ClassInfo being visited (for update_state)
        self.star_kwargs: List[Optional[str]] = []  # beside ``stack``: each function's ``**`` parameter
        self.names: List[str] = []  # qualname parts
        self.testing = is_test_path(summary.path)
        self.values_in: Dict[cst.CSTNode, dict] = {}  # function or module -> ``_values_by_name``
        self.env_schema: dict = {}  # ``env = environ.Env(X=(bool, True))``: defaults ``env("X")`` reads

    def run(self) -> None:
        for event, node in self.walk.events:
            handler = getattr(self, f"{'visit' if event == 'enter' else 'leave'}_{type(node).__name__}", None)
            if handler is not None:
                handler(node)
        # The walk, the flow and this object refer to each other (bound methods, scope trees): undone here,
        # the file's trees go by reference counting instead of waiting for the garbage collector.
        self.walk.close()
        self.walk = self.flow = self.held = None

    # ----- positions and names -----
    def line_of(self, node: cst.CSTNode) -> int:
        return self.walk.line(node)

    def col_of(self, node: cst.CSTNode) -> int:
        return self.walk.position(node)[1]

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

    def function_of(self, node: cst.CSTNode) -> Optional[str]:
        """The module-level function ``node`` sits in (``module.name``), or None (methods, nested, module)."""
        while node is not None and not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            node = self.parents.get(node)
        if isinstance(node, cst.FunctionDef) and isinstance(self.parents.get(node), cst.Module):
            return f"{self.summary.module}.{node.name.value}"
        return None

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

    def resolve_name(self, name: cst.Name) -> Optional[str]:
        """Dotted name of a bare name: an import, or something defined at module level; None for locals."""
        return self.walk.resolve(name, self.summary.module)

    def ref_of(self, node: Optional[cst.CSTNode]) -> Optional[str]:
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        base = self.resolve_name(node)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

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
        return Decorator(self.ref_of(expr), False, {}, False, line, col)

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
            bases=[self.ref_of(arg.value) for arg in node.bases],
            attrs=attrs,
            updates_state=False,
            noqa=noqa_codes(self.lines, self.definition_lines(node)),
        )
        if node.bases or len(self.names) == 1:  # (a module-level class may hold ``@staticmethod @app.task``s)
            self.summary.classes.append(info)
        self.stack.append(info)
        self.star_kwargs.append(None)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.pop()
        self.stack.pop()
        self.star_kwargs.pop()

    def visit_Import(self, node: cst.Import) -> None:
        if self.stack:
            return
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if alias.asname is not None:
                self.summary.imports[dotted_name(alias.asname.name)] = dotted
            else:
                top = dotted.split(".")[0]
                self.summary.imports[top] = top

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
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

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.stack and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.option_dict(node.targets[0].target.value, node.value, node)
            self.env_schema.update(env_schema(node.value))
        for target in node.targets:
            name = target.target
            if isinstance(name, cst.Subscript):  # ``app.conf["task_ignore_result"] = True``: as ``app.conf.x = ...``
                index = name.slice[0].slice if len(name.slice) == 1 else None
                key = literal(index.value) if isinstance(index, cst.Index) else None
                if isinstance(key, str) and key != DYNAMIC:
                    self.setting(key, node.value, node, attribute=True)
                continue
            key = name.value if isinstance(name, cst.Name) else name.attr.value if isinstance(name, cst.Attribute) else None
            if isinstance(name, cst.Name) and self.in_function():
                continue  # a local variable named like a setting (``result_extended = ...`` in a function) is not one
            if key is not None:
                self.setting(key, node.value, node, attribute=isinstance(name, cst.Attribute))
        if not self.stack and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.module_alias(node.targets[0].target.value, node.value, node)
        if not self.flow.only_called([target.target for target in node.targets]):
            self.value_use(node.value)

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

    def setting(self, key: str, value: cst.BaseExpression, at: cst.CSTNode, attribute: bool = False) -> None:
        """``KEY = value`` (a module, a config class, ``app.conf.KEY``, ``dict(KEY=...)``, ``{"KEY": ...}``)."""
        if key in celery_api.GLOBAL_IGNORE_SETTINGS and (not attribute or key == "task_ignore_result"):
            self.fact(Setting.GLOBAL_IGNORE, setting_value(value, self.env_schema), at)
        elif key in celery_api.BACKEND_SETTINGS:
            self.fact(Setting.BACKEND, setting_value(value, self.env_schema), at)
        elif key in celery_api.ANNOTATIONS_SETTINGS:
            self.fact(Setting.ANNOTATIONS, "ignore_result" in _code(value), at)
        elif key in celery_api.EXPIRES_SETTINGS:
            self.fact(Setting.EXPIRES, setting_value(value, self.env_schema), at)
        elif key in celery_api.EXTENDED_SETTINGS:
            self.fact(Setting.EXTENDED, setting_value(value, self.env_schema), at)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        """``self.request.id`` / ``current_task.request.id`` handed on: a running task publishes its own id."""
        if node.attr.value not in celery_api.names(Role.REQUEST):
            return
        receiver = node.value
        if isinstance(receiver, cst.Name) and receiver.value == "self":
            who = "self"
        elif self.ref_of(receiver) in celery_api.CURRENT_TASK:
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

    def running_task(self, kind: Running, detail: str, at: cst.CSTNode, who: str = "current_task") -> None:
        self.summary.running.append(RunningTaskFact(kind, who, ".".join(self.names), detail, self.line_of(at)))

    def module_alias(self, name: str, value: cst.BaseExpression, at: cst.CSTNode) -> None:
        if isinstance(value, cst.Call):
            ref = self.ref_of(_unsubscripted(value.func))  # ``Celery[DjangoTask]("x")``: a generic alias
            if ref is not None:
                kwargs, star = self.keywords(value)
                first = value.args[0].value if value.args and value.args[0].keyword is None else None
                if isinstance(first, cst.Call):  # ``register_task(FTask())``: the class
                    first = first.func
                first_arg = self.ref_of(first) if isinstance(first, (cst.Name, cst.Attribute)) else None
                self.summary.aliases.append(Alias(name, ref, True, kwargs, star, self.line_of(at), first_arg,
                                                  imported_name(value)))
        elif isinstance(value, (cst.Name, cst.Attribute)):
            ref = self.ref_of(value)
            if ref is not None:
                self.summary.aliases.append(Alias(name, ref, False, {}, False, self.line_of(at)))

    def fact(self, key: Setting, value, at: cst.CSTNode) -> None:
        self.summary.config.append(ConfigFact(key, value, self.line_of(at)))

    # ----- uses -----
    def use(self, kind: UseKind, outcome: Outcome, where: Reference, ignore_result=None, call=None) -> None:
        site = enqueue_site(call, self.col_of(call), noqa_codes(self.lines, [self.line_of(call)])) if call else None
        self.summary.uses.append(Use(kind, outcome, *where, ignore_result=ignore_result, scope=".".join(self.names),
                                     site=site))

    def task_reference(self, node: cst.CSTNode) -> Reference:
        """How a receiver names a task."""
        if isinstance(node, (cst.Name, cst.Attribute)):
            return Reference(target=self.ref_of(node))
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) \
                and node.value.attr.value in celery_api.names(Role.TASK_REGISTRY):
            index = node.slice[0].slice if len(node.slice) == 1 else None
            key = literal(index.value) if isinstance(index, cst.Index) else DYNAMIC
            return Reference(by_name=key if isinstance(key, str) else DYNAMIC)  # DYNAMIC: ``app.tasks[name]``
        if _is_getattr(node):
            return self.getattr_reference(node)
        if isinstance(node, cst.Call) and call_name(node) in celery_api.RUN_TIME_IMPORTS:
            # ``import_string("proj.tasks.send")``: that task; ``import_string(f"{app}.tasks.send")``: a task some
            # module binds as ``send``; ``import_string(path)``: any task
            first = _first_literal(node)
            if first is not None:
                return Reference(target=first.replace(":", "."))
            tail = imported_name(node)
            return Reference(bound_as=tail) if tail else Reference(by_name=DYNAMIC)
        if isinstance(node, cst.Call) and not node.args and isinstance(node.func, (cst.Name, cst.Attribute)):
            return Reference(target=self.ref_of(node.func))  # ``MyTask().delay()``: an instance of a class-based task
        return Reference()

    def getattr_reference(self, node: cst.Call) -> Reference:
        """``getattr(tasks, "send")``: that task; ``getattr(tasks, name)``: any task of ``tasks``, unless ``name``
        is a parameter whose callers all pass literals; ``getattr(import_module(path), "send")``: a task some
        module binds as ``send``; ``getattr(import_module(path), name)``: any task."""
        if len(node.args) < 2:
            return Reference()
        holder = node.args[0].value
        attr = literal(node.args[1].value)
        if self.imported_at_run_time(holder):
            return Reference(bound_as=attr) if isinstance(attr, str) and attr != DYNAMIC else Reference(by_name=DYNAMIC)
        module = self.ref_of(holder)
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
            if call_name(node) in celery_api.RUN_TIME_IMPORTS:
                return _first_literal(node) is None
            if _is_getattr(node) and node.args:
                return self.imported_at_run_time(node.args[0].value, depth + 1)
            return False
        if isinstance(node, cst.Attribute):
            return self.imported_at_run_time(node.value, depth + 1)
        if not isinstance(node, cst.Name):
            return False
        for mention in self.flow.mentions(node) or []:
            target = self.parents.get(mention)
            assign = self.parents.get(target) if isinstance(target, cst.AssignTarget) else None
            if isinstance(assign, cst.Assign) and self.imported_at_run_time(assign.value, depth + 1):
                return True
        return False

    # ----- calls: each concern in its own handler -----
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        # ``Celery[DjangoTask[..., Any]]("weblate")``: a subscripted generic class is still the class
        name = last_name(func.value) if isinstance(func, cst.Subscript) else call_name(node)
        self.record_call(node)
        self.forwarded_kwargs(node)
        self.task_method(node)
        self.progress(node, name)
        self.read_by_id(node, name)
        self.app_and_config(node, name)
        self.periodic_task_entry(node, name)
        self.errback(node, name)
        if isinstance(func, cst.Attribute):
            self.method_call(node, func, name)
        elif isinstance(func, cst.Name):
            self.function_call(node, func)
        if isinstance(func, cst.Call) and isinstance(func.func, cst.Attribute) and func.func.attr.value == "task":
            self.registration(node, func)
            return  # the registered function is not handed on as a value
        if self.testing and (name in MOCK_CALLS or (name or "").startswith("assert_")):
            return  # a test configuring or checking a mock: ``patch(..., wraps=t.delay)``, ``assert_called_with(t)``
        if name == "super" and isinstance(func, cst.Name):
            return  # ``super(MyTask, self)``: the class names itself, it is not handed on
        for arg in node.args:  # (a callback runs, and a base class is built on: neither is handed on)
            beat = self.bare_beat_entry(node, name, arg)
            if beat is not None:
                outcome = Outcome(DISCARDED, "periodic task (beat never reads results)", self.line_of(node))
                self.use(UseKind.BEAT, outcome, Reference(target=beat))
                continue
            if arg.keyword is None or arg.keyword.value not in NOT_HANDED_ON:
                self.value_use(arg.value)

    def record_call(self, node: cst.Call) -> None:
        """A call of a function this module can name (a helper that may return a result, a getattr dispatcher):
        its literal arguments, and what happens to its value."""
        if self.record_calls_of is not None and call_name(node) not in self.record_calls_of:
            return
        ref = self.ref_of(node.func) if isinstance(node.func, (cst.Name, cst.Attribute)) else None
        if ref is None:
            return
        args, kwargs, star = [], {}, False
        for arg in node.args:
            if arg.star:
                star = True
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = literal(arg.value)
            else:
                args.append(literal(arg.value))
        self.summary.calls.append(Call(ref, args, kwargs, star, self.flow.result(node), self.line_of(node)))

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

    def progress(self, node: cst.Call, name: Optional[str]) -> None:
        """``update_state()``: the task itself, or the class-based task, reports progress someone polls."""
        if name not in celery_api.names(Role.PROGRESS):
            return
        for info in self.stack:
            info.updates_state = True
        if isinstance(node.func, cst.Attribute) and self.ref_of(node.func.value) in celery_api.CURRENT_TASK:
            # A helper reporting the progress of whichever task runs it: the project decides whose.
            self.running_task(Running.PROGRESS, "current_task.update_state()", node)

    def read_by_id(self, node: cst.Call, name: Optional[str]) -> None:
        """``AsyncResult(x)``, ``GroupResult.restore(x)``: whatever id reaches it is read."""
        func = node.func
        restore = isinstance(func, cst.Attribute) and f"{last_name(func.value)}.{name}" in celery_api.names(Role.RESTORE)
        if name in celery_api.READ_BY_ID or restore:
            if self.testing and _first_literal(node) is not None:
                return  # ``m.return_value = AsyncResult("x")``: a made-up id configuring a mock reads nothing
            self.summary.reads_by_id.append(self.line_of(node))
            for info in self.stack:
                if isinstance(info, FunctionInfo):
                    info.reads_by_id = True

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

    def method_call(self, node: cst.Call, func: cst.Attribute, name: str) -> None:
        receiver = func.value
        if name in celery_api.names(Role.SEND_BY_NAME):
            self.by_name_call(node, self.flow.result(node), UseKind.ENQUEUE)
            return
        if name == "signature" and _first_is_string(node):
            self.by_name_call(node, self.flow.signature(node), UseKind.SIGNATURE)
            return
        if name not in RECEIVER_METHODS:
            return
        if name == "signature" and self.ref_of(receiver) in celery_api.NOT_CELERY_SIGNATURE:
            return  # ``inspect.signature(func).parameters``
        if name in celery_api.ENQUEUE and self.is_signature_expr(receiver):
            return  # ``t.s().delay()`` / ``chain(...).delay()``: followed from the signature inside
        where = self.task_reference(receiver)
        if not where and self.imported_at_run_time(receiver):  # ``task = import_string(path); task.delay()``
            where = Reference(by_name=DYNAMIC)
        if not where and name in celery_api.ENQUEUE | celery_api.SIGNATURE and self.held_tasks(node, receiver, name):
            return
        if name in celery_api.ENQUEUE:
            # An unknown receiver (``self.task.delay()``) is recorded too: it may be any task handed on as a value.
            self.use(UseKind.ENQUEUE, self.flow.result(node), where, self.call_ignore(node), node)
        elif name in celery_api.SIGNATURE:
            self.use(UseKind.SIGNATURE, self.flow.signature(node), where, self.call_ignore(node))
        elif where:
            self.use(*self.receiver_use(node, receiver, name), where)

    def errback(self, node: cst.Call, name: Optional[str]) -> None:
        """``R.on_error(E)``, ``R.link_error(E)``, ``R.apply_async(link_error=E)``, ``signature(..., link_error=E)``:
        the tasks named in ``R`` (followed into the local variables it names) and in ``E``."""
        attached = [arg.value for arg in node.args if arg.keyword is not None and arg.keyword.value == "link_error"]
        func = node.func
        if isinstance(func, cst.Attribute) and name in ERRBACK_METHODS and node.args and node.args[0].keyword is None:
            attached.append(node.args[0].value)
        if not attached:
            return
        parents, parent_names = self.tasks_named_in(func.value if isinstance(func, cst.Attribute) else node, attached)
        errbacks, errback_names = [], []
        for expression in attached:
            refs, names = self.tasks_named_in(expression, ())
            errbacks += refs
            errback_names += names
        self.summary.errbacks.append(Errback(parents, parent_names, errbacks, errback_names, self.line_of(node)))

    def tasks_named_in(self, expression: cst.CSTNode, skip, depth: int = 0) -> Tuple[List[str], List[str]]:
        """Every dotted name (and string first argument, a registered name) in an expression: more than the tasks
        it names, which is what a conservative caller wants. A local variable: what is assigned to it."""
        refs: List[str] = []
        names: List[str] = []
        pending = [expression]
        while pending:
            node = pending.pop()
            if any(node is s for s in skip):
                continue
            if isinstance(node, cst.Name):
                ref = self.ref_of(node)
                if ref is not None:
                    refs.append(ref)
                elif depth < 2:
                    for value in self.local_values(node):
                        more, more_names = self.tasks_named_in(value, skip, depth + 1)
                        refs += more
                        names += more_names
                continue
            if isinstance(node, cst.Attribute):
                ref = self.ref_of(node)
                if ref is not None:
                    refs.append(ref)
            if isinstance(node, cst.Call):
                first = _first_literal(node)
                if first is not None:
                    names.append(first)
            pending.extend(node.children)
        return refs, names

    def local_values(self, name: cst.Name, assignments_only: bool = False) -> List[cst.BaseExpression]:
        """What the enclosing function assigns to (or appends to) a local variable."""
        scope = name
        while scope is not None and not isinstance(scope, (cst.FunctionDef, cst.Module)):
            scope = self.parents.get(scope)
        if scope is None:
            return []
        by_name = self.values_in.get(scope)
        if by_name is None:  # one pass over the scope, however many names are asked about
            by_name = self.values_in[scope] = _values_by_name(scope)
        return [value for assigned, values in by_name.get(name.value, ()) if assigned or not assignments_only
                for value in values]

    def held_tasks(self, node: cst.Call, receiver: cst.BaseExpression, name: str) -> bool:
        """``task, tpl = EVENTS.get(e); task.delay()``: a receiver that holds one of some named tasks (a dispatch
        table, a loop over a literal, a conditional). Each gets the use; a result that may be read through a
        module-level table is also kept as one of a task we cannot name: other modules may add to the table."""
        values = self.held
        held = values.names(receiver)
        if not held:
            return False
        kind = UseKind.ENQUEUE if name in celery_api.ENQUEUE else UseKind.SIGNATURE
        outcome = self.flow.result(node) if kind is UseKind.ENQUEUE else self.flow.signature(node)
        ignore = self.call_ignore(node)
        for ref in held:
            self.use(kind, outcome, Reference(target=ref), ignore)
        if values.open_table and outcome.kind.rank >= OutcomeKind.ID_TAKEN.rank:
            self.use(kind, outcome, Reference(), ignore)
        return True

    def receiver_use(self, node: cst.Call, receiver: cst.BaseExpression, name: str):
        """(kind, outcome) of ``t.map()``/``t.apply()`` (run in-process) and ``t.AsyncResult(id)`` (a read)."""
        line = self.line_of(node)
        if name in celery_api.INLINE:
            return UseKind.EAGER, Outcome(DISCARDED, f"run inline by .{name}()", line)
        if name in celery_api.EAGER:
            return UseKind.EAGER, Outcome(DISCARDED, "run eagerly with .apply()", line)
        return UseKind.ASYNC_RESULT, Outcome(READ, f"{_code(receiver)}.AsyncResult()", line)

    def function_call(self, node: cst.Call, func: cst.Name) -> None:
        """``signature("proj.add")``, ``send_task("proj.add")`` imported as bare names."""
        if func.value not in BY_NAME_FUNCTIONS:
            return
        if func.value in celery_api.names(Role.SEND_BY_NAME):
            self.by_name_call(node, self.flow.result(node), UseKind.ENQUEUE)
        elif (self.ref_of(func) or "celery").startswith("celery"):  # not ``from inspect import signature``
            self.by_name_call(node, self.flow.signature(node), UseKind.SIGNATURE)

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
        self.use(kind, outcome, where, self.call_ignore(node))

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

    def call_ignore(self, call: cst.Call):
        """A call-site ``ignore_result=`` (apply_async, send_task, or ``.set()`` on the signature)."""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "ignore_result":
                return literal(arg.value)
            if arg.star == "**":
                return DYNAMIC
        parent = self.parents.get(self.parents.get(call))
        if isinstance(parent, cst.Call) and call_name(parent) == "set":
            return self.call_ignore(parent)
        return None

    def is_signature_expr(self, node) -> bool:
        """A signature or canvas expression (whose uses ResultFlow.signature follows)."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return True
        return isinstance(node, cst.Call) and call_name(node) in SIGNATURE_EXPRESSIONS

    # ----- tasks handed on as values -----
    def value_use(self, value: Optional[cst.BaseExpression]) -> None:
        """A task object (or its bound ``.delay``) handed on as a value: it may be enqueued anywhere."""
        if isinstance(value, cst.IfExp):  # ``t = a_task if x else b_task``: either may be enqueued later
            self.value_use(value.body)
            self.value_use(value.orelse)
        elif isinstance(value, cst.BooleanOperation):  # ``t = custom_task or default_task``
            self.value_use(value.left)
            self.value_use(value.right)
        elif isinstance(value, cst.Attribute) and value.attr.value in celery_api.ENQUEUE:
            ref = self.ref_of(value.value)
            if ref:
                self.use(UseKind.ENQUEUE, self.bound_method_outcome(value), Reference(target=ref))
        elif value is not None:
            found = self.value_reference(value)
            if found is not None:
                self.use(UseKind.VALUE, Outcome(ESCAPES, found[1], self.line_of(value)), found[0])

    def value_reference(self, value: cst.BaseExpression):
        """(reference, how it is handed on) for an expression that may be a task, or None."""
        if _is_getattr(value):
            where = self.task_reference(value)
            return (where, "looked up with getattr()") if where else None
        if isinstance(value, cst.Call) and call_name(value) in celery_api.RUN_TIME_IMPORTS:
            where = self.task_reference(value)  # a run-time path: whatever it imports is caught where enqueued
            if where.target is None and where.bound_as is None:
                return None
            return where, f"imported with {call_name(value)}()"
        if isinstance(value, cst.Subscript):  # ``t = app.tasks["name"]``: the registry lookup handed on
            where = self.task_reference(value)
            return (where, "looked up in app.tasks") if where else None
        if isinstance(value, (cst.Name, cst.Attribute)):
            ref = self.ref_of(value)
            return (Reference(target=ref), "handed on as a value") if ref else None
        return None

    def bound_method_outcome(self, method: cst.Attribute) -> Outcome:
        """``on_commit(partial(t.delay, x))``: whoever calls the bound method decides; on_commit drops it."""
        line = self.line_of(method)
        node = method
        for _ in range(3):
            arg = self.parents.get(node)
            call = self.parents.get(arg) if isinstance(arg, cst.Arg) else None
            if not isinstance(call, cst.Call):
                break
            if call_name(call) in celery_api.names(Role.ON_COMMIT):
                return Outcome(DISCARDED, "sent from on_commit()", line)
            if self.testing and call_name(call) in MOCK_CALLS:
                return Outcome(DISCARDED, f"given to {call_name(call)}() in a test", line)
            if call_name(call) != "partial":
                break
            node = call
        return Outcome(ESCAPES, "its .delay handed on as a value", line)

    def visit_Element(self, node: cst.Element) -> None:
        self.value_use(node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = literal(node.key)
        if key == "task":
            value = literal(node.value)
            if isinstance(value, str) and value != DYNAMIC:
                outcome = Outcome(DISCARDED, "beat schedule entry (beat never reads results)", self.line_of(node))
                self.use(UseKind.BEAT, outcome, Reference(by_name=value))
        if isinstance(key, str) and key != DYNAMIC:
            self.setting(key, node.value, node)
        self.value_use(node.value)

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
                found = _unsubscripted(found.func)
            ref = self.ref_of(found) if isinstance(found, (cst.Name, cst.Attribute)) else None
            if ref is not None and ref not in info.returns:
                info.returns.append(ref)

    def visit_Yield(self, node: cst.Yield) -> None:
        if not isinstance(node.value, cst.From):
            self.value_use(node.value)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.value_use(node.body)  # ``lambda: my_task``

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self.flow.only_called([node.target]):
            self.value_use(node.value)


OBJECT_IMPORTS = frozenset({"import_string", "symbol_by_name"})  # (import_module gives a module, not an object)


def imported_name(call: cst.Call) -> Optional[str]:
    """``import_string(f"{app.name}.urls.urlpatterns")``: the object's name, when the path ends in a literal one."""
    if call_name(call) not in OBJECT_IMPORTS or not call.args:
        return None
    path = call.args[0].value
    if not isinstance(path, cst.FormattedString) or not path.parts:
        return None
    last = path.parts[-1]
    if not isinstance(last, cst.FormattedStringText) or "." not in last.value.replace(":", "."):
        return None
    name = last.value.replace(":", ".").rpartition(".")[2]
    return name if name.isidentifier() else None


def _is_getattr(node) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "getattr"


def _values_by_name(scope: cst.CSTNode) -> Dict[str, List[Tuple[bool, list]]]:
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
        pending.extend(c for c in node.children if not isinstance(c, cst.ClassDef))
    return by_name


def _first_literal(call: cst.Call) -> Optional[str]:
    """The string literal given as the first positional argument, or None."""
    first = literal(call.args[0].value) if call.args and call.args[0].keyword is None else DYNAMIC
    return first if isinstance(first, str) and first != DYNAMIC else None


def _first_is_string(call: cst.Call) -> bool:
    first = call.args[0] if call.args else None
    return first is not None and first.keyword is None and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString))


def _unsubscripted(node: cst.BaseExpression) -> cst.BaseExpression:
    """``Celery[DjangoTask]`` → ``Celery``: a subscripted generic class is still the class."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)
