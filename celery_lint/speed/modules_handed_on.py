"""A module of the project handed on as a value, read from the text alone: ``from proj import tasks`` then
``run(tasks)``, ``MODULES = [tasks]``, ``import proj.tasks`` then ``run(proj.tasks)``.

The analysis takes every task such a module holds (its own and those it imports) as handed on
(``Project._named_targets``), so the fast path must read those statements, though they hold no Celery word
and no task's name. The modules come from the rounds (``Interest.lookups``: the modules holding tasks); a
binding is found by the import statements that name one, and a use is the bound name written bare, not as
``tasks.render`` (an attribute names a task, which the names of interest cover) nor inside an import. Reading
more than needed only costs time: a string or a comment may match.
"""
from __future__ import annotations

import functools
import re
from typing import Dict, Iterable, List, Optional, Set

# ``import a.b``, ``from .x import (\n y,  # a comment (maybe with parentheses)\n z)``, backslash continuations.
# Linear on any input: a comment runs to its line's end and cannot give characters back (``(?![^\n])``), and an
# unclosed parenthesis takes the rest of the file (more words, never fewer) instead of failing and letting the
# next line try again.
IMPORT_STATEMENT = re.compile(
    rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+(?:\((?:[^)#]|#[^\n]*(?![^\n]))*(?:\)|\Z)|(?:[^\n\\]|\\(?:\r?\n|.))*)",
    re.MULTILINE,
)
_IMPORT_KEYWORD = re.compile(rb"\bimport\b")
_LONE_CR = re.compile(rb"\r(?!\n)")


def import_statements(source: bytes):
    """``IMPORT_STATEMENT.finditer(source)``, faster: tried only at the start of a line holding the word
    ``import`` (every match has it on its first line), which a literal search finds. Lines ending in a lone CR
    (which Python reads as line breaks) are read as ending in LF: the same length, so the offsets hold."""
    if b"\r" in source:
        source = _LONE_CR.sub(b"\n", source)
    end = 0
    for keyword in _IMPORT_KEYWORD.finditer(source):
        start = source.rfind(b"\n", 0, keyword.start()) + 1
        if start < end:
            continue  # a line inside the last statement (its own ``import`` word, or a comment's)
        statement = IMPORT_STATEMENT.match(source, start)
        if statement is not None:
            yield statement
            end = statement.end()


_COMMENT = re.compile(rb"#[^\n]*")
# Written bare: not an attribute (``x.tasks``, ``tasks.render``), and not next to what a module cannot take part
# in, which is how names appear in strings and paths (``"tasks/"``, ``name="tasks"``) or calls of a function of
# the same name (``tasks(1)``).
_NOT_AFTER = rb"(?<![\w.'\"/^-])"
_NOT_BEFORE = rb"\b(?!\s*[.(]|['\"/^-])"
_IMPORT_WORD = re.compile(rb"\bimport\b")
_IMPORTED = re.compile(rb"([\w.]+)(?:\s+as\s+(\w+))?")


def bare_uses(source: bytes, modules: Iterable[bytes], words: Optional[Iterable[bytes]] = None) -> Dict[bytes, List[int]]:
    """For each of ``modules`` (dotted) that ``source`` binds by an import, the offsets at which the bound name is
    written bare. ``words``: the file's words, if known (a module whose last name is not one of them is not
    imported; else the text is searched for it)."""
    modules = modules if isinstance(modules, frozenset) else frozenset(modules)
    lasts = _lasts(modules)
    if not lasts or (lasts.keys().isdisjoint(words) if words is not None else not any(last in source for last in lasts)):
        return {}
    return _bare_uses(source, modules)


@functools.lru_cache(maxsize=64)
def _lasts(modules: frozenset) -> Dict[bytes, Set[bytes]]:
    lasts: Dict[bytes, Set[bytes]] = {}
    for module in modules:
        lasts.setdefault(module.rpartition(b".")[2], set()).add(module)
    return lasts


# A run asks about each file several times (its reach, its names seen, its slice), for the same modules; the file's
# text is held by ``Sources`` anyway.
@functools.lru_cache(maxsize=2048)
def _bare_uses(source: bytes, modules: frozenset) -> Dict[bytes, List[int]]:
    lasts = _lasts(modules)
    bound: Dict[bytes, Set[bytes]] = {}  # name as written (``t``, ``proj.tasks``) -> the modules it may be
    spans = []
    for statement in import_statements(source):
        spans.append(statement.span())
        for written, path in _bindings(statement.group(0)):
            held = {module for module in lasts.get(path.rpartition(b".")[2], ()) if _may_be(path, module)}
            if held:
                bound.setdefault(written, set()).update(held)
    found: Dict[bytes, List[int]] = {}
    for written, held in bound.items():
        pattern = _NOT_AFTER + re.escape(written).replace(rb"\.", rb"\s*\.\s*") + _NOT_BEFORE
        offsets = [m.start() for m in re.finditer(pattern, source) if not _inside(spans, m.start())]
        for module in held if offsets else ():
            found.setdefault(module, []).extend(offsets)
    return found


def _may_be(path: bytes, module: bytes) -> bool:
    """May the import of ``path`` (``from p import x``: ``p.x``) bind ``module``, whose last name it has? A relative
    import may (the file's own package is not known here); so may an absolute one from the same top package (a
    package of the project may re-export it: ``from proj.api import tasks``) or one that ends in the module's
    whole name (``proj.tasks`` for a module named ``tasks``, in a folder without ``__init__.py``); not ``from
    django.conf import settings`` for a module ``proj.settings``. (Not followed: a module re-exported by a
    package of another top name that holds no task itself.)"""
    return path.startswith(b".") or path.partition(b".")[0] == module.partition(b".")[0] \
        or path.endswith(b"." + module)


def _bindings(statement: bytes):
    """(name as written, the dotted path it binds) for each name an import statement binds: ``from p import x as
    y`` gives (y, p.x); ``import a.b`` gives (a, a) and (a.b, a.b), the ways code can write it."""
    text = _COMMENT.sub(b"", statement).replace(b"\\\n", b" ")
    head, imported = _IMPORT_WORD.split(text, maxsplit=1)
    source = head.strip()[len(b"from"):].strip() if head.strip().startswith(b"from") else None
    for match in _IMPORTED.finditer(imported.replace(b"(", b" ").replace(b")", b" ")):
        dotted, alias = match.group(1), match.group(2)
        if source is not None:
            yield alias or dotted, source + dotted if source.endswith(b".") else source + b"." + dotted
        elif alias:
            yield alias, dotted
        else:
            parts = dotted.split(b".")
            for end in range(1, len(parts) + 1):
                yield b".".join(parts[:end]), b".".join(parts[:end])


def _inside(spans, offset: int) -> bool:
    return any(start <= offset < end for start, end in spans)
