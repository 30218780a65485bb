"""One fast pass over a LibCST tree: parents, name scopes and positions, without LibCST's metadata providers.

LibCST's ParentNodeProvider and ScopeProvider each rebuild the tree through the visitor machinery, and cost
several times the parse itself. The summary needs much less: the parent of a node, whether a name is local
or comes from an import or the module, and the other mentions of a local variable. Walking the dataclass
fields directly gives all three at a fraction of the cost. Positions start from the statement lines of
Python's own parser: a node in a one-line statement, a def or class name and a decorator need nothing more;
anything else gets LibCST's PositionProvider, run on its innermost statement alone.
"""
from __future__ import annotations

import re
from dataclasses import fields
from typing import Dict, List, Optional

import libcst as cst

from .children import with_subclasses
from .placing import generate_positions, header_only, line_by_words, start_column, statement_lines
from .scopes import LOCALS_CALLS, WALRUS, Scope
from .statements import Kept

# Fields that never hold an expression or statement we look at: skipping them halves the walk.
_SKIP_PREFIXES = ("whitespace", "lpar", "rpar", "leading_lines", "lines_after", "header", "footer", "semicolon",
                  "comma", "newline", "trailing_whitespace", "equal", "colon", "dot", "operator", "lbracket",
                  "rbracket", "lbrace", "rbrace", "first_line", "empty_lines", "last_line", "indent")
_FIELDS: Dict[type, tuple] = {}
# One pattern for every name (compiling one per name cost more than the rest of the lookup).
_OUTSIDE = {cst.Param: ("default", "annotation")}  # fields of a node evaluated in the scope around its own
_DEFINITION_NAME = re.compile(r"\b(def|class)\s+(\w+)")
_WORDS = re.compile(r"\w+")


def _child_fields(node_type: type) -> tuple:
    names = _FIELDS.get(node_type)
    if names is None:
        names = tuple(f.name for f in fields(node_type) if not f.name.startswith(_SKIP_PREFIXES))
        _FIELDS[node_type] = names
    return names


