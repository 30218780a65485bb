"""Formatting-preserving edits of ``ignore_result`` on task decorators (``writing`` puts them on disk).

Only the decorator call changes: comments, quotes, line endings, encoding and black's one-argument-per-line
layout (with its magic trailing comma) are left exactly as they were.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..types import Fix, FixAction
from .arguments import append_keyword, first_keyword


class FixError(Exception):
    pass


def apply_fixes(source: bytes, fixes: Sequence[Fix]) -> bytes:
    """Return ``source`` with every fix applied; raises FixError if the result would not parse."""
    if not fixes:
        return source
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    transformer = _IgnoreResultTransformer({(f.line, f.col): f for f in fixes}, module.default_indent)
    new_module = wrapper.visit(transformer)
    missing = sorted(set(transformer.fixes) - transformer.applied)
    if missing:  # never a partial fix: the decorator each finding names must be where the analysis saw it
        raise FixError(f"no task decorator at line {missing[0][0]}, column {missing[0][1] + 1}")
    new_source = new_module.bytes
    try:
        cst.parse_module(new_source)
    except cst.ParserSyntaxError as exc:  # pragma: no cover - a bug in a fix must never reach the disk
        raise FixError(f"the fixed file would not parse: {str(exc).splitlines()[0]}") from None
    try:
        compile(source, "<original>", "exec")
    except (SyntaxError, ValueError):
        return new_source  # newer syntax than this Python compiles: the LibCST check above must do
    try:
        compile(new_source, "<fixed>", "exec")
    except (SyntaxError, ValueError) as exc:
        raise FixError(f"the fixed file would not compile: {exc}") from None
    return new_source


class _IgnoreResultTransformer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, fixes: Dict[Tuple[int, int], Fix], indent: str):
        super().__init__()
        self.fixes = fixes
        self.indent = indent  # one step of the module's indentation
        self.applied: set = set()

    def _fix_at(self, node: cst.CSTNode) -> Optional[Fix]:
        start = self.get_metadata(PositionProvider, node).start
        return self.fixes.get((start.line, start.column))

    def _done(self, fix: Fix) -> None:
        self.applied.add((fix.line, fix.col))

    def leave_Decorator(self, original: cst.Decorator, updated: cst.Decorator) -> cst.Decorator:
        fix = self._fix_at(original)
        if fix is None:
            return updated
        self._done(fix)
        return updated.with_changes(decorator=_edit(updated.decorator, fix, True, self.indent))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        fix = self._fix_at(original)
        if fix is not None and fix.action is FixAction.CALL:  # CEL003: the enqueue call itself
            return self._call_fix(fix, updated)
        # ``app.task(name="x")(func)``: the registration call sits at the fix position; edit its inner call.
        if fix is None or not isinstance(updated.func, cst.Call):
            return updated
        self._done(fix)
        return updated.with_changes(func=_edit(updated.func, fix, False, self.indent))

    def _call_fix(self, fix: Fix, call: cst.Call) -> cst.Call:
        """``t.delay(...).get()`` starts where ``t.delay(...)`` does: only the enqueue call itself is edited."""
        from .call_edits import CallFixError, pass_ignore_result

        if (fix.line, fix.col) in self.applied or last_attribute(call) not in ("delay", "apply_async"):
            return call
        try:
            edited = pass_ignore_result(call, self.indent)
        except CallFixError as exc:
            raise FixError(f"line {fix.line}: {exc}") from None
        self._done(fix)
        return edited


def last_attribute(call: cst.Call):
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def _edit(expr: cst.BaseExpression, fix: Fix, drop_empty_parens: bool, indent: str) -> cst.BaseExpression:
    value = cst.Name("True" if fix.value else "False")
    if fix.action == "add":
        if not isinstance(expr, cst.Call):
            return cst.Call(func=expr, args=[cst.Arg(keyword=cst.Name("ignore_result"), value=value,
                                                       equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))])
        if not expr.args:
            return first_keyword(expr, value, indent)
        return expr.with_changes(args=append_keyword(expr, value))
    if not isinstance(expr, cst.Call):
        raise FixError("no ignore_result keyword to change")
    args = list(expr.args)
    index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "ignore_result"), None)
    if index is None:
        raise FixError("no ignore_result keyword to change")
    if fix.action == "set":
        args[index] = args[index].with_changes(value=value)
        return expr.with_changes(args=args)
    return _without_argument(expr, index, drop_empty_parens)


def _without_argument(call: cst.Call, index: int, drop_empty_parens: bool) -> cst.BaseExpression:
    """The call without its argument ``index``. Every comment stays: the space before and after the argument
    are merged (a comment on the removed argument's line becomes a comment line of its own)."""
    args = list(call.args)
    removed = args.pop(index)
    before = args[index - 1].comma.whitespace_after if index > 0 else call.whitespace_before_args
    after = removed.comma.whitespace_after if isinstance(removed.comma, cst.Comma) else removed.whitespace_after_arg
    merged = _merged(before, after)
    plain = not isinstance(merged, cst.ParenthesizedWhitespace)
    if not args:
        if plain:
            return call.func if drop_empty_parens else call.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
        return call.with_changes(args=[], whitespace_before_args=merged)
    if index == 0:
        return call.with_changes(args=args, whitespace_before_args=merged)
    previous = args[index - 1]
    if index == len(args) and plain and not isinstance(removed.comma, cst.Comma):
        args[index - 1] = previous.with_changes(comma=cst.MaybeSentinel.DEFAULT)  # ``f(a, x)`` -> ``f(a)``
    else:  # a comma before a line break (or a trailing comma) stays: ``f(a,  # note\n)`` is still valid
        args[index - 1] = previous.with_changes(comma=previous.comma.with_changes(whitespace_after=merged))
    return call.with_changes(args=args)


def _merged(before, after):
    """The space that replaces ``before <argument> after``: the line breaks and comments of both."""
    if not isinstance(after, cst.ParenthesizedWhitespace):
        return before
    if not isinstance(before, cst.ParenthesizedWhitespace):
        return after
    moved = []
    if after.first_line.comment is not None:  # the removed argument's own comment, on a line of its own
        moved = [cst.EmptyLine(indent=before.indent, whitespace=before.last_line, comment=after.first_line.comment)]
    return cst.ParenthesizedWhitespace(first_line=before.first_line, empty_lines=[*before.empty_lines, *moved, *after.empty_lines],
                                       indent=after.indent, last_line=after.last_line)
