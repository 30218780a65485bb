"""The fast walk must place every node exactly where LibCST's own PositionProvider does, and resolve names
as Python scoping does."""
from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from celery_lint.analysis.walk import Walk

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted(REPO.glob("fixtures/*/project/**/*.py")) + sorted(REPO.glob("celery_lint/**/*.py")) + [
    p for p in sorted(REPO.glob("examples/**/*.py"))]

NESTED = b'''import x


class A:
    @app.task(
        bind=True,
    )
    def f(self):
        if y:
            r = t.delay(
                1,
            )
        elif z:
            pass
        else:
            try:
                g.apply_async()
            except E as e:
                h.s(e)
            finally:
                k()

    async def g(self):
        for q in w.delay():
            with open(q) as f:
                yield f
        while (n := next(it)):
            lambda: n.get()
'''


PLACED = (cst.Call, cst.Name, cst.Decorator, cst.Attribute)


def placed(source: bytes, types: tuple = PLACED):
    tree = cst.parse_module(source)
    expected = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    walk = Walk(tree, source, lambda node, name: None, types)
    lines_only = Walk(tree, source, lambda node, name: None, types)
    # a fresh walk for lines alone, so its fast path (no code generated) is what gets checked
    return [((expected[n].start.line, expected[n].start.column, expected[n].start.line),
             (*walk.position(n), lines_only.line(n)), n) for _e, n in walk.events]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_positions_match_libcst(path):
    source = path.read_bytes()
    try:
        cst.parse_module(source)
    except cst.ParserSyntaxError:
        pytest.skip("fixture that does not parse on purpose")
    mismatches = [(want, got) for want, got, _node in placed(source) if want != got]
    assert mismatches == []


HEADERS = """
class  Größe ( Base ):  # non-ASCII name, odd spacing
    @ app.task  # a space after @
    async   def   run(self): pass

    @other(
        x=1,
    )
    @app.task(
        bind=True)
    def deftask(self, defx=lambda: 1): return defx

def f(): return 1
y = t.delay(
    1)
""".encode()


def test_positions_of_definition_headers():
    rows = placed(HEADERS)
    assert len(rows) > 15
    assert [(want, got) for want, got, _ in rows if want != got] == []


def test_positions_in_nested_blocks():
    rows = placed(NESTED)
    assert len(rows) > 40
    assert [(want, got) for want, got, _ in rows if want != got] == []


MULTI_LINE = b"""result = chord(
    [add.s(i) for i in range(3)],
    tsum.s(),
).apply_async(
    countdown=(
        wait.delay()),
    queue=tasks["x"].delay(),
    other=tasks[
        "y"].delay(), label="result",  # the word again, in a string
    then=wait,
)
value = (
    t.delay()
)
"""


def test_lines_in_multi_line_statements_from_the_first_word():
    """A node's line from its first word where the statement writes that word once, else from LibCST."""
    rows = placed(MULTI_LINE)
    assert len(rows) > 25
    assert [(want, got) for want, got, _ in rows if want != got] == []
    tree = cst.parse_module(MULTI_LINE)
    walk = Walk(tree, MULTI_LINE, lambda node, name: None, (cst.Call, cst.Name, cst.Subscript))
    by_line = {}
    for _event, node in walk.events:
        line = walk.line(node)
        code = cst.Module([]).code_for_node(node).lstrip("(\n ")  # LibCST places ``(x)`` where ``x`` starts
        by_line.setdefault(line, []).append(code.split("(")[0].split("[")[0])
    assert "tsum.s" in by_line[3] and "tasks" in by_line[7] and "tasks" in by_line[8] and "t.delay" in by_line[13]
    assert len(walk._positions) > 0  # and some nodes needed LibCST: ``wait`` (twice) and ``result`` (in a string)


def test_name_resolution_follows_python_scoping():
    source = b"""from celery import shared_task as st
import pkg.tasks as t
app = make()

def f(st):
    return st, t, app, len

class C:
    app = 1
    def m(self):
        return app
"""
    tree = cst.parse_module(source)

    def target(node, local):
        return {"st": "celery.shared_task", "t": "pkg.tasks"}.get(local)

    walk = Walk(tree, source, target, (cst.Name,))
    resolved = {}
    for _event, node in walk.events:
        resolved.setdefault((node.value, walk.position(node)[0]), walk.resolve(node, "mod"))
    assert resolved[("st", 6)] is None  # the parameter shadows the import
    assert resolved[("t", 6)] == "pkg.tasks"
    assert resolved[("app", 6)] == "mod.app"
    assert resolved[("len", 6)] is None  # a builtin
    assert resolved[("app", 11)] == "mod.app"  # class variables are not visible in methods


