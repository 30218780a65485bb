"""Text from the linted code: its lines as Python counts them, and made safe to print.

Lines: one model for every consumer (noqa comments, output, fixes, diffs). Python breaks lines at ``\\r\\n``,
``\\r`` and ``\\n`` only; ``str.splitlines`` also breaks at ``\\f``, ``\\v``, ``\\x1c``-``\\x1e``, ``\\x85``,
``\\u2028`` and ``\\u2029``, which Python reads as ordinary characters (in a string, or as whitespace). A line
counted that way is not the line the finding names, and a comment added to it can land inside a string.

Printing: file names and task names come from a repository, which may hold any character. Control characters
(a newline would split an output line; an escape sequence would reach the terminal) and lone surrogates (which
no encoding can print) are written as Python escapes.
"""
from __future__ import annotations

import io
import re
from typing import List

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def python_lines(text: str, keepends: bool = False) -> List[str]:
    """``text`` split at Python's own line breaks (``\\r\\n``, ``\\r``, ``\\n``), never at ``\\f`` and friends."""
    lines = io.StringIO(text, newline="").readlines()  # newline="": universal breaks, kept as they are
    return lines if keepends else [_without_break(line) for line in lines]


def _without_break(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith(("\r", "\n")) else line


def printable(text: str) -> str:
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: "re.Match[str]") -> str:
    char = match.group(0)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def excerpt(line: str, col: int, width: int = 60, call: bool = False) -> str:
    """The code on ``line`` from ``col`` to where the expression there ends: a bracket it did not open, a comma
    or semicolon outside brackets, a comment, or the line's end (for a ``call``, also the end of its brackets when
    no ``.``, ``(`` or ``[`` goes on from there); shortened to ``width`` characters (a long line is not read
    further than it could be shown)."""
    depth, quote, end = 0, None, min(len(line), col + 4 * width)
    for index in range(col, end):
        char = line[index]
        if quote is not None:
            quote = None if char == quote and line[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}" or (char in ",;" and depth == 0) or char == "#":
            depth -= char in ")]}"
            if depth < 0 or char in ",;#":
                end = index
                break
            if call and depth == 0 and line[index + 1:index + 2] not in (".", "(", "["):
                end = index + 1
                break
    text = " ".join(line[col:end].split())
    return text if len(text) <= width else text[:width - 3] + "..."
