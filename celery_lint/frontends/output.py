"""Findings in the formats CI systems and editors read (ruff's names and shapes where they fit).

concise   ``path:line:col: CODE message`` (one line each; flake8's shape)
full      the same, with the source lines it points at
json      ruff's JSON: code, message, filename, location, end_location, fix (edits, applicability), noqa_row, url
json-lines  one such object per line
github    workflow commands that GitHub Actions shows as annotations
gitlab    GitLab Code Quality
sarif     SARIF 2.1.0 (GitHub code scanning)
junit     JUnit XML, one test case per finding
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from .. import __version__
from ..rules import RULES, rule_for
from ..text import printable, python_lines
from ..types import Finding, Report

DOCS = "https://github.com/celery-lint/celery-lint/blob/main/README.md"


def rule_url(code: str) -> str:
    rule = rule_for(code)
    return f"{DOCS}#{code.lower()}-{rule.name}" if rule is not None else DOCS


@dataclass
class Located:
    """A finding with everything an output format may show about it."""

    finding: Finding
    shown: str  # the path as printed (relative to the current directory when possible)
    filename: str  # absolute
    relative: str  # to the project root, forward slashes
    end: Tuple[int, int]  # (line, 1-based column) where the decorator ends
    lines: List[str]  # the source lines from the finding's line to ``end``
    edits: List[dict]  # the fix as text edits (ruff's shape), empty without a fix

    @property
    def rule_name(self) -> str:
        rule = rule_for(self.finding.code)
        return rule.name if rule else self.finding.code


def locate(report: Report, findings: List[Finding], shown: Callable[[str], str],
           fixed: Optional[Dict[str, Tuple[bytes, bytes]]] = None) -> List[Located]:
    """``fixed``: {relative path: (old, new)} of the files the fixes change, for formats that show edits."""
    sources: Dict[str, List[str]] = {}
    located = []
    for finding in findings:
        path = report.root / finding.path
        if finding.path not in sources:
            sources[finding.path] = _lines(path)
        lines = sources[finding.path]
        end = _decorator_end(lines, finding.line, finding.col)
        edits = _edits(fixed[finding.path], finding.line, end[0]) if fixed and finding.path in fixed else []
        located.append(Located(finding, shown(finding.path), str(path), finding.path, end,
                               lines[finding.line - 1:end[0]], edits if finding.fix else []))
    return located


def _lines(path: Path) -> List[str]:
    try:
        data = path.read_bytes()
    except OSError:
        return []
    import io
    import tokenize

    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        encoding = "utf-8"
    return python_lines(data.decode(encoding, "replace"))


def _decorator_end(lines: List[str], line: int, col: int) -> Tuple[int, int]:
    """Where the decorator (or class name) the finding points at ends: Python's parser on the statement."""
    source = "\n".join(lines) + "\n"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    for node in ast.walk(tree) if tree is not None else ():
        for decorator in getattr(node, "decorator_list", ()):
            if decorator.lineno == line and decorator.col_offset >= col:  # the expression after the ``@`` at col
                return decorator.end_lineno, decorator.end_col_offset + 1
        if isinstance(node, ast.ClassDef) and node.lineno == line:
            return line, col + len(node.name)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return line, len(text.rstrip()) + 1


def _edits(change: Tuple[bytes, bytes], first: int, last: int) -> List[dict]:
    """The fix as ruff's text edits: the lines ``first``..``last`` of the old file replaced by what stands in
    the new file where they stood (a fix changes only its decorator's lines)."""
    import difflib

    old, new = (python_lines(text.decode("utf-8", "replace"), keepends=True) for text in change)
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal" or i2 < first or i1 + 1 > last + 1:
            continue
        edits.append({"content": "".join(new[j1:j2]), "location": {"row": i1 + 1, "column": 1},
                      "end_location": {"row": i2 + 1, "column": 1}})
    return edits


