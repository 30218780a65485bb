"""Writes that must never half-happen (issue 24): one line model for every consumer, every target checked
before the first write, all or nothing, and ``--diff`` never writing in any mode.

Each test states what happened before."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import REPO, cli, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n"
VIEWS = "from shop.tasks import ping\nfrom shop.other import pong\n\n\ndef view():\n    ping.delay()\n    pong.delay()\n"
OTHER = TASKS.replace("ping", "pong")
# Four form feeds inside a template before the task: str.splitlines counts each as a line break, Python does not.
FEEDS = ('from shop.celery import app\n\nTEMPLATE = """line one\n\x0c\x0c\x0c\x0cline two\n"""\n\n\n'
         "@app.task\ndef ping():\n    return None\n")


def shop(root: Path, tasks: str = TASKS) -> Path:
    write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/views.py": VIEWS, "shop/other.py": OTHER})
    (root / "shop" / "tasks.py").write_bytes(tasks.encode())
    return root


def sources(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


# ----- one line model: Python's line breaks, never str.splitlines ----------------------------------------------

@pytest.mark.parametrize("text, lines", [
    ("a\nb\r\nc\rd", ["a\n", "b\r\n", "c\r", "d"]),
    ("a\x0cb\x0bc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\n", ["a\x0cb\x0bc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\n"]),
    ("x\r\r\n\n", ["x\r", "\r\n", "\n"]),
    ("", []),
])
def test_python_lines_breaks_where_python_does(text, lines):
    from celery_lint.text import python_lines

    assert python_lines(text, keepends=True) == lines
    assert python_lines(text) == [line.rstrip("\r\n") for line in lines]


def test_add_noqa_puts_the_comment_on_the_decorator_not_in_a_string(tmp_path):
    """The comment landed inside TEMPLATE ('line two  # noqa: CEL001') and the finding stayed."""
    root = shop(tmp_path / "proj", FEEDS)
    cli(root, "--no-cache", "--add-noqa")
    assert (root / "shop" / "tasks.py").read_bytes() == FEEDS.replace("@app.task\n", "@app.task  # noqa: CEL001\n").encode()
    assert cli(root, "--no-cache", "--select", "CEL001", "shop/tasks.py").stdout == "All checks passed!\n"


def test_full_output_shows_the_decorator_line(tmp_path):
    root = shop(tmp_path / "proj", FEEDS)
    result = cli(root, "--no-cache", "-o", "full", "shop/tasks.py")
    assert "\n8 | @app.task\n" in result.stdout


def test_json_end_location_and_edits_follow_python_lines(tmp_path):
    """``end_location`` pointed at a line inside the string and ``fix.edits`` was empty."""
    root = shop(tmp_path / "proj", FEEDS)
    [record] = [r for r in json.loads(cli(root, "--no-cache", "-o", "json").stdout) if r["filename"].endswith("tasks.py")]
    assert (record["location"], record["end_location"]) == ({"column": 1, "row": 8}, {"column": 10, "row": 8})
    assert record["fix"]["edits"] == [{"content": "@app.task(ignore_result=True)\n", "location": {"row": 8, "column": 1},
                                       "end_location": {"row": 9, "column": 1}}]


def test_diff_keeps_form_feeds_inside_their_line(tmp_path):
    root = shop(tmp_path / "proj", FEEDS)
    diff = cli(root, "--no-cache", "--diff", "shop/tasks.py").stdout
    assert diff.startswith("--- a/shop/tasks.py\n+++ b/shop/tasks.py\n@@ -5,6 +5,6 @@\n \"\"\"\n \n \n-@app.task\n")


# ----- --diff never writes, and prints the diff alone ------------------------------------------------------------

def test_add_noqa_with_diff_writes_nothing_and_prints_the_diff(tmp_path):
    """``--add-noqa --diff`` wrote the files and printed no diff."""
    root = shop(tmp_path / "proj")
    before = sources(root)
    result = cli(root, "--no-cache", "--add-noqa", "--diff")
    assert sources(root) == before
    assert result.stdout == (
        "--- a/shop/other.py\n+++ b/shop/other.py\n@@ -1,6 +1,6 @@\n from shop.celery import app\n \n \n"
        "-@app.task\n+@app.task  # noqa: CEL001\n def pong():\n     return None\n"
        "--- a/shop/tasks.py\n+++ b/shop/tasks.py\n@@ -1,6 +1,6 @@\n from shop.celery import app\n \n \n"
        "-@app.task\n+@app.task  # noqa: CEL001\n def ping():\n     return None\n")
    assert result.stderr == "Would add 2 noqa directives.\n"
    assert result.returncode == 1


def test_diff_prints_no_findings_on_stdout(tmp_path):
    """The findings came after the diff on stdout, so ``celery-lint --diff | git apply`` failed."""
    root = shop(tmp_path / "proj")
    result = cli(root, "--no-cache", "--diff")
    assert [line for line in result.stdout.splitlines() if "CEL001" in line] == []
    assert result.stdout.count("+@app.task(ignore_result=True)\n") == 2
    assert result.stderr == "Would fix 2 errors.\n"
    assert result.returncode == 1


# ----- every target checked before the first write; all or nothing ---------------------------------------------

def test_one_read_only_file_holds_every_other_write(tmp_path):
    root = shop(tmp_path / "proj")
    (root / "shop" / "other.py").chmod(0o444)
    before = sources(root)
    result = cli(root, "--no-cache", "--fix")
    assert sources(root) == before
    assert result.stderr == (
        "shop/other.py: error: read-only; not fixed\n"
        "celery-lint: nothing written: every file is written or none, so 1 other file stayed as it was; fix the "
        "errors above and run again\n")
    assert result.returncode == 2


def test_add_noqa_is_all_or_nothing_too(tmp_path):
    root = shop(tmp_path / "proj")
    (root / "shop" / "tasks.py").chmod(0o444)
    before = sources(root)
    result = cli(root, "--no-cache", "--add-noqa")
    assert sources(root) == before
    assert result.stderr.splitlines()[0] == "shop/tasks.py: error: read-only; not fixed"
    assert (result.stdout, result.returncode) == ("Added 0 noqa directives.\n", 2)


GLOBAL = REPO / "tests" / "global_cases"


def global_project(tmp_path: Path) -> Path:
    """30 task modules (each with a task whose result is read, which the plan marks, and one that ignores its
    result, whose flag the plan removes), a task that stores for nothing, and a settings module."""
    files = {"proj/__init__.py": "", "proj/settings.py": 'CELERY_RESULT_BACKEND = "redis://"\n',
             "proj/celery.py": ('import os\nfrom celery import Celery\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", '
                                '"proj.settings")\napp = Celery("proj")\napp.config_from_object("django.conf:settings", '
                                'namespace="CELERY")\n'),
             "manage.py": "", "jobs/__init__.py": "",
             "jobs/stray.py": "from celery import shared_task\n\n\n@shared_task\ndef stray():\n    pass\n\n\nstray.delay()\n"}
    for n in range(30):
        files[f"jobs/job{n}.py"] = (f"from celery import shared_task\n\n\n@shared_task(ignore_result=True)\ndef quiet{n}():\n"
                                    f"    return None\n\n\n@shared_task\ndef loud{n}():\n    return {n}\n\n\n"
                                    f"def view():\n    quiet{n}.delay()\n    return loud{n}.delay().get()\n")
    return write(tmp_path / "site", files)


@pytest.mark.parametrize("block", ["read-only", "link outside"])
def test_global_strategy_writes_nothing_when_the_settings_file_cannot_be_written(tmp_path, block):
    """The 30 task files were rewritten (60 decorator lines, 30 ignore_result=True removed), then the settings
    file failed: no global flag, 30 tasks storing again, exit 2, and stderr said 'wrote task_ignore_result'."""
    root = global_project(tmp_path)
    settings = root / "proj" / "settings.py"
    if block == "read-only":
        settings.chmod(0o444)
    else:
        outside = tmp_path / "elsewhere.py"
        shutil.copy(settings, outside)
        settings.unlink()
        settings.symlink_to(outside)
    before = sources(root)
    result = cli(root, "--no-cache", "--fix", "--strategy", "global")
    assert sources(root) == before
    assert "wrote" not in result.stderr and "removed" not in result.stderr
    reason = "read-only; not fixed" if block == "read-only" else f"a link to {tmp_path / 'elsewhere.py'}, outside the project; not fixed"
    assert f"proj/settings.py: error: {reason}\n" in result.stderr
    assert result.stderr.endswith("celery-lint: --strategy global: not applied, nothing changed: 1 of the 31 files to "
                                  "change could not be changed (above)\n")
    assert result.returncode == 2


def test_global_strategy_says_wrote_only_after_writing(tmp_path):
    root = global_project(tmp_path)
    result = cli(root, "--no-cache", "--fix", "--strategy", "global")
    assert "CELERY_TASK_IGNORE_RESULT = True" in (root / "proj" / "settings.py").read_text()
    assert "celery-lint: --strategy global: wrote CELERY_TASK_IGNORE_RESULT = True beside CELERY_RESULT_BACKEND" in result.stderr
    assert result.returncode == 0, result.stderr


def test_a_write_that_fails_midway_puts_back_the_files_already_written(tmp_path, monkeypatch):
    from celery_lint.fixing import writing

    root = tmp_path
    files = [writing.FileFix(name, 1, old=b"old\n", new=b"new\n") for name in ("a.py", "b.py", "c.py")]
    for result in files:
        (root / result.path).write_bytes(result.old)
    real = writing._replace

    def disk_full_at_c(target, info, expected, new):
        if target.name == "c.py":
            raise writing.WriteRefused("cannot write: No space left on device")
        real(target, info, expected, new)

    monkeypatch.setattr(writing, "_replace", disk_full_at_c)
    writing.write_all(root, files)
    assert [(root / r.path).read_bytes() for r in files] == [b"old\n"] * 3
    assert [(r.written, r.held, r.error) for r in files] == [
        (False, True, None), (False, True, None), (False, False, "cannot write: No space left on device")]


def test_a_file_whose_fix_cannot_be_made_costs_only_itself(tmp_path):
    """A fix that cannot be made (not a file that cannot be written) leaves its findings reported and the
    other files fixed: nothing about the other files depends on it."""
    from celery_lint.fixing import writing

    files = [writing.FileFix("a.py", 1, old=b"old\n", new=b"new\n"),
             writing.FileFix("b.py", 1, old=b"old\n", error="fix not applied: ...", skipped=True)]
    for result in files:
        (tmp_path / result.path).write_bytes(result.old)
    writing.write_all(tmp_path, files)
    assert (tmp_path / "a.py").read_bytes() == b"new\n" and files[0].written
