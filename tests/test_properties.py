"""Properties that hold for any project, checked on generated ones (hypothesis; bounded to keep the suite fast).

* Generated task modules and call sites never crash the analysis; ``--fix`` output always parses and compiles,
  changes only decorator lines, leaves no fixable finding behind and is idempotent; a task whose result is
  read is never given ``ignore_result=True``.
* Arbitrary valid Python (hypothesmith) next to a task never crashes the analysis.
* The cache: after random edits, a run with the cache gives exactly what a run without it gives, ``--explain``
  included.
"""
from __future__ import annotations

import ast
import os
import shutil
import tempfile
import time
from pathlib import Path

import libcst
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from celery_lint import config as config_module  # noqa: E402
from celery_lint import engine  # noqa: E402
from celery_lint.fixing.writing import fix_report  # noqa: E402

APP = 'from celery import Celery, chain, group\n\napp = Celery("proj", backend="redis://")\n'

DECORATORS = [
    "@app.task", "@app.task()", "@app.task( )", "@app.task(bind=True)", "@app.task(name='proj.{name}')",
    "@app.task(\n    bind=True,\n    acks_late=True,\n)", "@app.task(  # a comment\n)",
    "@app.task(ignore_result=False)", "@app.task(ignore_result=True)", "@app.task(bind=True,  # why\n          max_retries=3)",
    "@shared_task", "@shared_task(queue='mail')", "@app.task(bind=True, ignore_result=True)",
]
USES = [
    "{t}.delay()", "{t}.apply_async(countdown=1)", "{t}.delay().get(timeout=1)", "r = {t}.delay()\n    r.get()",
    "r = {t}.apply_async()\n    return r.id", "chain({t}.s(), {t}.s()).apply_async()", "group({t}.s()).delay().get()",
    "return {t}.delay()", "{t}.apply_async(ignore_result=True)", "{t}.s().delay()", "{t}(1)",
    "if {t}.delay().ready():\n        pass", "{t}.delay().forget()",
]
READS = {"{t}.delay().get(timeout=1)", "r = {t}.delay()\n    r.get()", "group({t}.s()).delay().get()",
         "if {t}.delay().ready():\n        pass"}

task_spec = st.tuples(st.sampled_from(DECORATORS), st.lists(st.sampled_from(USES), max_size=3),
                      st.sampled_from(["", "  # noqa: CEL001", "  # trailing"]))


def _project(specs) -> dict:
    tasks = [APP, "from celery import shared_task\n"]
    views = ["from proj.tasks import *\nfrom celery import chain, group\n"]
    for index, (decorator, uses, comment) in enumerate(specs):
        name = f"t{index}"
        head, _, rest = decorator.format(name=name).partition("\n")
        tasks.append(f"\n\n{head}{comment}{chr(10) + rest if rest else ''}\ndef {name}(*args):\n    return 1\n")
        for number, use in enumerate(uses):
            views.append(f"\n\ndef view_{index}_{number}():\n    {use.format(t=name)}\n")
    return {"proj/__init__.py": "", "proj/tasks.py": "".join(tasks), "proj/views.py": "".join(views)}


def _write(root: Path, files: dict) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def _analyse(root: Path, cache: bool = False, cache_dir=None):
    return engine.analyse_root(root, config_module.load(root), use_cache=cache, cache_dir=cache_dir, jobs=1)


def _decorator_lines(source: str) -> set:
    lines = set()
    for node in ast.walk(ast.parse(source)):
        for decorator in getattr(node, "decorator_list", []):
            lines.update(source.splitlines()[decorator.lineno - 1:decorator.end_lineno])
    return lines


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(task_spec, min_size=1, max_size=5))
def test_fix_is_safe_on_generated_projects(specs):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        files = _project(specs)
        _write(root, files)
        report = _analyse(root)
        assert report.errors == []
        read = {task.qualname for task, verdict in report.verdicts if verdict.state == "read"}
        results = fix_report(report, write=True)
        assert all(result.error is None for result in results), [r.error for r in results]
        fixed = (root / "proj" / "tasks.py").read_text()
        compile(fixed, "tasks.py", "exec")
        before_lines, after_lines = files["proj/tasks.py"].splitlines(), fixed.splitlines()
        changed = set(before_lines) ^ set(after_lines)
        assert changed <= _decorator_lines(files["proj/tasks.py"]) | _decorator_lines(fixed)
        again = _analyse(root)
        assert [f for f in again.findings if f.fix is not None] == []  # nothing fixable left
        assert {t.qualname for t, v in again.verdicts if v.state == "read"} == read
        assert all(f.code != "CEL002" or f.fix is None for f in again.findings)
        assert all(r.new is None and r.error is None for r in fix_report(again, write=True))
        assert (root / "proj" / "tasks.py").read_text() == fixed  # idempotent