class Walk:
    """Parents, scopes, and the nodes (in source order) that the summary handles."""

    def __init__(self, module: cst.Module, source: bytes, import_target, interesting: tuple,
                 line_numbers: Optional[List[int]] = None, statements: Optional[Kept] = None):
        self.module_node = module
        self.source = source
        self.line_numbers = line_numbers  # original line of each line of ``source``, when it was cut from a file
        self.statements = statements  # Python's statements of ``source``, when the slicer knows them
        self.import_target = import_target  # (import node, bound name) -> dotted target
        self.interesting = interesting
        self.parents: Dict[cst.CSTNode, cst.CSTNode] = {}
        self.scope_of: Dict[cst.Name, Scope] = {}
        self.events: List[tuple] = []  # ("enter"|"leave", node)
        self.module = Scope("module", None)
        self.star_imports = False  # ``from x import *`` at module level: a name bound nowhere may come from there
        self._statement_lines: Optional[Dict[cst.CSTNode, int]] = None  # statement -> line
        self._spans: Dict[cst.CSTNode, tuple] = {}  # simple statement line -> (first, last) line, Python's parser's
        self._words: Dict[tuple, Dict[str, Optional[int]]] = {}  # statement lines -> word -> its line if once
        self._statements: Dict[cst.CSTNode, Optional[cst.CSTNode]] = {}  # node -> ``_statement_of`` it
        self._decorator_spans: Dict[cst.CSTNode, list] = {}  # decorated definition -> its decorators' lines
        self._positions: Dict[cst.CSTNode, tuple] = {}
        self._source_lines: Optional[List[str]] = None
        self._walk(module, None, self.module)

    def close(self) -> None:
        """Undo the links that make cycles (scopes and their parents, the summary's import resolver)."""
        todo = [self.module]
        while todo:
            scope = todo.pop()
            todo.extend(scope.children)
            scope.children, scope.parent = [], None
        self.import_target = None

    # ----- the walk -----
    def _walk(self, node, parent, scope: Scope) -> None:
        # Every LibCST node class has ABCMeta for metaclass, so ``isinstance`` on them runs Python code; this
        # loop visits every node, so it asks ``type(node)`` of plain sets and dicts instead (four times faster).
        parents, events, scope_of = self.parents, self.events, self.scope_of
        interesting = with_subclasses(self.interesting)
        stack = [(node, parent, scope, False)]
        while stack:
            node, parent, scope, leaving = stack.pop()
            if leaving:
                events.append(("leave", node))
                continue
            parents[node] = parent  # (the module's is None, as for a node never seen)
            node_type = type(node)
            if node_type in interesting:
                events.append(("enter", node))
                if node_type in _DEFINITIONS:
                    stack.append((node, parent, scope, True))
            binder = _BINDERS.get(node_type)
            scope.current = node  # (what ``bind`` records binding a class's name first)
            inner = binder(self, node, scope) if binder is not None else None
            if node_type is cst.Name:
                scope_of[node] = scope
                scope.mentions.setdefault(node.value, []).append(node)
                if scope.kind == "class":
                    scope.class_mention(node, parents)
                continue
            children = []
            for name in _child_fields(node_type):
                value = getattr(node, name)
                if isinstance(value, (list, tuple)):  # builtins: a fast check, unlike ABCMeta classes
                    children.extend((name, v) for v in value if _is_node(v))
                elif _is_node(value):
                    children.append((name, value))
            not_mentions = _NOT_MENTIONS.get(node_type, ())
            outside = _OUTSIDE.get(node_type, ())
            for name, child in reversed(children):
                if not_mentions == "all" or name in not_mentions:
                    parents[child] = node  # not a variable lookup: ``x.attr``, ``f(keyword=...)``, import aliases
                    continue
                # a decorator, and a parameter's default or annotation, are evaluated where the def stands
                child_scope = scope if (name == "decorators" or inner is None) else inner
                child_scope = child_scope.parent or child_scope if name in outside else child_scope
                stack.append((child, node, child_scope, False))

    # What each kind of node binds in ``scope``; a function, class, lambda or comprehension returns the scope
    # its body opens.
    def _bind_definition(self, node, scope: Scope) -> Scope:
        scope.bind(node.name.value)
        is_function = type(node) is cst.FunctionDef
        inner = Scope("function" if is_function else "class", scope)
        if is_function:
            self._bind_params(node.params, inner)
        return inner

    def _bind_lambda(self, node, scope: Scope) -> Scope:
        inner = Scope("function", scope)
        self._bind_params(node.params, inner)
        return inner

    def _bind_comprehension(self, node, scope: Scope) -> Scope:
        inner = Scope("comprehension", scope)
        comp = node.for_in
        while comp is not None:
            self._bind_target(comp.target, inner)
            comp = comp.inner_for_in
        return inner

    def _bind_import(self, node, scope: Scope) -> None:
        if isinstance(node.names, cst.ImportStar):
            self.star_imports = self.star_imports or scope is self.module
            return
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            local = dotted_name(bound).split(".")[0] if alias.asname is None and isinstance(node, cst.Import) else dotted_name(bound)
            scope.bind(local, self.import_target(node, local) or "?")

    def _bind_assign(self, node, scope: Scope) -> None:
        for target in node.targets:
            self._bind_target(target.target, scope)

    def _bind_single_target(self, node, scope: Scope) -> None:  # x: int = ..., x += ..., (x := ...), for x in
        if type(node) is cst.NamedExpr and isinstance(node.target, cst.Name):
            scope.bind(node.target.value, WALRUS)
            return
        self._bind_target(node.target, scope)

    def _bind_with_item(self, node, scope: Scope) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, scope)

    def _bind_except_handler(self, node, scope: Scope) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, scope)

    def _bind_global(self, node, scope: Scope) -> None:
        scope.globals.update(item.name.value for item in node.names)
        if type(node) is cst.Nonlocal:
            scope.nonlocals.update(item.name.value for item in node.names)

    def _bind_params(self, params: cst.Parameters, scope: Scope) -> None:
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            scope.bind(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value)

    def _bind_target(self, target, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.bind(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, scope)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, scope)

    # ----- names -----
    def resolve(self, name: cst.Name, module_name: str) -> Optional[str]:
        """The dotted name a bare name refers to: an import or a module-level definition; None for locals,
        builtins and names bound in more than one way."""
        scope = self.scope_of.get(name)
        if scope is None:
            return None
        start = scope
        while scope is not None:
            if name.value in scope.globals:
                scope = self.module
                continue
            if scope.sees(name, start) and name.value in scope.bindings:
                targets = set(scope.bindings[name.value])
                if len(targets) != 1:
                    return None
                target = targets.pop()
                if target == "?":
                    return None
                if target is not None:
                    return target
                return f"{module_name}.{name.value}" if scope is self.module else None
            scope = scope.parent
        return None

    def binding_scope(self, name: cst.Name) -> Optional[Scope]:
        """The scope whose binding the bare name refers to (the module for ``global``/``nonlocal``, which
        escape); None when no scope it sees binds it (a builtin, or a name a star import brings)."""
        scope = start = self.scope_of.get(name)
        while scope is not None:
            if name.value in scope.globals:
                return self.module
            if scope.sees(name, start) and name.value in scope.bindings:
                return scope
            scope = scope.parent
        return None

    def mentions(self, target: cst.Name) -> Optional[List[cst.Name]]:
        """Other mentions of the local variable ``target`` (in its function and closures); None when it is a
        module or class variable, which anything may read. Asked of a mention in a closure or of a global, the
        scope that binds the name answers (``PENDING.append(r)`` in a function fills the module's list)."""
        scope = self.binding_scope(target)
        if scope is None or scope.kind in ("module", "class"):
            return None
        found: List[cst.Name] = []
        todo = [scope]
        while todo:
            current = todo.pop()
            found.extend(n for n in current.mentions.get(target.value, []) if n is not target)
            if any(target.value in child.nonlocals for child in current.children):
                return None  # a closure rebinds it (``nonlocal``): not followed
            todo.extend(c for c in current.children if target.value not in c.bindings)
        return found

    def hands_on_locals(self, target: cst.Name) -> bool:
        """Does the function binding the local ``target`` hand its locals on (``locals()``, ``vars()``, ``eval``)?"""
        scope = self.binding_scope(target)
        return scope is not None and scope.kind == "function" and not LOCALS_CALLS.isdisjoint(scope.mentions)

    # ----- positions -----
    def position(self, node: cst.CSTNode) -> tuple:
        """(line, column) of ``node`` in the original file."""
        line, column = self._position(node)
        return self._original_line(line), column

    def line(self, node: cst.CSTNode) -> int:
        """The line of ``node`` in the original file. Inside a simple statement (most nodes asked about are) it
        comes from Python's parser, with no code generated: the statement's line when it is written on one,
        else the line of the node's first word where that word is written once in the statement."""
        if node not in self._positions:
            self._statement_lines_map()
            statement = self._statement_of(node)
            if type(statement) in _LINE_STATEMENTS:
                span = self._span(statement)
                found = line_by_words(node, statement, span, self.parents, self._word_lines, self._source_line) \
                    if span is not None else None
                if found is not None:
                    return self._original_line(found)
        return self.position(node)[0]

    def _statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The innermost simple statement line, decorator or compound statement around ``node`` (itself
        included). Remembered for every node on the way up, so that asking of every link of a 30,000-long
        chain costs one climb in all, not one each."""
        path = []
        found = None
        while node is not None:
            if type(node) in _STATEMENTS:
                found = node
                break
            known = self._statements.get(node, _UNKNOWN)
            if known is not _UNKNOWN:
                found = known
                break
            path.append(node)
            node = self.parents.get(node)
        for each in path:
            self._statements[each] = found
        return found

    def _span(self, statement) -> Optional[tuple]:
        """(first, last) line of a simple statement line or a decorator, from Python's parser."""
        if isinstance(statement, cst.SimpleStatementLine):
            return self._spans.get(statement)
        return self._decorator_span(statement)

    def _decorator_span(self, decorator: cst.Decorator) -> Optional[tuple]:
        """(first, last) line of a decorator's expression, when its definition was matched to Python's."""
        definition = self.parents.get(decorator)
        if definition not in self._decorator_spans:
            return None
        index = next(i for i, each in enumerate(definition.decorators) if each is decorator)
        spans = self._decorator_spans[definition]
        return spans[index] if index < len(spans) else None

    def _word_lines(self, span: tuple) -> Dict[str, Optional[int]]:
        """Each word of the lines ``span``: the line it is on, or None where it is written more than once.
        Made once per statement (a statement of 10,000 lines must not be read again for each of its calls)."""
        found = self._words.get(span)
        if found is None:
            found = self._words[span] = {}
            for number in range(span[0], span[1] + 1):
                for word in _WORDS.findall(self._source_line(number)):
                    found[word] = number if word not in found else None
        return found

    def lines_of(self, node: cst.CSTNode, body: Optional[cst.CSTNode] = None) -> range:
        """Every original line ``node`` spans (a comment line the slicer cut from inside it included). ``body``:
        the part of ``node`` whose lines count (a decorator's expression, without the lines before its ``@``)."""
        first = self._position(node)[0]
        code = cst.Module(body=[]).code_for_node(body or node)
        last = first + code.rstrip("\r\n").count("\n")
        return range(self._original_line(first), self._original_line(last) + 1)

    def _original_line(self, line: int) -> int:
        if self.line_numbers is not None and 0 < line <= len(self.line_numbers):
            return self.line_numbers[line - 1]
        return line

    def _position(self, node: cst.CSTNode) -> tuple:
        """(line, column) of ``node`` in ``source``. LibCST computes positions by generating code, so we
        generate only the innermost statement around the node (a compound statement without its body), and
        place it with the line numbers of Python's own parser."""
        cached = self._positions.get(node)
        if cached is not None:
            return cached
        lines = self._statement_lines_map()
        header = self._header_position(node, lines)
        if header is None:
            header = self._statement_start(node)
        if header is not None:
            self._positions[node] = header
            return header
        statement = node
        while statement is not None and not (statement in lines and not self._in_body(node, statement)):
            statement = self.parents.get(statement)
        if statement is not None:
            self._record(header_only(statement), lines[statement])
        if node not in self._positions:  # a header we cut away, or blocks we could not match: the whole
            top = node  # top-level statement
            while self.parents.get(top) is not None and not isinstance(self.parents[top], cst.Module):
                top = self.parents[top]
            if top in lines:
                self._record(top, lines[top])
        if node not in self._positions:  # no line map at all (syntax newer than this Python parses)
            self._record(self.module_node, 1)
        return self._positions[node]

    def _header_position(self, node: cst.CSTNode, lines) -> Optional[tuple]:
        """A def or class name, or a decorator, read off its line (whose number Python's parser gave): every
        task definition asks for these, and generating the header's code for them cost more than all else."""
        parent = self.parents.get(node)
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef)) and parent.name is node and parent in lines:
            line = lines[parent]
            keyword = "class" if isinstance(parent, cst.ClassDef) else "def"
            for match in _DEFINITION_NAME.finditer(self._source_line(line)):
                if match.group(1) == keyword and match.group(2) == node.value:
                    return line, match.start(2)
            return None
        found = self._decorator_span(node) if isinstance(node, cst.Decorator) else None
        if found is not None:
            text = self._source_line(found[0])
            column = len(text) - len(text.lstrip())
            return (found[0], column) if text[column:column + 1] == "@" else None
        return None

    def _statement_start(self, node: cst.CSTNode) -> Optional[tuple]:
        """A node a simple statement starts with (``send.delay(x)``, ``job = ...``, most enqueue calls): on the
        statement's first line, where its code starts."""
        statement = self._statement_of(node)
        span = self._spans.get(statement) if type(statement) is cst.SimpleStatementLine else None
        if span is None:
            return None
        column = start_column(node, statement, self.parents, self._source_line(span[0]))
        return (span[0], column) if column is not None else None

    def _source_line(self, number: int) -> str:
        if self._source_lines is None:
            # Python's own line breaks: str.splitlines would also break at \f and friends
            self._source_lines = [line.decode("utf-8", "replace") for line in self.source.splitlines()]
        return self._source_lines[number - 1] if 0 < number <= len(self._source_lines) else ""

    def _in_body(self, node, statement) -> bool:
        """Is ``node`` inside a block of the compound ``statement`` (rather than in its header)?"""
        if isinstance(statement, cst.SimpleStatementLine) or not isinstance(getattr(statement, "body", None), cst.BaseSuite):
            return False
        blocks = [getattr(statement, name, None) for name in ("body", "orelse", "finalbody")]
        blocks += list(getattr(statement, "handlers", ()))
        while node is not None and node is not statement:
            if any(node is block for block in blocks if block is not None):
                return True
            node = self.parents.get(node)
        return False

    def _record(self, stub, first_line: int) -> None:
        """Positions of every node of ``stub`` (a statement generated on its own, or the module)."""
        module = stub if isinstance(stub, cst.Module) else cst.Module(body=[stub])
        positions, code = generate_positions(module)
        offset = 0 if stub is module else first_line - positions[stub].start.line
        shifts = self._column_shifts(code, offset)
        for key, value in positions.items():
            line = value.start.line + offset
            self._positions.setdefault(key, (line, value.start.column + shifts.get(line, 0)))

    def _column_shifts(self, code: str, offset: int) -> Dict[int, int]:
        """A statement generated on its own loses its block indentation: per line, what to add back."""
        if offset == 0:
            return {}
        shifts = {}
        for number, generated in enumerate(code.splitlines(), start=1 + offset):
            original = self._source_line(number)
            if original and generated.strip():
                # ``elif x:`` is generated as ``if x:``, and a header loses its comment: find the text itself.
                start = original.find(generated.strip())
                generated_indent = len(generated) - len(generated.lstrip())
                if start > generated_indent:
                    shifts[number] = start - generated_indent
        return shifts

    def _statement_lines_map(self) -> Dict[cst.CSTNode, int]:
        """Line of every statement (nested ones too), from Python's own fast parser, matched by structure."""
        if self._statement_lines is None:
            found = statement_lines(self.module_node, self.source, self.statements)
            self._statement_lines, self._spans, self._decorator_spans = found
            self.statements = None  # only these numbers are kept
        return self._statement_lines


