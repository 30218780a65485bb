"""Cut a module down to the statements that can matter, before LibCST (the slow parser) sees it.

Python's own parser (about eight times faster than LibCST's) finds the statements. Each cut leaves the
summary of what remains exactly what it would be on the whole file:

- a top-level statement that mentions nothing of interest (no Celery token, no name of interest, no import,
  no run-time lookup) goes;
- inside a kept function or class, a statement goes unless it mentions something of interest, or a variable
  that a kept statement mentions (to a fixed point), or encloses a kept statement. A nested function whose
  whole text mentions nothing of interest is weighed as one statement (its names are its own), and looked
  into only if it must stay. Results flow only through local variables (the summary follows a variable's
  other mentions; anything stored on an object or passed along escapes), and a name resolves through its
  bindings, which mention it. Parameters are not followed unless reassigned (``self`` never holds a result),
  a class body keeps only its imports and the bindings its kept statements use (class variables escape anyway), and a
  function that calls ``locals()`` or the like is kept whole, as is a task signal's receiver or a Task hook given a
  task's id (``headers.receives_ids``: where the id goes is followed through every local).
  What the summary reads without a Celery token is kept too (all named in ``celery_api``): ``self.request``,
  ``getattr(module, name)``, ``import_string(...)``, a class-based task's ``name = ...``; and at the top
  level, the binding of any name spread with ``**`` (a decorator's shared options);
- blank and comment-only lines go.

Lines are cut, not blanked, and each kept line's original number is returned, so positions map back. The
engine's plain path (``speed=False``: nothing cut, every file parsed) is the oracle: the tests run every
fixture, pattern and corpus project both ways and require the same findings, verdicts and reasons.
"""
from __future__ import annotations

import ast
import bisect
import re
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Set, Tuple

from .. import celery_api
from ..analysis.depth import too_deep_in
from ..analysis.statements import Kept, SourceCut, parse_statements
from .bindings import FUNCTIONS, SCOPES, bindings, blocks, sets_class_attr
from .headers import bound_task_self, receives_ids
from .kept_statements import kept_statements
from .modules_handed_on import bare_uses
from .prefilter import WORD, celery_token_starts, other_encoding

# ``handler = import_string(setting)`` or ``getattr(tasks, name)`` may hold any task: never cut. Module-level
# imports are kept too (names resolve through them); inside a function an import binds a local name, so
# it is kept exactly when that name is.
RUN_TIME_LOOKUPS = frozenset(name.encode() for name in celery_api.RUN_TIME_IMPORTS)
TOP_LEVEL_KEPT = RUN_TIME_LOOKUPS | {b"import"}
SPREAD = re.compile(rb"\*\*\s*([A-Za-z_][A-Za-z_0-9]*)")
# where a ``global`` statement may start (a line's start, or after ``;`` or a colon: ``if x: global y``); a wider net
# than the statements themselves (a docstring may match), which only costs a walk of the tree
GLOBAL_STATEMENT = re.compile(rb"(?:^|[;:])[ \t\f]*global[ \t\\]", re.MULTILINE)
_LOOKUPS = b"|".join(sorted(name.encode() for name in celery_api.names(celery_api.Role.RUN_TIME_LOOKUP)))
GETATTR = re.compile(rb"\b(?:" + _LOOKUPS + rb")\s*\(\s*(?!(?:self|cls)\s*,)")  # ``getattr(self, ...)`` never names a task
# What the summary reads inside a task body without any Celery token: the running task's own request.
_REQUEST = b"|".join(sorted(name.encode() for name in celery_api.names(celery_api.Role.REQUEST)))
SELF_REQUEST = re.compile(rb"\bself\s*\.\s*(?:" + _REQUEST + rb")\b")
# ``ProgressRecorder(self)`` in a ``bind=True`` task: the task itself (its first parameter) handed on, which may
# report its progress (not a ``def m(self)`` header, nor ``getattr(self, ...)`` and the like, which hand nothing on).
SELF_HANDED = rb"(?:\b(def\s+)?(\w+)\s*\(|[,=])\s*%s\s*[,)]"
_SELF_ASKED = frozenset({b"getattr", b"hasattr", b"setattr", b"delattr", b"isinstance", b"type", b"super", b"id"})
# A function that hands its local variables to something else (``render(locals())``): nothing in it is cut.
LOCALS_ESCAPE = frozenset({b"locals", b"vars", b"eval", b"exec"})
_LOOKUP_WORDS = frozenset(_LOOKUPS.split(b"|"))
_IMPORTS = (ast.Import, ast.ImportFrom)  # in a class body: a class attribute the summary hands on as a value
_REQUEST_WORDS = frozenset(_REQUEST.split(b"|"))


