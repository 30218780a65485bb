"""The options a call passes: its keywords, with those of a dict it spreads (``**opts``, ``opts = {...}`` in the
same function) or hands as a signature's ``options={...}``, where a preset ``task_id`` or a ``link_error`` may hide.
"""
from __future__ import annotations

from typing import Callable, Dict, List

import libcst as cst

from .env_values import literal


def options_given(call: cst.Call, mentions: Callable, parents: Dict) -> Dict[str, cst.BaseExpression]:
    """The keywords of a call, with those of a dict it spreads (``**opts``, ``opts = {...}`` in this function)
    or hands as a signature's ``options={...}``."""
    given: Dict[str, cst.BaseExpression] = {}
    for arg in call.args:
        if arg.keyword is not None:
            given[arg.keyword.value] = arg.value
        if arg.star == "**" or (arg.keyword is not None and arg.keyword.value == "options"):
            for table in _dicts_held(arg.value, mentions, parents):
                given.update((key, element.value) for element in table.elements
                             if isinstance(element, cst.DictElement)
                             for key in [literal(element.key)] if isinstance(key, str))
    return given


def _dicts_held(node: cst.BaseExpression, mentions: Callable, parents: Dict) -> List[cst.Dict]:
    if isinstance(node, cst.Dict):
        return [node]
    found = []
    for mention in (mentions(node) or ()) if isinstance(node, cst.Name) else ():
        target = parents.get(mention)
        assign = parents.get(target) if isinstance(target, cst.AssignTarget) else None
        if isinstance(assign, cst.Assign) and isinstance(assign.value, cst.Dict):
            found.append(assign.value)
    return found
