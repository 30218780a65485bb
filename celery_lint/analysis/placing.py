"""Where LibCST's statements are, without LibCST's position metadata over the whole tree: each statement
matched by structure to Python's own parse (which knows the lines, eight times faster), and the nodes of one
statement placed by generating that statement's code alone."""
from __future__ import annotations

import ast
import re
from typing import Callable, Dict, Optional, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .children import children
from .parsing import python_pieces
from .statements import Kept, kind_of


def generate_positions(module: cst.Module):
    """LibCST's PositionProvider, minus the metadata wrapper's extra walk over the tree; also the code."""
    try:
        from libcst.metadata.position_provider import PositionProvidingCodegenState

        provider = PositionProvider()
        state = PositionProvidingCodegenState(default_indent=module.default_indent,
                                              default_newline=module.default_newline, provider=provider)
        module._codegen(state)
        return provider._computed, "".join(state.tokens)
    except (ImportError, AttributeError, TypeError):  # another LibCST: the public, slower way
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider), module.code


_PASS_BLOCK = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def header_only(statement: cst.CSTNode) -> cst.CSTNode:
    """A compound statement with its blocks cut down to ``pass``: enough to place its header's nodes."""
    if isinstance(statement, cst.SimpleStatementLine) or not isinstance(getattr(statement, "body", None), cst.BaseSuite):
        return statement
    if isinstance(statement, (cst.Try, cst.TryStar)):
        return statement  # rare around a task; the fallback in ``position`` places it
    changes = {"body": _PASS_BLOCK}
    if hasattr(statement, "orelse"):
        changes["orelse"] = None
    return statement.with_changes(**changes)


def statement_lines(module: cst.Module, source: bytes, kept: Optional[Kept] = None
                    ) -> Tuple[Dict[cst.CSTNode, int], dict, dict]:
    """The line of every statement (nested ones too), from Python's own fast parser, matched by structure;
    the (first, last) lines of each simple statement line; each decorated definition's decorator lines. Only
    these numbers are kept, never Python's tree (which would stay alive beside LibCST's, as large again).
    ``kept``: Python's statements of ``source`` as the slicer already knows them, instead of parsing it."""
    out: Dict[cst.CSTNode, int] = {}
    spans: dict = {}
    decorators: dict = {}
    matched = 0  # top-level statements of ``module`` matched so far
    for tree in [kept] if kept is not None else python_pieces(source):
        if tree is None:
            break
        matched += _map_block(module.body[matched:], tree.body, out, spans, decorators)
    return out, spans, decorators


def _map_block(cst_statements, ast_statements, out: Dict[cst.CSTNode, int], spans: dict, decorators: dict) -> int:
    """Match each of ``cst_statements`` to Python's; how many were matched before Python's ran out."""
    index = 0
    for count, statement in enumerate(cst_statements):
        if index >= len(ast_statements):
            return count
        first = ast_statements[index]
        out[statement] = first.lineno  # both parsers put a decorated def at its ``def`` line
        if isinstance(statement, cst.SimpleStatementLine):
            small = ast_statements[index:index + len(statement.body)]
            spans[statement] = (first.lineno, max(s.end_lineno or s.lineno for s in small))
            index += len(statement.body)
            continue
        index += 1
        if getattr(first, "decorator_list", None):
            decorators[statement] = [(d.lineno, d.end_lineno or d.lineno) for d in first.decorator_list]
        _map_compound(statement, first, out, spans, decorators)
    return len(cst_statements)


def _map_compound(statement, node, out, spans: dict, decorators: dict) -> None:
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock) and isinstance(getattr(node, "body", None), list):
        _map_block(body.body, node.body, out, spans, decorators)
    orelse = getattr(statement, "orelse", None)
    ast_orelse = getattr(node, "orelse", None) or []
    if isinstance(orelse, cst.If) and ast_orelse and kind_of(ast_orelse[0]) is ast.If:
        out[orelse] = ast_orelse[0].lineno
        _map_compound(orelse, ast_orelse[0], out, spans, decorators)
    elif isinstance(orelse, cst.Else) and isinstance(orelse.body, cst.IndentedBlock):
        _map_block(orelse.body.body, ast_orelse, out, spans, decorators)
    if isinstance(statement, cst.Try) and kind_of(node) is ast.Try:
        for handler, ast_handler in zip(statement.handlers, node.handlers):
            if ast_handler.lineno:  # ``except (A, B) as e:`` placed as a header of its own, not the whole ``try``
                out[handler] = ast_handler.lineno
            if isinstance(handler.body, cst.IndentedBlock):
                _map_block(handler.body.body, ast_handler.body, out, spans, decorators)
        if statement.finalbody is not None and isinstance(statement.finalbody.body, cst.IndentedBlock):
            _map_block(statement.finalbody.body.body, node.finalbody, out, spans, decorators)


