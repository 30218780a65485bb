"""A kept answer (``speed.answers``) is given back only while nothing its run looked at has changed, and it is
always what the plain path says: every change a user can make to a project (an edit, even one that puts the
old mtime back, a new, deleted or renamed file, a new directory, an ignore file, the configuration, the paths
asked about, celery-lint's own code) is seen, and a run that raced with an edit keeps nothing."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.speed import answers

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "decorator_forms" / "project"
AN_HOUR_AGO = time.time() - 3600


def age(root: Path) -> None:
    """Every path as if last changed an hour ago: outside the clock's tick of the next run."""
    for directory, _, files in os.walk(root, topdown=False):
        for name in files:
            os.utime(os.path.join(directory, name), (AN_HOUR_AGO, AN_HOUR_AGO))
        os.utime(directory, (AN_HOUR_AGO, AN_HOUR_AGO))


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    # an error the answer keeps too (a file with a Celery token, so the fast path parses it as the plain one does)
    (root / "mailer" / "broken.py").write_text("from celery import shared_task\n\n\ndef broken(:\n")
    engine.analyse_root(root, config_module.load(root))  # the cache directory, made as by any earlier run
    age(root)
    return root


def kept(root: Path, report_on=(), **kwargs):
    return engine.analyse_root(root, config_module.load(root), report_on, findings_only=True, **kwargs)


def plain(root: Path, report_on=()):
    return engine.analyse_root(root, config_module.load(root), report_on, speed=False)


def answer_of(report):
    return ([f.format() for f in report.findings], [(f.path, f.line, f.col, f.fix) for f in report.findings],
            report.errors, report.warnings, report.files)


def test_an_unchanged_project_gives_its_kept_answer(root):
    first = kept(root)
    assert not first.stored
    second = kept(root)
    assert second.stored
    assert answer_of(second) == answer_of(first) == answer_of(plain(root))
    assert (second.findings[0].path, second.findings[0].code) == ("mailer/broken.py", "CEL000")
    assert len(second.findings) == 10


def _edit(root):
    views = root / "mailer" / "views.py"
    views.write_text(views.read_text() + "\n\ndef later():\n    send_welcome.delay(1).get()\n")


def _edit_keeping_mtime(root):  # same size, old mtime put back: only the ctime moves
    views = root / "mailer" / "views.py"
    old = views.stat()
    text = views.read_text()
    views.write_text(text.replace("send_welcome.delay(user_id)", "send_welcome.apply(user_id)", 1))
    assert views.stat().st_size == old.st_size
    os.utime(views, ns=(old.st_atime_ns, old.st_mtime_ns))


def _new_file(root):
    (root / "mailer" / "reports.py").write_text("from mailer.tasks import send_welcome\n\n\n"
                                                "def report():\n    return send_welcome.delay(1).get()\n")


def _new_directory(root):
    (root / "mailer" / "api").mkdir()
    (root / "mailer" / "api" / "__init__.py").write_text("")
    (root / "mailer" / "api" / "views.py").write_text("from mailer.tasks import archive\n\n\n"
                                                      "def view():\n    archive.delay(1).get()\n")


def _deleted_file(root):
    (root / "mailer" / "views.py").unlink()


def _renamed_file(root):
    (root / "mailer" / "broken.py").rename(root / "mailer" / "broken_too.py")


def _gitignore(root):
    (root / ".gitignore").write_text("mailer/views.py\n")


def _config(root):
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.celery-lint]\nignore = ["CEL002"]\n')


CHANGES = [_edit, _edit_keeping_mtime, _new_file, _new_directory, _deleted_file, _renamed_file, _gitignore, _config]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_a_change_is_seen(root, change):
    before = kept(root)
    assert kept(root).stored
    change(root)
    after = kept(root)
    assert not after.stored
    assert answer_of(after) == answer_of(plain(root)) != answer_of(before)


def test_an_edited_ignore_file_is_seen(root):
    (root / ".gitignore").write_text("nothing_here/\n")
    age(root)
    kept(root)
    assert kept(root).stored
    ignore = root / ".gitignore"
    ignore.write_text("mailer/views.py\n")
    os.utime(ignore, (AN_HOUR_AGO, AN_HOUR_AGO))
    os.utime(root, (AN_HOUR_AGO, AN_HOUR_AGO))
    after = kept(root)
    assert not after.stored and answer_of(after) == answer_of(plain(root))


def test_the_paths_asked_about_are_part_of_the_answer(root):
    kept(root)
    tasks = root / "mailer" / "tasks.py"
    narrow = kept(root, [tasks])
    assert not narrow.stored
    assert answer_of(narrow) == answer_of(plain(root, [tasks]))
    assert kept(root, [tasks]).stored
    named_later = root / "mailer" / "later.py"  # a path asked about before it exists
    kept(root, [named_later])
    assert kept(root, [named_later]).stored
    named_later.write_text("")
    assert not kept(root, [named_later]).stored


def test_another_celery_lint_keeps_its_own_answer(root, monkeypatch):
    kept(root)
    monkeypatch.setattr(answers, "code_digest", lambda: "0123456789ab")
    assert not kept(root).stored
    assert sorted(p.name for p in (root / ".celery_lint_cache").glob("answer-*")) == ["answer-0.1.0-0123456789ab.json"]


