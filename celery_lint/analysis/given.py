"""What a call of a plain module-level function gives back, beyond the module that defines it (issue 20):

    # helpers.py                         # views.py
    def ident(x):                        from helpers import ident
        y = x                            ident(send_receipt).delay()     # -> send_receipt
        return y

The defining module records what its function returns, as plain data (``FunctionInfo.gives``: dotted names and
the parameters whose argument comes back); the calling module records the call with the names each argument may
be (``ReturnOf``); the project links the two (``analysis.returned``). A mixin of ``PossibleValues``.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from .bound_names import walk_nodes
from .facts import ReturnOf

_LOOKUPS = ("get", "pop", "setdefault")  # ``table.get(key)``: one of its values (or the default)


class Given:
    """``PossibleValues``'s answers about calls (a mixin: it shares its state)."""

    def _method_returned(self, call: cst.Call, depth: int) -> Optional[List[cst.BaseExpression]]:
        """``table.get(key)``: one of the table's values (or the default); ``helpers.ident(t)``: a leaf the
        project links (see names)."""
        if call.func.attr.value in _LOOKUPS:
            found = [self._members(call.func.value, depth + 1)]
            found += [self._values(arg.value, depth + 1) for arg in call.args[1:2]]  # the default
            return self._union(found)
        return [call] if self.ref_of(call.func) is not None else None

    def _passed(self, value: cst.BaseExpression, depth: int) -> Optional[List[cst.BaseExpression]]:
        """What an argument of the call _returned follows may be; a stand-in of gives, itself."""
        return [value] if value in self._parameters else self._values(value, depth + 1)

    def _return_of(self, call: cst.Call) -> Optional[ReturnOf]:
        """A call of another module's function (a leaf of _values), with the names each argument may be."""
        open_table, found = self.open_table, ReturnOf(self.ref_of(call.func), [], {})
        for arg in call.args:
            if arg.star:
                return None
            refs = self.names(arg.value)
            refs = None if self.open_table else refs  # other modules may add to that table
            if arg.keyword is not None:
                found.kwrefs[arg.keyword.value] = refs
            else:
                found.refs.append(refs)
        self.open_table = open_table
        return found

    def plain_function(self, name: str) -> Optional[cst.FunctionDef]:
        """This module's undecorated module-level function ``name``, bound once there (None for anything else)."""
        return self._functions().get(name)

    def gives(self, name: str) -> Optional[Tuple[List[str], Dict[str, int]]]:
        """What a call of this module's plain function ``name`` returns, as FunctionInfo.gives says it: the
        dotted names, and the parameters (name -> position, -1 keyword-only) whose argument it may return."""
        function = self._functions().get(name)
        if function is None or function.asynchronous is not None \
                or any(type(node) is cst.Yield for node in walk_nodes(function.body)):
            return None  # a coroutine or a generator gives back something else
        params = function.params
        positional = [cst.Name(p.name.value) for p in [*params.posonly_params, *params.params]]
        keywords = [cst.Name(p.name.value) for p in params.kwonly_params]
        stand_ins = {stand_in: index for index, stand_in in enumerate(positional)}
        stand_ins.update((stand_in, -1) for stand_in in keywords)
        call = cst.Call(cst.Name(name), [*map(cst.Arg, positional), *(cst.Arg(k, keyword=k) for k in keywords)])
        self._parameters.update(stand_ins)
        try:
            leaves = self._returned(call, 0)
        finally:
            self._parameters.clear()
        names, parameters = [], {}
        for leaf in leaves or ():
            if leaf in stand_ins:
                parameters[leaf.value] = stand_ins[leaf]
            elif not (isinstance(leaf, cst.Name) and leaf.value == "None"):
                ref = self.ref_of(leaf) if isinstance(leaf, (cst.Name, cst.Attribute)) else None
                if ref is None:
                    return None
                names.append(ref)
        return (list(dict.fromkeys(names)), parameters) if leaves else None