class Sliced(NamedTuple):
    source: bytes
    dropped: List[List[int]]  # line ranges cut (a range may keep its first line as ``pass``)
    line_numbers: Optional[List[int]]  # original number of each line of ``source``; None when nothing was cut
    defined: FrozenSet[str] = frozenset()  # the module-level functions of the whole file (cut or kept)
    deep: Optional[str] = None  # ``depth.too_deep`` of what is kept, when ``depth_checked``
    depth_checked: bool = False
    statements: Optional[Kept] = None  # Python's statements of ``source``, from the file's tree

    @property
    def cut(self) -> SourceCut:
        """What the summary parses instead of the file."""
        return SourceCut(self.source, self.line_numbers, self.deep, self.depth_checked, self.statements)


class _Cut(NamedTuple):
    start: int
    end: int
    pass_indent: Optional[bytes]  # keep the first line as ``<indent>pass``: the block must not be empty


def slice_source(source: bytes, keep) -> Sliced:
    """Keep what ``keep`` (an ``Interest``) matches, the imports, and what the cuts above cannot rule out."""
    tree = parse_statements(source) if not other_encoding(source) else None
    if tree is None:  # syntax this Python cannot read, or identifiers whose bytes are not their UTF-8 names
        return Sliced(source, [], None)  # LibCST gets the whole file
    lines = source.splitlines(keepends=True)
    spans = []
    for statement in tree.body:
        start = _start(statement)
        spans.append((statement, start, statement.end_lineno or statement.lineno))
    # a module holding tasks handed on as a value (``run(tasks)``) is kept as a Celery token is
    handed = [offset for offsets in bare_uses(source, keep.lookups).values() for offset in offsets]
    token_lines = _token_lines(source, lines, handed)
    local_aliases = _local_aliases(spans, lines, keep, token_lines)
    if GLOBAL_STATEMENT.search(source):  # ``global job`` in a function: its module-level bindings count with the function's
        local_aliases |= {name.encode() for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
    # ``_LIMITS = {...}`` spread into a decorator (``@shared_task(**_LIMITS)``): the options it reads
    spread = set(SPREAD.findall(source))
    relevant = _Relevance(keep, token_lines, local_aliases | TOP_LEVEL_KEPT | spread)
    relevant_inside = _Relevance(keep, token_lines, local_aliases | RUN_TIME_LOOKUPS)
    kept, candidates = [], []
    kept_words: Set[bytes] = set()
    for group in _sharing_lines(spans):
        (statement, start, _), end = group[0], group[-1][2]
        text = b"".join(lines[start - 1:end])
        words = set(WORD.findall(text))
        if len(group) > 1 or relevant.in_task(bound_task_self(statement))([(start, end)], words, text) \
                or _shares_a_line(lines, start, end) or receives_ids(statement):
            kept.extend(member for member, _, _ in group)  # lines are cut whole: statements sharing one stay
            kept_words.update(words)
        else:
            candidates.append((statement, start, end))
    cuts: List[_Cut] = []
    for statement, start, end in candidates:
        name = getattr(statement, "name", None)  # a def that a kept statement names (``app.task()(func)``)
        if name and name.encode() in kept_words:
            kept.append(statement)
            continue
        cuts.append(_Cut(start, end, None))
    for statement in kept:
        # a function whose returns the summary follows (``ident(t).delay()``) stays whole: what its returns hold
        # may depend on anything in it (a closure rebinding a parameter: not followed)
        if isinstance(statement, SCOPES) and not (isinstance(statement, FUNCTIONS) and statement.name.encode() in keep.returning):
            cuts.extend(_BodySlicer(statement, lines, relevant_inside.in_task(bound_task_self(statement))).cuts())
    if not cuts:
        return Sliced(source, [], None, statements=kept_statements(tree, lines, [], None))
    defined = frozenset(s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))
    # Whether an expression of what is kept nests too deep for LibCST, from the tree already parsed.
    cuts.sort()
    deep = too_deep_in(tree, lines, [(cut.start, cut.end) for cut in cuts])
    sliced = _apply(lines, cuts)
    return sliced._replace(defined=defined, deep=deep, depth_checked=True,
                           statements=kept_statements(tree, lines, cuts, sliced.line_numbers))


