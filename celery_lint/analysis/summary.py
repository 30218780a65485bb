"""What a file says: the one LibCST pass per file, which turns a module into a ``ModuleSummary`` of plain,
cacheable data.

Names are resolved only as far as this module can see (its imports and its own definitions); linking
across modules is the project's job. Nothing here knows which names are tasks yet, so the summary keeps
every use that *could* be a task's. What a result's use means (read, escapes, discarded) is ``flow``'s.

The handlers live by job in mixins: ``definitions`` (what the file defines and configures), ``sinks`` (where
tasks are used), ``carriers`` (task values handed on); ``literals`` spells the small syntactic questions.
"""
from __future__ import annotations

import ast
import builtins
from collections import Counter
import gc
from typing import Collection, Dict, List, Optional, Tuple

import libcst as cst

from .. import celery_api
from ..text import excerpt
from ..types import DYNAMIC, OutcomeKind, UseKind
from .bound_names import bound_several
from .carriers import MOCK_CALLS, SELF, Carriers, Reference
from .containers import PossibleValues
from .definitions import Definitions
from .errbacks import Errbacks
from .depth import too_deep
from .env_values import env_schema
from .facts import (
    Call,
    ModuleSummary,
    Outcome,
    Running,
    is_test_path,
)
from .flow import ResultFlow, call_name
from .guard import MAX_NESTING, call_with_deep_stack, too_deeply_nested
from .instance_attrs import InstanceAttributes, unpacked
from .literals import code_of, imported_by_path, imported_module, is_getattr, literal
from .mentions import Mentions
from .parsing import parse_module
from .reads_by_id import ReadsById
from .sinks import Sinks
from .statements import Kept, SourceCut
from .task_forms import TaskForms
from .walk import Walk, last_name


def _replaces_a_method(node: cst.Call, name: Optional[str]) -> bool:
    """``monkeypatch.setattr(t, "apply_async", fake)``: a test replacing a task's own Celery method keeps nothing."""
    method = literal(node.args[1].value) if name == "setattr" and len(node.args) == 3 else None
    return isinstance(method, str) and method in celery_api.ENQUEUE | celery_api.SIGNATURE


NOT_HANDED_ON = celery_api.LINK_KEYWORDS | {"base", "task_cls"}
DISCARDED = OutcomeKind.DISCARDED


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
        return ModuleSummary(path, module, is_package, error=_beyond_limits(exc)), False
    finally:
        if paused:
            gc.enable()
            gc.collect(0)


def parse_error(source: bytes) -> str:
    """What a summary of the whole file would say of its parse ("" when LibCST reads it), without the summary
    (the parse check of a file no summary needs: a sixth of the time)."""
    try:
        return call_with_deep_stack(_whole_file, source)[1]
    except (RecursionError, MemoryError) as exc:
        return _beyond_limits(exc)


def _whole_file(source: bytes) -> Tuple[Optional[cst.Module], str]:
    """LibCST's tree of the whole file, or why not ("" when it parses). Nesting that could overflow LibCST's stack,
    or take it minutes, is refused before it."""
    refused = _refused_by_python(source)
    if refused is not None:
        return None, f"cannot parse: {refused}"
    deep = too_deep(source)
    if deep is not None:
        return None, deep
    try:
        return parse_module(source), ""
    except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
        return None, _unreadable(source, exc)


def _beyond_limits(exc: BaseException) -> str:
    reason = "nested too deeply" if isinstance(exc, RecursionError) else "too large to hold in memory"
    return f"cannot parse: {reason} for celery-lint's parser"


