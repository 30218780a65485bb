"""Adding a keyword argument to a call in the layout it already uses (one line, or one argument per line with
black's magic trailing comma): what the decorator fixes (``edits``) and the call fixes (``call_edits``) share."""
from __future__ import annotations

from typing import Optional, Sequence

import libcst as cst


def first_keyword(call: cst.Call, value: cst.BaseExpression, indent: str) -> cst.Call:
    """``f()`` -> ``f(ignore_result=True)``; ``f( )`` too; ``f(  # comment\n)`` keeps its lines: the keyword goes
    on a line of its own, one indentation step in, and the closing parenthesis stays where it was."""
    new = cst.Arg(keyword=cst.Name("ignore_result"), value=value,
                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    before = call.whitespace_before_args
    if not isinstance(before, cst.ParenthesizedWhitespace):
        return call.with_changes(args=[new], whitespace_before_args=cst.SimpleWhitespace(""))
    opened = before.with_changes(last_line=cst.SimpleWhitespace(before.last_line.value + indent))
    closing = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=before.indent,
                                          last_line=before.last_line)
    return call.with_changes(args=[new.with_changes(comma=cst.Comma(whitespace_after=closing))],
                             whitespace_before_args=opened)


def append_keyword(call: cst.Call, value: cst.BaseExpression):
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
    # One argument per line. The last argument keeps its own end-of-line comment, and the comment lines below
    # it; the new one gets the line break (and indentation) that used to close the call.
    if isinstance(last.comma, cst.Comma):  # black's magic trailing comma
        closing = last.comma.whitespace_after
        mine = cst.Comma(whitespace_before=last.comma.whitespace_before,
                         whitespace_after=_with_first_line(template, _first_line(closing), _comment_lines(closing)))
        args[-1] = last.with_changes(comma=mine)
        return [*args, new.with_changes(comma=cst.Comma(whitespace_after=_with_first_line(closing, cst.TrailingWhitespace())))]
    closing = last.whitespace_after_arg
    args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=_with_first_line(template, _first_line(closing),
                                                                                     _comment_lines(closing))),
                                 whitespace_after_arg=cst.SimpleWhitespace(""))
    return [*args, new.with_changes(whitespace_after_arg=_with_first_line(closing, cst.TrailingWhitespace()))]


def _line_break(whitespace) -> Optional[cst.ParenthesizedWhitespace]:
    return whitespace if isinstance(whitespace, cst.ParenthesizedWhitespace) else None


def _first_line(whitespace) -> cst.TrailingWhitespace:
    return whitespace.first_line if isinstance(whitespace, cst.ParenthesizedWhitespace) else cst.TrailingWhitespace()


def _comment_lines(whitespace) -> list:
    """The lines (comments, blank lines) between an argument and the closing parenthesis: ``bind=True,\n  # why\n)``."""
    return list(whitespace.empty_lines) if isinstance(whitespace, cst.ParenthesizedWhitespace) else []


def _with_first_line(whitespace, first_line: cst.TrailingWhitespace, empty_lines: Sequence[cst.EmptyLine] = ()):
    if not isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace
    return whitespace.with_changes(first_line=first_line, empty_lines=list(empty_lines))


def _equal_style(args) -> cst.AssignEqual:
    for arg in args:
        if arg.keyword is not None and isinstance(arg.equal, cst.AssignEqual):
            return arg.equal
    return cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
