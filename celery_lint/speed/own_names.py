"""Names a file's own summary makes of interest to that same file, followed before its worker returns.

A helper that reports progress makes the functions calling it carriers too; a helper returning a result needs
its calls recorded; ``ident(t).delay()`` needs ``ident``'s returns kept. Where the caller is in the same file
(weblate's ``report_task_progress``, called by ``report_restore_component_progress``, called by a task), the
rounds found one level per round, parsing the file again each time while the other worker idled. The worker now
slices the file again for those names until they add none the file mentions: a fixed point, never a cap (names
only grow, and only names the file holds count). More names only keep more statements, so the summary is the
one a later round would have made, and the rounds find nothing new to ask of this file.
"""
from __future__ import annotations

from typing import List, Set

from ..analysis.facts import ModuleSummary
from ..analysis.reach import carried_names


def helper_refs(summary: ModuleSummary) -> List[str]:
    """Helpers whose every call matters, as the summary names them: those returning a result, and getattr
    dispatchers (the tasks a literal argument names)."""
    refs = []
    for use in summary.uses:
        refs += [use.outcome.via] if use.outcome.via else []
        refs += [use.via_param.function] if use.via_param else []
    # ``def go(x): return start(x)``: go's callers decide, as start's do
    return refs + [call.outcome.via for call in summary.calls if call.outcome.via]


def helper_names(summary: ModuleSummary) -> Set[str]:
    """The last names of ``helper_refs``."""
    return {ref.rpartition(".")[2] for ref in helper_refs(summary)}


def own_names(summary: ModuleSummary, followed) -> Set[str]:
    """What this file's summary alone makes of interest (``followed``: the functions whose returns it follows)."""
    return carried_names([summary]) | helper_names(summary) | {f"{name}()" for name in followed}
