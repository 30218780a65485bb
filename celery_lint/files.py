"""Which files make up a project: discovery, excludes, the project root, module names, the prefilter."""
from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import re
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "__pypackages__", "build", "dist", ".tox",
    ".nox", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__", ".eggs",
    ".celery_lint_cache", "site-packages",
)

# A file that can define, enqueue or read a task, or configure result storage, must contain one of these.
# Canvas primitives, Task and Celery come from the ``celery`` package, so its name covers them; anything else
# can matter only by naming a task, a decorator alias or a helper, which phase two catches.
# Uses that only ever discard a result (``.map()``, ``.apply()``, direct calls) need no token: skipping them
# can leave a task with no visible use, which is silent, so it can hide a finding but never create one.
# Matched case-insensitively, as the lowered pattern against the lowered text (four times faster than
# re.IGNORECASE, which folds every character): see ``mentions_celery`` and ``celery_token_starts``.
# Python allows spaces, line breaks (in brackets) and backslash continuations between a dot and its name.
_DOT = rb"\.(?:\s|\\)*"
TOKENS = (rb"celery", _DOT + rb"delay\b", rb"apply_async", rb"send_task", rb"asyncresult", rb"groupresult",
          rb"result_from_tuple", rb"ignore_result", rb"update_state", _DOT + rb"s\(", _DOT + rb"si\(", rb"signature\(",
          rb"subtask", _DOT + rb"task\b", rb"_task\b", _DOT + rb"tasks\s*\[", rb"result_backend", rb"task_annotations",
          rb"beat_schedule", rb"config_from_envvar")
# The same alternatives grouped by first character, which the regex engine tries fewer of per position (a
# fifth faster on every file of a cold run); tests/test_files.py checks it against ``TOKENS``.
CELERY_TOKENS = re.compile(
    rb"c(?:elery|onfig_from_envvar)|\.(?:\s|\\)*(?:delay\b|si?\(|task\b|tasks\s*\[)|a(?:pply_async|syncresult)|"
    rb"s(?:end_task|ignature\(|ubtask)|groupresult|result_(?:from_tuple|backend)|ignore_result|update_state|"
    rb"_task\b|task_annotations|beat_schedule"
)


def lexical(path: Path) -> Path:
    """``path`` made absolute with its directories resolved but not the file itself: a symlinked ``tasks.py``
    stays where the project has it (its link is what discovery finds and what a fix writes through)."""
    path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path.parent)) / path.name if path.name else path


def find_root(path: Path) -> Path:
    """The nearest directory at or above ``path`` holding a project marker; else the path's own directory."""
    start = lexical(path)
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return start


def module_name(path: Path, root: Optional[Path] = None) -> tuple:
    """(dotted module name, is_package). The name counts from above the topmost package (a directory with
    ``__init__.py``) between ``root`` and the file, so ``src/`` layouts work and a directory without
    ``__init__.py`` inside a package (a namespace portion) keeps its place in the name."""
    # Plain strings, not pathlib: this runs for every file of the project on every run, warm ones too.
    text = str(path if path.is_absolute() else lexical(path))
    root_text = str(root) if root is not None else None
    is_package = os.path.basename(text) == "__init__.py"
    top = None
    directory = os.path.dirname(text)
    while True:
        if _is_package(directory):
            top = directory
        elif root is None:
            break  # without a root, stop at the first directory that is not a package
        parent = os.path.dirname(directory)
        if directory == root_text or parent == directory:
            break
        directory = parent
    base = os.path.dirname(top) if top is not None else os.path.dirname(text)
    parts = text[len(base):].lstrip(os.sep).split(os.sep)
    parts[-1] = os.path.splitext(parts[-1])[0]
    if is_package:
        parts = parts[:-1] or [os.path.basename(os.path.dirname(text))]
    return ".".join(parts), is_package


@functools.lru_cache(maxsize=None)
def _is_package(directory: str) -> bool:
    return os.path.exists(os.path.join(directory, "__init__.py"))


@functools.lru_cache(maxsize=32)
def _exclude_regexes(patterns: tuple):
    """ruff-style matching, compiled once: a pattern matches the relative path, or (without a slash) any component."""
    whole = [fnmatch.translate(p.rstrip("/")) for p in patterns] + [fnmatch.translate(p.rstrip("/") + "/*") for p in patterns]
    parts = [fnmatch.translate(p) for p in patterns if "/" not in p.rstrip("/")]
    return re.compile("|".join(whole)), re.compile("|".join(parts) or "(?!)")


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    whole, parts = _exclude_regexes(tuple(patterns))
    return bool(whole.match(relative)) or any(parts.match(part) for part in relative.split("/"))


