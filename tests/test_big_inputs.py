"""Large and deep files: time linear in their size, memory bounded, and a file beyond what can be analysed is
that file's error (its tasks stay "maybe"), never the run's end (issues 22 and 24).

The CLI runs in a subprocess with a generous deadline: each shape here took from 30 s to several minutes
before, and takes seconds now; the deadline only catches a blow-up, never asserts a time.
"""
from __future__ import annotations

import ast
import os
import signal
from pathlib import Path

import libcst as cst
import pytest

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.analysis.depth import MAX_DEPTH, too_deep
from celery_lint.analysis.parsing import parse_module, python_pieces
from celery_lint.speed import slicing
from helpers import REPO, cli, write

DEADLINE_S = 300  # the shared machine can be slow; a quadratic run takes far longer
TASKS = "from celery import shared_task\n\n\n@shared_task\ndef ping():\n    return None\n"
HEAD = "from shop.tasks import ping\n\n"
VIEWS = HEAD + "\ndef view():\n    ping.delay()\n"
FINDING = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.ping' is stored but never read "
           "(enqueued at {} place{}); add ignore_result=True\n")
MAYBE_UNPARSED = "shop/tasks.py:4: shop.tasks.ping: maybe: shop/big.py mentions it but does not parse"


def project(tmp_path: Path, big: str, **more) -> Path:
    return write(tmp_path / "proj", {"shop/__init__.py": "", "shop/tasks.py": TASKS, "shop/big.py": big, **more})


def errors(result) -> list:
    return [line for line in result.stderr.splitlines() if ": error: " in line]


# ----- shapes that were quadratic --------------------------------------------------------------------------------

def test_twenty_thousand_assignments_on_one_line(tmp_path):
    """``slicing._local_aliases`` read the whole line again for each of its statements: 60-255 s."""
    line = "".join(f"x{i} = ping.delay(); " for i in range(20_000))
    result = cli(project(tmp_path, HEAD + line + "\n"), "--no-cache", "--explain", ".", timeout=DEADLINE_S)
    lines = result.stdout.splitlines()
    assert lines[:5] == [  # the 20,000 enqueues on that line are said once
        "shop/tasks.py:4: shop.tasks.ping: maybe: its result escapes at shop/big.py:3 (kept in a module or class variable)",
        "    why it may be read:",
        "      shop/big.py:3:6  ping.delay()       (enqueues it)",
        "      shop/big.py:3:1  x0 = ping.delay()  (kept in a module or class variable)",
        "    shop/big.py:3: enqueued: kept in a module or class variable",
    ]
    assert lines[5:] == ["All checks passed!"]
    assert errors(result) == [] and "Traceback" not in result.stderr


def test_a_result_handed_through_a_function_again_and_again(tmp_path):
    """``r = wrap(r, r)`` 40 times: following each argument's way through the call's value apart doubled the
    work per line (18 lines took over 120 s); past a budget per question the result is "passed to wrap()"."""
    big = "from shop.tasks import ping\nfrom shop.util import wrap\n\n\ndef view():\n    r = ping.delay()\n"
    big += "    r = wrap(r, r)\n" * 40 + "    return r\n"
    root = project(tmp_path, big, **{"shop/util.py": "def wrap(a, b):\n    return a\n"})
    result = cli(root, "--no-cache", "--explain", ".", timeout=DEADLINE_S)
    assert result.stdout.splitlines()[0].startswith("shop/tasks.py:4: shop.tasks.ping: maybe: ")
    assert errors(result) == [] and "Traceback" not in result.stderr


def test_an_attribute_chain_thirty_thousand_long_beside_a_call(tmp_path):
    """``x = y.b.b...`` (30,000 links; over 300 s) names nothing of interest: the call beside it is found."""
    big = HEAD + "ping.delay()\nx = y" + ".b" * 30_000 + "\n"
    result = cli(project(tmp_path, big, **{"shop/views.py": VIEWS}), "-q", "--no-cache", ".", timeout=DEADLINE_S)
    assert result.stdout == FINDING.format(2, "s")
    assert errors(result) == [] and "Traceback" not in result.stderr


@pytest.mark.parametrize("name,expression", [
    ("call chain", "ping" + ".delay()" * 2_000),  # 11 s; 4,000: 61 s (LibCST's parser, and walk.line per call)
    ("unary minus", "-" * 16_000 + "ping.delay()"),  # 100 s
    ("attribute chain on the task", "ping" + ".b" * 30_000),
])
def test_an_expression_too_deep_to_parse_is_that_files_error(tmp_path, name, expression):
    """LibCST's parser is quadratic or worse in an expression's depth: such a file is reported, its tasks stay
    "maybe", and the rest of the project is analysed (here: nothing else reads the task, nothing is reported)."""
    result = cli(project(tmp_path, HEAD + "x = " + expression + "\n", **{"shop/views.py": VIEWS}),
                 "--no-cache", "--explain", ".", timeout=DEADLINE_S)
    assert len(errors(result)) == 1 and errors(result)[0].startswith("shop/big.py: error: cannot analyse: ")
    assert "nest" in errors(result)[0]
    assert MAYBE_UNPARSED in result.stdout and "Traceback" not in result.stderr
    assert result.returncode == 1


