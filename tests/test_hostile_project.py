"""Hostile project files, names and signals (issue 24): a line of output, never a hang, a traceback or a
silent gap. Every run goes through the real CLI in a subprocess with a deadline."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from celery_lint import project_files
from celery_lint.project_files import MAX_PROJECT_FILE_SIZE
from helpers import REPO, children, cli, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n"
VIEWS = "from shop.tasks import ping\n\n\ndef view():\n    ping.delay()\n"
FINDING = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.ping' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True\n")


def shop(root, **more):
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": TASKS,
                        "shop/views.py": VIEWS, **more})


# ----- 3. a size under one byte ----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ['"0.0000001KB"', '"0.5"', '"0.9B"'])
def test_a_max_file_size_under_one_byte_is_a_config_error(tmp_path, size):
    """``max-file-size = "0.0000001KB"`` was taken as 0: every file skipped."""
    root = shop(tmp_path / "proj", **{"pyproject.toml": f"[tool.celery-lint]\nmax-file-size = {size}\n"})
    result = cli(root, "-q", "--no-cache", ".")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"celery-lint: error: {root / 'pyproject.toml'} [tool.celery-lint]: max-file-size must be "
                             f"at least 1 byte, got {size.replace(chr(34), chr(39))} (under 1 byte); give a size "
                             'such as "10MB"\n')


def test_a_max_file_size_of_one_byte_is_accepted(tmp_path):
    root = shop(tmp_path / "proj", **{"pyproject.toml": '[tool.celery-lint]\nmax-file-size = "0.001KB"\n'})
    result = cli(root, "-q", "--no-cache", ".")
    assert "shop/tasks.py: error: skipped: 68 bytes is over max-file-size (1 byte)\n" in result.stderr
    assert result.returncode == 1


# ----- 1. project files that are not small regular files ---------------------------------------------------------

NOT_REGULAR = "not a regular file (a FIFO, a device or a socket)"
TOO_LARGE = "over 1 MB, the limit for a project file"


def make_hostile(path: Path, kind: str) -> None:
    """``path`` as a FIFO, a link to /dev/zero, or a regular file one byte over the limit."""
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_text("#" * MAX_PROJECT_FILE_SIZE + "\n")


REASONS = {"fifo": NOT_REGULAR, "zero": NOT_REGULAR, "large": TOO_LARGE}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_a_hostile_gitignore_is_a_warning_and_the_run_goes_on_without_it(tmp_path, kind):
    """A .gitignore that is a FIFO hung the run; one linking to /dev/zero read until memory ran out."""
    root = shop(tmp_path / "proj", **{"shop/skipped.py": "from shop.tasks import ping\nping.delay().get()\n"})
    make_hostile(root / ".gitignore", kind)
    result = cli(root, "-q", "--no-cache", ".", timeout=60)
    assert result.stderr == f".gitignore: warning: {REASONS[kind]}; its patterns are not applied\n"
    assert result.stdout == "" and result.returncode == 0  # shop/skipped.py, not ignored, reads the result


def test_a_hostile_ignore_file_is_reported_whatever_the_paths_checked(tmp_path):
    root = shop(tmp_path / "proj", **{"shop/.gitignore": "", ".git/info/exclude": ""})
    make_hostile(root / "shop" / ".gitignore", "fifo")
    make_hostile(root / ".git" / "info" / "exclude", "zero")
    result = cli(root, "-q", "--no-cache", "shop/views.py", timeout=60)
    assert result.stderr == (f".git/info/exclude: warning: {NOT_REGULAR}; its patterns are not applied\n"
                             f"shop/.gitignore: warning: {NOT_REGULAR}; its patterns are not applied\n")
    assert result.stdout == "" and result.returncode == 0


@pytest.mark.parametrize("kind", sorted(REASONS))
@pytest.mark.parametrize("option", [False, True])
def test_a_hostile_config_file_is_a_config_error(tmp_path, kind, option):
    """As a malformed pyproject.toml (or --config FILE) is: the settings are unknown, so nothing is run."""
    root = shop(tmp_path / "proj")
    name = "lint.toml" if option else "pyproject.toml"
    make_hostile(root / name, kind)
    result = cli(root, "-q", "--no-cache", *(["--config", name] if option else []), ".", timeout=60)
    shown = name if option else root / name
    assert result.stderr == f"celery-lint: error: {shown}: {REASONS[kind]}\n"
    assert result.stdout == "" and result.returncode == 2


def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(tmp_path, monkeypatch):
    regular, fifo = tmp_path / "regular", tmp_path / "fifo"
    regular.write_text("x = 1\n")
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(project_files.os, "stat", lambda path: real_stat(regular))  # the check sees a file
    signal.alarm(10)  # a blocking open would hang the suite
    try:
        with pytest.raises(project_files.Unreadable, match="not a regular file"):
            project_files.read_project_file(fifo)
    finally:
        signal.alarm(0)


def test_a_file_grown_over_the_limit_after_the_check_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "pyproject.toml"
    path.write_text("#" * (MAX_PROJECT_FILE_SIZE + 10))
    monkeypatch.setattr(project_files, "_check", lambda info: None)  # as if it had been small when checked
    with pytest.raises(project_files.Unreadable, match="over 1 MB"):
        project_files.read_project_file(path)


# ----- 2. .gitignore patterns that backtrack ---------------------------------------------------------------------

BACKTRACKS = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"


def test_a_pattern_with_too_many_wildcards_is_reported_and_skipped(tmp_path):
    """That pattern against a 200-character file name ran past 120 s (pathspec's regexes backtrack)."""
    name = "a" * 200 + ".py"
    root = shop(tmp_path / "proj", **{f"shop/{name}": "from shop.tasks import ping\nping.delay().get()\n",
                                      ".gitignore": f"*.pyc\n{BACKTRACKS}\n**/a/**/a/**/b\nshop/views.py\n"})
    started = time.monotonic()
    result = cli(root, "-q", "--no-cache", ".", timeout=60)
    assert time.monotonic() - started < 20
    assert result.stderr == (
        f".gitignore: warning: line 2: pattern '{BACKTRACKS}' not applied: 15 wildcards (0 **): more than 3 "
        "wildcards or 2 ** can take minutes to match\n"
        ".gitignore: warning: line 3: pattern '**/a/**/a/**/b' not applied: 3 wildcards (3 **): more than 3 "
        "wildcards or 2 ** can take minutes to match\n")
    # the long name is analysed (it reads the result); shop/views.py stays ignored by line 4
    assert result.stdout == "" and result.returncode == 0


@pytest.mark.parametrize("pattern,ignored", [
    ("*.py[cod]", False), ("shop/v*.py", True), ("**/views.py", True), ("**/shop/**/v*.py", True),
    ("s*o*p/v*.py", True), (r"\*\*\*\*v*", False), ("shop/v*e*w*s.py", True),
])
def test_patterns_within_the_limit_are_applied(tmp_path, pattern, ignored):
    root = shop(tmp_path / "proj", **{".gitignore": pattern + "\n"})
    result = cli(root, "-q", "--no-cache", ".")
    assert result.stderr == ""
    assert result.stdout == ("" if ignored else FINDING)


# ----- 5. temporary files a killed --fix left behind -------------------------------------------------------------

READS = "from shop.tasks import ping\nping.delay().get()\n"


def test_a_fix_removes_stale_temporary_files_of_ours_and_nothing_else(tmp_path):
    """A --fix killed by SIGKILL between writing its temporary file and the rename left it (14 of 60 kills).
    The next writing run removes those over a minute old beside the files it writes; a fresh one may belong
    to a run writing right now, and a link or another name is not ours."""
    root = shop(tmp_path / "proj", **{"other/keep.py": ""})
    stale, fresh = root / "shop" / ".tasks.py.k2_x9abc.celery-lint", root / "shop" / ".views.py.a1b2c3d4.celery-lint"
    odd, link = root / "shop" / ".tasks.py.short.celery-lint", root / "shop" / ".tasks.py.zzzzzzzz.celery-lint"
    elsewhere = root / "other" / ".keep.py.abcdefgh.celery-lint"
    for path in (stale, fresh, odd, elsewhere):
        path.write_text(READS)  # were they analysed, ping would be read: no finding
    link.symlink_to(stale.name)
    old = time.time() - 120
    for path in (stale, odd, elsewhere):
        os.utime(path, (old, old))
    os.utime(link, (old, old), follow_symlinks=False)
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert (result.stdout, result.stderr, result.returncode) == ("", "", 0)
    assert "ignore_result=True" in (root / "shop" / "tasks.py").read_text()
    assert sorted(p.name for p in (root / "shop").iterdir() if p.name.startswith(".")) == [
        ".tasks.py.short.celery-lint", ".tasks.py.zzzzzzzz.celery-lint", ".views.py.a1b2c3d4.celery-lint"]
    assert elsewhere.exists()  # no file written there


def test_a_temporary_file_removed_under_a_fix_is_an_error_line(tmp_path, monkeypatch):
    """The rename failing (the temporary file removed by someone else meanwhile) was a traceback."""
    from celery_lint.fixing import writing

    path = tmp_path / "tasks.py"
    path.write_bytes(b"old\n")
    monkeypatch.setattr(writing.os, "replace", lambda src, dst: os.unlink(src) or os.rename(src, dst))
    with pytest.raises(writing.WriteRefused, match="cannot write: No such file or directory"):
        writing.write_fixed(path, tmp_path, b"old\n", b"new\n")
    assert path.read_bytes() == b"old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["tasks.py"]


# ----- 6. Ctrl-C ------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the workers")
def test_sigint_to_the_main_process_stops_the_run_at_once_with_status_130(tmp_path):
    """SIGINT to the main process alone waited a minute for the workers to finish the files they held, then
    printed click's ``Aborted!`` with status 1."""
    files = {f"shop/mod{i}.py": f"from shop.tasks import ping\n\n\ndef f{i}(x):\n" + "    ping.delay(x)\n" * 60
             for i in range(3000)}
    root = shop(tmp_path / "proj", **files)
    # (as from a terminal: a suite started in the background of a script inherits SIGINT ignored, and Python
    # keeps it ignored, so the run would go on to the end; measured in .ci/run started with ``( ... &)``)
    run = subprocess.Popen([sys.executable, "-m", "celery_lint", "--no-cache", "."], cwd=root,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)},
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    workers: set = set()
    deadline = time.monotonic() + 60
    while not workers and time.monotonic() < deadline and run.poll() is None:
        workers = children(run.pid)
        time.sleep(0.05)
    time.sleep(1)  # the workers busy with files
    assert run.poll() is None, "the run finished before it could be interrupted"
    os.kill(run.pid, signal.SIGINT)
    interrupted = time.monotonic()
    stdout, stderr = run.communicate(timeout=60)
    assert time.monotonic() - interrupted < 15
    assert (run.returncode, stdout, stderr) == (130, "", "celery-lint: interrupted\n")
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ----- 7. the global strategy's refusal, for a task that must keep storing -------------------------------------------

