"""What a call of another module's function gives back, linked (issue 20): ``ident(send_receipt).delay()`` where
``helpers.py`` has ``def ident(x): return x`` enqueues ``send_receipt``.

The defining module says what its plain function returns (``FunctionInfo.gives``, see ``analysis.given``); the
call says what its arguments may be (``ReturnOf``). Anything not known (a decorated or rebound function, an
argument that is not names, a parameter the call leaves to its default, a function another module may replace
with ``helpers.ident = ...``) gives None: the caller then knows nothing of the value (a task we cannot name).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Tuple

from .facts import FunctionInfo, ModuleSummary, ReturnOf
from .symbols import Symbol, Symbols


def returned_names(symbols: Symbols, summaries: Iterable[ModuleSummary], returned: ReturnOf) -> Optional[List[str]]:
    """The dotted names the call may give back, or None when it may give anything else."""
    kind, _summary, function, tail = symbols.resolve(returned.function)
    if kind is not Symbol.FUNCTION or tail or not isinstance(function, FunctionInfo) or function.gives is None:
        return None
    if any(function.name in summary.attributes_set for summary in summaries):
        return None  # ``helpers.ident = other`` somewhere: the call may run another function
    names = list(function.gives)
    for param, position in function.gives_params.items():
        passed = _argument(returned, param, position)
        if passed is None:
            return None
        names += passed
    return list(dict.fromkeys(names))


def _argument(returned: ReturnOf, param: str, position: int) -> Optional[List[str]]:
    """The names the call passes for a parameter; None when it passes no names (or leaves it to its default)."""
    keywords: Dict[str, Optional[List[str]]] = returned.kwrefs
    if param in keywords:
        return keywords[param]
    return returned.refs[position] if 0 <= position < len(returned.refs) else None


def returned_functions(symbols: Symbols, summaries: Iterable[ModuleSummary]) -> Tuple[Set[str], Set[str]]:
    """The functions some module calls for what they give back (``ident(t).delay()``), as ``name()`` names of
    interest (the fast path keeps them whole where they are defined), and the modules that may define them (the
    fast path summarises them, Celery words or not)."""
    names: Set[str] = set()
    modules: Set[str] = set()
    for use in (use for summary in summaries for use in summary.uses if use.returned is not None):
        kind, summary, found, tail = symbols.resolve(use.returned.function)
        if kind in (Symbol.FUNCTION, Symbol.CLASS) and not tail:  # (``MyTask().delay()``: a class-based task)
            names.update([f"{found.name}()"] if kind is Symbol.FUNCTION else [])
            continue
        where = ".".join([summary.module, *tail[:-1]]) if summary is not None and tail else found
        names.add(f"{(tail[-1] if tail else use.returned.function.rpartition('.')[2])}()")
        if isinstance(where, str):  # where resolution stopped: the module may be one no round has summarised
            modules.update(where[:i] for i in range(len(where) + 1) if i == len(where) or where[i] == ".")
    return names, modules