def _summarize(source: bytes, path: str, module: str, is_package: bool, cut: Optional[SourceCut],
               record_calls_of) -> Tuple[ModuleSummary, bool]:
    text, line_numbers = (cut.text, cut.line_numbers) if cut is not None else (source, None)
    statements = cut.statements if cut is not None else None  # Python's statements of what LibCST parses
    if line_numbers is None:  # nothing cut: the whole file
        tree, error = _whole_file(source)
        if tree is None:
            return ModuleSummary(path, module, is_package, error=error), False
        text = source
    else:
        deep = cut.deep if cut.depth_checked else too_deep(text)  # before LibCST, which would take minutes on it
        if deep is not None:
            return ModuleSummary(path, module, is_package, error=deep), False
        try:
            tree = parse_module(text)
        except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, ValueError):
            # Python's parser read the whole file, so the cut is at fault: it may cost time, never a finding.
            # LibCST gets the whole file.
            text, line_numbers, statements = source, None, None
            try:
                tree = parse_module(source)
            except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, ValueError) as whole_exc:
                return ModuleSummary(path, module, is_package, error=_unreadable(source, whole_exc)), False
    summary = ModuleSummary(path, module, is_package)
    # Python's own line breaks (str.splitlines would also break at \f and friends): noqa comments by line.
    _Summarizer(tree, text, summary, source.splitlines(), record_calls_of, line_numbers, statements).run()
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


BUILTINS = frozenset(dir(builtins))