def _record(item: Located) -> dict:
    finding = item.finding
    fix = None
    if finding.fix is not None:
        fix = {"applicability": "safe", "message": _fix_message(finding), "edits": item.edits}
    return {
        "cell": None,
        "code": finding.code,
        "end_location": {"column": item.end[1], "row": item.end[0]},
        "filename": item.filename,
        "fix": fix,
        "location": {"column": finding.col, "row": finding.line},
        "message": finding.message,
        "name": item.rule_name,
        "noqa_row": finding.line,
        "severity": "error",
        "url": rule_url(finding.code),
    }


def _fix_message(finding: Finding) -> str:
    action = {"add": "Add", "set": "Set", "remove": "Remove"}[str(finding.fix.action)]
    value = "" if finding.fix.value is None else f"={finding.fix.value}"
    return f"{action} `ignore_result{value}`"


def concise(items: List[Located], color) -> str:
    return "".join(f"{_where(item, color)} {color.code(item.finding.code)} {item.finding.message}\n" for item in items)


def full(items: List[Located], color) -> str:
    """Like ruff's: the finding, then the lines of the decorator it points at, underlined, and the fix."""
    out = []
    for item in items:
        finding = item.finding
        marker = f" {color.fixable('[*]')}" if finding.fix is not None else ""
        out.append(f"{color.code(finding.code)}{marker} {finding.message}\n")
        width = len(str(item.end[0]))
        out.append(f"{' ' * width}--> {color.path(f'{item.shown}:{finding.line}:{finding.col}')}\n")
        out.append(f"{' ' * width} |\n")
        for number, text in enumerate(item.lines, start=finding.line):
            out.append(f"{number:>{width}} | {printable(text)}\n")
            start = finding.col - 1 if number == finding.line else len(text) - len(text.lstrip())
            stop = item.end[1] - 1 if number == item.end[0] else len(text.rstrip())
            out.append(f"{' ' * width} | {' ' * start}{color.code('^' * max(1, stop - start))}\n")
        if finding.fix is not None:
            out.append(f"help: {_fix_message(finding)}\n")
        out.append("\n")
    return "".join(out)


def _where(item: Located, color) -> str:
    return color.path(f"{item.shown}:{item.finding.line}:{item.finding.col}:")


def as_json(items: List[Located], color=None) -> str:
    return json.dumps([_record(item) for item in items], indent=2, sort_keys=True) + "\n"


def json_lines(items: List[Located], color=None) -> str:
    return "".join(json.dumps(_record(item), sort_keys=True) + "\n" for item in items)


def github(items: List[Located], color=None) -> str:
    """``::error title=...,file=...,line=...::message`` (GitHub Actions workflow commands)."""
    out = []
    for item in items:
        finding = item.finding
        properties = {"title": f"celery-lint ({finding.code})", "file": item.relative, "line": finding.line,
                      "col": finding.col, "endLine": item.end[0], "endColumn": item.end[1]}
        joined = ",".join(f"{key}={_property(str(value))}" for key, value in properties.items())
        out.append(f"::error {joined}::{_data(f'{item.shown}:{finding.line}:{finding.col}: {finding.code} {finding.message}')}\n")
    return "".join(out)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def gitlab(items: List[Located], color=None) -> str:
    """GitLab Code Quality: a JSON list; the fingerprint stays the same while the finding does."""
    records = []
    for item in items:
        finding = item.finding
        identity = f"{item.relative}\0{finding.code}\0{finding.message}\0{''.join(item.lines).strip()}"
        records.append({
            "description": f"{finding.code}: {finding.message}",
            "check_name": finding.code,
            "fingerprint": hashlib.sha256(identity.encode("utf-8", "backslashreplace")).hexdigest(),
            "severity": "major",
            "location": {"path": item.relative, "lines": {"begin": finding.line, "end": item.end[0]}},
        })
    return json.dumps(records, indent=2) + "\n"


SARIF_LEVEL = "error"  # as the JSON formats' severity, and as ruff's SARIF says


