"""Text from the linted code, made safe to print: file names and task names come from a repository, which may
hold any character. Control characters (a newline would split an output line; an escape sequence would reach
the terminal) and lone surrogates (which no encoding can print) are written as Python escapes."""
from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: "re.Match[str]") -> str:
    char = match.group(0)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
