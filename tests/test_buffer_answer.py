"""An editor's buffer of a task module that changes only what the slicer cuts is answered from the kept answer,
lines moved (``speed.buffer_answer``); every other buffer runs the pipeline. Either way the answer is the
plain path's for the same buffer (every file parsed whole, no cache, no kept answer)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from celery_lint import config as config_module
from celery_lint import engine
from test_answers import FIXTURE, age, answer_of

TASKS = Path("mailer/tasks.py")
VIEWS = Path("mailer/views.py")


@pytest.fixture
def root(tmp_path) -> Path:
    """The decorator-forms project with its answer kept (made an hour after its files, as by an earlier run)."""
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    engine.analyse_root(root, config_module.load(root))  # the cache directory, made as by any earlier run
    age(root)
    assert not editor(root, TASKS, None).stored and editor(root, TASKS, None).stored
    return root


def editor(root: Path, path: Path, buffer, **options):
    """What the flake8 plugin asks for: findings only, with the buffer standing for ``path``."""
    overrides = None if buffer is None else {root / path: buffer}
    return engine.analyse_root(root, config_module.load(root), overrides=overrides, findings_only=True, **options)


def plain(root: Path, path: Path, buffer):
    return engine.analyse_root(root, config_module.load(root), overrides={root / path: buffer}, speed=False)


def edited(root: Path, path: Path, old: bytes, new: bytes) -> bytes:
    text = (root / path).read_bytes()
    assert text.count(old) == 1
    return text.replace(old, new)


def test_a_buffer_equal_to_the_file_on_disk_is_the_kept_answer(root):
    buffer = (root / TASKS).read_bytes()
    report = editor(root, TASKS, buffer)
    assert report.stored
    assert answer_of(report) == answer_of(plain(root, TASKS, buffer)) == answer_of(editor(root, TASKS, None))


def test_lines_added_above_a_task_move_the_kept_findings(root):
    buffer = edited(root, TASKS, b"@app.task\ndef send_welcome", b"# typed\n\n# in the editor\n@app.task\ndef send_welcome")
    report = editor(root, TASKS, buffer)
    assert report.stored  # no pipeline
    before = {(f.code, f.message): f.line for f in editor(root, TASKS, None).findings if f.path == str(TASKS)}
    after = {(f.code, f.message): f.line for f in report.findings if f.path == str(TASKS)}
    assert before and after == {key: line + 3 for key, line in before.items()}
    assert answer_of(report) == answer_of(plain(root, TASKS, buffer))
    assert (root / TASKS).read_bytes() != buffer  # the file on disk is left alone


def test_lines_removed_above_the_tasks_move_them_up(root):
    buffer = edited(root, TASKS, b"from .decorators import log_calls\n\n\n", b"from .decorators import log_calls\n")
    report = editor(root, TASKS, buffer)
    assert report.stored
    assert answer_of(report) == answer_of(plain(root, TASKS, buffer))


@pytest.mark.parametrize("old, new", [
    # the decorator itself: the task's own ignore_result changes, so its CEL001 goes
    (b"@app.task\ndef send_welcome", b"@app.task(ignore_result=True)\ndef send_welcome"),
    # a comment on a kept line may be a noqa: the sliced text changed
    (b"@shared_task\ndef purge_bounces", b"@shared_task  # noqa: CEL001\ndef purge_bounces"),
    # a file-level noqa line: the slicer cuts it, but it exempts the file's findings
    (b"from celery import shared_task\n", b"# ruff: noqa: CEL001\nfrom celery import shared_task\n"),
    # a comment naming what CEL004 reads in the text (the file may wait on purpose)
    (b"def unsubscribe", b"# allow_join_result\ndef unsubscribe"),
    # a new task: a new name of interest
    (b"def unsubscribe", b"@shared_task\ndef later():\n    return 1\n\n\ndef unsubscribe"),
])
def test_a_buffer_that_changes_what_the_rules_read_runs_the_pipeline(root, old, new):
    buffer = edited(root, TASKS, old, new)
    report = editor(root, TASKS, buffer)
    assert not report.stored
    assert answer_of(report) == answer_of(plain(root, TASKS, buffer))


def test_a_read_added_in_another_file_removes_a_finding_elsewhere(root):
    """The buffer of views.py reads send_welcome's result: its CEL001 in tasks.py (on disk) goes."""
    kept = editor(root, TASKS, None)
    assert any(f.code == "CEL001" and "send_welcome" in f.message for f in kept.findings)
    buffer = edited(root, VIEWS, b"    send_welcome.delay(user_id)\n", b"    return send_welcome.delay(user_id).get()\n")
    report = editor(root, VIEWS, buffer)
    assert not report.stored
    assert not any(f.code == "CEL001" and "send_welcome" in f.message for f in report.findings)
    assert answer_of(report) == answer_of(plain(root, VIEWS, buffer))


def test_a_file_named_in_another_files_message_runs_the_pipeline(root):
    """A CEL002 in tasks.py says where views.py reads the result: moving views.py's lines moves that message's
    line too, which the kept answer cannot say."""
    assert any("mailer/views.py:" in f.message for f in editor(root, TASKS, None).findings)
    buffer = edited(root, VIEWS, b"def price", b"# two\n# comments\ndef price")
    report = editor(root, VIEWS, buffer)
    assert not report.stored
    assert answer_of(report) == answer_of(plain(root, VIEWS, buffer))


def test_a_buffer_of_a_file_edited_on_disk_since_the_answer_runs_the_pipeline(root):
    (root / TASKS).write_bytes((root / TASKS).read_bytes() + b"\n# saved\n")
    buffer = (root / TASKS).read_bytes() + b"# and typed\n"
    report = editor(root, TASKS, buffer)
    assert not report.stored
    assert answer_of(report) == answer_of(plain(root, TASKS, buffer))


def test_peek_reads_the_entry_the_whole_index_holds(root):
    """``Cache.peek`` decodes one entry without the others: the same entry as reading the whole index."""
    from celery_lint.speed.cache import Cache

    whole = Cache(root / ".celery_lint_cache")
    with whole.exclusive():
        entries = whole.entries
    assert len(entries) >= 5
    for relative, entry in entries.items():
        assert Cache(root / ".celery_lint_cache").peek(relative) == entry
    assert Cache(root / ".celery_lint_cache").peek("mailer/missing.py") is None
    assert Cache(root / ".celery_lint_cache").peek("mailer") is None
    assert Cache(root / "no-such-cache").peek(str(TASKS)) is None
