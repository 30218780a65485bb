"""A changed file whose sliced text is unchanged keeps its last summary, lines moved, without LibCST.

The rule it must keep: a moved summary is exactly the summary a fresh parse of the new text would give, and
any change to what the summary is made from (kept text, names seen) means a fresh parse.
test_corpus applies the same edits to real files and compares with fresh parses.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.speed import reuse
from celery_lint.speed.parallel import Work, summarise_one
from celery_lint.speed.prefilter import Interest
from celery_lint.speed.slicing import slice_source

TASKS = textwrap.dedent('''\
    from celery import shared_task


    def helper(x):
        return x * 2


    @shared_task(bind=True)  # noqa: CEL002
    def send(self, user_id):
        total = helper(user_id)
        return total


    def view(request):
        result = send.delay(1)
        other = 3
        return result.get()
''').encode()
INTEREST = Interest(["send"])


def summary_json(source: bytes, keep=INTEREST, module="app.tasks") -> dict:
    return summarise_one(Work(source, "app/tasks.py", module, False, keep)).summary


def moved_json(old: bytes, new: bytes, keep=INTEREST, module="app.tasks"):
    """The summary ``old`` left, moved to fit ``new`` (what the fast path does), or None when it needs a parse."""
    first = summarise_one(Work(old, "app/tasks.py", "app.tasks", False, keep))
    done = summarise_one(Work(new, "app/tasks.py", module, False, keep, (first.summary, first.record)))
    if done.moved:
        assert done.summary == summary_json(new, keep, module)  # what a fresh parse of ``new`` gives
    return done.summary if done.moved else None


EDITS_THE_SLICER_CUTS = {
    "comment lines above the task": TASKS.replace(b"@shared_task", b"# one\n# two\n@shared_task"),
    "blank lines after the import": TASKS.replace(b"shared_task\n", b"shared_task\n\n\n\n", 1),
    "an unrelated function changed and grown": TASKS.replace(b"return x * 2", b"y = x + 1\n    return y * 2"),
    "an unrelated statement inside the view": TASKS.replace(b"other = 3", b"other = 3\n    more = other + 4"),
    "a new function at the end": TASKS + b"\n\ndef later():\n    return 42\n",
}


@pytest.mark.parametrize("edit", EDITS_THE_SLICER_CUTS)
def test_an_edit_the_slicer_cuts_moves_the_lines(edit):
    new = EDITS_THE_SLICER_CUTS[edit]
    moved = moved_json(TASKS, new)
    assert moved is not None
    assert moved == summary_json(new)


def test_a_comment_line_inside_a_kept_statement_moves_the_lines():
    multi_line = TASKS.replace(b"send.delay(1)", b"send.delay(\n        1,\n    )")
    new = multi_line.replace(b"        1,\n", b"        # the user\n        1,\n")
    assert moved_json(multi_line, new) == summary_json(new)


def test_the_lines_really_move():
    new = EDITS_THE_SLICER_CUTS["comment lines above the task"]
    moved = moved_json(TASKS, new)
    send = next(f for f in moved["functions"] if f["name"] == "send")
    assert (send["line"], send["decorators"][0]["line"], send["noqa"]) == (11, 10, ["CEL002"])  # were 9, 8
    assert [u["outcome"]["line"] for u in moved["uses"]] == [19]  # the .get(), was 17


EDITS_THAT_NEED_A_PARSE = {
    "the task's decorator": TASKS.replace(b"bind=True", b"bind=True, ignore_result=True"),
    "the result's use": TASKS.replace(b"return result.get()", b"return None"),
    "a noqa comment on the def": TASKS.replace(b"def send(self", b"def send(self  # noqa\n    "),
    "a comment on a kept line": TASKS.replace(b"def helper(x):", b"def helper(x):  # called by send"),
    "nothing left to cut": b"from celery import shared_task\n",
    "blank lines on the first two lines (they may declare the encoding)": b"\n\n" + TASKS,
}


@pytest.mark.parametrize("edit", EDITS_THAT_NEED_A_PARSE)
def test_an_edit_of_what_the_summary_reads_needs_a_parse(edit):
    assert moved_json(TASKS, EDITS_THAT_NEED_A_PARSE[edit]) is None


def test_a_name_of_interest_the_file_did_not_mention_needs_a_parse():
    keep = Interest(["send", "later"])
    new = TASKS.replace(b"def view", b"# see later\ndef view")
    assert slice_source(new, keep).source == slice_source(TASKS, keep).source  # the slicer cuts the comment,
    assert moved_json(TASKS, new, keep) is None  # but the summary's names seen (and so its calls) may change


def test_a_summary_sliced_for_more_names_than_this_run_still_moves():
    """Names of interest come and go between runs: a summary made for ``send`` and ``helper`` is kept while this
    run needs only ``send``, so an edit the slicer cuts moves it (as the slice for those names, which is what a
    parse for them gives), not a parse for this run's names."""
    more = Interest(["send", "helper"])
    first = summarise_one(Work(TASKS, "app/tasks.py", "app.tasks", False, more))
    new = EDITS_THE_SLICER_CUTS["comment lines above the task"]
    done = summarise_one(Work(new, "app/tasks.py", "app.tasks", False, INTEREST, (first.summary, first.record)))
    assert done.moved
    assert done.summary == summary_json(new, more)
    assert reuse.SliceRecord.from_json(done.record).names_seen == ["helper", "send"]