hypothesmith = pytest.importorskip("hypothesmith")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hypothesmith.from_grammar())
@example(source="\n\\\r\n")  # found by hypothesis: a line continuation before CRLF at the end, which LibCST rejects
def test_arbitrary_python_never_crashes_the_analysis(source):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        _write(root, _project([("@app.task", ["{t}.delay()"], "")]))
        (root / "proj" / "odd.py").write_text("from proj.tasks import t0\n" + source, encoding="utf-8")
        report = _analyse(root)
        try:
            compile("from proj.tasks import t0\n" + source, "odd.py", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # Python itself rejects it: an error line is allowed
        try:
            libcst.parse_module(("from proj.tasks import t0\n" + source).encode())
        except libcst.ParserSyntaxError:
            # LibCST's own gap (Python accepts it): reported and skipped like any file that does not parse, and
            # the task it names stays possibly read
            assert _unparsable(report) == [("proj/odd.py", "CEL000 cannot parse")]
            assert {t.short_name: str(v.state) for t, v in report.verdicts}["t0"] == "maybe"
            return
        assert _unparsable(report) == [] and [e.path for e in report.errors] == []


def _unparsable(report):
    """The files reported as not parsing: CEL000 findings (issue 22: a parse error is a finding, as in ruff)."""
    return [(f.path, f"{f.code} {f.message.split(':')[0]}") for f in report.findings if f.code == "CEL000"]


EDITS = ["comment", "blank", "read", "unread", "rename", "decorator comment", "new task", "drop use"]


def _edit(root: Path, kind: str, step: int) -> None:
    views, tasks = root / "proj" / "views.py", root / "proj" / "tasks.py"
    if kind == "comment":
        views.write_text(views.read_text() + f"# note {step}\n")
    elif kind == "blank":
        tasks.write_text("\n" + tasks.read_text())
    elif kind == "read":
        views.write_text(views.read_text() + f"\n\ndef reader_{step}():\n    t0.delay().get()\n")
    elif kind == "unread":
        views.write_text(views.read_text().replace(".get()", ""))
    elif kind == "rename":
        views.write_text(views.read_text().replace("def view_", f"def v{step}_"))
    elif kind == "decorator comment":
        tasks.write_text(tasks.read_text().replace("@app.task\n", f"@app.task  # edit {step}\n", 1))
    elif kind == "new task":
        tasks.write_text(tasks.read_text() + f"\n\n@app.task\ndef extra_{step}():\n    return 1\n")
        views.write_text(views.read_text() + f"\n\ndef call_{step}():\n    extra_{step}.delay()\n")
    elif kind == "drop use":
        text = views.read_text()
        views.write_text(text[: text.rfind("\n\ndef ")] + "\n" if "\n\ndef " in text else text)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(task_spec, min_size=1, max_size=3), st.lists(st.sampled_from(EDITS), min_size=1, max_size=5))
def test_cached_runs_answer_as_uncached_runs_after_any_edits(specs, edits):
    with tempfile.TemporaryDirectory() as directory:
        root, cache = Path(directory) / "proj-root", Path(directory) / "cache"
        root.mkdir()
        _write(root, _project(specs))
        base = time.time() - 3600
        for path in root.rglob("*.py"):
            os.utime(path, (base, base))
        _analyse(root, cache=True, cache_dir=cache)
        for step, kind in enumerate(edits, start=1):
            _edit(root, kind, step)
            for path in root.rglob("*.py"):  # each edit an older, distinct moment: stat alone could vouch
                if path.stat().st_mtime > base + 1800:
                    os.utime(path, (base + step, base + step))
            cached, fresh = _analyse(root, cache=True, cache_dir=cache), _analyse(root)
            assert [f.format() for f in cached.findings] == [f.format() for f in fresh.findings]
            explain = lambda report: sorted((t.qualname, t.line, v.state, v.reason, repr([  # noqa: E731
                (path, use.outcome.steps) for path, use in v.decided_by])) for t, v in report.verdicts)
            assert explain(cached) == explain(fresh)
        shutil.rmtree(cache)
