"""Which files are worth LibCST's time, from their text alone.

Phase one takes the files holding a token of Celery's vocabulary (``celery_api.TERMS``: the tokens are derived
from the table, never listed here). Phase two adds the files that can reach a name of interest (a task, a
decorator alias, a result-returning helper, found so far) through an import, an attribute or a run-time lookup.
A file skipped here can hold a discarded use at most, and a task without uses is never reported: skipping can
hide a finding, never create one. Matched case-insensitively, as the lowered pattern against the lowered text
(four times faster than re.IGNORECASE, which folds every character).
"""
from __future__ import annotations

import bisect
import codecs
from ast import PyCF_ONLY_AST
import hashlib
import re
from collections import defaultdict
from typing import Dict, Iterable, List, Tuple

from .. import celery_api
from ..analysis.statements import without_type_parameters
from ..celery_api import Role
from .modules_handed_on import bare_uses, import_statements

# An identifier: a non-ASCII one (``résultat``, PEP 3131) is one word of its UTF-8 bytes, as its name encodes
WORD = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*")
_ATTRIBUTE_PREFIX = celery_api.attribute("")[:-2]  # ``\.(?:\s|\\|#...)*``: the tokens written after a dot


def grouped(fragments) -> bytes:
    """One alternation of ``fragments``, those after a dot under one prefix and the plain words grouped by
    first character, which the regex engine tries fewer of per position (a fifth faster on every file of a
    cold run than the flat alternation; ``tests/test_vocabulary.py`` checks both match the same)."""
    after_dot, by_first, others = [], defaultdict(list), []
    for fragment in fragments:
        if fragment.startswith(_ATTRIBUTE_PREFIX):
            after_dot.append(fragment[len(_ATTRIBUTE_PREFIX):])
        elif re.fullmatch(rb"[a-z_]+", fragment):
            by_first[fragment[:1]].append(fragment[1:])
        else:
            others.append(fragment)
    parts = [_ATTRIBUTE_PREFIX + b"(?:" + b"|".join(after_dot) + b")"] if after_dot else []
    for first, rests in by_first.items():
        parts.append(first + (b"(?:" + b"|".join(rests) + b")" if len(rests) > 1 else rests[0]))
    return b"|".join(parts + others)


TOKENS = celery_api.tokens()
CELERY_TOKENS = re.compile(grouped(TOKENS))


def _screen(tokens) -> tuple:
    """A faster first look than ``CELERY_TOKENS``, derived from the same tokens: the tokens written after a dot
    as their own pattern (it starts with a literal dot, which the regex engine jumps between), and for every
    other token the plain text it must contain (``shared_task`` contains ``_task``). A file holding none of
    these holds no token; one holding a text only is searched with the full pattern. (None: a token that is
    not plain text; then every file is searched.)"""
    after_dot = [t for t in tokens if t.startswith(_ATTRIBUTE_PREFIX)]
    texts = set()
    for token in tokens:
        if token in after_dot:
            continue
        text = re.sub(rb"\\([(\[])", rb"\1", token.replace(rb"\b", b"").replace(celery_api.QUOTE, b""))
        if not re.fullmatch(rb"[a-z0-9_(\[]+", text):
            return None
        texts.add(text)
    # the shortest texts are enough: a file holding ``send_task`` holds ``_task``
    texts = {t for t in texts if not any(other != t and other in t for other in texts)}
    return re.compile(grouped(after_dot)) if after_dot else None, tuple(sorted(texts))


_SCREEN = _screen(TOKENS)


def mentions_token(lowered: bytes) -> bool:
    """Does the lowered text hold a Celery token? The same answer as ``CELERY_TOKENS.search``, faster."""
    if _SCREEN is None:
        return CELERY_TOKENS.search(lowered) is not None
    after_dot, texts = _SCREEN
    if after_dot is not None and after_dot.search(lowered):
        return True
    return any(text in lowered for text in texts) and CELERY_TOKENS.search(lowered) is not None


def mentions_celery(source: bytes) -> bool:
    """Phase one: a Celery token, a run-time lookup of an object imported at run time (any task), or a mapping
    naming a task (``task_key_starts``)."""
    return mentions_token(source.lower()) or looks_up_any_task(source) or bool(task_key_starts(source))


# ``{"task": "pdf.render", "args": [1]}``: a signature written as a mapping (or a beat entry) names its task by the
# name it is registered under, which the rounds cannot search for (not a word): such a key counts as a Celery token.
TASK_KEY = re.compile(rb"""['"]task['"][ \t]*:""")