class _Relevance:
    """Does a statement's text mention something of interest (a Celery token, a name of interest), an
    import, or a local alias of either? Celery tokens are found once per file, by line."""

    def __init__(self, keep, token_lines: List[int], words: Set[bytes], task_self: Optional[bytes] = None):
        self.keep = keep
        self.names = keep.words  # names of interest, and functions whose returns are followed
        self.token_lines = token_lines
        self.words = words
        self.task_self = task_self  # in a ``bind=True`` task: its first parameter, the task itself
        self.self_handed = re.compile(SELF_HANDED % re.escape(task_self)) if task_self else None
        # ``task.request.id`` where the first parameter is not named ``self`` (``SELF_REQUEST`` has that one)
        self.own_request = re.compile(rb"\b" + re.escape(task_self) + rb"\s*\.\s*(?:" + _REQUEST + rb")\b") \
            if task_self and task_self != b"self" else None

    def in_task(self, task_self: Optional[bytes]) -> "_Relevance":
        """This relevance inside a ``bind=True`` task whose first parameter is ``task_self`` (None: not a task)."""
        return self if task_self == self.task_self else _Relevance(self.keep, self.token_lines, self.words, task_self)

    def __call__(self, segments: List[Tuple[int, int]], words: Set[bytes], text: bytes) -> bool:
        return bool(any(_any_within(self.token_lines, first, last) for first, last in segments)
                    or not self.names.isdisjoint(words) or not self.words.isdisjoint(words)
                    or (not _LOOKUP_WORDS.isdisjoint(words) and GETATTR.search(text))
                    or (not _REQUEST_WORDS.isdisjoint(words) and SELF_REQUEST.search(text))
                    or (self.task_self in words and self._hands_self_on(text))
                    or (self.own_request is not None and self.task_self in words and bool(self.own_request.search(text))))

    def _hands_self_on(self, text: bytes) -> bool:
        return any(not match.group(1) and match.group(2) not in _SELF_ASKED
                   for match in self.self_handed.finditer(text))


def _token_lines(source: bytes, lines: List[bytes], more: List[int]) -> List[int]:
    """The lines (sorted) on which a Celery token starts, or one of the offsets ``more``."""
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line)
    return sorted({bisect.bisect_right(starts, start) for start in celery_token_starts(source) + more})


def _any_within(sorted_lines: List[int], first: int, last: int) -> bool:
    index = bisect.bisect_left(sorted_lines, first)
    return index < len(sorted_lines) and sorted_lines[index] <= last


def _start(statement) -> int:
    return min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])


def _sharing_lines(spans: list) -> List[list]:
    """``spans`` ((statement, first line, last line), in order) grouped so that statements sharing a line
    (``a(); b()``) are one group: they are kept or cut together, and their text is read once (20,000 statements
    on one line must cost one pass over it, not 20,000)."""
    groups: List[list] = []
    for span in spans:
        if groups and span[1] <= groups[-1][-1][2]:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def _shares_a_line(lines: List[bytes], start: int, end: int) -> bool:
    return b";" in lines[start - 1] or b";" in lines[end - 1]


def _indent(line: bytes) -> bytes:
    return line[: len(line) - len(line.lstrip())]


def _owns_first_line(statement, lines: List[bytes], start: int) -> bool:
    """Does the statement (or its first decorator) begin its first line (``if x: y`` gives ``y`` no line)?"""
    line = lines[start - 1]
    if getattr(statement, "decorator_list", None):
        return line.lstrip().startswith(b"@")
    return len(_indent(line)) == statement.col_offset and line.strip() != b""


