"""How deep the expressions of a file nest, from Python's own parser, before LibCST's parser sees them.

LibCST's parser takes time, and memory, that grow with the square of an expression's depth or worse: a
4,000-link call chain (``x.delay().delay()...``) took minutes, a run of 8,000 unary minus signs 3.4 GB. A file
with an expression deeper than ``MAX_DEPTH`` is therefore reported, not parsed (its tasks stay "maybe", as for
any file that does not parse). Only long expressions are measured: each level of nesting costs at least one
character, so an expression shorter than ``MAX_DEPTH`` characters cannot reach it.
"""
from __future__ import annotations

import ast
import bisect
from itertools import accumulate
from typing import List, Optional, Sequence, Tuple

MAX_DEPTH = 1000  # LibCST parses an expression this deep in about a second


def too_deep(source: bytes) -> Optional[str]:
    """The error for ``source`` when an expression nests deeper than ``MAX_DEPTH``, or deeper than Python's
    own parser goes; else None (a syntax error included: LibCST may know newer syntax, or says what is wrong)."""
    from .parsing import python_pieces  # imports LibCST, which the slicer's check (``too_deep_in``) must not

    if len(source) < MAX_DEPTH:
        return None
    starts = [0, *accumulate(len(line) for line in source.splitlines(keepends=True))]
    try:
        for tree in python_pieces(source, parse=_parsed):
            found = _too_deep_in(tree, starts) if tree is not None else None
            if found is not None:
                return found
    except (RecursionError, MemoryError) as exc:  # "too complex", or the memory ran out
        if isinstance(exc, MemoryError) and "complex" not in str(exc) and str(exc):
            return "cannot analyse: out of memory"
        return "cannot analyse: nested too deeply for Python's own parser"
    return None


def _parsed(source: bytes) -> Optional[ast.Module]:
    """Python's tree; None for a syntax error, which LibCST reports (or reads: newer syntax); Python's
    refusal to nest deeper, and running out of memory, raised."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def too_deep_in(tree: ast.Module, lines: List[bytes], cut: Sequence[Tuple[int, int]] = ()) -> Optional[str]:
    """``too_deep`` of the source on ``lines`` (kept ends) with the statements on the line ranges ``cut`` (sorted,
    each a whole run of statements) taken out, from Python's tree of the whole of it (``tree``, already parsed)."""
    starts = [0, *accumulate(len(line) for line in lines)]
    return _too_deep_in(tree, starts, cut) if starts[-1] >= MAX_DEPTH else None


def _too_deep_in(tree: ast.Module, starts: List[int], cut: Sequence[Tuple[int, int]] = ()) -> Optional[str]:
    todo: List[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and (_length(child, starts) < MAX_DEPTH or _inside(child, cut)):
                continue  # too short to hold an expression that deep, or not in the text that is parsed
            if not isinstance(child, ast.expr):
                todo.append(child)  # statements, handlers, arguments: look inside
            elif _length(child, starts) >= MAX_DEPTH and _depth_over(child, MAX_DEPTH):
                return (f"cannot analyse: an expression on line {child.lineno} nests more than {MAX_DEPTH} deep "
                        "(celery-lint's parser would take minutes)")
    return None


def _inside(statement: ast.stmt, cut: Sequence[Tuple[int, int]]) -> bool:
    """Is ``statement`` within one of the line ranges ``cut``?"""
    index = bisect.bisect_right(cut, (statement.lineno, float("inf"))) - 1
    return index >= 0 and (statement.end_lineno or statement.lineno) <= cut[index][1]


def _length(node: ast.expr, starts: List[int]) -> int:
    """The characters (bytes) ``node`` spans."""
    end_line = getattr(node, "end_lineno", None)
    if end_line is None or end_line > len(starts) - 1:
        return MAX_DEPTH  # no end position: measure it
    return starts[end_line - 1] + (node.end_col_offset or 0) - starts[node.lineno - 1] - node.col_offset


def _depth_over(root: ast.AST, limit: int) -> bool:
    todo = [(root, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > limit:
            return True
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False
