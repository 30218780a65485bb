"""An enqueue call as written: where it stands and whether a fix can pass ``ignore_result=True`` to it.

The summary records this for ``t.delay()``/``t.apply_async()`` (``facts.Site``); CEL003 reports at the call
and ``fixing.call_edits`` rewrites it. Kept apart from the summary so that it stays one line there.
"""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from .facts import Site

REWRITTEN = frozenset({"delay", "apply_async"})


def enqueue_site(call: cst.Call, col: int, noqa: List[str]) -> Optional[Site]:
    """The site of ``call`` when it is ``<receiver>.delay(...)`` or ``<receiver>.apply_async(...)``."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in REWRITTEN:
        return None
    return Site(col, rewritable(call, func.attr.value), noqa, method=func.attr.value)


def rewritable(call: cst.Call, method: str) -> bool:
    """``delay(*args)``/``delay(**kw)`` would need ``apply_async(args, kw)`` forms we do not guess; a comment
    among the arguments would be lost when ``delay``'s arguments become ``apply_async``'s tuple and dict."""
    if any(arg.star for arg in call.args):
        return False
    if method == "apply_async":
        return True  # a keyword is appended, in the layout the call already uses
    return "#" not in _between_arguments(call)


def _between_arguments(call: cst.Call) -> str:
    """The code of the whitespace and commas around the arguments (where comments live), not of the values."""
    module = cst.Module(body=[])
    parts = [module.code_for_node(call.whitespace_before_args)]
    for arg in call.args:
        parts.append(module.code_for_node(arg.whitespace_after_arg))
        if isinstance(arg.comma, cst.Comma):
            parts.append(module.code_for_node(arg.comma))
        if arg.keyword is not None and isinstance(arg.equal, cst.AssignEqual):
            parts.append(module.code_for_node(arg.equal))
    return "".join(parts)