class _Scope:
    """A function or class body. ``bound``: the names bound there other than as parameters (``self`` or
    ``request`` never hold a result unless reassigned)."""

    __slots__ = ("parent", "is_class", "bound", "locals_escape")

    def __init__(self, node, parent: Optional["_Scope"]):
        self.parent = parent
        self.is_class = isinstance(node, ast.ClassDef)
        self.bound: Set[bytes] = set()
        self.locals_escape = receives_ids(node)  # (where the id goes is followed through every local)

    def visible(self):
        """This scope and the ones whose names it sees (as Python does: not the class bodies around it)."""
        yield self
        scope = self.parent
        while scope is not None:
            if not scope.is_class:
                yield scope
            scope = scope.parent


class _Unit:
    """A statement inside a kept function or class, with what its own lines (a compound's header, its
    ``else:``/``except E as e:`` lines, not its blocks) mention and bind."""

    __slots__ = ("node", "start", "end", "parent", "scope", "inner", "blocks", "words", "bound", "needs",
                 "provides", "seed", "kept", "closed")

    def __init__(self, node, start: int, end: int, parent: Optional["_Unit"], scope: Optional[_Scope]):
        self.node, self.start, self.end, self.parent, self.scope = node, start, end, parent, scope
        self.inner = scope  # the scope of its body, for a def or class
        self.blocks: List[List["_Unit"]] = []
        self.words: Set[bytes] = set()
        self.bound: Set[bytes] = set()
        self.needs: Set[tuple] = set()  # (scope, name) it mentions: their bindings must stay
        self.provides: Set[tuple] = set()  # (scope, name) it mentions in a way that matters to whoever needs it
        self.seed = False
        self.kept = False
        self.closed = False  # a nested function taken whole (``_BodySlicer._closed``)


