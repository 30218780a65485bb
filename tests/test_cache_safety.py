"""The cache never writes or deletes outside its own directory, and never vouches for what it has not checked
(issue 9, A5 and A6): a cache directory that is a link or holds other files is refused; a poisoned or
wrong-shaped index is ignored, never trusted and never a crash; a rewrite that keeps size and mtime is seen."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from helpers import REPO, cli, flake8, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n"
VIEWS = "from shop.tasks import ping\n\n\ndef view():\n    ping.delay()\n"
FINDING = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.ping' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True\n")


def shop(root: Path) -> Path:
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": TASKS, "shop/views.py": VIEWS})


def snapshot(directory: Path) -> dict:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def index_of(root: Path) -> Path:
    (index,) = (root / ".celery_lint_cache").glob("index-*.json")
    return index


def test_a_symlinked_cache_directory_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index-keep.json").write_text("{}")
    root = shop(tmp_path / "proj")
    (root / ".celery_lint_cache").symlink_to(elsewhere, target_is_directory=True)
    result = cli(root, "-q", ".")
    assert result.stdout == FINDING
    assert snapshot(elsewhere) == {"index-keep.json": b"{}"}
    assert "warning: not using the cache directory .celery_lint_cache: it is a symbolic link" in result.stderr


@pytest.mark.parametrize("cache_dir", ["docs", "."])
def test_a_cache_directory_holding_other_files_is_refused(tmp_path, cache_dir):
    root = shop(tmp_path / "proj")
    (root / "docs").mkdir()
    (root / "docs" / "index-api.json").write_text('{"pages": 3}')  # a user's file with a cache-like name
    before = snapshot(root)
    result = cli(root, "-q", "--cache-dir", cache_dir, ".")
    assert result.stdout == FINDING
    assert snapshot(root) == before  # nothing deleted, nothing written (no .gitignore, no .lock)
    assert f"warning: not using the cache directory {cache_dir}: it holds files celery-lint did not write" in result.stderr


def test_a_repository_config_cannot_point_the_cache_outside_the_project(tmp_path):
    """``[flake8] celery-lint-cache-dir = ../x`` in a repository's setup.cfg wrote and deleted files there."""
    outside = tmp_path / "x"
    root = shop(tmp_path / "proj")
    (root / "setup.cfg").write_text("[flake8]\ncelery-lint-cache-dir = ../x\n")
    result = flake8(root, "shop/tasks.py")
    assert not outside.exists()
    assert "shop/tasks.py:4:1: CEL001" in result.stdout


def test_a_cache_directory_typed_on_the_command_line_may_be_anywhere(tmp_path):
    outside = tmp_path / "x"
    root = shop(tmp_path / "proj")
    result = flake8(root, "--celery-lint-cache-dir", str(outside), "shop/tasks.py")
    assert "shop/tasks.py:4:1: CEL001" in result.stdout
    assert any(outside.glob("index-*.json"))


def test_the_cache_deletes_only_its_own_old_indexes(tmp_path):
    root = shop(tmp_path / "proj")
    cli(root, "-q", ".")
    cache = root / ".celery_lint_cache"
    old = cache / "index-0.0.1-000000000000.json"
    old.write_text("{}")
    (root / "shop" / "views.py").write_text(VIEWS + "\n")  # a change: the run saves the index again
    cli(root, "-q", ".")
    assert not old.exists()
    assert sorted(p.name for p in cache.iterdir()) == sorted([".gitignore", ".lock", index_of(root).name])


def test_a_poisoned_path_in_the_cache_never_redirects_fix(tmp_path):
    """An entry's ``path`` set to an excluded file made ``--fix`` edit ``.venv/.../lib.py``."""
    root = shop(tmp_path / "proj")
    library = root / ".venv" / "lib" / "lib.py"
    library.parent.mkdir(parents=True)
    library.write_text(TASKS)
    cli(root, "-q", ".")
    index = index_of(root)
    data = json.loads(index.read_text())
    data["files"]["shop/tasks.py"]["summary"]["path"] = ".venv/lib/lib.py"
    index.write_text(json.dumps(data))
    result = cli(root, "-q", "--fix", ".")
    assert library.read_text() == TASKS
    assert (root / "shop" / "tasks.py").read_text() == TASKS.replace("@app.task\n", "@app.task(ignore_result=True)\n")
    assert result.returncode == 0


