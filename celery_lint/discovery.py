"""Which files make up a project: the root, discovery, excludes, module names, paths."""
from __future__ import annotations

import fnmatch
import functools
import os
import re
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from .project_files import Unreadable, read_project_file

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git", "manage.py")  # manage.py: a Django project
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "__pypackages__", "build", "dist", ".tox",
    ".nox", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__", ".eggs",
    ".celery_lint_cache", "site-packages",
)

def lexical(path: Path) -> Path:
    """``path`` made absolute with its directories resolved but not the file itself: a symlinked ``tasks.py``
    stays where the project has it (its link is what discovery finds and what a fix writes through)."""
    path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path.parent)) / path.name if path.name else path


def find_root(path: Path) -> Path:
    """The project around ``path``: see ``locate_root``."""
    return locate_root(path)[0]


def locate_root(path: Path, cwd: Optional[Path] = None) -> Tuple[Path, bool]:
    """(root, whether a marker said so). The nearest directory at or above ``path`` holding a project marker.
    Without one: the current directory when it holds ``path`` (so ``celery-lint``, ``celery-lint shop`` and
    ``celery-lint shop/tasks.py`` run from the same place see the same project), unless that is the filesystem's
    root or the home directory (``celery-lint /srv/app`` run from ``/`` would read the whole machine); else the
    directory above ``path``'s topmost package (where its imports start)."""
    start = lexical(path)
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory, True
    here = Path(os.path.realpath(cwd or os.getcwd()))
    if (start == here or here in start.parents) and not _everything(here):
        return here, False
    while (start / "__init__.py").exists() and start.parent != start:
        start = start.parent
    return start, False


def _everything(directory: Path) -> bool:
    """The filesystem's root or the home directory: never a project for want of a marker."""
    try:
        home = Path(os.path.realpath(Path.home()))
    except (RuntimeError, KeyError, OSError):  # no home directory to be found
        home = None
    return directory.parent == directory or directory == home


def module_name(path: Path, root: Optional[Path] = None) -> tuple:
    """(dotted module name, is_package). The name counts from above the topmost package (a directory with
    ``__init__.py``) between ``root`` and the file, so ``src/`` layouts work and a directory without
    ``__init__.py`` inside a package (a namespace portion) keeps its place in the name."""
    # Plain strings, not pathlib: this runs for every file of the project on every run, warm ones too.
    text = str(path if path.is_absolute() else lexical(path))
    is_package = os.path.basename(text) == "__init__.py"
    base = _module_base(os.path.dirname(text), str(root) if root is not None else None)
    parts = text[len(base):].lstrip(os.sep).split(os.sep)
    parts[-1] = os.path.splitext(parts[-1])[0]
    if is_package:
        parts = parts[:-1] or [os.path.basename(os.path.dirname(text))]
    return ".".join(parts), is_package


@functools.lru_cache(maxsize=None)
def _module_base(directory: str, root_text: Optional[str]) -> str:
    """The directory a module name counts from, for the files of ``directory`` (the same for all of them)."""
    top = None
    start = directory
    while True:
        if _is_package(directory):
            top = directory
        elif root_text is None:
            break  # without a root, stop at the first directory that is not a package
        parent = os.path.dirname(directory)
        if directory == root_text or parent == directory:
            break
        directory = parent
    return os.path.dirname(top) if top is not None else start


@functools.lru_cache(maxsize=None)
def _is_package(directory: str) -> bool:
    return os.path.exists(os.path.join(directory, "__init__.py"))


_GLOB = re.compile(r"[*?\[/]")  # what makes a pattern more than a plain name


class _Excludes:
    """ruff-style matching: a pattern matches the relative path, or (without a slash) any component. A plain
    name (``venv``: every default is one) is matched by a set; only the patterns left are compiled (compiling
    the defaults took 3.5 ms of every run)."""

    def __init__(self, patterns: tuple):
        self.names = frozenset(p for p in patterns if not _GLOB.search(p))  # no glob character, no slash
        globs = [p for p in patterns if p not in self.names]
        whole = [fnmatch.translate(p.rstrip("/")) for p in globs] + [fnmatch.translate(p.rstrip("/") + "/*") for p in globs]
        parts = [fnmatch.translate(p) for p in globs if "/" not in p.rstrip("/")]
        self._whole = re.compile("|".join(whole)) if whole else None
        self._parts = re.compile("|".join(parts)) if parts else None

    def name(self, name: str) -> bool:
        """Does a pattern match this one component?"""
        return name in self.names or (self._parts is not None and self._parts.match(name) is not None)

    def whole(self, relative: str) -> bool:
        """Does a pattern with a slash or a glob match the relative path (or a directory above it)?"""
        return self._whole is not None and self._whole.match(relative) is not None


@functools.lru_cache(maxsize=32)
def _excludes(patterns: tuple) -> _Excludes:
    return _Excludes(patterns)


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    excludes = _excludes(tuple(patterns))
    return excludes.whole(relative) or any(excludes.name(part) for part in relative.split("/"))