def test_a_run_that_raced_with_an_edit_keeps_nothing(root):
    (root / "mailer" / "views.py").write_text((root / "mailer" / "views.py").read_text() + "\n")  # just now
    kept(root)
    assert not kept(root).stored
    assert not list((root / ".celery_lint_cache").glob("answer-*"))


@pytest.mark.parametrize("kwargs", [{"speed": False}, {"use_cache": False},
                                    {"overrides": {"mailer/views.py": b"x = 1\n"}}], ids=["plain", "no-cache", "buffer"])
def test_no_answer_is_kept_or_given_without_the_fast_path_and_a_cache(root, kwargs):
    if "overrides" in kwargs:
        kwargs = {"overrides": {root / "mailer" / "views.py": b"x = 1\n"}}
    kept(root, **kwargs)
    assert not kept(root, **kwargs).stored
    assert not list(root.glob(".celery_lint_cache/answer-*"))


def test_a_full_report_is_never_a_kept_one(root):
    kept(root)
    full = engine.analyse_root(root, config_module.load(root))
    assert not full.stored and full.verdicts and full.digests


@pytest.mark.parametrize("damage", [
    lambda data: data.update(report={"files": "9"}),
    lambda data: data.update(stamps=data["stamps"][1:]),
    lambda data: data["report"]["findings"][0].update(line="8"),
    lambda data: next(f for f in data["report"]["findings"] if f["fix"])["fix"].update(action="rewrite"),
    lambda data: data.update(report=["files", 6]),
    lambda data: data.update(paths=[1] * len(data["paths"])),
    lambda data: data.clear(),
], ids=["files", "stamps", "finding", "fix", "report", "paths", "empty"])
def test_a_damaged_answer_is_analysed_again(root, damage):
    kept(root)
    (path,) = (root / ".celery_lint_cache").glob("answer-*")
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    again = kept(root)
    assert not again.stored and answer_of(again) == answer_of(plain(root))


def test_a_refused_cache_directory_gives_no_answer(root):
    kept(root)
    (root / ".celery_lint_cache" / "notes.txt").write_text("mine\n")
    refused = kept(root)
    assert not refused.stored and refused.cache_refused is not None


def test_a_kept_answer_needs_none_of_the_analysis(root):
    kept(root)
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from celery_lint import config, engine
        root = Path({str(root)!r})
        report = engine.analyse_root(root, config.load(root), findings_only=True)
        loaded = sorted(m for m in sys.modules if m.startswith(("celery_lint.analysis", "celery_lint.speed.cache",
                                                               "libcst", "multiprocessing")))
        print(report.stored, len(report.findings), loaded)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split(" ", 2)
    assert out == ["True", "10", "['celery_lint.speed.cache_dir']\n"]


def test_a_cache_directory_inside_the_project_does_not_spoil_its_own_answer(root):
    cache = root / "lint-cache"
    kept(root, cache_dir=cache)  # makes it: the project directory's stamp moves
    age(root)
    kept(root, cache_dir=cache)  # keeps the answer: writing it moves the cache directory's stamp
    assert kept(root, cache_dir=cache).stored


def _with_buffer(root: Path, relative: str, buffer: str):
    """The answer with an editor's buffer for ``relative``, and what the plain path says with it on disk."""
    path = root / relative
    old = path.read_bytes() if path.exists() else None
    given = kept(root, overrides={path: buffer.encode()})
    path.write_text(buffer)
    truth = plain(root)
    if old is None:
        path.unlink()
    else:
        path.write_bytes(old)
    age(root)
    return given, truth


@pytest.mark.parametrize("relative,buffer,stays", [
    ("mailer/helpers.py", "def total(values):\n    return sum(values)  # edited\n", True),
    ("mailer/helpers.py", "from mailer.tasks import quote\n\n\ndef total():\n    return quote.delay(1).get()\n", False),
    ("mailer/helpers.py", "from mailer import tasks\n\n\ndef total():\n    return tasks.archive\n", False),
    ("mailer/helpers.py", "def total(:\n", False),
    ("mailer/tasks.py", None, True),  # the task module, a comment added: the kept answer (speed.buffer_answer)
    ("mailer/tasks.py", "from celery import shared_task\n", False),  # its tasks gone: the analysis runs
    ("mailer/new.py", "x = 1\n", False),  # not on disk yet: it joins the project
])
def test_an_editor_buffer_of_a_file_that_cannot_matter_keeps_the_answer(root, relative, buffer, stays):
    """Issue 22 (the editor case): a buffer that neither mentions Celery nor names a task, of a file that did not
    either, leaves the answer as it was; any other buffer is analysed. Either way, the plain path's answer."""
    (root / "mailer" / "helpers.py").write_text("def total(values):\n    return sum(values)\n")
    age(root)
    kept(root)
    assert kept(root).stored
    if buffer is None:
        buffer = (root / relative).read_text() + "\n# edited\n"
    given, truth = _with_buffer(root, relative, buffer)
    assert given.stored == stays
    assert answer_of(given) == answer_of(truth)