def _entry(data, value):
    data["files"]["shop/tasks.py"] = value


def _summary_path(data, value):
    data["files"]["shop/tasks.py"]["summary"]["path"] = value


# Each breaks a real index in one place (its version and schema stay right, so the index is read).
BREAKAGES = {
    "entry is a list": lambda data: _entry(data, []),
    "fields of the wrong type": lambda data: _entry(data, {"hash": 1, "module": 2}),
    "files is a list": lambda data: data.update(files=[]),
    "meta is a string": lambda data: data.update(meta="names"),
    "names is a dict": lambda data: data.update(meta={"names": {"a": 1}}),
    "summary path is a number": lambda data: _summary_path(data, 1),
    "summary is a string": lambda data: data["files"]["shop/tasks.py"].update(summary="x"),
    "uses hold a string": lambda data: data["files"]["shop/views.py"]["summary"].update(uses=["x"]),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_wrong_shaped_index_is_rebuilt_not_a_crash(tmp_path, breakage):
    root = shop(tmp_path / "proj")
    cli(root, "-q", ".")
    index = index_of(root)
    data = json.loads(index.read_text())
    BREAKAGES[breakage](data)
    index.write_text(json.dumps(data))
    result = cli(root, "-q", ".")
    assert (result.stdout, result.returncode) == (FINDING, 1)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("payload", ["[]", "[" * 100000, '{"files": ', "\x00\xff"])
def test_an_index_that_is_not_json_is_rebuilt_not_a_crash(tmp_path, payload):
    root = shop(tmp_path / "proj")
    cli(root, "-q", ".")
    index_of(root).write_text(payload)
    result = cli(root, "-q", ".")
    assert (result.stdout, result.returncode) == (FINDING, 1)
    assert "Traceback" not in result.stderr


def test_every_field_of_a_cached_entry_is_checked(tmp_path):
    """A summary whose fields have the wrong types (same hash, so it used to be trusted) is parsed again."""
    root = shop(tmp_path / "proj")
    cli(root, "-q", ".")
    index = index_of(root)
    data = json.loads(index.read_text())
    summary = data["files"]["shop/tasks.py"]["summary"]
    summary["functions"][0]["decorators"][0]["line"] = "4"
    summary["functions"][0]["noqa"] = "CEL001"
    index.write_text(json.dumps(data))
    assert cli(root, "-q", ".").stdout == FINDING


# ``ping.delay()`` becomes ``ping.delay().get()``: a read, written at the very same size (a shorter name, a
# one-space indent), so that only the content says the file changed.
READING_SAME_SIZE = "from shop.tasks import ping\n\n\ndef v():\n ping.delay().get()\n"
assert len(READING_SAME_SIZE) == len(VIEWS)


def rewrite_keeping_size_and_mtime(path: Path, text: str) -> os.stat_result:
    info = path.stat()
    path.write_text(text)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    return after


def test_a_same_size_rewrite_with_its_mtime_restored_is_seen(tmp_path):
    """Size and mtime alone vouched for content: the read written over ``ping.delay()`` at the same size, with
    the old mtime put back, kept the stale CEL001."""
    root = shop(tmp_path / "proj")
    past = time.time() - 3600
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))
    assert cli(root, "-q", ".").stdout == FINDING
    rewrite_keeping_size_and_mtime(root / "shop" / "views.py", READING_SAME_SIZE)
    result = cli(root, "-q", ".")
    assert (result.stdout, result.returncode) == ("", 0)


def test_a_file_checked_in_its_own_clock_tick_is_hashed_again(tmp_path):
    """A file checked in the same tick of the clock as it was written may change again in that tick with
    nothing in its stat to show it (racy git): such an entry is not trusted on stat alone. Here the index is
    made to look like that (its stat matches the rewritten file, checked at the file's own mtime)."""
    root = shop(tmp_path / "proj")
    views = root / "shop" / "views.py"
    assert cli(root, "-q", ".").stdout == FINDING
    after = rewrite_keeping_size_and_mtime(views, READING_SAME_SIZE)
    index = index_of(root)
    data = json.loads(index.read_text())
    entry = data["files"]["shop/views.py"]
    assert entry["mtime"] == after.st_mtime_ns and entry["size"] == after.st_size
    entry["ctime"], entry["checked"] = after.st_ctime_ns, after.st_mtime_ns
    index.write_text(json.dumps(data))
    assert cli(root, "-q", ".").stdout == ""