class _BodySlicer:
    """Statement-level cuts inside one kept top-level function or class.

    In a function, a variable's every mention matters (a result flows through it), so a unit provides every
    local name it mentions; in a class body, values escape anyway, so only bindings matter (for resolving
    the names kept statements use). Mentions are the words of the text (strings and attributes included:
    a wider net, never a narrower one)."""

    def __init__(self, definition, lines: List[bytes], relevant):
        self.definition = definition
        self.lines = lines
        self.relevant = relevant

    def cuts(self) -> List[_Cut]:
        start, end = _start(self.definition), self.definition.end_lineno or self.definition.lineno
        root = _Unit(self.definition, start, end, None, None)
        root.kept = True
        units: List[_Unit] = []
        scope = _Scope(self.definition, None)
        root.blocks = [self._block(block, root, scope, units) for block in blocks(self.definition)]
        while True:
            for unit in units:
                self._link(unit)
            _close(units)
            # A closed function that must stay is opened, and the closure done again from the start, so that
            # only the statements in it that matter stay (and only the names those need).
            kept_closed = [unit for unit in units if unit.closed and unit.kept]
            if not kept_closed:
                break
            for unit in kept_closed:
                self._open(unit, units)
            for unit in units:
                unit.kept, unit.needs, unit.provides = False, set(), set()
        cuts: List[_Cut] = []
        self._collect(root, cuts)
        for unit in units:  # a unit and its parent's blocks hold each other: let reference counting free them
            unit.parent = None
        return cuts

    def _block(self, statements, parent: _Unit, scope: _Scope, units: List[_Unit]) -> List[_Unit]:
        block = []
        spans = [(statement, _start(statement), statement.end_lineno or statement.lineno) for statement in statements]
        for group in _sharing_lines(spans):
            if len(group) > 1:  # simple statements sharing a line (``a(); b()``): one unit, kept or cut whole
                block.append(self._shared_line_unit(group, parent, scope, units))
                continue
            statement, start, end = group[0]
            unit = _Unit(statement, start, end, parent, scope)
            units.append(unit)
            if not self._closed(unit):
                self._open(unit, units)
            block.append(unit)
        return block

    def _closed(self, unit: _Unit) -> bool:
        """Is ``unit`` a nested function whose whole text mentions nothing of interest (most methods of a kept
        class)? Then it is one closed unit, with no unit for each statement in it, and is cut whole unless a
        kept statement needs a name it mentions. Its own names live in a scope nothing outside it sees, so it
        mentions (needs and provides) every word of its text, as its statements would together."""
        statement = unit.node
        if not isinstance(statement, FUNCTIONS):
            return False
        text = b"".join(self.lines[unit.start - 1:unit.end])
        words = set(WORD.findall(text))
        if (b";" in text or not LOCALS_ESCAPE.isdisjoint(words) or not _owns_first_line(statement, self.lines, unit.start)
                or self.relevant([(unit.start, unit.end)], words, text) or receives_ids(statement)):
            return False
        unit.closed = True
        unit.words = words
        unit.bound = bindings(statement, b":=" in text)
        unit.scope.bound.update(unit.bound)
        return True

    def _open(self, unit: _Unit, units: List[_Unit]) -> None:
        """A unit for each statement nested in ``unit``; what its own lines mention and bind."""
        statement, scope = unit.node, unit.scope
        unit.closed = False
        if isinstance(statement, SCOPES):
            unit.inner = _Scope(statement, scope)
        unit.blocks = [self._block(nested, unit, unit.inner, units) for nested in blocks(statement)]
        segments = self._own_segments(unit)
        own = b"".join(b"".join(self.lines[first - 1:last]) for first, last in segments)
        unit.words = set(WORD.findall(own))
        unit.bound = bindings(statement, b":=" in own)
        scope.bound.update(unit.bound)
        if not scope.is_class and not LOCALS_ESCAPE.isdisjoint(unit.words):
            scope.locals_escape = True
        unit.seed = (self.relevant(segments, unit.words, own) or _shares_a_line(self.lines, unit.start, unit.end)
                     or not _owns_first_line(statement, self.lines, unit.start)
                     or (scope.is_class and (sets_class_attr(statement) or isinstance(statement, _IMPORTS))))

    def _shared_line_unit(self, group: list, parent: _Unit, scope: _Scope, units: List[_Unit]) -> _Unit:
        (first, start, _), end = group[0], group[-1][2]
        unit = _Unit(first, start, end, parent, scope)
        units.append(unit)
        own = b"".join(self.lines[start - 1:end])
        unit.words = set(WORD.findall(own))
        walrus = b":=" in own
        for statement, _, _ in group:
            unit.bound |= bindings(statement, walrus)
        scope.bound.update(unit.bound)
        if not scope.is_class and not LOCALS_ESCAPE.isdisjoint(unit.words):
            scope.locals_escape = True
        unit.seed = True  # as for any statement that shares a line
        return unit

    def _link(self, unit: _Unit) -> None:
        scopes = [unit.scope] + ([unit.inner] if unit.inner is not unit.scope else []) + list(unit.scope.visible())[1:]
        for scope in scopes:
            for name in unit.words & scope.bound:
                key = (id(scope), name)
                unit.needs.add(key)
                if not scope.is_class or name in unit.bound:
                    unit.provides.add(key)
        unit.seed = unit.seed or any(scope.locals_escape for scope in scopes)

    def _own_segments(self, unit: _Unit) -> List[Tuple[int, int]]:
        """The line ranges of the unit that none of its nested statements holds, without the comments between
        (and just after the header of) its blocks: ``# backup first`` in a body names nothing."""
        children = sorted((child.start, child.end) for block in unit.blocks for child in block)
        if not children:
            return [(unit.start, unit.end)]
        segments, line = [], unit.start
        for index, (start, end) in enumerate(children):
            if start > line:  # nothing where a child shares the line (``if x: y``)
                segments.extend(self._code_lines(line, start - 1, header=index == 0))
            line = max(line, end + 1)
        if line <= unit.end:
            segments.extend(self._code_lines(line, unit.end, header=False))
        return segments

    def _code_lines(self, first: int, last: int, header: bool) -> List[Tuple[int, int]]:
        def is_code(number: int) -> bool:
            text = self.lines[number - 1].strip()
            return bool(text) and not text.startswith(b"#")

        if header:  # a multi-line header may hold anything (strings); only what trails it is dropped
            while last >= first and not is_code(last):
                last -= 1
            return [(first, last)] if last >= first else []
        return [(number, number) for number in range(first, last + 1) if is_code(number)]

    def _collect(self, unit: _Unit, cuts: List[_Cut]) -> None:
        for block in unit.blocks:
            if block and not any(child.kept for child in block):
                first = block[0]  # a block must keep a statement: ``pass`` on its first line
                cuts.append(_Cut(first.start, block[-1].end, _indent(self.lines[first.start - 1])))
                continue
            for child in block:
                if child.kept:
                    self._collect(child, cuts)
                else:
                    cuts.append(_Cut(child.start, child.end, None))




