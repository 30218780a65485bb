"""``node.children`` of a LibCST node without LibCST's visitor machinery (which rebuilds the node through a
visitor to list them: most of the cost of walking a function's nodes).

The children are the node's fields that LibCST visits, in the order it visits them (lexical order), sequences
flattened. That order is read once per node class from the class's own ``_visit_and_replace_children``: each
field is visited by a helper given the field's name, so the names appear among its code's constants in order.
Each class is checked once against LibCST's own answer (on the first node of it seen); a class where they
differ, or whose code does not say, keeps LibCST's way.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Dict, List, Optional

import libcst as cst

_ORDER: Dict[type, Optional[tuple]] = {}  # node class -> its visited fields in order; None: ask LibCST
_UNSEEN = object()


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """``node.children``, the same nodes in the same order."""
    order = _ORDER.get(type(node), _UNSEEN)
    if order is _UNSEEN:
        order = _ORDER[type(node)] = _checked_order(node)
    if order is None:
        return list(node.children)
    return _children(node, order)


def _children(node: cst.CSTNode, order: tuple) -> List[cst.CSTNode]:
    found: List[cst.CSTNode] = []
    for name in order:
        value = getattr(node, name)
        if isinstance(value, (list, tuple)):  # builtins: a fast check, unlike LibCST's ABCMeta classes
            found.extend(value)
        elif value is not None and type(value) is not cst.MaybeSentinel:
            found.append(value)
    return found


def _checked_order(node: cst.CSTNode) -> Optional[tuple]:
    try:
        names = {field.name for field in fields(node)}
        constants = type(node)._visit_and_replace_children.__code__.co_consts
    except (AttributeError, TypeError):
        return None
    order = tuple(dict.fromkeys(c for c in constants if isinstance(c, str) and c in names))
    try:
        mine = _children(node, order)
    except AttributeError:
        return None
    theirs = list(node.children)
    if len(mine) != len(theirs) or any(a is not b for a, b in zip(mine, theirs)):
        return None
    return order


_SUBCLASSES: Dict[tuple, frozenset] = {}


def with_subclasses(classes: tuple) -> frozenset:
    """``classes`` and every class derived from them, so that ``type(node) in`` answers ``isinstance``."""
    found = _SUBCLASSES.get(classes)
    if found is None:
        found, todo = set(), list(classes)
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(current.__subclasses__())
        found = _SUBCLASSES[classes] = frozenset(found)
    return found