GOOD_ENTRY = {"hash": "a" * 40, "module": "m", "celery": True, "mtime": 1, "size": 2, "ctime": 3, "checked": 4,
              "summary": None, "record": {"key": "k", "names_seen": ["a"], "fingerprint": None, "kept": [[1, 2]], "followed": []},
              "names": {"k/-": False}, "likely": ["send"], "syntax": None,
              "file_noqa": None}


@pytest.mark.parametrize("raw", [
    GOOD_ENTRY, {"hash": "a" * 40, "module": "m", "celery": False},
    {**GOOD_ENTRY, "celery": 1}, {**GOOD_ENTRY, "mtime": True}, {**GOOD_ENTRY, "mtime": "1"},
    {**GOOD_ENTRY, "extra": 1}, {"module": "m", "celery": True}, {**GOOD_ENTRY, "summary": []},
    {**GOOD_ENTRY, "record": {"key": 1}}, {**GOOD_ENTRY, "names": {"k": 1}}, {**GOOD_ENTRY, "likely": [1]},
    {**GOOD_ENTRY, "likely": None}, [], "x", None,
])
def test_the_fast_entry_loader_checks_what_the_generic_one_does(raw):
    """``Entry.from_json`` is ``load_dataclass(Entry, ...)`` written out for speed: the same answers."""
    from celery_lint.speed.cache import Entry
    from celery_lint.types import load_dataclass

    def load(loader):
        try:
            return loader(raw)
        except (ValueError, TypeError):
            return "rejected"

    assert load(Entry.from_json) == load(lambda r: load_dataclass(Entry, r))


@pytest.mark.parametrize("raw", [GOOD_ENTRY, {**GOOD_ENTRY, "summary": {"uses": [{"line": 3}]}, "record": None, "likely": None}])
def test_the_fast_entry_writer_writes_what_asdict_does(raw):
    """``Entry.to_json`` is ``asdict`` without the deep copy: the same data, and it loads back the same."""
    from dataclasses import asdict

    from celery_lint.speed.cache import Entry

    entry = Entry.from_json(raw)
    assert entry.to_json() == asdict(entry) == raw
    assert Entry.from_json(entry.to_json()) == entry


FIXTURE_FILES = sorted((REPO / "fixtures").rglob("*.py")) + sorted((REPO / "examples").rglob("*.py"))


def test_summaries_are_written_as_asdict_writes_them():
    """``dump_dataclass`` (what workers send back, what the cache keeps) is ``asdict`` made faster: the same data
    in the same order, for every summary of every fixture file, and for values ``asdict`` copies (tuples)."""
    from dataclasses import asdict

    from celery_lint.analysis.facts import Decorator, FunctionInfo, ModuleSummary
    from celery_lint.analysis.summary import summarize
    from celery_lint.speed.reuse import SliceRecord
    from celery_lint.types import dump_dataclass

    assert len(FIXTURE_FILES) > 40
    for path in FIXTURE_FILES:
        summary = summarize(path.read_bytes(), path.name, path.stem, False)
        assert json.dumps(dump_dataclass(summary)) == json.dumps(asdict(summary)), path
    odd = ModuleSummary("m.py", "m", False, functions=[FunctionInfo(
        "f", "f", 1, 0, [Decorator("app.task", True, {"queue": ("a", ["b"]), "n": 1.5}, False, 1, 0)], False, [])])
    assert dump_dataclass(odd) == asdict(odd)
    assert dump_dataclass(odd)["functions"][0]["decorators"][0]["kwargs"]["queue"] == ("a", ["b"])
    record = SliceRecord("k", ["send"], "f", [[1, 3]])
    assert dump_dataclass(record) == asdict(record)
