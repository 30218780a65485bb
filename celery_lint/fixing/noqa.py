"""``--add-noqa``: a ``# noqa: CODE`` comment where each finding is reported, to adopt celery-lint gradually.

A comment goes at the end of the finding's line, or of the first later line of the same decorator where a
comment can stand (not after a backslash continuation, not inside a string); an existing ``# noqa: X`` gets
the code added. Each file is written as ``writing`` writes fixes: only while its content is what was analysed,
and only if it still parses.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Dict, List, Set

from .writing import FileFix, WriteRefused, read_as_analysed, write_fixed

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def add_noqa(report) -> List[FileFix]:
    by_path: Dict[str, Dict[int, Set[str]]] = {}
    for finding in report.findings:
        if finding.code == "CEL000":
            continue  # a file that does not parse: a noqa comment would not silence it, and it may not fit
        by_path.setdefault(finding.path, {}).setdefault(finding.line, set()).add(finding.code)
    done = []
    for relative, lines in sorted(by_path.items()):
        result = FileFix(relative, sum(len(codes) for codes in lines.values()))
        path = report.root / relative
        try:
            result.old = read_as_analysed(report, relative)
            result.new = with_noqa(result.old, lines)
            write_fixed(path, report.root, result.old, result.new)
        except WriteRefused as exc:
            result.error, result.new = str(exc), None
        done.append(result)
    return done


def with_noqa(source: bytes, wanted: Dict[int, Set[str]]) -> bytes:
    """``source`` with ``# noqa: CODES`` on (or merged into) a comment-capable line at or after each line."""
    encoding, lines = _lines(source)
    open_lines = _lines_a_comment_can_end(source)
    for line, codes in sorted(wanted.items()):
        target = next((n for n in range(line, line + 50) if n in open_lines), None)
        if target is None:
            raise WriteRefused(f"no line near line {line} can take a comment; add the noqa by hand")
        lines[target - 1] = _merged(lines[target - 1], codes)
    new = "".join(lines).encode(encoding)
    try:
        ast.parse(new)
    except (SyntaxError, ValueError):
        try:
            ast.parse(source)
        except (SyntaxError, ValueError):
            return new  # newer syntax than this Python reads: the token check above must do
        raise WriteRefused("the file would not parse with the noqa comments; add them by hand") from None
    return new


def _lines(source: bytes):
    encoding = tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    return encoding, source.decode(encoding).splitlines(keepends=True)


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
