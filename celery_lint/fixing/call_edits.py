"""CEL003's fix: one enqueue call passes ``ignore_result=True``, its formatting kept.

``t.apply_async(...)`` gains the keyword. ``t.delay(a, b=1)`` cannot take it (delay hands every keyword to
the task), so it becomes ``t.apply_async((a,), {"b": 1}, ignore_result=True)``: the same arguments, as
apply_async's ``args`` tuple and ``kwargs`` dict, each value's own code unchanged. The summary marks a call
with ``*``/``**`` arguments or a comment between its arguments as not fixable (``analysis.sites``); this
module checks again, on the file as it is now.
"""
from __future__ import annotations

from typing import List

import libcst as cst

from ..analysis.sites import REWRITTEN, rewritable
from .arguments import append_keyword, first_keyword


class CallFixError(Exception):
    pass


def pass_ignore_result(call: cst.Call, indent: str) -> cst.Call:
    """``call`` (a ``.delay()`` or ``.apply_async()``) passing ``ignore_result=True``."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in REWRITTEN:
        raise CallFixError("no .delay() or .apply_async() call there")
    if not rewritable(call, func.attr.value):
        raise CallFixError("its arguments use * or ** or hold a comment: pass ignore_result=True by hand")
    if any(arg.keyword is not None and arg.keyword.value == "ignore_result" for arg in call.args) \
            and func.attr.value == "apply_async":
        raise CallFixError("it already passes ignore_result")
    if func.attr.value == "delay":
        call = call.with_changes(func=func.with_changes(attr=cst.Name("apply_async")), args=_as_apply_async(call))
    value = cst.Name("True")
    if not call.args:
        return first_keyword(call, value, indent)
    return call.with_changes(args=append_keyword(call, value))


def _as_apply_async(call: cst.Call) -> List[cst.Arg]:
    """``delay``'s arguments as ``apply_async``'s: ``(a,)`` then ``{"b": 1}`` (``kwargs=`` when no positional
    argument), in the layout the call already uses (one line, or one argument per line)."""
    positional = [arg.value for arg in call.args if arg.keyword is None]
    keywords = [arg for arg in call.args if arg.keyword is not None]
    new: List[cst.Arg] = []
    if positional:
        new.append(cst.Arg(_tuple(positional)))
    if keywords:
        mapping = _dict(keywords)
        new.append(cst.Arg(mapping) if positional else cst.Arg(mapping, keyword=cst.Name("kwargs"), equal=_no_spaces()))
    if not new:
        return []
    separator = _separator(call)
    laid = [arg.with_changes(comma=cst.Comma(whitespace_after=separator)) for arg in new[:-1]]
    last = call.args[-1]
    laid.append(new[-1].with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg))
    return laid


def _separator(call: cst.Call):
    """What stands between two arguments: the call's own line break and indentation when it has one."""
    args = call.args
    if len(args) >= 2 and isinstance(args[0].comma, cst.Comma):
        return args[0].comma.whitespace_after
    before = call.whitespace_before_args
    if isinstance(before, cst.ParenthesizedWhitespace):
        return before
    return cst.SimpleWhitespace(" ")


def _tuple(values: List[cst.BaseExpression]) -> cst.Tuple:
    """``(a,)`` for one value (its comma makes it a tuple), ``(a, b)`` for more."""
    elements = [cst.Element(_parenthesized(value), comma=_comma()) for value in values[:-1]]
    last = cst.Comma() if len(values) == 1 else cst.MaybeSentinel.DEFAULT
    return cst.Tuple([*elements, cst.Element(_parenthesized(values[-1]), comma=last)])


def _parenthesized(value: cst.BaseExpression) -> cst.BaseExpression:
    """``delay(x for x in y)``: a bare generator needs its own parentheses once it is one element among others."""
    if isinstance(value, cst.GeneratorExp) and not value.lpar:
        return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return value


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _dict(keywords: List[cst.Arg]) -> cst.Dict:
    """``{"b": 1, "c": x}``: each keyword's name as a string key, its value's code unchanged."""
    elements = [cst.DictElement(cst.SimpleString(f'"{arg.keyword.value}"'), arg.value, comma=_comma()) for arg in keywords]
    elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst.Dict(elements)


def _no_spaces() -> cst.AssignEqual:
    return cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
