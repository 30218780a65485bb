"""Formatting-preserving edits of ``ignore_result`` on task decorators, and safe file writing.

Only the decorator call changes: comments, quotes, line endings, encoding and black's one-argument-per-line
layout (with its magic trailing comma) are left exactly as they were.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .rules import Fix


class FixError(Exception):
    pass


def apply_fixes(source: bytes, fixes: Sequence[Fix]) -> bytes:
    """Return ``source`` with every fix applied; raises FixError if the result would not parse."""
    if not fixes:
        return source
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    transformer = _IgnoreResultTransformer({(f.line, f.col): f for f in fixes})
    new_module = wrapper.visit(transformer)
    new_source = new_module.bytes
    try:
        cst.parse_module(new_source)
    except cst.ParserSyntaxError as exc:  # pragma: no cover - a bug in a fix must never reach the disk
        raise FixError(f"the fixed file would not parse: {exc}") from None
    try:
        compile(source, "<original>", "exec")
    except (SyntaxError, ValueError):
        return new_source  # newer syntax than this Python compiles: the LibCST check above must do
    try:
        compile(new_source, "<fixed>", "exec")
    except (SyntaxError, ValueError) as exc:
        raise FixError(f"the fixed file would not compile: {exc}") from None
    return new_source


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step (temp file + rename), keeping its permissions."""
    mode = path.stat().st_mode
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".celery-lint")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


class _IgnoreResultTransformer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, fixes: Dict[Tuple[int, int], Fix]):
        super().__init__()
        self.fixes = fixes

    def _fix_at(self, node: cst.CSTNode) -> Optional[Fix]:
        start = self.get_metadata(PositionProvider, node).start
        return self.fixes.get((start.line, start.column))

    def leave_Decorator(self, original: cst.Decorator, updated: cst.Decorator) -> cst.Decorator:
        fix = self._fix_at(original)
        if fix is None:
            return updated
        return updated.with_changes(decorator=_edit(updated.decorator, fix, drop_empty_parens=True))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        # ``app.task(name="x")(func)``: the registration call sits at the fix position; edit its inner call.
        fix = self._fix_at(original)
        if fix is None or not isinstance(updated.func, cst.Call):
            return updated
        return updated.with_changes(func=_edit(updated.func, fix, drop_empty_parens=False))


def _edit(expr: cst.BaseExpression, fix: Fix, drop_empty_parens: bool) -> cst.BaseExpression:
    value = cst.Name("True" if fix.value else "False")
    if fix.action == "add":
        if not isinstance(expr, cst.Call):
            return cst.Call(func=expr, args=[cst.Arg(keyword=cst.Name("ignore_result"), value=value,
                                                       equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))])
        return expr.with_changes(args=_append_keyword(expr, value))
    if not isinstance(expr, cst.Call):
        raise FixError("no ignore_result keyword to change")
    args = list(expr.args)
    index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "ignore_result"), None)
    if index is None:
        raise FixError("no ignore_result keyword to change")
    if fix.action == "set":
        args[index] = args[index].with_changes(value=value)
        return expr.with_changes(args=args)
    removed = args.pop(index)
    if not args:
        return expr.func if drop_empty_parens else expr.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
    if index == len(args):  # removed the last argument: the new last one takes over its trailing comma
        args[-1] = args[-1].with_changes(comma=removed.comma)
    return expr.with_changes(args=args)


def _append_keyword(call: cst.Call, value: cst.BaseExpression):
    """Add ``ignore_result=<value>`` after the last argument, in the layout the call already uses."""
    args = list(call.args)
    new = cst.Arg(keyword=cst.Name("ignore_result"), value=value, equal=_equal_style(args))
    if not args:
        return [new]
    last = args[-1]
    template = _line_break(args[-2].comma.whitespace_after if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma)
                           else call.whitespace_before_args)
    if template is None:  # everything on one line: ``f(a, b)`` -> ``f(a, b, ignore_result=True)``
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return [*args, new.with_changes(comma=last.comma)]
    # One argument per line. The last argument keeps its own end-of-line comment; the new one gets the
    # line break (and indentation) that used to close the call.
    if isinstance(last.comma, cst.Comma):  # black's magic trailing comma
        closing = last.comma.whitespace_after
        mine = cst.Comma(whitespace_before=last.comma.whitespace_before,
                         whitespace_after=_with_first_line(template, _first_line(closing)))
        args[-1] = last.with_changes(comma=mine)
        return [*args, new.with_changes(comma=cst.Comma(whitespace_after=_with_first_line(closing, cst.TrailingWhitespace())))]
    closing = last.whitespace_after_arg
    args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=_with_first_line(template, _first_line(closing))),
                                 whitespace_after_arg=cst.SimpleWhitespace(""))
    return [*args, new.with_changes(whitespace_after_arg=_with_first_line(closing, cst.TrailingWhitespace()))]


def _line_break(whitespace) -> Optional[cst.ParenthesizedWhitespace]:
    return whitespace if isinstance(whitespace, cst.ParenthesizedWhitespace) else None


def _first_line(whitespace) -> cst.TrailingWhitespace:
    return whitespace.first_line if isinstance(whitespace, cst.ParenthesizedWhitespace) else cst.TrailingWhitespace()


def _with_first_line(whitespace, first_line: cst.TrailingWhitespace):
    if not isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace
    return whitespace.with_changes(first_line=first_line, empty_lines=[])


def _equal_style(args) -> cst.AssignEqual:
    for arg in args:
        if arg.keyword is not None and isinstance(arg.equal, cst.AssignEqual):
            return arg.equal
    return cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def fix_files(root: Path, findings: Iterable, read) -> Dict[str, Tuple[bytes, bytes]]:
    """{relative path: (old, new)} for every file whose source changes."""
    by_path: Dict[str, list] = {}
    for finding in findings:
        if finding.fix is not None:
            by_path.setdefault(finding.path, []).append(finding.fix)
    changes = {}
    for relative, fixes in sorted(by_path.items()):
        old = read(root / relative)
        new = apply_fixes(old, fixes)
        if new != old:
            changes[relative] = (old, new)
    return changes
