"""What a call of another module's function gives back, linked (issue 20): ``ident(send_receipt).delay()`` where
``helpers.py`` has ``def ident(x): return x`` enqueues ``send_receipt``.

The defining module says what its plain function returns (``FunctionInfo.gives``, see ``analysis.given``); the
call says what its arguments may be (``ReturnOf``). Anything not known (a decorated or rebound function, an
argument that is not names, a parameter the call leaves to its default, a function another module may replace
with ``helpers.ident = ...``) gives None: the caller then knows nothing of the value (a task we cannot name).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .facts import FunctionInfo, ModuleSummary, Outcome, Passed, ReturnOf, Use
from .symbols import Symbol, Symbols


def returned_names(symbols: Symbols, summaries: Sequence[ModuleSummary], returned: ReturnOf) -> Optional[List[str]]:
    """The dotted names the call may give back, or None when it may give anything else."""
    function = _plain(symbols, summaries, returned.function)
    if function is None:
        return None
    names = list(function.gives)
    for param, position in function.gives_params.items():
        passed = _argument(returned, param, position)
        if passed is None:
            return None
        names += passed
    return list(dict.fromkeys(names))


def passed_on(symbols: Symbols, summaries: Sequence[ModuleSummary], use: Use) -> Use:
    """``ident(t.delay(1)).get()``: a result (signature, bound ``.delay``) handed to functions that only give it
    back takes the outcome of what their call's value becomes; the first that may do anything else with it
    (or that this cannot read) leaves it escaping there."""
    outcome = use.outcome
    for step in outcome.passed:
        function = _plain(symbols, summaries, step.function, callback=step.callback)
        param = _parameter(function, step) if function is not None else None
        if param is None or param not in (function.drops_returns if step.callback else function.gives_back):
            break  # (a callable handed on runs later, where its value goes only if it is handed to on_commit)
        why = f"handed to {function.name}(), which only sends it from on_commit()" if step.callback \
            else f"given back by {function.name}(), whose value: {step.detail}"
        outcome = Outcome(step.kind, why, use.outcome.line, step.via, [*outcome.steps, *step.steps])
    return use if outcome is use.outcome else replace(use, outcome=outcome)


def _plain(symbols: Symbols, summaries: Sequence[ModuleSummary], dotted: str,
           callback: bool = False) -> Optional[FunctionInfo]:
    """The plain module-level function ``dotted`` names (its ``gives`` known, unless only what it does with a
    ``callback`` matters), not replaced from elsewhere (``helpers.ident = other`` somewhere: the call may run
    another function, as may a star import in its module)."""
    kind, summary, function, tail = symbols.resolve(dotted)
    if kind is not Symbol.FUNCTION or tail or not isinstance(function, FunctionInfo) \
            or (function.gives is None and not callback):
        return None
    if any(name.startswith("*") for name in summary.imports):
        return None  # ``from .waiters import *`` may bind the name again, after the def

    return None if any(function.name in summary.attributes_set for summary in summaries) else function


def _parameter(function: FunctionInfo, step: Passed) -> Optional[str]:
    """The parameter a passed argument binds."""
    if step.keyword is not None:
        return step.keyword
    positions = function.drops_returns if step.callback else function.gives_params
    return next((name for name, index in positions.items() if index == step.index), None)


def _argument(returned: ReturnOf, param: str, position: int) -> Optional[List[str]]:
    """The names the call passes for a parameter; None when it passes no names (or leaves it to its default)."""
    keywords: Dict[str, Optional[List[str]]] = returned.kwrefs
    if param in keywords:
        return keywords[param]
    return returned.refs[position] if 0 <= position < len(returned.refs) else None


def returned_functions(symbols: Symbols, summaries: Iterable[ModuleSummary]) -> Tuple[Set[str], Set[str]]:
    """The functions some module calls for what they give back (``ident(t).delay()``, ``ident(t.delay()).get()``),
    as ``name()`` names of
    interest (the fast path keeps them whole where they are defined), and the modules that may define them (the
    fast path summarises them, Celery words or not)."""
    names: Set[str] = set()
    modules: Set[str] = set()
    called = [use.returned.function for summary in summaries for use in summary.uses if use.returned is not None]
    called += [step.function for summary in summaries for use in summary.uses for step in use.outcome.passed]
    for function in dict.fromkeys(called):
        kind, summary, found, tail = symbols.resolve(function)
        if kind in (Symbol.FUNCTION, Symbol.CLASS) and not tail:  # (``MyTask().delay()``: a class-based task)
            names.update([f"{found.name}()"] if kind is Symbol.FUNCTION else [])
            continue
        where = ".".join([summary.module, *tail[:-1]]) if summary is not None and tail else found
        names.add(f"{(tail[-1] if tail else function.rpartition('.')[2])}()")
        if isinstance(where, str):  # where resolution stopped: the module may be one no round has summarised
            modules.update(where[:i] for i in range(len(where) + 1) if i == len(where) or where[i] == ".")
    return names, modules
