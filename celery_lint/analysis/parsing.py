"""LibCST's parse of a large file, in pieces of about ``PIECE_BYTES``, joined into the tree of the whole.

LibCST's native parser holds about a kilobyte per byte of its input at its peak (1 MB of ``ping.delay()``
lines: over 1 GB), and keeps much of it after. Parsed a piece at a time, only one piece's worth is ever in
flight. A piece starts at a top-level statement written at column 0, after a line of code; the blank and
column-0 comment lines between them open the next piece, whose header they become, and are given back to its
first statement as the leading lines they are in a parse of the whole (an indented comment, or a line of
spaces, would belong to the block above it: no piece starts after one). Each piece must parse alone: one that does not (a cut inside
a string or brackets, ``else:`` at column 0, a real syntax error) and pieces that disagree on what the whole
file's parse detects once (newline, indentation, encoding) send the whole file to LibCST instead, as before.
"""
from __future__ import annotations

import ast
import contextlib
import re
from typing import Callable, Iterator, List, Optional

import libcst as cst

from .statements import parse_statements

PIECE_BYTES = 1 << 16
# A column-0 line that continues the statement before it rather than starting one.
_CONTINUES = re.compile(rb"(?:else|elif|except|finally)\b|[)\]}]")
_NOT_CODE = b" \t\f\r\n#"
_EMPTY = (b"\n", b"\r\n", b"\r")  # an empty line; one of spaces after a block is that block's (its footer)


def parse_module(source: bytes, piece_bytes: int = PIECE_BYTES) -> cst.Module:
    """``cst.parse_module(source)``, a piece at a time where the file is large."""
    with _parser_nodes_unchecked():
        if len(source) <= 2 * piece_bytes:
            return cst.parse_module(source)
        pieces = _pieces(source, piece_bytes)
        joined = _joined(pieces) if len(pieces) > 1 else None
        return joined if joined is not None else cst.parse_module(source)


@contextlib.contextmanager
def _parser_nodes_unchecked():
    """Each LibCST node checks its fields as it is made (``CSTNode.__post_init__``), a sixth of a parse; the
    parser's own nodes are valid by construction (LibCST's comment there says as much: "avoid validating the
    tree when parsing a file"). Unchecked during the parse only: nodes made anywhere else (the fixes) are
    checked as ever. The same tree either way (``tests/test_big_inputs.py`` compares)."""
    checked = cst.CSTNode.__post_init__
    cst.CSTNode.__post_init__ = _unchecked
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = checked


def _unchecked(self) -> None:
    return None


def python_pieces(source: bytes, piece_bytes: int = PIECE_BYTES,
                  parse: Callable[[bytes], Optional[ast.Module]] = parse_statements) -> Iterator[Optional[ast.Module]]:
    """Python's own tree of ``source``, a piece at a time (each with the line numbers of the whole file), so
    that no tree of the whole file is ever held (Python's took ~270 MB for 1 MB of calls). A piece that does
    not parse alone is parsed with the next; None for a part that does not parse at all. ``parse``: the
    parser (None where it does not parse)."""
    pending, offset, line = b"", 0, 0
    for piece in _pieces(source, piece_bytes) if len(source) > 2 * piece_bytes else [source]:
        pending += piece
        tree = parse(b"\n" * offset + pending)
        line += piece.count(b"\n") if b"\r" not in piece else len(piece.splitlines())
        if tree is not None:
            yield tree
            pending, offset = b"", line
    if pending:
        yield None


def _pieces(source: bytes, piece_bytes: int) -> List[bytes]:
    lines = source.splitlines(keepends=True)
    pieces, start, size, last_code = [], 0, 0, -1
    for index, line in enumerate(lines):
        code = line[:1] not in _NOT_CODE and line.strip() != b""
        if code and size >= piece_bytes and last_code >= 0 and not _CONTINUES.match(line):
            gap = lines[last_code + 1:index]
            if all(g in _EMPTY or g[:1] == b"#" for g in gap):  # no indented line a block above may own
                pieces.append(b"".join(lines[start:last_code + 1]))
                start, size = last_code + 1, sum(len(g) for g in gap)
        if line.strip() and not line.lstrip().startswith(b"#"):
            last_code = index
        size += len(line)
    pieces.append(b"".join(lines[start:]))
    return pieces


def _joined(pieces: List[bytes]) -> Optional[cst.Module]:
    """The pieces' trees as one module; None where the pieces do not give the whole file's tree."""
    modules = [_parsed(piece) for piece in pieces]
    if any(m is None for m in modules) or not _agree(modules):
        return None
    first, last = modules[0], modules[-1]
    body = list(first.body)
    for module in modules[1:]:
        statements = list(module.body)
        if module.header:  # the blank and comment lines before its first statement, in a parse of the whole
            statements[0] = statements[0].with_changes(leading_lines=[*module.header, *statements[0].leading_lines])
        body.extend(statements)
    indents = {m.default_indent for m in modules if _has_block(m)}
    return cst.Module(body=body, header=first.header, footer=last.footer, encoding=first.encoding,
                      default_indent=indents.pop() if indents else first.default_indent,
                      default_newline=first.default_newline, has_trailing_newline=last.has_trailing_newline)


def _parsed(piece: bytes) -> Optional[cst.Module]:
    try:
        return cst.parse_module(piece)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, UnicodeDecodeError):
        return None


def _agree(modules: List[cst.Module]) -> bool:
    """Do the pieces detect what a parse of the whole would, once for the file? (UTF-8 only: a coding
    declaration is read from the first piece alone.) Every piece but the last ends at code, with no footer."""
    first = modules[0]
    if any(m.encoding != "utf-8" or m.default_newline != first.default_newline for m in modules):
        return False
    if any(m.footer for m in modules[:-1]) or any(not m.body for m in modules[1:]):
        return False
    return len({m.default_indent for m in modules if _has_block(m)}) <= 1


def _has_block(module: cst.Module) -> bool:
    """Did the piece see an indented block (its default indent is read from its first)?"""
    return any(isinstance(getattr(statement, "body", None), cst.IndentedBlock) for statement in module.body)
