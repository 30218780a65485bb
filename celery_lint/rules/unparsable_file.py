"""CEL000: a file of the paths checked does not parse. Made by the pipeline (not from a task's verdict), and
reported whatever select and ignore say, as ruff reports syntax errors: nothing in the file was analysed."""
from __future__ import annotations

import re
from typing import Optional

from ..text import printable
from ..types import FileMessage, Finding
from .base import Example, Rule

_POSITION = re.compile(r" \(line (\d+)(?:, column (\d+))?\)$")  # how the summary's parse errors end


class UnparsableFile(Rule):
    code = "CEL000"
    name = "unparsable-file"
    summary = "the file cannot be parsed: nothing in it is analysed, and a task it names may have its result read"
    why = ("celery-lint reads the project's code without running it. A file it cannot parse may enqueue tasks and "
           "read their results: every task whose name appears in it is then \"maybe\" (never CEL001), and anything "
           "in it goes unchecked until it parses.")
    fix = "none; fix the syntax error (or exclude the file)"
    VALID = (
        Example({"tasks.py": "from celery import shared_task\n\n\n@shared_task\ndef ping():\n    pass\n"}),
    )
    INVALID = (
        Example({"notes.py": "total = = 0\n"}, finding="notes.py:1:9: CEL000 cannot parse: invalid syntax"),
    )

    def check(self, task, verdict, project):
        return None  # see ``finding``: a file, not a task

    def finding(self, error: FileMessage) -> Optional[Finding]:
        """The finding for a file's error, when it is a parse error (not a file that cannot be read)."""
        if not error.message.startswith("cannot parse:"):
            return None
        position = _POSITION.search(error.message)
        line, col = (int(position.group(1)), int(position.group(2) or 1)) if position else (1, 1)
        message = error.message[:position.start()] if position else error.message
        return Finding(error.path, line, col, self.code, printable(message))


UNPARSABLE = UnparsableFile()