_DEFINITIONS = {cst.FunctionDef, cst.ClassDef}
_UNKNOWN = object()
_BINDERS = {
    cst.FunctionDef: Walk._bind_definition,
    cst.ClassDef: Walk._bind_definition,
    cst.Lambda: Walk._bind_lambda,
    **dict.fromkeys((cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp), Walk._bind_comprehension),
    cst.Import: Walk._bind_import,
    cst.ImportFrom: Walk._bind_import,
    cst.Assign: Walk._bind_assign,
    **dict.fromkeys((cst.AnnAssign, cst.AugAssign, cst.NamedExpr, cst.For), Walk._bind_single_target),
    cst.WithItem: Walk._bind_with_item,
    cst.ExceptHandler: Walk._bind_except_handler,
    cst.Global: Walk._bind_global,
    cst.Nonlocal: Walk._bind_global,
}
# Fields whose names are not variable lookups: ``x.attr``, ``f(keyword=...)``, and all of an import alias.
_NOT_MENTIONS = {cst.Attribute: ("attr",), cst.Arg: ("keyword",), cst.ImportAlias: "all", cst.AsName: "all"}
_NODE_TYPES: Dict[type, bool] = {}


def _is_node(value) -> bool:
    value_type = type(value)
    known = _NODE_TYPES.get(value_type)
    if known is None:
        known = _NODE_TYPES[value_type] = isinstance(value, cst.CSTNode)
    return known




_LINE_STATEMENTS = frozenset({cst.SimpleStatementLine, cst.Decorator})  # Python's parser knows their lines
_STATEMENTS = _LINE_STATEMENTS | with_subclasses((cst.BaseCompoundStatement,))


def last_name(node) -> Optional[str]:
    """``delay`` for ``t.delay``, ``chain`` for ``chain``: the last name of a Name or Attribute chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def dotted_name(node) -> str:
    """``a.b.c`` for a Name or an Attribute chain of Names (an import's module or alias); else ``''``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""