ATTRIBUTE_RUNS = b"""SCHEDULE = {
    "daily": Frequency.DAILY,
    "weekly": Frequency.WEEKLY, "x": Frequency.DAILY.value,
    "later": (
        Frequency.MONTHLY),
    "split": Frequency
    .YEARLY,
    "call": Frequency.get(1).HOURLY,
}
(
    Model.objects.using("default")
    .filter(x=1)
)
"""
# What the analysis asks the line of, beside calls and names: whole statements, entries, arguments.
ASKED = (cst.Call, cst.Name, cst.Attribute, cst.Assign, cst.AssignTarget, cst.Expr, cst.DictElement, cst.Arg,
         cst.Subscript, cst.Return, cst.Decorator)


def test_lines_from_a_run_of_attributes_and_from_where_a_statement_starts():
    """``Frequency.WEEKLY``: the class is named on many lines, the attribute once, on the line holding the whole
    run; a statement's first node is on its first line; neither needs LibCST's code generation. ``Frequency
    .YEARLY`` (the run broken across lines) and a call in brackets (LibCST places ``(x)`` where ``x`` starts) do."""
    rows = placed(ATTRIBUTE_RUNS, ASKED)
    assert len(rows) > 30
    assert [(want, got) for want, got, _ in rows if want != got] == []
    tree = cst.parse_module(ATTRIBUTE_RUNS)
    walk = Walk(tree, ATTRIBUTE_RUNS, lambda node, name: None, ASKED)
    code = {cst.Module([]).code_for_node(node): node for _event, node in walk.events}
    assert walk.line(code["Frequency.WEEKLY"]) == 3 and walk.line(code["Frequency.get(1).HOURLY"]) == 8
    assert walk.line(next(n for n in code.values() if isinstance(n, cst.Assign))) == 1
    assert walk._positions == {}  # all from the text
    assert walk.line(code["Frequency\n    .YEARLY"]) == 6 and walk._positions != {}


STATEMENT_STARTS = b"""def run(items):
    send.delay(
        1)
    job = app.send_task("x",
                        2)
    jobs[0].s(3).apply_async()
    return (
        other.delay())
    (wrapped).delay(
        6)
    x = 1; later.delay(
        7)
def tabbed():
\tt.delay(4,
\t\t5)
"""


def test_the_column_of_what_a_statement_starts_with_is_read_off_its_line():
    """``send.delay(...)`` over many lines: its column is where its line's code starts, with no code generated;
    a call after a keyword, in brackets or after a semicolon is left to LibCST's code generation."""
    rows = placed(STATEMENT_STARTS, ASKED)
    assert [(want, got) for want, got, _ in rows if want != got] == []
    tree = cst.parse_module(STATEMENT_STARTS)
    walk = Walk(tree, STATEMENT_STARTS, lambda node, name: None, (cst.Call,))
    calls = {cst.Module([]).code_for_node(node).lstrip("( \n").split("(")[0]: node for _event, node in walk.events}
    assert walk.position(calls["send.delay"]) == (2, 4) and walk.position(calls["jobs[0].s"]) == (6, 4)
    assert walk.position(calls["t.delay"]) == (14, 1)
    assert walk._positions.keys() == {calls["send.delay"], calls["jobs[0].s"], calls["t.delay"]}
    assert walk.position(calls["app.send_task"]) == (4, 10)  # not what its statement starts with
    assert walk.position(calls["other.delay"]) == (8, 8) and walk.position(calls["later.delay"]) == (11, 11)
    assert len(walk._positions) > 5  # those from generated code


EVERY_KIND = b'''match command.split():
    case [action, *rest] if rest:
        pass
    case {"k": v, **kw}:
        pass
    case Point(x=0, y=yy) | Point(1, 2) as p:
        pass
    case "a" | None | -1 | 1+2j:
        pass
type Alias[T: int, *Ts, **P] = list[T]
def f[T](x: T, /, y=1, *a, z, **k) -> T:
    global g
    h = lambda q=1, *r, s, **t: (yield)
    try:
        pass
    except* ValueError as e:
        raise e from None
    async def g():
        async with a as b, c:
            await x
        async for i in y:
            pass
    print(f"{x!r:>{width}} {y=}", *a, **k)
    del a[1:2, ::3], b.c
    assert x, "m"
    x @= y; x **= 2
    return [i async for i in y if i] or {k: v for k, v in z} or {*a} or (i for i in ())
@dec(1)
class C(B, metaclass=M):
    x: int = 1
from . import (x as y, z)
while x := f():
    break
else:
    with (open(a) as b, open(c) as d):
        pass
'''


def test_children_are_libcsts_in_its_order():
    """``children(node)`` is ``node.children`` (the same nodes, in the same order) for every node of every kind."""
    from celery_lint.analysis.children import _ORDER, children

    kinds = set()
    for source in [EVERY_KIND, *(path.read_bytes() for path in SAMPLES)]:
        try:
            todo = [cst.parse_module(source)]
        except cst.ParserSyntaxError:
            continue
        while todo:
            node = todo.pop()
            kinds.add(type(node))
            theirs = list(node.children)
            assert [id(child) for child in children(node)] == [id(child) for child in theirs]
            todo.extend(theirs)
    assert len(kinds) > 120
    assert [kind.__name__ for kind in kinds if _ORDER[kind] is None] == []  # none left to LibCST's visitor