def test_a_summary_for_more_names_needs_a_parse_when_the_edit_drops_one():
    more = Interest(["send", "helper"])
    first = summarise_one(Work(TASKS, "app/tasks.py", "app.tasks", False, more))
    new = TASKS.replace(b"total = helper(user_id)", b"total = user_id * 2")
    done = summarise_one(Work(new, "app/tasks.py", "app.tasks", False, INTEREST, (first.summary, first.record)))
    assert not done.moved and done.summary == summary_json(new)


def test_another_path_or_module_is_not_the_same_summary():
    assert moved_json(TASKS, TASKS.replace(b"@shared", b"# x\n@shared"), module="other.tasks") is None


def test_runs_round_trip():
    numbers = [1, 2, 3, 7, 10, 11]
    assert reuse.runs(numbers) == [[1, 3], [7, 7], [10, 11]]
    assert reuse.expand(reuse.runs(numbers)) == numbers
    assert reuse.runs([]) == []


# ----- in a whole run, with the cache ---------------------------------------------------------------------------

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "decorator_forms" / "project"


def analyse(root: Path, **options):
    return engine.analyse_root(root, config_module.load(root), **options)


@pytest.fixture
def analysed(tmp_path) -> Path:
    """A copy of the decorator-forms project, analysed once (so its summaries are in the cache)."""
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    analyse(root)
    return root


def test_an_edited_file_that_the_slicer_cuts_is_not_parsed(analysed):
    root = analysed
    tasks = root / "mailer" / "tasks.py"
    tasks.write_text(tasks.read_text().replace("@app.task\n", "# a comment\n\n# shifting what follows\n@app.task\n", 1))
    edited = analyse(root)
    assert (edited.parsed, edited.moved) == (0, 1)
    fresh = analyse(root, use_cache=False)
    assert fresh.findings and [f.format() for f in edited.findings] == [f.format() for f in fresh.findings]


def test_an_editor_buffer_moves_lines_too(analysed):
    """flake8 on an unsaved buffer: the buffer's text, the summary cached for the file on disk."""
    root = analysed
    tasks = root / "mailer" / "tasks.py"
    buffer = tasks.read_bytes().replace(b"@app.task\n", b"# typed in the editor\n@app.task\n", 1)
    edited = analyse(root, overrides={tasks: buffer})
    assert (edited.parsed, edited.moved) == (0, 1)
    tasks.write_bytes(buffer)
    fresh = analyse(root, use_cache=False)
    assert [f.format() for f in edited.findings] == [f.format() for f in fresh.findings]


def test_moving_lines_does_not_import_libcst(analysed):
    root = analysed
    tasks = root / "mailer" / "tasks.py"
    tasks.write_text(tasks.read_text().replace("@app.task\n", "# a comment\n@app.task\n", 1))
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from celery_lint import config, engine
        report = engine.analyse_root(Path({str(root)!r}), config.load(Path({str(root)!r})))
        print(report.parsed, report.moved, "libcst" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "1", "False"]


def test_move_lines_moves_every_line_a_summary_holds():
    """A new fact with a line number must be moved too (a moved summary must equal a fresh parse)."""
    from celery_lint.analysis.summary import summarize
    from celery_lint.speed.reuse import move_lines

    source = b'''from celery import Celery, chord, shared_task
app = Celery("x", backend="redis://")
app.conf.result_expires = 60
_OPTS = {"acks_late": True}


@shared_task(**_OPTS)
def job(x):
    return app.AsyncResult(x).state


def view(x):
    chord([job.s(1)], body=job.si(2).on_error(job.s())).apply_async()
    return job.delay(x)


def given_back(x):
    from helpers import ident
    return ident(job.delay(x)).get()
'''
    summary = summarize(source, "m.py", "m", False)
    lines = []

    def collect(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                collect(v, k)
        elif isinstance(value, list):
            for v in value:
                collect(v, key)
        elif key in ("line", "reads_by_id") and isinstance(value, int) and not isinstance(value, bool):
            lines.append(value)

    collect(summary.to_json())
    before = list(lines)
    passed = [use.outcome.passed for use in summary.uses if use.outcome.passed]  # ``ident(job.delay(x)).get()``
    assert len(before) >= 12 and summary.errbacks and summary.option_dicts and passed and passed[0][0].steps
    move_lines(summary, lambda line: line + 1000)
    lines.clear()
    collect(summary.to_json())
    assert lines == [line + 1000 for line in before]


FOLLOWS = textwrap.dedent('''\
    from celery import shared_task


    def ident2(x):
        return x


    @shared_task
    def send(user_id):
        return user_id


    def view(request):
        return ident(send).delay(1).get()
''').encode()


def test_the_record_names_the_functions_whose_returns_the_summary_follows():
    """The view asks what ``ident`` returns: once ``ident`` is this file's function, the record says so (a later
    round re-parses the file to keep its returns). A rename of the def is in the sliced text (the slicer keeps
    the def of a name a kept statement mentions): a parse; an edit it cuts keeps the record's word."""
    named = FOLLOWS.replace(b"def ident2(", b"def ident(")
    assert summarise_one(Work(FOLLOWS, "app/tasks.py", "app.tasks", False, INTEREST)).record["followed"] == []
    assert summarise_one(Work(named, "app/tasks.py", "app.tasks", False, INTEREST)).record["followed"] == ["ident"]
    assert moved_json(FOLLOWS, named) is None
    edited = named.replace(b"return x", b"# the same\n    return x")
    first = summarise_one(Work(named, "app/tasks.py", "app.tasks", False, INTEREST))
    done = summarise_one(Work(edited, "app/tasks.py", "app.tasks", False, INTEREST, (first.summary, first.record)))
    assert done.moved and done.record["followed"] == ["ident"]
