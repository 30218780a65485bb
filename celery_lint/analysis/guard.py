"""Running the parsers on hostile input without a crash: valid but deep code (a 500-branch ``elif`` chain, 600
adjacent strings) needs more recursion than Python allows by default, and nesting deeper than Python itself
accepts can overflow the C stack of LibCST's native parser (a segfault, not an exception). So each file is
summarised in a thread with a large stack and a higher recursion limit, and a file nested deeper than Python's
own tokenizer allows never reaches LibCST."""
from __future__ import annotations

import re
import sys
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

STACK_BYTES = 512 * 1024 * 1024  # address space only: the pages a file does not use are never touched
RECURSION_LIMIT = 40_000
MAX_NESTING = 200  # Python's tokenizer refuses more brackets than this ("too many nested parentheses")
_BRACKETS = re.compile(rb"[][(){}]")
_lock = threading.Lock()  # the recursion limit is the interpreter's: one deep call at a time
_THREAD_NAME = "celery-lint-deep-stack"


def call_with_deep_stack(function: Callable[..., T], *args) -> T:
    """``function(*args)`` in a thread with a large stack and a high recursion limit; its exception re-raised.
    (Already in such a thread: called directly.)"""
    if threading.current_thread().name == _THREAD_NAME:
        return function(*args)
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # noqa: B036 - handed back to the caller's thread
            outcome["error"] = exc

    with _lock:
        try:
            previous_size = threading.stack_size(STACK_BYTES)
        except (ValueError, RuntimeError):  # a platform that will not give us the stack: run here, as is
            return function(*args)
        previous_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
        try:
            thread = threading.Thread(target=target, name=_THREAD_NAME)
            thread.start()
            thread.join()
        except RuntimeError:  # no room for the stack (``ulimit -v``): run here, where deep code may not fit
            outcome.clear()
        finally:
            threading.stack_size(previous_size)
            sys.setrecursionlimit(previous_limit)
    if not outcome:
        return function(*args)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def too_deeply_nested(source: bytes) -> bool:
    """Brackets nested deeper than Python accepts (counted in strings and comments too: an upper bound, used
    only for a file Python's own parser already refused)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(source):
        if match.group(0) in b"([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest > MAX_NESTING