def _close(units: List[_Unit]) -> None:
    """Keep the seeds, the statements around them, and whatever provides a name a kept statement needs,
    until nothing changes."""
    providers: Dict[tuple, List[_Unit]] = {}
    for unit in units:
        for key in unit.provides:
            providers.setdefault(key, []).append(unit)
    tracked: Set[tuple] = set()
    todo: List[tuple] = []

    def keep(unit: Optional[_Unit]) -> None:
        while unit is not None and not unit.kept:
            unit.kept = True
            new = unit.needs - tracked
            tracked.update(new)
            todo.extend(new)
            unit = unit.parent

    for unit in units:
        if unit.seed:
            keep(unit)
    while todo:
        for unit in providers.get(todo.pop(), ()):
            keep(unit)


def _apply(lines: List[bytes], cuts: List[_Cut]) -> Sliced:
    """The source without the cut ranges (a ``pass`` where a block needs one), and where each line came from.
    Blank and comment-only lines go too (past the first two, which may declare the encoding): Python ignores
    them, and inside a multi-line string they only change text the summary never reads. Cutting rather than
    blanking spares LibCST thousands of empty lines to parse and walk."""
    replaced: Dict[int, bytes] = {}
    removed: Set[int] = set()
    for start, end, pass_indent in cuts:
        removed.update(range(start, end + 1))
        if pass_indent is not None:
            replaced[start] = pass_indent + b"pass" + _line_end(lines[end - 1])
    kept_lines, numbers = [], []
    for number, line in enumerate(lines, start=1):
        if number in replaced:
            line = replaced[number]
        elif number in removed:
            continue
        elif number > 2:
            text = line.strip()
            # A comment-like line may sit inside a multi-line string: dropping it changes only the text, unless it
            # holds the closing quotes or an f-string's field (``# Total: {r.get()}``), so such a line stays.
            if not text or (text.startswith(b"#") and not _QUOTE_OR_FIELD.intersection(text)):
                continue
        kept_lines.append(line)
        numbers.append(number)
    return Sliced(b"".join(kept_lines), [[start, end] for start, end, _ in cuts], numbers)


_QUOTE_OR_FIELD = frozenset(b"'\"{")


def _line_end(line: bytes) -> bytes:
    return b"\r\n" if line.endswith(b"\r\n") else b"\r" if line.endswith(b"\r") else b"\n"


def _local_aliases(spans, lines: List[bytes], keep, token_lines: List[int]) -> Set[bytes]:
    """Names this module binds to something of interest (``from celery import shared_task as st``,
    ``job = shared_task``): a statement that only says ``@st()`` must be kept too."""
    names: Set[bytes] = set()
    words_of: Dict[Tuple[int, int], Set[bytes]] = {}  # statements sharing their lines read them once
    for statement, start, end in spans:
        if not isinstance(statement, (ast.Import, ast.ImportFrom, ast.Assign)):
            continue
        words = words_of.get((start, end))
        if words is None:
            words = words_of[start, end] = set(WORD.findall(b"".join(lines[start - 1:end])))
        if not (_any_within(token_lines, start, end) or not keep.words.isdisjoint(words) or not names.isdisjoint(words)):
            continue
        if isinstance(statement, ast.Assign):
            names.update(t.id.encode() for t in statement.targets if isinstance(t, ast.Name))
        else:
            names.update((a.asname or a.name).split(".")[0].encode() for a in statement.names if a.name != "*")
    return names
