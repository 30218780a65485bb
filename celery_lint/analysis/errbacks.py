"""Errbacks: the tasks an errback (``link_error=``, ``.on_error()``, also in spread options: ``**opts``) is attached
to and the errbacks themselves, as named in the code (``Project._link_errbacks`` decides which read their parent's
result).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from .. import celery_api
from .call_options import options_given
from .facts import Errback
from .literals import first_literal
from .sinks import SENDS

ERRBACK_METHODS = celery_api.LINK_METHODS - {"link"}  # .on_error(e), .link_error(e)


class Errbacks:
    """The ``_Summarizer``'s handlers for errbacks (a mixin: it shares the summarizer's state)."""

    def errback(self, node: cst.Call, name: Optional[str]) -> None:
        """``R.on_error(E)``, ``R.link_error(E)``, ``R.apply_async(link_error=E)``, ``signature(..., link_error=E)``:
        the tasks named in ``R`` (followed into the local variables it names) and in ``E``."""
        given = options_given(node, self.flow.mentions, self.parents)  # (``**{"link_error": e.s()}`` too)
        attached = [given["link_error"]] if "link_error" in given else []
        func = node.func
        if isinstance(func, cst.Attribute) and name in SENDS and self.overrides_enqueue(func.value):
            return  # the errbacks a Task class's own ``apply_async`` hands on: given where its callers call it
        if isinstance(func, cst.Attribute) and name in ERRBACK_METHODS and node.args and node.args[0].keyword is None:
            attached.append(node.args[0].value)
        if not attached:
            return
        parents, parent_names = self.tasks_named_in(func.value if isinstance(func, cst.Attribute) else node, attached)
        errbacks, errback_names = [], []
        for expression in attached:
            refs, names = self.tasks_named_in(expression, ())
            errbacks += refs
            errback_names += names
        self.summary.errbacks.append(Errback(parents, parent_names, errbacks, errback_names, self.line_of(node)))

    def tasks_named_in(self, expression: cst.CSTNode, skip, depth: int = 0) -> Tuple[List[str], List[str]]:
        """Every dotted name (and string first argument, a registered name) in an expression: more than the tasks
        it names, which is what a conservative caller wants. A local variable: what is assigned to it."""
        refs: List[str] = []
        names: List[str] = []
        pending = [expression]
        while pending:
            node = pending.pop()
            if any(node is s for s in skip):
                continue
            if isinstance(node, cst.Name):
                ref = self.ref_of(node)
                if ref is not None:
                    refs.append(ref)
                elif depth < 2:
                    for value in self.local_values(node):
                        more, more_names = self.tasks_named_in(value, skip, depth + 1)
                        refs += more
                        names += more_names
                continue
            if isinstance(node, cst.Attribute):
                ref = self.ref_of(node)
                if ref is not None:
                    refs.append(ref)
            if isinstance(node, cst.Call):
                first = first_literal(node)
                if first is not None:
                    names.append(first)
            pending.extend(node.children)
        return refs, names
