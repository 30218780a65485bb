"""The rules: one module each, registered here. The known codes, the README table and ``celery-lint rule``
all come from this list. Every rule reports only when the analysis is sure: a task whose result *might*
be read is never CEL001."""
from __future__ import annotations

from typing import Optional, Tuple

from .base import Example, Rule, effective_ignore
from .ignored_result_read import IgnoredResultRead
from .result_read_in_task import ResultReadInTask
from .unparsable_file import UNPARSABLE
from .unread_call_result import UnreadCallResult
from .unread_result import UnreadResult

RULES: Tuple[Rule, ...] = (UnreadResult(), IgnoredResultRead(), UnreadCallResult(), ResultReadInTask(), UNPARSABLE)
KNOWN_CODES: Tuple[str, ...] = tuple(rule.code for rule in RULES)
OPT_IN_CODES: Tuple[str, ...] = tuple(rule.code for rule in RULES if rule.opt_in)
DEFAULT_CODES: Tuple[str, ...] = tuple(code for code in KNOWN_CODES if code not in OPT_IN_CODES)


def rule_for(code: str) -> Optional[Rule]:
    return next((rule for rule in RULES if rule.code == code.upper()), None)


__all__ = ["DEFAULT_CODES", "Example", "KNOWN_CODES", "OPT_IN_CODES", "RULES", "UNPARSABLE", "Rule", "effective_ignore",
           "rule_for"]