def task_key_starts(source: bytes) -> List[int]:
    if b"'task'" not in source and b'"task"' not in source:
        return []
    return [match.start() for match in TASK_KEY.finditer(source)]


_RUN_TIME_IMPORTS = tuple(sorted(name.encode() for name in celery_api.names(Role.RUN_TIME_IMPORT)))
_RUN_TIME_LOOKUPS = tuple(sorted(name.encode() for name in celery_api.names(Role.RUN_TIME_LOOKUP)))


def looks_up_any_task(source: bytes) -> bool:
    """``getattr(import_module(path), name)`` needs neither a Celery token nor a task's name, yet may hand on
    any task: a file holding both kinds of word is read in phase one."""
    return any(word in source for word in _RUN_TIME_LOOKUPS) and any(word in source for word in _RUN_TIME_IMPORTS)


def celery_token_starts(source: bytes) -> List[int]:
    """Offsets at which a Celery token starts."""
    return [match.start() for match in CELERY_TOKENS.finditer(source.lower())] + task_key_starts(source)


class Interest:
    """What a file or statement must mention to be worth LibCST's time: a Celery token, or one of ``names``
    (identifiers of tasks, decorator aliases and helpers). Names are compared as whole words, through
    a set, so the cost does not grow with the number of tasks. ``name()`` is a module-level function whose
    returns a summary follows (``ident(t).delay()``, in the same file): the slicer keeps its returns and every
    statement naming it, but it makes no other file matter (``returning``, apart from ``names``)."""

    def __init__(self, names: Iterable[str] = ()):
        words, returning, lookups = set(), set(), set()
        for name in names:
            parts = WORD.findall(name.encode())
            if name.startswith(LOOKED_UP):  # ``getattr(proj.post)``: see ``looks_up_in``
                lookups.add(name[len(LOOKED_UP):-1].encode())
            elif parts and name.endswith("()"):
                returning.add(parts[-1])
            elif parts:  # text that mentions ``a.b.name`` mentions the word ``name``: a sound, cheap test
                words.add(parts[-1])
        self.names = frozenset(words)
        self.returning = frozenset(returning)
        self.words = self.names | self.returning  # what the slicer keeps statements for
        self.lookups = frozenset(lookups)  # modules whose attributes may be tasks, or functions returning results
        # what a file found unreachable was checked for (``rounds``): names, and modules looked up by getattr
        self.reach_keys = self.names | {LOOKED_UP.encode() + module for module in self.lookups} \
            | {b"()" + name for name in self.returning}
        digest = hashlib.sha1(b" ".join(sorted(self.names)) + b" () " + b" ".join(sorted(returning))
                              + b" getattr " + b" ".join(sorted(self.lookups))).hexdigest()
        self.key = "celery" if not self.words and not self.lookups else f"celery+{digest}"
        self._since: Dict[frozenset, Tuple[frozenset, frozenset]] = {}

    def since(self, unreached: frozenset) -> Tuple[frozenset, frozenset]:
        """(names, lookups) of this interest that are not among ``unreached`` (an earlier interest's ``reach_keys``).
        Every file a round found unreachable asks with the same set: each answer is made once, not once a file."""
        found = self._since.get(unreached)
        if found is None:
            found = self._since[unreached] = (self.names - unreached, self.lookups_not_in(unreached))
        return found

    def lookups_not_in(self, known, close: bytes = b"") -> frozenset:
        """The modules of ``lookups`` not among ``known``: ``getattr(module`` keys (``reach_keys``), or with
        ``close=b")"`` the ``getattr(module)`` entries of ``seen_in``, as bytes."""
        return frozenset(module for module in self.lookups if LOOKED_UP.encode() + module + close not in known)

    def plus(self, names: Iterable[str]) -> "Interest":
        """These names and ``names``."""
        own = [w.decode() for w in self.names] + [f"{w.decode()}()" for w in self.returning]
        own += [f"{LOOKED_UP}{w.decode()})" for w in self.lookups]
        return Interest([*own, *names])

    def referenced_in(self, source: bytes) -> bool:
        """Can a file without any Celery token refer to one of ``names``, or pass one on? A star import may
        re-export a task to a module that names it; otherwise see ``reachable_words`` (most files mention
        no name at all, so that is checked first). Or does it look an attribute of one of ``lookups`` up by a
        name known at run time (``looks_up_in``)?"""
        if not self.names and not self.lookups:
            return False
        if self.names and has_star_import(source):
            return True
        words = frozenset(WORD.findall(source))
        if not self.names.isdisjoint(words) and not self.names.isdisjoint(reachable_words(source, words)):
            return True
        return bool(self.lookups) and (looks_up_in(source, words, self.lookups) or bool(bare_uses(source, self.lookups, words)))

    def seen_in(self, source: bytes) -> List[str]:
        """The names of interest ``source`` mentions anywhere (``name()`` for those in ``returning``), and the
        modules of ``lookups`` it hands on as values (``getattr(module)``: the slicer keeps those statements)."""
        if not self.words and not self.lookups:
            return []
        words = frozenset(WORD.findall(source))
        mentioned = self.words & words
        handed = bare_uses(source, self.lookups, words) if self.lookups else {}
        return sorted([w.decode() for w in mentioned & self.names] + [f"{w.decode()}()" for w in mentioned & self.returning]
                      + [f"{LOOKED_UP}{module.decode()})" for module in handed])


