"""Statement positions from Python's own parser (about eight times faster than LibCST's): the walk places
nodes with them, the slicer cuts along them."""
from __future__ import annotations

import ast
import re
from typing import List, NamedTuple, Optional


# Python 3.12's type parameters and ``type`` aliases, which an older ``ast`` rejects (LibCST reads them).
_TYPE_ALIAS = re.compile(rb"^([ \t]*)type([ \t]+)([A-Za-z_]\w*)(?=[ \t]*[\[=])", re.MULTILINE)
_GENERIC_DEF = re.compile(rb"^[ \t]*(?:async[ \t]+)?(?:def|class|type)[ \t]+\w+[ \t]*(\[)", re.MULTILINE)


def parse_statements(source: bytes) -> Optional[ast.Module]:
    """Python's own parse of ``source``, for statement positions only. Where this Python is older than the
    code, type parameters and ``type`` aliases are blanked out (same lines, same columns) and it tries again;
    None if that does not help."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    older = without_type_parameters(source)
    if older == source:
        return None
    try:
        return ast.parse(older)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def without_type_parameters(source: bytes) -> bytes:
    text = bytearray(source)
    for match in _GENERIC_DEF.finditer(source):
        depth, index = 0, match.start(1)
        while index < len(text):
            char = text[index]
            depth += char == ord("[")
            depth -= char == ord("]")
            if char not in b"\r\n":
                text[index] = ord(" ")
            elif char == ord("\n") or text[index + 1:index + 2] != b"\n":  # a line break inside: continue the line
                before = index - 1 if index and text[index - 1] == ord("\r") and char == ord("\n") else index
                text[before - 1] = ord("\\")
            if depth == 0:
                break
            index += 1
    # ``type X = ...`` -> ``X      = ...``: an assignment at the same column
    return _TYPE_ALIAS.sub(lambda m: m.group(1) + m.group(3) + b" " * (4 + len(m.group(2))), bytes(text))


class SourceCut(NamedTuple):
    """A file with some lines cut out (by the speed layer's slicer): what LibCST parses instead of the file."""

    text: bytes
    line_numbers: Optional[List[int]]  # the original number of each line of ``text``; None: nothing was cut
    # ``depth.too_deep`` of the whole file, when the slicer already knows it (from Python's tree of the file,
    # which holds every expression the cut text does): no second parse of the cut text to ask again.
    deep: Optional[str] = None
    depth_checked: bool = False
    # Python's statements of ``text`` (see ``Kept``), when the slicer could tell them from the file's tree: no
    # second parse of the text for the walk's statement lines. None: parse ``text``.
    statements: Optional["Kept"] = None


class Kept:
    """A statement of a cut file as Python's parser gives it for the cut text, with just what the walk's line
    map reads (``placing.statement_lines``): its kind, lines, decorators' lines and blocks. Made by the slicer
    from the whole file's tree, which it parsed already; also a module (``body``), a handler or a decorator."""

    __slots__ = ("kind", "lineno", "end_lineno", "decorator_list", "body", "orelse", "handlers", "finalbody")

    def __init__(self, kind: type, lineno: int = 0, end_lineno: Optional[int] = None):
        self.kind, self.lineno, self.end_lineno = kind, lineno, end_lineno
        self.decorator_list = self.body = self.orelse = self.handlers = self.finalbody = None


def kind_of(node) -> type:
    """The ``ast`` class of a statement of Python's tree or a ``Kept`` one."""
    return node.kind if type(node) is Kept else type(node)