def test_a_megabyte_of_calls_is_analysed(tmp_path):
    """1 MB of ``ping.delay()`` lines (a megabyte parsed a piece at a time; it peaked at ~1 GB before)."""
    count = 1_000_000 // len("ping.delay()\n")
    result = cli(project(tmp_path, HEAD + "ping.delay()\n" * count), "-q", "--no-cache", ".", timeout=DEADLINE_S)
    assert result.stdout == FINDING.format(f"{count}", "s")
    assert errors(result) == []


# ----- the pieces and the depth guard, directly -------------------------------------------------------------------

SOURCES = sorted(path for path in (REPO / "celery_lint").rglob("*.py") if path.stat().st_size > 4000)


@pytest.mark.parametrize("path", SOURCES[:12], ids=lambda path: path.name)
def test_a_file_parsed_in_pieces_is_the_tree_of_the_whole(path):
    """Pieces of 300 bytes (a hundred per file) give exactly LibCST's tree of the whole file."""
    source = path.read_bytes()
    assert parse_module(source, piece_bytes=300).deep_equals(cst.parse_module(source))


@pytest.mark.parametrize("source", [
    b"def f():\n    x = 1\n    # the block's own comment\n\n# the next one's\n\ny = 2\n" * 40,
    b"if x:\n    pass\nelse:\n    pass\n" * 40,
    b's = """\nnot = code\n"""\n' * 40,
    b"def f():\r\n  return 1\r\n\r\n" * 40,
    b"# header\n\nx = [\n1,\n]\n" * 40,
    b"class A:\n    def f(self):\n        pass\n    \n    \nz = 3\n" * 40,  # lines of spaces: the block's
    b"def f():\n  x = 1\n# c\n\t\n\ny = 2\n" * 40,
    b"if x:\n    y\n\n\n\nelse:\n    z\n" * 40,
])
def test_pieces_keep_comments_blocks_strings_and_newlines(source):
    tree = parse_module(source, piece_bytes=40)
    assert tree.deep_equals(cst.parse_module(source)) and tree.code == source.decode()


def test_nodes_made_outside_a_parse_are_checked_as_ever():
    # the parse skips LibCST's check of each node it makes (its own nodes are valid); nothing else does
    for source in (b"x = 1\n", b"def (:\n"):
        try:
            parse_module(source)
        except cst.ParserSyntaxError:
            pass
        with pytest.raises(cst.CSTValidationError):
            cst.Name("not a name")


def test_the_depth_guard():
    assert too_deep(b"x = " + b"-" * (MAX_DEPTH - 10) + b"y\n") is None
    assert "nests more than" in too_deep(b"x = " + b"-" * (MAX_DEPTH + 10) + b"y\n")
    assert too_deep(b"def f(:\n" + b"x = 1\n" * 400) is None  # a syntax error is LibCST's to report
    assert too_deep(b"x = [" + b"1, " * 5000 + b"]\n") is None  # wide, not deep


# ----- a worker's failure is that file's error -------------------------------------------------------------------

def analyse(root: Path, **options):
    return engine.analyse_root(root, config_module.load(root), use_cache=False, **options)


def _failing_slicer(monkeypatch, fail):
    real = slicing.slice_source

    def slice_source(source, keep):
        if b"BOOM" in source:
            fail()
        return real(source, keep)

    monkeypatch.setattr(slicing, "slice_source", slice_source)


def _raise():
    raise RuntimeError("boom\nsecond line")


def test_an_exception_in_this_process_is_the_files_error(tmp_path, monkeypatch):
    """It was ``SliceRecord.from_json(None)``: a ValueError traceback in rounds (as on Python 3.9 for any file)."""
    _failing_slicer(monkeypatch, _raise)
    root = project(tmp_path, HEAD + "ping.delay()  # BOOM\n", **{"shop/views.py": VIEWS})
    for _ in range(2):  # with the cache too: the failure is not kept
        report = engine.analyse_root(root, config_module.load(root), jobs=1)
        assert [(e.path, e.message) for e in report.errors] == [("shop/big.py", "cannot analyse: RuntimeError: boom")]
        assert [v.reason for _, v in report.verdicts] == ["shop/big.py mentions it but does not parse"]
        assert report.findings == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the failure is planted in forked workers")
def test_a_killed_worker_is_the_files_error(tmp_path, monkeypatch):
    """A worker the kernel kills (its out-of-memory killer sends SIGKILL) costs its file only."""
    _failing_slicer(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    others = {f"shop/v{i}.py": VIEWS for i in range(20)}  # enough files for the pool
    root = project(tmp_path, HEAD + "ping.delay()  # BOOM\n", **others)
    report = analyse(root, jobs=2, start_method="fork")
    assert [(e.path, e.message) for e in report.errors] == [
        ("shop/big.py", "cannot analyse: out of memory (its worker was killed)")]
    assert [v.reason for _, v in report.verdicts] == ["shop/big.py mentions it but does not parse"]


def test_pythons_tree_in_pieces_has_the_lines_of_the_whole():
    """The walk and the depth guard read Python's tree a piece at a time: same statements, same lines."""
    source = (REPO / "celery_lint" / "analysis" / "summary.py").read_bytes()
    whole = [(s.lineno, s.end_lineno) for s in ast.parse(source).body]
    pieces = [(s.lineno, s.end_lineno) for tree in python_pieces(source, piece_bytes=300) for s in tree.body]
    assert pieces == whole
