"""Python's statements of the slicer's cut text, told from the whole file's tree (which the slicer parsed
already) rather than by parsing the cut text again: what the walk matches LibCST's statements to for their
lines (``placing.statement_lines``).

The cut text is the file's lines without the cut ranges, each of which is whole statements (statements that
share a line go together), and with ``pass`` on the first line of a block cut whole. So its statements are
the file's statements that start on a kept line, on their new line numbers, plus a ``pass`` for each block cut
whole. That ``pass`` keeps the indentation of the line it replaces: in the block, except where that line was
an ``elif``, which is written at its ``if``'s indentation, so the ``pass`` follows the ``if`` instead.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ..analysis.statements import Kept

_BLOCKS = ("body", "orelse", "finalbody")


def kept_statements(tree: ast.Module, lines: List[bytes], cuts: Sequence[tuple],
                    numbers: Optional[List[int]]) -> Optional[Kept]:
    """The module of the cut text. ``cuts``: (first line, last line, indentation of the ``pass`` put on the first
    line or None); ``numbers``: the original number of each line of the cut text (None: nothing was cut). None
    when a line the statements need was not kept (the caller then parses the cut text, as before)."""
    removed: Set[int] = set()
    passes: Set[int] = set()
    for start, end, pass_indent in cuts:
        removed.update(range(start, end + 1))
        if pass_indent is not None:
            passes.add(start)
    new_line = {number: index for index, number in enumerate(numbers, start=1)} if numbers is not None else None
    try:
        return _Builder(lines, removed, passes, new_line).module(tree)
    except KeyError:  # a statement's line was dropped: not what the slicer does
        return None


class _Builder:
    def __init__(self, lines: List[bytes], removed: Set[int], passes: Set[int], new_line: Optional[Dict[int, int]]):
        self.lines = lines
        self.removed = removed
        self.passes = passes
        self.new_line = new_line

    def line(self, number: int) -> int:
        return number if self.new_line is None else self.new_line[number]

    def module(self, tree: ast.Module) -> Kept:
        module = Kept(ast.Module)
        module.body = self.block(tree.body)
        return module

    def block(self, statements: list) -> list:
        out: list = []
        for statement in statements:
            start = _start(statement)
            if start in self.passes:  # the block cut whole: ``pass`` in its place (the rest of it is cut too)
                out.append(Kept(ast.Pass, self.line(start), self.line(start)))
            elif start not in self.removed:
                kept, after = self.statement(statement)
                out.append(kept)
                out.extend(after)
        return out

    def statement(self, statement) -> Tuple[Kept, list]:
        """The kept statement, and what follows it in its block (the ``pass`` of a cut ``elif``)."""
        compound = hasattr(statement, "body") or hasattr(statement, "cases")  # its last lines may be cut
        end = None if compound else self.line(statement.end_lineno or statement.lineno)
        kept = Kept(type(statement), self.line(statement.lineno), end)
        decorators = getattr(statement, "decorator_list", None)
        if decorators is not None:
            kept.decorator_list = [Kept(ast.expr, self.line(d.lineno), self.line(d.end_lineno or d.lineno))
                                   for d in decorators]
        after: list = []
        for name in _BLOCKS:
            block = getattr(statement, name, None)
            if not isinstance(block, list):
                continue
            if name == "orelse" and self._is_elif(block):
                kept.orelse, after = self._elif(block[0])
            else:
                setattr(kept, name, self.block(block))
        handlers = getattr(statement, "handlers", None)
        if handlers is not None:
            kept.handlers = []
            for handler in handlers:
                holder = Kept(type(handler), self.line(handler.lineno))  # its ``except`` line: see ``placing``
                holder.body = self.block(handler.body)
                kept.handlers.append(holder)
        return kept, after

    def _is_elif(self, block: list) -> bool:
        return len(block) == 1 and isinstance(block[0], ast.If) \
            and self.lines[block[0].lineno - 1].lstrip().startswith(b"elif")

    def _elif(self, statement: ast.If) -> Tuple[list, list]:
        """An ``elif`` branch: (the ``if``'s ``orelse``, what follows the ``if``)."""
        if statement.lineno in self.passes:  # ``pass`` at the ``elif``'s indentation: after the whole ``if``
            return [], [Kept(ast.Pass, self.line(statement.lineno), self.line(statement.lineno))]
        if statement.lineno in self.removed:
            return [], []
        kept, after = self.statement(statement)
        return [kept], after


def _start(statement) -> int:
    return min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
