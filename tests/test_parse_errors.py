"""Issue 22.2: a file that does not parse is a finding (CEL000), Celery or not, and a task it names is "maybe"."""
from __future__ import annotations

import json

import pytest

from conftest import analyse_both_ways, write_project
from celery_lint import config as config_module
from celery_lint import engine
from helpers import cli, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef nightly():\n    return None\n\n\ndef go():\n    nightly.delay()\n"
NIGHTLY = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.nightly' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True")


def shop(root, **more):
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": TASKS, **more})


def test_a_file_without_celery_that_does_not_parse_is_a_finding_cold_and_warm(tmp_path):
    root = shop(tmp_path / "p", **{"shop/util.py": "total = = 0\n"})
    for _run in range(2):  # the second run answers from the cache
        result = cli(root, "--cache-dir=.c")
        assert result.stdout.splitlines()[:3] == [NIGHTLY, "shop/util.py:1:9: CEL000 cannot parse: invalid syntax",
                                                  "Found 2 errors."]
        assert result.returncode == 1 and result.stderr == ""
    records = json.loads(cli(root, "--no-cache", "-o", "json").stdout)
    assert [(r["code"], r["location"]) for r in records][1] == ("CEL000", {"row": 1, "column": 9})


def test_select_does_not_hide_a_parse_error_but_exclude_does(tmp_path):
    root = shop(tmp_path / "p", **{"scratch/util.py": "total = = 0\n"})
    assert "scratch/util.py:1:9: CEL000" in cli(root, "--no-cache", "--select", "CEL002").stdout
    result = cli(root, "--no-cache", "--extend-exclude", "scratch")
    assert "CEL000" not in result.stdout and result.stdout.startswith(NIGHTLY)


def test_a_task_named_in_a_file_without_celery_that_does_not_parse_is_maybe(tmp_path):
    """The fast path never read such a file (no Celery token, no import of the task), so it said CEL001."""
    root = write_project(tmp_path / "p", {"shop/celery.py": APP, "shop/tasks.py": TASKS,
                                          "shop/report.py": "def show(:\n    return nightly\n"})
    report = analyse_both_ways(root)
    assert [f.code for f in report.findings] == ["CEL000"]
    assert [v.reason for _t, v in report.verdicts] == ["shop/report.py mentions it but does not parse"]


def test_python_refuses_then_libcst_decides(tmp_path):
    """A file Python's parser refuses goes to LibCST (the summaries' parser), whose answer decides."""
    from celery_lint.speed import syntax

    assert not syntax.python_refuses(b"x = 1\n") and not syntax.python_refuses(b"x = '\\d'\n")
    assert syntax.python_refuses(b"x = = 1\n") and syntax.python_refuses(b"x = 1\0\n")
    many = {f"shop/m{i}.py": "total = = 0\n" if i % 5 == 0 else "total = 0\n" for i in range(40)}
    root = write_project(tmp_path / "p", {"shop/celery.py": APP, "shop/tasks.py": TASKS, **many})
    report = analyse_both_ways(root)  # 40 files: the checks run in the workers when a pool is up
    assert [f.path for f in report.findings if f.code == "CEL000"] == sorted(f"shop/m{i}.py" for i in range(0, 40, 5))


def test_the_early_check_in_the_workers_reads_each_file_itself(tmp_path):
    """A cold run queues the parse checks in the workers before any summary; each answer names the bytes it
    checked (their digest), and a file that names Celery is left to the summaries."""
    import hashlib

    from celery_lint.speed.syntax import check_paths

    files = {"ok.py": b"x = 1\n", "bad.py": b"x = = 1\n", "new.py": b"type X = int\n",
             "tasks.py": b"from celery import shared_task\nx = = 1\n"}
    for name, source in files.items():
        (tmp_path / name).write_bytes(source)
    answers = check_paths([str(tmp_path / name) for name in files] + [str(tmp_path / "gone.py")])
    digest = {name: hashlib.sha1(source).hexdigest() for name, source in {**files, "gone.py": b""}.items()}
    assert answers == [(digest["ok.py"], False), (digest["bad.py"], True), (digest["new.py"], False),
                       (digest["tasks.py"], None), (digest["gone.py"], None)]


def test_a_file_changed_after_its_early_check_is_checked_again(tmp_path, monkeypatch):
    """The early verdict stands only for the bytes the run read: a file saved broken in between is still CEL000."""
    from celery_lint.speed import syntax

    root = shop(tmp_path / "p", **{f"shop/m{i}.py": "total = 0\n" for i in range(40)})
    started = syntax.EarlyChecks.__init__

    def then_break_one(self, sources, workers):
        started(self, sources, workers)
        self.refused("")  # wait for the workers' answers, then save a broken file
        (root / "shop/m7.py").write_text("total = = 0\n")

    monkeypatch.setattr(syntax.EarlyChecks, "__init__", then_break_one)
    report = engine.analyse_root(root, config_module.load(root), use_cache=False, jobs=2)
    assert [(f.path, f.code) for f in report.findings if f.code == "CEL000"] == [("shop/m7.py", "CEL000")]


@pytest.mark.parametrize("source", [
    b"total = = 0\n", b"def f(:\n    pass\n", b"x = (" * 300 + b"1" + b")" * 300 + b"\n", b"x = '\xff'\n",
    b"# coding: bogus\nx = 1\n", b"x = 1\0\n", b"type X = int\nx: X = 1\n", b"x = f'{'a' 'b'}'\n",
])
def test_the_parse_check_alone_says_what_a_summary_says(source):
    """A file no summary needs is only parsed; its error line is the one a summary of it would give."""
    from celery_lint.analysis.summary import parse_error, summarize_cut

    assert parse_error(source) == (summarize_cut(source, "m.py", "m", False)[0].error or "")