def discover(root: Path, excludes: Sequence[str], skipped: Optional[list] = None) -> List[Path]:
    """Every .py file under ``root`` (resolved), skipping excluded directories without descending into them.
    Only regular files (or links to them) are read: a FIFO would block, ``/dev/zero`` never ends; those are
    added to ``skipped`` as (path, reason)."""
    found: List[Path] = []
    root = root.resolve()
    whole, parts = _exclude_regexes(tuple(excludes))
    todo = [(str(root), "")]
    while todo:
        directory, relative = todo.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirectories = []
        for entry in entries:
            name = entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_dir and not name.endswith(".py"):
                continue
            # ``is_excluded``, with only the last component left to check: we never entered an excluded one
            rel = relative + name
            if parts.match(name) or whole.match(rel):
                continue
            if is_dir:
                subdirectories.append((entry.path, rel + "/"))
            elif _is_regular(entry):
                found.append(Path(entry.path))
            elif skipped is not None:
                skipped.append((Path(entry.path), "skipped: not a regular file"))
        todo.extend(reversed(subdirectories))
    return found


def _is_regular(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()  # through a link; False for FIFOs, devices, sockets and broken links
    except OSError:
        return False


def mentions_celery(source: bytes) -> bool:
    return CELERY_TOKENS.search(source.lower()) is not None


def celery_token_starts(source: bytes):
    """Offsets at which a Celery token starts."""
    return [match.start() for match in CELERY_TOKENS.finditer(source.lower())]


WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


class Interest:
    """What a file or statement must mention to be worth LibCST's time: a Celery token, or one of ``names``
    (identifiers of tasks, decorator aliases and helpers). Names are compared as whole words, through
    a set, so the cost does not grow with the number of tasks."""

    def __init__(self, names: Iterable[str] = ()):
        words = set()
        for name in names:
            parts = WORD.findall(name.encode())
            if parts:  # text that mentions ``a.b.name`` mentions the word ``name``: a sound, cheap test
                words.add(parts[-1])
        self.names = frozenset(words)
        digest = hashlib.sha1(b" ".join(sorted(self.names))).hexdigest()
        self.key = "celery" if not self.names else f"celery+{digest}"

    def names_in(self, text: bytes) -> bool:
        return bool(self.names) and not self.names.isdisjoint(WORD.findall(text))

    def referenced_in(self, source: bytes) -> bool:
        """Can a file without any Celery token refer to one of ``names``, or pass one on? A star import may
        re-export a task to a module that names it; otherwise see ``reachable_words`` (most files mention
        no name at all, so that is checked first)."""
        if not self.names:
            return False
        if has_star_import(source):
            return True
        words = frozenset(WORD.findall(source))
        return not self.names.isdisjoint(words) and not self.names.isdisjoint(reachable_words(source, words))


def reachable_words(source: bytes, words: frozenset) -> frozenset:
    """The names through which a file without any Celery token (nor a star import) can refer to a task or
    pass one on: those in an import, attributes (``tasks.name``), and any word at all if it looks things up
    by string at run time. A bare name needs a binding, and the only bindings that can reach a task are
    those. (A name in a string otherwise can only be a beat entry or the like, which never reads a result.)"""
    if not RUN_TIME_LOOKUP_WORDS.isdisjoint(words):
        return words
    reachable = set(ATTRIBUTE.findall(source))
    for statement in IMPORT_STATEMENT.finditer(source):
        reachable.update(WORD.findall(statement.group(0)))
    return frozenset(reachable)


RUN_TIME_LOOKUP_WORDS = frozenset({b"getattr", b"import_module", b"import_string", b"__import__", b"symbol_by_name"})
# No leading ``\b``: a pattern that starts with a literal lets the regex engine jump between occurrences of
# ``import`` (nine times faster on a whole project); the word boundary is checked by hand.
STAR_IMPORT = re.compile(rb"import(?:[ \t]|\\\r?\n)*\*")


def has_star_import(source: bytes) -> bool:
    """``from x import *`` (also across a backslash continuation)."""
    for match in STAR_IMPORT.finditer(source):
        before = source[match.start() - 1:match.start()]
        if not (before.isalnum() or before == b"_"):
            return True
    return False


ATTRIBUTE = re.compile(rb"\.(?:\s|\\)*([A-Za-z_][A-Za-z0-9_]*)")
# ``import a.b``, ``from .x import (\n y,  # a comment (maybe with parentheses)\n z)``, backslash continuations.
# Linear on any input: a comment runs to its line's end and cannot give characters back (``(?![^\n])``), and an
# unclosed parenthesis takes the rest of the file (more words, never fewer) instead of failing and letting the
# next line try again.
IMPORT_STATEMENT = re.compile(
    rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+(?:\((?:[^)#]|#[^\n]*(?![^\n]))*(?:\)|\Z)|(?:[^\n\\]|\\(?:\r?\n|.))*)",
    re.MULTILINE,
)


def relative_to(path: Path, root: Path) -> str:
    text, prefix = str(path), str(root) + os.sep
    if text.startswith(prefix):  # the common case, without touching the file system
        return text[len(prefix):].replace(os.sep, "/")
    path = lexical(path)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def under_any(path: Path, targets: Iterable[Path]) -> bool:
    resolved = lexical(path)
    for target in targets:
        if resolved == target or target in resolved.parents:
            return True
    return False