# A file that looks things up by a string at run time may reach a task through any word it holds.
RUN_TIME_LOOKUP_WORDS = frozenset(name.encode() for name in celery_api.names(Role.RUN_TIME_IMPORT, Role.RUN_TIME_LOOKUP))


def reachable_words(source: bytes, words: frozenset) -> frozenset:
    """The names through which a file without any Celery token (nor a star import) can refer to a task or
    pass one on: those in an import, attributes (``tasks.name``), and any word at all if it looks things up
    by string at run time. A bare name needs a binding, and the only bindings that can reach a task are
    those. (A name in a string otherwise can only be a beat entry or the like, which never reads a result.)"""
    if not RUN_TIME_LOOKUP_WORDS.isdisjoint(words):
        return words
    reachable = set(ATTRIBUTE.findall(source))
    for statement in import_statements(source):
        reachable.update(WORD.findall(statement.group(0)))
    return frozenset(reachable)


# ``getattr(post, name)``: a module of the project, looked into by a name known at run time, may give any task it
# binds (handed on from there) or any function it binds (whose callers are then not all known): a file doing so
# matters though it names neither. ``Interest`` gets such modules (dotted) as ``getattr(proj.post)``.
LOOKED_UP = "getattr("
GETATTR_HOLDER = re.compile(  # (not ``getattr(settings, "DEBUG", False)``: a literal name is a name like any other;
    # no leading ``\b``, which would keep the regex engine from jumping between the occurrences of ``getattr``)
    rb"getattr\s*\(\s*([A-Za-z_][\w.]*)\s*,(?!\s*[rRuU]?(?:'[^'\\\n]*'|\"[^\"\\\n]*\")\s*[,)])")


def looks_up_in(source: bytes, words: frozenset, modules: frozenset) -> bool:
    """Does ``source`` call ``getattr`` on one of ``modules`` (dotted names)? The holder is a name an import
    statement binds (a module is reached through an import), one that names the module: its last name, and its
    top package or a relative ``from .`` (``from proj import post as ops``; not Django's ``from django.conf import
    settings`` for a project module named ``settings``)."""
    lasts = {module.rpartition(b".")[2]: module.partition(b".")[0] for module in modules}
    if b"getattr" not in words or words.isdisjoint(lasts):
        return False  # (the module is named somewhere, in an import, or not at all)
    written = [match.group(1) for match in GETATTR_HOLDER.finditer(source)
               if not source[match.start() - 1:match.start()].isalnum() and source[match.start() - 1:match.start()] != b"_"]
    if any(lasts.get(holder.rpartition(b".")[2]) == holder.partition(b".")[0] for holder in written if b"." in holder):
        return True  # ``import proj.ops`` then ``getattr(proj.ops, name)``
    holders = {holder.rpartition(b".")[2] for holder in written} - {b"self", b"cls"}
    if not holders:
        return False
    for statement in import_statements(source):
        found = frozenset(WORD.findall(statement.group(0)))
        relative = statement.group(0).lstrip().startswith(b"from") and b"." == statement.group(0).split()[1][:1]
        if not holders.isdisjoint(found) and any(last in found and (relative or top in found)
                                                 for last, top in lasts.items()):
            return True
    return False


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


ATTRIBUTE = re.compile(_ATTRIBUTE_PREFIX + rb"([A-Za-z_][A-Za-z0-9_]*)")