def sarif(items: List[Located], color=None) -> str:
    """SARIF 2.1.0, as GitHub code scanning takes it: every rule described, every result at a path relative
    to the project root, with a fingerprint that stays while the finding does."""
    rules = [{
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{rule.why}\n\nFix: {rule.fix}.", "markdown": f"{rule.why}\n\n**Fix:** {rule.fix}."},
        "helpUri": rule_url(rule.code),
        "defaultConfiguration": {"level": SARIF_LEVEL},
        "properties": {"tags": ["celery"]},
    } for rule in RULES]
    index = {rule.code: number for number, rule in enumerate(RULES)}
    results = []
    for item in items:
        finding = item.finding
        identity = f"{item.relative}\0{finding.code}\0{''.join(item.lines).strip()}"
        results.append({
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": SARIF_LEVEL,
            "message": {"text": finding.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(item.relative), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": finding.line, "startColumn": finding.col,
                           "endLine": item.end[0], "endColumn": item.end[1]},
            }}],
            "partialFingerprints": {"primaryLocationLineHash": hashlib.sha256(identity.encode("utf-8", "backslashreplace")).hexdigest()[:32]},
        })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "celery-lint", "version": __version__, "informationUri": DOCS, "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _uri(relative: str) -> str:
    """The path as a relative URI reference (RFC 3986): every byte but unreserved ones and the ``/`` between
    segments percent-encoded, so ``per%cent.py`` never reads back as another name. A name that was not valid
    UTF-8 on disk (held as surrogate escapes) is encoded as its bytes."""
    from urllib.parse import quote

    try:
        raw = relative.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no file system name decodes to
        raw = relative.encode("utf-8", "backslashreplace")
    return quote(raw, safe="/")


def junit(items: List[Located], color=None) -> str:
    """One test suite per file, one failing test case per finding (files without findings are not listed)."""
    from xml.sax.saxutils import quoteattr as quote  # (imports urllib and email: ~70 ms no other format needs)

    def attr(text: str) -> str:
        return quote(_xml_safe(text))

    by_file: Dict[str, List[Located]] = {}
    for item in items:
        by_file.setdefault(item.shown, []).append(item)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           f'<testsuites name="celery-lint" tests="{len(items)}" failures="{len(items)}" errors="0">\n']
    for shown, found in by_file.items():
        out.append(f'  <testsuite name={attr(shown)} tests="{len(found)}" failures="{len(found)}" errors="0" skipped="0">\n')
        for item in found:
            finding = item.finding
            where = f"{shown}:{finding.line}:{finding.col}"
            out.append(f'    <testcase name={attr(f"{finding.code}: {where}")} classname={attr(item.relative)} '
                       f'file={attr(item.relative)} line="{finding.line}">\n')
            out.append(f'      <failure message={attr(finding.message)} type={attr(finding.code)}>'
                       f'{_xml_text(f"{where}: {finding.code} {finding.message}")}</failure>\n')
            out.append("    </testcase>\n")
        out.append("  </testsuite>\n")
    out.append("</testsuites>\n")
    return "".join(out)


def _xml_safe(text: str) -> str:
    """What XML 1.0 can hold: control characters and lone surrogates as Python escapes (``printable``), and
    the two non-characters U+FFFE and U+FFFF, which no XML parser accepts even as ``&#xFFFE;``."""
    return printable(text).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


def _xml_text(text: str) -> str:
    return _xml_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FORMATS = {"concise": concise, "full": full, "json": as_json, "json-lines": json_lines, "github": github,
           "gitlab": gitlab, "sarif": sarif, "junit": junit}
TEXT_FORMATS = ("concise", "full")  # followed by the closing summary (machine formats stand alone)
NEEDS_EDITS = ("json", "json-lines")


class Color:
    """ANSI colours on a terminal (``NO_COLOR`` turns them off, ``FORCE_COLOR`` on, never in a pipe)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream) -> "Color":
        if os.environ.get("NO_COLOR"):
            return cls(False)
        if os.environ.get("FORCE_COLOR"):
            return cls(True)
        return cls(hasattr(stream, "isatty") and stream.isatty())

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def path(self, text: str) -> str:
        return self._style(text, "1")

    def code(self, text: str) -> str:
        return self._style(text, "1;31")

    def fixable(self, text: str) -> str:
        return self._style(text, "36")