def discover(root: Path, excludes: Sequence[str], skipped: Optional[list] = None,
             respect_gitignore: bool = True, looked_at: Optional[List[str]] = None) -> List[Path]:
    """Every .py file under ``root`` (resolved), skipping excluded directories without descending into them,
    and, with ``respect_gitignore``, what the project's ``.gitignore`` files (and ``.git/info/exclude``) ignore.
    Only regular files (or links to them) are read: a FIFO would block, ``/dev/zero`` never ends; those are
    added to ``skipped`` as (path, reason), as are ignore files not read and ignore patterns not applied.
    ``looked_at`` gets every directory listed and every ignore file that was (or could have been) read: while
    none of them changes, neither does the answer."""
    found: List[Path] = []
    root = root.resolve()
    matcher = _excludes(tuple(excludes))
    skipped = [] if skipped is None else skipped
    looked_at = [] if looked_at is None else looked_at
    ignores = _root_ignores(root, skipped, looked_at) if respect_gitignore else ()
    todo = [(str(root), "", ignores)]
    while todo:
        directory, relative, ignores = todo.pop()
        looked_at.append(directory)
        candidates, has_gitignore = _listing(directory)
        if respect_gitignore and has_gitignore:
            looked_at.append(os.path.join(directory, ".gitignore"))
            ignores = (*ignores, _GitIgnore.read(looked_at[-1], relative, skipped))
        subdirectories = []
        for entry in candidates:
            name = entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            # ``is_excluded``, with only the last component left to check: we never entered an excluded one
            rel = relative + name
            # (a package of the project named like a default exclude, ``proj/env/`` with an ``__init__.py``, is
            # no virtualenv nor build output: its reads count; ``Sources`` leaves it unreported)
            if (matcher.name(name) and not (is_dir and name in DEFAULT_EXCLUDES and _is_package(entry.path))) \
                    or matcher.whole(rel) or (ignores and _ignored(ignores, rel, is_dir)):
                continue
            if is_dir:
                subdirectories.append((entry.path, rel + "/", ignores))
            elif _is_regular(entry):
                found.append(Path(entry.path))
            else:
                skipped.append((Path(entry.path), "skipped: not a regular file"))
        todo.extend(reversed(subdirectories))
    return found


def _listing(directory: str) -> Tuple[List[os.DirEntry], bool]:
    """(the .py files and directories in ``directory``, in name order; whether it holds a ``.gitignore``).
    One pass sorts out the few entries that matter (most are neither .py files nor directories)."""
    try:
        with os.scandir(directory) as listing:
            entries = list(listing)
    except OSError:
        return [], False
    candidates, has_gitignore = [], False
    for entry in entries:
        name = entry.name
        if name.endswith(".py") or entry.is_dir(follow_symlinks=False):
            candidates.append(entry)
        elif name == ".gitignore":
            has_gitignore = True
    candidates.sort(key=_entry_name)  # a stable result
    return candidates, has_gitignore


def _entry_name(entry: os.DirEntry) -> str:
    return entry.name


# pathspec turns each ``*`` into a regex part that backtracks: ``*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a
# 200-character name ran past 120 s. With at most 3 wildcards, of which at most 2 are ``**`` directories (which
# backtrack over the whole path), one match stays under a second even on a path 4,000 characters deep.
MAX_WILDCARDS = 3
MAX_DIRECTORY_WILDCARDS = 2


class _GitIgnore:
    """The patterns of one ignore file, which apply below the directory ``base`` (relative, ending in "/")."""

    def __init__(self, base: str, spec):
        self.base = base
        self.spec = spec

    @classmethod
    def read(cls, path: str, base: str, skipped: list) -> "_GitIgnore":
        """The file's patterns; an ignore file that cannot be read safely (see ``project_files``) counts as
        absent, a pattern that could take minutes to match is left out: each is one line in ``skipped``."""
        import pathspec  # only for projects that have ignore files

        try:
            lines = read_project_file(path).decode("utf-8", "replace").splitlines()
        except Unreadable as exc:
            skipped.append((Path(path), f"{exc}; its patterns are not applied"))
            lines = []
        for number, line in enumerate(lines, start=1):
            why = _too_many_wildcards(line)
            if why is not None:
                skipped.append((Path(path), f"line {number}: pattern {line.strip()!r} not applied: {why}"))
                lines[number - 1] = ""
        return cls(base, pathspec.GitIgnoreSpec.from_lines(lines))


def _too_many_wildcards(line: str) -> Optional[str]:
    """Why the pattern on ``line`` is not matched (too many wildcards), or None."""
    if line.startswith("#"):
        return None
    segments = line.strip().lstrip("!").split("/")
    directories = sum(1 for segment in segments if segment == "**")
    total = directories + sum(_stars(segment) for segment in segments if segment != "**")
    if total > MAX_WILDCARDS or directories > MAX_DIRECTORY_WILDCARDS:
        return (f"{total} wildcards ({directories} **): more than {MAX_WILDCARDS} wildcards or "
                f"{MAX_DIRECTORY_WILDCARDS} ** can take minutes to match")
    return None


def _stars(segment: str) -> int:
    """The ``*`` in one segment that are wildcards (not escaped by a backslash)."""
    count, escaped = 0, False
    for char in segment:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            count += 1
    return count


def _root_ignores(root: Path, skipped: list, looked_at: List[str]) -> tuple:
    exclude = root / ".git" / "info" / "exclude"
    looked_at.append(str(exclude))
    present = os.path.lexists(exclude)
    return (_GitIgnore.read(str(exclude), "", skipped),) if present else ()


def is_ignore_file(relative: str) -> bool:
    """Is this one of the files that say what the project is (``.gitignore``, ``.git/info/exclude``)? A warning
    about one concerns the whole project, whatever paths were asked about."""
    return relative == ".git/info/exclude" or relative.rpartition("/")[2] == ".gitignore"


def _ignored(ignores: tuple, relative: str, is_dir: bool) -> bool:
    """Git's answer: the deepest ignore file with a pattern for the path decides (a ``!pattern`` re-includes)."""
    for ignore in reversed(ignores):
        inner = relative[len(ignore.base):] + ("/" if is_dir else "")
        decision = ignore.spec.check_file(inner).include
        if decision is not None:
            return decision
    return False


def _is_regular(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()  # through a link; False for FIFOs, devices, sockets and broken links
    except OSError:
        return False


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