PLAIN_DECORATOR = "from celery import shared_task\n\n\ndef background_task(func):\n    return shared_task(func)\n"
BARE_DECORATOR = ("from celery import shared_task\n\n\ndef background_task(func, **options):\n"
                  "    def wrap(func):\n        return shared_task(**options)(func)\n    return wrap\n")
GLOBAL_TASKS = ("from shop.celery import app\nfrom shop.jobs import background_task\n\n\n@background_task\n"
                "def report():\n    return 1\n\n\n@app.task\ndef ping():\n    return None\n")
GLOBAL_VIEWS = ("from shop.tasks import ping, report\n\n\ndef view():\n    ping.delay()\n"
                "    return report.delay().get(timeout=5)\n")


@pytest.mark.parametrize("jobs,advice", [
    (PLAIN_DECORATOR, "background_task does not pass keyword arguments on to Celery: write "
                      "`report.ignore_result = False` after the task's definition"),
    (BARE_DECORATOR, "background_task cannot be called with keyword arguments alone, so add ignore_result=False "
                     "where it creates the task"),
])
def test_the_global_refusal_advises_what_keeps_the_task_storing(tmp_path, jobs, advice):
    """It advised "add ignore_result=True where it creates the task" for a task whose result is read (that
    would stop it storing), and to a decorator that drops keyword arguments (which breaks on them)."""
    root = write(tmp_path / "proj", {
        "pyproject.toml": '[tool.celery-lint]\ntask-decorators = ["shop.jobs.background_task"]\n',
        "shop/__init__.py": "", "shop/celery.py": APP, "shop/jobs.py": jobs, "shop/tasks.py": GLOBAL_TASKS,
        "shop/views.py": GLOBAL_VIEWS})
    result = cli(root, "-q", "--no-cache", "--strategy", "global", "--fix", ".")
    assert (root / "shop" / "tasks.py").read_text() == GLOBAL_TASKS
    assert result.stderr == (
        "celery-lint: --strategy global: not applied, nothing changed: these tasks must keep storing but "
        "ignore_result=False cannot be added to them, so the global flag would silently stop them: "
        f"shop.tasks.report (shop/tasks.py:5: {advice}); set it by hand first\n")
    assert result.returncode == 2