# A first guess at task names from the text alone, so that the first LibCST pass already keeps the statements
# that name them (a wrong guess only costs time: later rounds use the real names). Each pattern is linear.
DECORATOR_LINE = re.compile(rb"^[ \t]*@[^\n]*", re.MULTILINE)
DEF_LINE = re.compile(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
TASK_CLASS = re.compile(rb"^[ \t]*class[ \t]+(\w+)\([^)\n]*Task\b", re.MULTILINE)
TASK_ALIAS = re.compile(rb"^(\w+)[ \t]*=[ \t]*[\w.]*task\b", re.IGNORECASE | re.MULTILINE)
# ``@shared_task(bind=True, **RETRY_OPTIONS)``, over several lines too: options spread in from a name (one level of
# parentheses inside)
TASK_DECORATOR_CALL = re.compile(rb"^[ \t]*@[\w.]*task\w*[ \t]*\(((?:[^()]|\([^()]*\))*)\)",
                                 re.IGNORECASE | re.MULTILINE)
SPREAD = re.compile(rb"\*\*[ \t]*(?:\w+\.)*(\w+)")
_LINE_BREAK = re.compile(rb"\n")
_DECORATOR_REACH = 40  # a task's def is at most this many lines below a decorator that names task or celery


def likely_task_names(source: bytes) -> List[str]:
    """Functions decorated by something that says task or celery, Task subclasses, ``x = ...task`` aliases, and
    options spread into a task decorator (``**RETRY_OPTIONS``: where they are defined matters too)."""
    names = {m.group(1) for pattern in (TASK_CLASS, TASK_ALIAS) for m in pattern.finditer(source)}
    names.update(spread for call in TASK_DECORATOR_CALL.finditer(source) for spread in SPREAD.findall(call.group(1)))
    decorators = [m.end() for m in DECORATOR_LINE.finditer(source)
                  if b"task" in m.group(0).lower() or b"celery" in m.group(0).lower()]
    if decorators:
        definitions = [(m.start(), m.group(1)) for m in DEF_LINE.finditer(source)]
        starts = [start for start, _ in definitions]
        breaks = [m.start() for m in _LINE_BREAK.finditer(source)]
        for end in decorators:
            index = bisect.bisect_left(starts, end)
            if index < len(starts) and bisect.bisect(breaks, starts[index]) - bisect.bisect(breaks, end) <= _DECORATOR_REACH:
                names.add(definitions[index][1])
    return sorted(name.decode() for name in names)


def python_refuses(source: bytes) -> bool:
    """Does Python's parser refuse the file (or give up on it)? Where this Python is older than the code, type
    parameters and ``type`` aliases are blanked out first, as the slicer's parse does: LibCST reads them."""
    if _python_reads(source):
        return False
    older = without_type_parameters(source)
    return older == source or not _python_reads(older)


def _python_reads(source: bytes) -> bool:
    import symtable
    import warnings

    text = _plain_text(source)
    try:
        with warnings.catch_warnings():  # invalid escapes and the like: the linted code's business, not ours
            warnings.simplefilter("ignore")
            if text is not None:  # parsed, scopes built, no tree of Python objects: ~35% less than ``compile``
                symtable.symtable(text, "<file>", "exec")
            else:
                compile(source, "<file>", "exec", flags=PyCF_ONLY_AST, dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _plain_text(source: bytes):
    """The text Python would read from ``source``, where decoding it here changes nothing: no byte-order mark and no
    coding line (Python checks those only when given bytes); else None."""
    if source.startswith(b"\xef\xbb\xbf") or b"coding" in _first_two_lines(source):
        return None
    try:
        return source.decode("utf-8")
    except UnicodeDecodeError:
        return None


_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)  # PEP 263


def other_encoding(source: bytes) -> bool:
    """Non-ASCII text in a file that declares an encoding other than UTF-8 (``# -*- coding: latin-1 -*-``): its
    identifiers' bytes are not the UTF-8 of their names, which ``WORD``s are compared with."""
    found = _CODING.search(_first_two_lines(source))
    if found is None or source.isascii():
        return False
    try:
        return codecs.lookup(found.group(1).decode("ascii")).name != "utf-8"
    except LookupError:
        return True


def _first_two_lines(source: bytes) -> bytes:
    """Where an encoding may be declared (PEP 263)."""
    return b"\n".join(source.split(b"\n", 2)[:2])

