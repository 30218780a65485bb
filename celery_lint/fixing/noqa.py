"""``--add-noqa``: a ``# noqa: CODE`` comment where each finding is reported, to adopt celery-lint gradually.

A comment goes at the end of the finding's line, or of the first later line of the same decorator where a
comment can stand (not after a backslash continuation, not inside a string); an existing ``# noqa: X`` gets
the code added. Lines are Python's (``text.python_lines``). The files are written as ``writing`` writes fixes,
all or nothing: only while their content is what was analysed, and only if each still parses.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Dict, List, Set

from ..text import python_lines
from .writing import FileFix, NotFixable, WriteRefused, read_as_analysed, write_all

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def add_noqa(report, write: bool = True) -> List[FileFix]:
    """The noqa comments of ``report``, every file's new content computed first; written (all or nothing)
    only with ``write``."""
    by_path: Dict[str, Dict[int, Set[str]]] = {}
    for finding in report.findings:
        if finding.code == "CEL000":
            continue  # a file that does not parse: a noqa comment would not silence it, and it may not fit
        by_path.setdefault(finding.path, {}).setdefault(finding.line, set()).add(finding.code)
    done = []
    for relative, lines in sorted(by_path.items()):
        result = FileFix(relative, sum(len(codes) for codes in lines.values()))
        try:
            result.old = read_as_analysed(report, relative)
            result.new = with_noqa(result.old, lines)
        except WriteRefused as exc:
            result.error, result.new, result.skipped = str(exc), None, isinstance(exc, NotFixable)
        done.append(result)
    if write:
        write_all(report.root, done)
    return done


def with_noqa(source: bytes, wanted: Dict[int, Set[str]]) -> bytes:
    """``source`` with ``# noqa: CODES`` on (or merged into) a comment-capable line at or after each line."""
    encoding, lines = _lines(source)
    open_lines = _lines_a_comment_can_end(source)
    for line, codes in sorted(wanted.items()):
        target = next((n for n in range(line, line + 50) if n in open_lines), None)
        if target is None:
            raise NotFixable(f"no line near line {line} can take a comment; add the noqa by hand")
        lines[target - 1] = _merged(lines[target - 1], codes)
    new = "".join(lines).encode(encoding)
    try:
        ast.parse(new)
    except (SyntaxError, ValueError):
        try:
            ast.parse(source)
        except (SyntaxError, ValueError):
            return new  # newer syntax than this Python reads: the token check above must do
        raise NotFixable("the file would not parse with the noqa comments; add them by hand") from None
    return new


def _lines(source: bytes):
    encoding = tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    return encoding, python_lines(source.decode(encoding), keepends=True)


def _lines_a_comment_can_end(source: bytes) -> Set[int]:
    """Lines whose end is outside any string and not a backslash continuation (a comment may end them)."""
    ok: Set[int] = set()
    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                ok.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return ok


def _merged(line: str, codes: Set[str]) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    match = _NOQA.search(body)
    if match is None:
        return f"{body}  # noqa: {', '.join(sorted(codes))}{ending}"
    if match.group("codes") is None:
        return line  # a bare noqa already covers every code
    present = [c.upper() for c in re.split(r"[,\s]+", match.group("codes")) if c]
    merged = ", ".join(present + sorted(codes - set(present)))
    return f"{body[:match.start()]}# noqa: {merged}{body[match.end():]}{ending}"