# Nodes that are only layout: a statement's first code word is the first child that is none of these.
_LAYOUT = (cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.SimpleWhitespace, cst.ParenthesizedWhitespace,
           cst.Comment)


def line_by_words(node: cst.CSTNode, statement: cst.CSTNode, span: tuple, parents: dict,
                  word_lines: Callable[[tuple], Dict[str, Optional[int]]],
                  source_line: Callable[[int], str]) -> Optional[int]:
    """The line of ``node`` within ``statement`` (a simple statement line or a decorator, on the lines ``span``
    as Python's parser gave them), when the text tells it; None: ask LibCST, which generates the statement's code.
    - a statement on one line, or a node its statement starts with: the first line;
    - else a node starting with a name, or a chain of attributes, calls and subscripts on one (no brackets
      around it): the line of its first word where that word is written once in the statement (strings and
      comments included); or of a later word of its first run of attributes (``Frequency.DAILY`` where the
      class is named on many lines) written once, where that line holds the whole run up to it."""
    first, last = span
    if first == last or _starts(node, statement, parents):
        return first
    attributes = []  # the attribute names right after the first word, outermost first
    while type(node) is not cst.Name:
        if getattr(node, "lpar", None):
            return None
        if type(node) is cst.Attribute:
            attributes.append(node.attr.value)
            node = node.value
        elif type(node) in (cst.Call, cst.Subscript):
            attributes = []  # brackets between words: only what follows the first word counts
            node = node.func if type(node) is cst.Call else node.value
        else:
            return None
    if getattr(node, "lpar", None):
        return None
    words = word_lines(span)
    line = words.get(node.value)
    if line is not None:
        return line
    run = re.escape(node.value)
    for attribute in reversed(attributes):
        run += r"\s*\.\s*" + re.escape(attribute)
        line = words.get(attribute)
        if line is not None:  # written once: this node's; is its first word on that line too?
            return line if re.search(r"(?<![\w.])" + run + r"\b", source_line(line)) else None
    return None


# Nodes whose code starts with the code of their first child (no keyword or operator before it), and that child.
_FIRST_CHILD = {
    cst.SimpleStatementLine: lambda node: node.body[0],
    cst.Expr: lambda node: node.value,
    cst.Assign: lambda node: node.targets[0],
    cst.AssignTarget: lambda node: node.target,
    cst.AugAssign: lambda node: node.target,
    cst.AnnAssign: lambda node: node.target,
    cst.Call: lambda node: node.func,
    cst.Attribute: lambda node: node.value,
    cst.Subscript: lambda node: node.value,
}


def start_column(node: cst.CSTNode, statement: cst.CSTNode, parents: dict, first_line: str) -> Optional[int]:
    """The column of ``node`` when the simple statement line ``statement`` (whose first line is ``first_line``)
    starts with it: where the line's code starts, read off the text (as LibCST places it, without generating
    the statement's code). None when that cannot be told so (a keyword before it, brackets, odd indentation)."""
    current = node
    while current is not statement:
        parent = parents.get(current)
        first = _FIRST_CHILD.get(type(parent))
        if first is None or getattr(current, "lpar", None) or first(parent) is not current:
            return None
        current = parent
    while type(node) is not cst.Name:  # down to the name it starts with, to check it is written there
        first = _FIRST_CHILD.get(type(node))
        if first is None or type(node) not in (cst.Expr, cst.Assign, cst.AssignTarget, cst.AugAssign, cst.AnnAssign,
                                               cst.Call, cst.Attribute, cst.Subscript) or getattr(node, "lpar", None):
            return None
        node = first(node)
    column = len(first_line) - len(first_line.lstrip(" \t"))
    if getattr(node, "lpar", None) or not _NAME_AT.match(first_line, column) \
            or _NAME_AT.match(first_line, column).group() != node.value:
        return None
    return column


_NAME_AT = re.compile(r"\w+")


def _starts(node: cst.CSTNode, statement: cst.CSTNode, parents: dict) -> bool:
    """Does ``statement``'s code start with ``node`` (each node on the way up its parent's first child, layout
    aside)? Not said of a decorator's own ``@`` (a line break may follow it), nor through brackets (LibCST
    places ``(x)`` where ``x`` starts, maybe on the next line)."""
    if isinstance(statement, cst.Decorator):
        return False
    while node is not statement:
        parent = parents.get(node)
        if parent is None or getattr(node, "lpar", None):
            return False
        lead = next((child for child in children(parent) if not isinstance(child, _LAYOUT)), None)
        if lead is not node:
            return False
        node = parent
    return True
