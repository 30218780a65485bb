"""An editor's buffer of a task module that changes only what the slicer cuts: the kept answer, lines moved.

flake8 in an editor sends the unsaved buffer on stdin; for a file that mentions Celery that used to mean the
whole warm pipeline (every summary loaded, the project linked, every task judged) for each keystroke's check.
But when the buffer's summary is the file's cached summary with its lines moved (``reuse.moved``: the sliced
text, the names it mentions, its path and module are the same), the analysis has the same facts as for the
files on disk except for line numbers in that one file: the same tasks, names of interest, links and verdicts.
Every rule orders lines or compares them for equality, never counts with them, and the map from old lines to
new ones keeps their order, so the findings are the kept answer's, with that file's lines moved.

This holds only where the answer says nothing else about the file, so anything else means the pipeline runs:
- a message that names the file (``read at tasks.py:12``: the line in the message would move too);
- a finding whose line (or fix's line) is not a line the summary kept;
- the file's errors or warnings, a file the answer's run did not discover, one analysed but not reported;
- what the rules read from the file's text besides its summary: a file-level noqa line, CEL004's escape words;
- a buffer or file that does not mention Celery (``answers.unchanged_by`` has that case), or one that mentions a
  name of interest its cached summary did not look for (the run would parse it again for that name).
``tests/test_buffer_answer.py`` holds every answer to the pipeline's for the same buffer.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Dict, List, Optional

from .. import discovery
from ..rules.result_read_in_task import ALLOWED
from ..sources import file_noqa_codes
from ..types import Finding, Report
from .cache import Cache
from .prefilter import Interest, mentions_celery


def moved_answer(stored: Report, looked_at: List[str], path: Path, buffer: bytes, config,
                 cache: Cache) -> Optional[Report]:
    """The answer for the project with ``buffer`` standing for ``path``, from ``stored`` (the answer for the
    files on disk, whose run looked at ``looked_at``); None when it cannot be told without the pipeline."""
    relative = discovery.relative_to(discovery.lexical(path), stored.root)
    if stored.names is None or relative not in looked_at or _said_of(stored, relative):
        return None
    if config.unreported and discovery.is_excluded(relative, config.unreported):
        return None  # on disk analysed but not reported; named as a buffer, reported
    try:
        disk = path.read_bytes()
    except OSError:
        return None
    if not _same_beside_summary(disk, buffer):
        return None
    lines = _moved_lines(stored, relative, path, disk, buffer, cache)
    if lines is None:
        return None
    findings = _moved_findings(stored.findings, relative, lines)
    if findings is None:
        return None
    report = dataclasses.replace(stored)
    report.findings = sorted(findings, key=Finding.sort_key)
    return report


def _said_of(stored: Report, relative: str) -> bool:
    """Does the answer name the file anywhere but as a finding's own place (a message, an error, a warning)?"""
    return any(item.path == relative for item in (*stored.errors, *stored.warnings)) \
        or any(relative in finding.message for finding in stored.findings)


def _same_beside_summary(disk: bytes, buffer: bytes) -> bool:
    """Both in the first phase (a Celery token: always summarised), and the same to what the rules read from
    the text itself (a file-level noqa line; CEL004's escape words, which a comment may hold)."""
    return mentions_celery(disk) and mentions_celery(buffer) \
        and file_noqa_codes(disk) == file_noqa_codes(buffer) \
        and [word in disk for word in ALLOWED] == [word in buffer for word in ALLOWED]


def _moved_lines(stored: Report, relative: str, path: Path, disk: bytes, buffer: bytes,
                 cache: Cache) -> Optional[Dict[int, int]]:
    """{line on disk: line in the buffer} for every line the file's cached summary holds, when the buffer's
    summary is that summary with its lines moved; else None."""
    from ..analysis.facts import ModuleSummary
    from .reuse import expand, moved
    from .slicing import slice_source

    entry = cache.peek(relative)
    if entry is None or entry.hash != hashlib.sha1(disk).hexdigest() or entry.summary is None or entry.record is None:
        return None  # the cache has no summary of the file as it is on disk
    try:
        previous = ModuleSummary.from_json(entry.summary)
    except (KeyError, TypeError, ValueError):
        return None
    if (previous.path, (previous.module, previous.is_package)) != (relative, discovery.module_name(path, stored.root)):
        return None
    record = entry.record
    needed = Interest(stored.names)  # what the answer's run looked for: the summary must have looked for it too
    if not set(needed.seen_in(disk)) | set(needed.seen_in(buffer)) <= set(record.names_seen):
        return None
    names = Interest(record.names_seen)
    seen = names.seen_in(buffer)
    sliced = slice_source(buffer, names)
    if seen != record.names_seen or moved(previous, record, sliced, seen, names.key) is None:
        return None
    return dict(zip(expand(record.kept), sliced.line_numbers or ()))


def _moved_findings(findings: List[Finding], relative: str, lines: Dict[int, int]) -> Optional[List[Finding]]:
    out = []
    for finding in findings:
        if finding.path != relative:
            out.append(finding)
            continue
        fix = finding.fix
        if finding.line not in lines or (fix is not None and fix.line not in lines):
            return None
        if fix is not None:
            fix = dataclasses.replace(fix, line=lines[fix.line])
        out.append(dataclasses.replace(finding, line=lines[finding.line], fix=fix))
    return out