class _Summarizer(Carriers, Sinks, Errbacks, InstanceAttributes, Definitions, TaskForms, ReadsById, Mentions):
    """Runs the ``visit_*``/``leave_*`` handlers below over the nodes a fast walk collected, in source order,
    once parents and scopes are known for the whole module (so results can be followed forwards)."""

    HANDLED = (cst.FunctionDef, cst.ClassDef, cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign, cst.AugAssign,
               cst.Attribute, cst.Call, cst.Element, cst.DictElement, cst.Return, cst.Yield, cst.Lambda, cst.NamedExpr,
               cst.Match)

    def __init__(self, tree: cst.Module, source: bytes, summary: ModuleSummary, lines: List[bytes],
                 record_calls_of: Optional[Collection[str]], line_numbers: Optional[List[int]] = None,
                 statements: Optional[Kept] = None):
        self.summary = summary
        self.lines = lines  # of the original source, for noqa comments
        self.record_calls_of = record_calls_of  # None: all
        self.walk = Walk(tree, source, self.import_target, self.HANDLED, line_numbers, statements)
        self.parents = self.walk.parents
        several = [name for name, targets in self.walk.module.bindings.items() if len(set(targets)) > 1]
        if several:
            summary.bound_several = bound_several(tree, several, summary.module, self.parents, self.ref_of,
                                                  self.import_target)
        # which tasks a local or table may hold
        self.held = PossibleValues(tree, self.parents, self.value_ref, self.import_target, self.several_ways)
        self.flow = ResultFlow(self.parents, self.walk.mentions, self.line_of, self.function_of, self.place,
                               self.ref_of, self.walk.hands_on_locals)
        self.stack: List[object] = []  # FunctionInfo / ClassInfo being visited (for update_state)
        self.star_kwargs: List[Optional[str]] = []  # beside ``stack``: each function's ``**`` parameter
        self.names: List[str] = []  # qualname parts
        self.testing = is_test_path(summary.path)
        self.values_in: Dict[cst.CSTNode, dict] = {}  # function or module -> ``values_by_name``
        self.rough = False  # steps placed by their line alone (``record_call``)
        self.env_schema: dict = {}  # ``env = environ.Env(X=(bool, True))``: defaults ``env("X")`` reads

    def run(self) -> None:
        for event, node in self.walk.events:
            handler = getattr(self, f"{'visit' if event == 'enter' else 'leave'}_{type(node).__name__}", None)
            if handler is not None:
                handler(node)
        self.functions_given()
        self.readers_as_values()
        self.children_read()
        self.settle_instance_attrs()
        # The walk, the flow and this object refer to each other (bound methods, scope trees): undone here,
        # the file's trees go by reference counting instead of waiting for the garbage collector.
        self.walk.close()
        self.summary.returns_followed = sorted(self.held.returns_asked)
        self.walk = self.flow = self.held = None

    def children_read(self) -> None:
        """``r.children[0].get()``, ``r.collect()``: the results of the tasks ``r``'s task started (any task: which
        ones it starts is not followed)."""
        for node in dict.fromkeys(self.flow.children_read):
            outcome = Outcome(OutcomeKind.READ, f"{code_of(node)}: the results of the tasks it started",
                              self.line_of(node))
            self.use(UseKind.ASYNC_RESULT, outcome, Reference(by_name=DYNAMIC), at=node)

    def functions_given(self) -> None:
        """What each plain module-level function returns (``FunctionInfo.gives``). On the fast path only for those
        kept whole (``name()`` of interest): the slicer may have cut some of any other's body. Not for a name
        defined twice (``if X: def f(...)`` beside ``def f(...)``)."""
        defined = Counter(info.qualname for info in self.summary.functions)
        for info in self.summary.functions:
            if info.qualname == info.name and defined[info.name] == 1 \
                    and (self.record_calls_of is None or f"{info.name}()" in self.record_calls_of):
                info.gives, info.gives_params = self.held.gives(info.name) or (None, {})
                function = self.held.plain_function(info.name)
                self.rough = True
                if info.gives is not None:  # a plain function: the parameters it only gives back
                    info.gives_back = self.flow.gives_back(function, f"{self.summary.module}.{info.name}")
                if function is not None:  # (a coroutine too: on_commit runs what it is handed all the same)
                    info.drops_returns = self.flow.drops_returns(function)
                self.rough = False

    # ----- positions and names -----
    def line_of(self, node: cst.CSTNode) -> int:
        return self.walk.line(node)

    def col_of(self, node: cst.CSTNode) -> int:
        return self.walk.position(node)[1]

    def place(self, node: cst.CSTNode) -> Tuple[int, int, str]:
        """(line, column, the code from there on its line) of ``node``: a step of a result's way."""
        if self.rough:
            line = self.walk.line(node)
            text = self.lines[line - 1].decode("utf-8", "replace") if 0 < line <= len(self.lines) else ""
            return line, -1, excerpt(text, len(text) - len(text.lstrip()))
        line, col = self.walk.position(node)
        if isinstance(node, (cst.Name, cst.Attribute)):  # a name is all of itself (the line may go on)
            return line, col, excerpt(code_of(node), 0)
        text = self.lines[line - 1].decode("utf-8", "replace") if 0 < line <= len(self.lines) else ""
        return line, col, excerpt(text, col, call=isinstance(node, cst.Call))

    def resolve_name(self, name: cst.Name) -> Optional[str]:
        """Dotted name of a bare name: an import, or something defined at module level; None for locals."""
        return self.walk.resolve(name, self.summary.module)

    def several_ways(self, name: cst.Name) -> Optional[List[Optional[str]]]:
        """What a module-level name bound more than one way may be (see ``bound_names``); None for any other."""
        found = self.summary.bound_several.get(name.value)
        return found if found is not None and self.walk.binding_scope(name) is self.walk.module else None

    def value_ref(self, node: Optional[cst.CSTNode]) -> Optional[str]:
        """``ref_of``, and for a name bound nowhere in a module with a star import (``from .tasks import *``), the
        module's own name for it: the project follows the star imports (``Symbols.resolve``). Only for values
        that may be tasks: a decorator or base class keeps ``ref_of``."""
        found = self.ref_of(node)
        if found is not None:
            return found
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if parts and isinstance(node, cst.Name) and self.several_ways(node) is not None:
            # ``tasks.render`` where ``tasks`` is one of two modules: the project reads each (``bound_several``)
            return ".".join([self.summary.module, node.value, *reversed(parts)])
        if not self.walk.star_imports:
            return None
        if not isinstance(node, cst.Name) or node.value in BUILTINS or node not in self.walk.scope_of \
                or self.walk.binding_scope(node) is not None:
            return None
        return ".".join([self.summary.module, node.value, *reversed(parts)])

    def ref_of(self, node: Optional[cst.CSTNode]) -> Optional[str]:
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        base = self.resolve_name(node) if isinstance(node, cst.Name) else imported_module(node)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

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
                self.setting(key, node.value, node, attribute=isinstance(name, cst.Attribute),
                             held_by=self.settings_holder() if isinstance(name, cst.Name) else None)
        self.attributes_set_on_others([target.target for target in node.targets])
        self.result_model_kept(node)  # ``model = TaskResult`` (a generic view lists its rows)
        self.attributes_set_on_self(node)
        if not self.stack and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.module_alias(node.targets[0].target.value, node.value, node)
        elif self.stack and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.global_rebound(node.targets[0].target, node.value, node)
        # A task object only called afterwards runs in this process; a bound ``.delay`` called afterwards enqueues.
        here = self.only_here([target.target for target in node.targets])
        self.value_use(node.value, objects=not here)
        if here:
            self.alias_mention(node.value)  # ``rep = helpers.report`` then ``rep(1)``: a call of ``report`` here

    def attributes_set_on_others(self, targets: list, names: Optional[List[str]] = None) -> None:
        """``obj.x = ...`` (also in a tuple of targets) on anything but a method's own ``self``/``cls`` (a class
        decorator's ``cls.x = t`` sets it on another class), or ``names`` set by a call."""
        found = list(names or [])
        own = self.method_owner() is not None
        for target in unpacked(targets):
            if isinstance(target, cst.Attribute) and not (
                    own and isinstance(target.value, cst.Name) and target.value.value in SELF):
                found.append(target.attr.value)
        self.summary.attributes_set.extend(n for n in dict.fromkeys(found) if n not in self.summary.attributes_set)

    def attributes_set_by_call(self, node: cst.Call, name: Optional[str]) -> None:
        """``setattr(v, "task", t)``, ``vars(v).update(task=t)``, ``v.__dict__.update(task=t)``."""
        func = node.func
        if name == "setattr" and isinstance(func, cst.Name) and len(node.args) >= 2:
            attribute = literal(node.args[1].value)
            self.attributes_set_on_others([], [attribute] if isinstance(attribute, str) and attribute != DYNAMIC else [])
        elif name == "update" and isinstance(func, cst.Attribute) and (
                (isinstance(func.value, cst.Call) and call_name(func.value) == "vars")
                or (isinstance(func.value, cst.Attribute) and func.value.attr.value == "__dict__")):
            self.attributes_set_on_others([], [arg.keyword.value for arg in node.args if arg.keyword is not None])
        elif any(arg.keyword is not None and arg.keyword.value == "task_cls" for arg in node.args):
            self.attributes_set_on_others([], ["task_cls"])  # ``Celery(task_cls=Waiting)`` sets the app's task_cls

    # ----- calls: each concern in its own handler -----
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        # ``Celery[DjangoTask[..., Any]]("weblate")``: a subscripted generic class is still the class
        name = last_name(func.value) if isinstance(func, cst.Subscript) else call_name(node)
        self.record_call(node)
        self.argument_mentions(node)
        if is_getattr(node):
            self.getattr_mention(node)
        self.attributes_set_by_call(node, name)
        self.forwarded_kwargs(node)
        self.task_method(node)
        self.progress(node, name)
        self.read_by_id(node, name)
        self.app_and_config(node, name)
        self.periodic_task_entry(node, name)
        self.errback(node, name)
        self.canvas_of_unseen_members(node, name)
        self.method_caller(node, name)
        self.callee_chosen(func)
        if isinstance(func, cst.Attribute):
            for receiver in _branches(func.value):  # ``(self.task or render).delay()``: a call on either
                self.method_call(node, receiver, name)
        elif isinstance(func, cst.Name):
            self.function_call(node, func)
        elif is_getattr(func):
            self.getattr_call(node, func)
        if isinstance(func, cst.Call) and isinstance(func.func, cst.Attribute) and func.func.attr.value == "task":
            self.registration(node, func)
            return  # the registered function is not handed on as a value
        if self.testing and (name in MOCK_CALLS or (name or "").startswith("assert_") or _replaces_a_method(node, name)) \
                or name == "super" and isinstance(func, cst.Name):
            # a test configuring or checking a mock: ``patch(..., wraps=t.delay)``, ``assert_called_with(t)``;
            # ``super(MyTask, self)``: the class names itself, it is not handed on
            return
        # (a callback runs, a base class is built on, and getattr's module is looked into: none is handed on)
        for arg in node.args[1:] if is_getattr(node) else node.args:
            beat = self.bare_beat_entry(node, name, arg)
            if beat is not None:
                outcome = Outcome(DISCARDED, "periodic task (beat never reads results)", self.line_of(node))
                self.use(UseKind.BEAT, outcome, Reference(target=beat))
                continue
            if arg.keyword is None or arg.keyword.value not in NOT_HANDED_ON:
                self.value_use(arg.value)
            if isinstance(arg.value, cst.Name) and self.bound_task_itself(arg.value):
                # ``ProgressRecorder(self)`` in a ``bind=True`` task: what it is handed to may report its progress
                # (the slicer keeps such statements by the first parameter's name, ``slicing.SELF_HANDED``).
                self.running_task(Running.PROGRESS, f"the task itself handed to {name or 'a call'}()", arg.value,
                                  arg.value.value)

    def callee_chosen(self, func: cst.BaseExpression) -> None:
        """``(a.delay if x else b.delay)(1)``, ``(custom or start)(1)``: each branch is called here."""
        if isinstance(func, (cst.IfExp, cst.BooleanOperation)):
            self.value_use(func, objects=False)  # a bound ``.delay`` is followed from here: called, it enqueues
            self.alias_mention(func)  # a function, as ``f = a if x else b`` then ``f(1)``

    def renamed_call_of_interest(self, node: cst.Call) -> bool:
        """``from proj.helpers import start as s`` then ``s(1)``: a call of ``start`` (an import at module level)."""
        target = self.summary.imports.get(node.func.value) if isinstance(node.func, cst.Name) else None
        return target is not None and target.rpartition(".")[2] in self.record_calls_of

    def record_call(self, node: cst.Call) -> None:
        """A call of a function this module can name (a helper that may return a result, a getattr dispatcher):
        its literal arguments, and what happens to its value."""
        imported = imported_by_path(node.func)  # ``import_string("proj.service.start")(1)``
        name = imported.rpartition(".")[2] if imported else call_name(node)
        if self.record_calls_of is not None and name not in self.record_calls_of \
                and not self.renamed_call_of_interest(node):
            return
        # (``value_ref``: a name a star import brings, ``from .helpers import *`` then ``report(1)``)
        ref = self.value_ref(node.func) if isinstance(node.func, (cst.Name, cst.Attribute)) else imported
        if ref is None:
            return
        # Most calls are not of a helper returning a result: their way is placed by line only (placing a column
        # costs LibCST's code generation, a fifth of a cold run when done for every call)
        self.rough = True
        try:
            outcome, value_outcome = self.flow.result(node), self.flow.task_object(node)
        finally:
            self.rough = False
        call = Call(ref, [], {}, False, outcome, self.line_of(node), scope=".".join(self.names),
                    in_lambda=self.in_kept_lambda(node), value_outcome=value_outcome)
        for arg in node.args:
            value_ref = self.held.names(arg.value)
            value_ref = None if self.held.open_table else value_ref  # other modules may add to that table
            if arg.star:
                call.star = True
            elif arg.keyword is not None:
                call.kwargs[arg.keyword.value] = literal(arg.value)
                call.kwrefs[arg.keyword.value] = value_ref
            else:
                call.args.append(literal(arg.value))
                call.refs.append(value_ref)
        self.summary.calls.append(call)


def _branches(value: cst.BaseExpression) -> List[cst.BaseExpression]:
    """The values ``value`` may be: each branch of ``a if x else b`` and ``a or b``, else itself."""
    if isinstance(value, cst.IfExp):
        return _branches(value.body) + _branches(value.orelse)
    if isinstance(value, cst.BooleanOperation):
        return _branches(value.left) + _branches(value.right)
    return [value]
