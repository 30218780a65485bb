"""Bad input is a line of output, never a hang, a crash or a silent gap (issue 9, groups A4, B, C and D).

Every run here goes through the real CLI (or flake8) in a subprocess with a deadline: a hang fails the test
instead of stalling the suite. The deadlines are generous (each run takes well under a second when linear).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import NOBODY, as_root, children, cli, flake8, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n"
VIEWS = "from shop.tasks import ping\n\n\ndef view():\n    ping.delay()\n"
READER = "from shop.tasks import ping\n\n\ndef view():\n    return ping.delay().get(timeout=5)\n"
FINDING = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.ping' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True\n")


def shop(root: Path, **more) -> Path:
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": TASKS,
                        "shop/views.py": VIEWS, **more})


# ----- A4: a file that cannot be read --------------------------------------------------------------------------

@pytest.mark.skipif(not as_root(), reason="needs root to give the file to another user")
def test_an_unreadable_file_is_an_error_and_its_reads_stay_possible(tmp_path):
    """Run as a non-root user, a mode-600 view doing ``.delay().get()`` was skipped silently and ``--fix``
    added ``ignore_result=True`` to the task it reads. (Here: nobody's file, read by root bound by file modes.)"""
    root = shop(tmp_path / "proj", **{"shop/reports.py": READER})
    os.chown(root / "shop" / "reports.py", NOBODY, NOBODY)
    (root / "shop" / "reports.py").chmod(0o600)
    result = cli(root, "-q", "--no-cache", "--fix", "--explain", ".", bound_by_permissions=True)
    assert (root / "shop" / "tasks.py").read_text() == TASKS
    assert "shop/reports.py: error: cannot read: Permission denied" in result.stderr
    assert "shop/tasks.py:4: shop.tasks.ping: maybe: shop/reports.py could not be read" in result.stdout
    assert result.returncode == 1


def test_a_file_over_the_size_limit_is_reported_and_every_task_stays_silent(tmp_path):
    root = shop(tmp_path / "proj", **{"pyproject.toml": '[tool.celery-lint]\nmax-file-size = "1KB"\n',
                                      "shop/data.py": "ROWS = [\n" + "    (1, 2),\n" * 200 + "]\n"})
    result = cli(root, "-q", "--no-cache", ".")
    assert result.stdout == ""
    assert "shop/data.py: error: skipped: 2.4 KB is over max-file-size (1 KB)" in result.stderr
    assert result.returncode == 1


# ----- B: hangs and memory ---------------------------------------------------------------------------------------

EXPONENTIAL = '"""\nfrom x import (' + "#" * 40 + '\n"""\nimport tasks\ntasks.ping\n'


def test_the_import_statement_pattern_is_linear(tmp_path):
    """This valid 5-line file hung the CLI and flake8: each extra ``#`` doubled the time."""
    root = shop(tmp_path / "proj", **{"shop/odd.py": EXPONENTIAL})
    assert cli(root, "-q", "--no-cache", ".", timeout=60).stdout == FINDING
    assert "shop/tasks.py:4:1: CEL001" in flake8(root, "shop/tasks.py", timeout=60).stdout


ADVERSARIAL_LINES = {
    "hashes in an open import": b"from x import (" + b"#" * 200_000 + b"\n",
    "comments in an open import": b"from x import (\n" + b"# a\n" * 50_000,
    "a long decorator line": b"@" + b"task." * 16_000 + b"\nx = 1\n",
    "decorators without a def": (b"@app.task(" + b"x" * 100 + b")\n") * 2_000 + b"x = 1\n",
    "a long assignment": b"job = " + b"a." * 200_000 + b"\n",
    "a long word": b"a" * 500_000 + b" = task\n",
    "backslashes": b"import a" + b"\\\n" * 100_000,
    "attribute dots": b"x" + b". " * 200_000 + b"\n",
    "open getattr": b"getattr(" * 50_000 + b"\n",
    "noqa codes": b"# noqa: " + b"CEL001 " * 50_000 + b"\n",
    "dots and continuations": b"app." + b"\\\n" * 100_000 + b"x\n",
}


def scan_adversarial_lines() -> None:
    """Run every pattern celery-lint uses on file content over every adversarial sample."""
    import re

    from celery_lint import discovery, sources
    from celery_lint.analysis import guard, statements, summary
    from celery_lint.speed import prefilter, slicing

    # every compiled pattern of the modules that read file content (found, not listed: a new one is covered too)
    patterns = [value for module in (prefilter, slicing, statements, summary, guard, discovery, sources)
                for value in vars(module).values() if isinstance(value, re.Pattern)]
    assert len(patterns) >= 14
    for text in ADVERSARIAL_LINES.values():
        for pattern in patterns:
            for _ in pattern.finditer(text if isinstance(pattern.pattern, bytes) else text.decode()):
                pass
        prefilter.reachable_words(text, frozenset(prefilter.WORD.findall(text)))
        prefilter.likely_task_names(text)
    print("ok")


def test_every_pattern_on_file_content_is_linear_on_adversarial_lines():
    """Each pattern celery-lint runs on file content, on lines built to make a backtracking pattern explode.
    Linear patterns take milliseconds on these; the deadline (60 s for all) only catches a blow-up."""
    script = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_hostile_input as t; t.scan_adversarial_lines()"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout == "ok\n", result.stderr


@pytest.mark.slow  # 20k statements on one line
def test_many_statements_on_one_line_take_linear_time(tmp_path):
    """20k statements on one line (758 KB) took 4 min 45 s; one per line, under a second."""
    line = "; ".join("ping.delay()" for _ in range(20_000))
    root = shop(tmp_path / "proj", **{"shop/many.py": f"from shop.tasks import ping\n{line}\n"})
    result = cli(root, "-q", "--no-cache", ".", timeout=90)
    assert "CEL001" in result.stdout and "enqueued at 20001 places" in result.stdout


def test_special_files_are_skipped(tmp_path):
    """A FIFO named ``pipe.py`` hung forever; a link to /dev/zero grew memory until MemoryError."""
    root = shop(tmp_path / "proj")
    os.mkfifo(root / "shop" / "pipe.py")
    (root / "shop" / "zero.py").symlink_to("/dev/zero")
    result = cli(root, "-q", "--no-cache", ".", timeout=60)
    assert result.stdout == FINDING
    assert "shop/pipe.py: warning: skipped: not a regular file" in result.stderr
    assert "shop/zero.py: warning: skipped: not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_huge_data_file_is_skipped_quickly(tmp_path):
    """A 50 MB data file took 43 s and 13.7 GB; a 50 MB file of tasks broke the process pool."""
    root = shop(tmp_path / "proj")
    with open(root / "shop" / "data.py", "w") as handle:
        handle.write("# celery fixtures\nROWS = [\n")
        row = "    {'id': 1, 'name': 'shared_task', 'tags': ['a', 'b']},\n"
        handle.write(row * (11_000_000 // len(row)))
        handle.write("]\n")
    result = cli(root, "-q", "--no-cache", ".", timeout=60)
    assert re.search(r"shop/data\.py: error: skipped: 11\.0 MB is over max-file-size \(10 MB\)", result.stderr)
    assert result.stdout == "" and result.returncode == 1


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the workers")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_worker_processes_die_with_the_run(tmp_path, how):
    """A run stopped by SIGTERM (a caller's timeout) or SIGKILL left its workers running under PID 1."""
    files = {f"shop/mod{i}.py": f"from shop.tasks import ping\n\n\ndef f{i}():\n" + "    ping.delay()\n" * 400
             for i in range(60)}
    root = shop(tmp_path / "proj", **files)
    run = subprocess.Popen([sys.executable, "-m", "celery_lint", "--no-cache", "."], cwd=root,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    workers: set = set()
    deadline = time.monotonic() + 30
    while not workers and time.monotonic() < deadline and run.poll() is None:
        workers = children(run.pid)
        time.sleep(0.01)
    if not workers:
        run.wait(timeout=60)
        pytest.skip("the run finished before its workers could be seen")
    os.kill(run.pid, how)
    run.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


# ----- C: tracebacks instead of a line ---------------------------------------------------------------------------

ELIF_CHAIN = ("from shop.tasks import ping\n\n\ndef route(kind):\n    if kind == 0:\n        ping.delay()\n"
              + "".join(f"    elif kind == {i}:\n        pass\n" for i in range(1, 483)))
ADJACENT_STRINGS = ("from shop.tasks import ping\n\n\ndef send():\n    ping.delay(\n"
                    + "".join(f"        'part{i} '\n" for i in range(800)) + "    )\n")


@pytest.mark.parametrize("name,source", [("elif", ELIF_CHAIN), ("strings", ADJACENT_STRINGS)])
def test_deep_but_valid_python_is_analysed(tmp_path, name, source):
    """A 483-branch ``elif`` chain (RecursionError in slicing) and adjacent string literals in a kept statement
    (471 were a RecursionError in LibCST's code generation) are valid Python: the task's use there is seen."""
    root = shop(tmp_path / "proj", **{"shop/views.py": source})
    result = cli(root, "-q", "--no-cache", ".")
    assert "Traceback" not in result.stderr
    assert result.stdout == FINDING


def test_a_lone_surrogate_in_a_task_name_is_printed_escaped(tmp_path):
    """``@app.task(name='\\ud800')``: UnicodeEncodeError on output, in the CLI and in flake8."""
    root = shop(tmp_path / "proj", **{"shop/tasks.py": TASKS.replace("@app.task", "@app.task(name='\\ud800')")})
    result = cli(root, "-q", "--no-cache", ".")
    assert result.stdout == FINDING.replace("'shop.tasks.ping'", "'\\ud800'")
    linted = flake8(root, "shop/tasks.py")
    assert "CEL001 result of task '\\ud800'" in linted.stdout and "Traceback" not in linted.stderr


# Python's own tokenizer refuses more than 200 nested brackets; LibCST's native parser crashed on them.
TOO_DEEP = {
    "nested brackets": "x = " + "(" * 1600 + ")" * 1600 + "\n",
    "deep lists": "x = " + "[" * 500 + "]" * 500 + "\n",
}
# Python parses these (its compiler then runs out of recursion); celery-lint reads them like any file.
DEEP_BUT_PARSED = {
    "long sum": "x = " + " + ".join(["1"] * 20_000) + "\nping.delay()\n",
    "attribute chain": "x = a" + ".b" * 5000 + "\nping.delay()\n",
}


@pytest.mark.parametrize("name", sorted(DEEP_BUT_PARSED))
def test_deep_expressions_python_parses_are_analysed(tmp_path, name):
    """A 20,000-term sum and a 5,000-deep attribute chain raised RecursionError."""
    root = shop(tmp_path / "proj", **{"shop/views.py": VIEWS + DEEP_BUT_PARSED[name]})
    result = cli(root, "-q", "--no-cache", ".")
    assert "Traceback" not in result.stderr
    assert result.stdout == FINDING.replace("enqueued at 1 place", "enqueued at 2 places")


@pytest.mark.parametrize("name", sorted(TOO_DEEP))
def test_a_file_the_parser_cannot_handle_is_one_error_line(tmp_path, name):
    """Over 1,500 nested brackets segfaulted LibCST in a worker (BrokenProcessPool; flake8 hung); 500-deep lists
    raised RecursionError. Many files force the process pool."""
    source = "from shop.tasks import ping\n" + TOO_DEEP[name]
    others = {f"shop/v{i}.py": "from shop.tasks import ping\n\n\ndef f():\n    ping.delay()\n" for i in range(20)}
    root = shop(tmp_path / "proj", **{"shop/hard.py": source, **others})
    result = cli(root, "-q", "--no-cache", "--explain", ".", timeout=90)
    assert "Traceback" not in result.stderr and "BrokenProcessPool" not in result.stderr
    errors = [line for line in result.stdout.splitlines() if " CEL000 " in line]
    assert len(errors) == 1 and re.match(r"shop/hard.py:\d+:\d+: CEL000 cannot parse: ", errors[0])
    assert "shop/tasks.py:4: shop.tasks.ping: maybe: shop/hard.py mentions it but does not parse" in result.stdout
    assert result.returncode == 1
    linted = flake8(root, "shop/tasks.py", timeout=90)
    assert linted.stdout == "" and "Traceback" not in linted.stderr


@pytest.mark.parametrize("pyproject,message", [
    ("tool = 1\n", "pyproject.toml: [tool] must be a table"),
    ("[tool]\ncelery-lint = 3\n", "pyproject.toml: [tool.celery-lint] must be a table"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "pyproject.toml: invalid TOML"),
    ("[tool.celery-lint]\nselect = 1\n", "pyproject.toml [tool.celery-lint]: select must be a list of strings"),
])
def test_bad_configuration_is_a_clean_error(tmp_path, pyproject, message):
    root = shop(tmp_path / "proj", **{"pyproject.toml": pyproject})
    result = cli(root, "-q", "--no-cache", ".")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr


def test_a_pyproject_that_is_a_directory_is_a_clean_error(tmp_path):
    root = shop(tmp_path / "proj", **{"pyproject.toml": ""})
    (root / "pyproject.toml").unlink()
    (root / "pyproject.toml").mkdir()
    result = cli(root, "-q", "--no-cache", ".")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pyproject.toml: cannot read: Is a directory" in result.stderr


# ----- D: wrong or lost output -----------------------------------------------------------------------------------

def test_a_parse_error_under_a_directory_with_a_colon_is_reported(tmp_path):
    """Errors were split at the first ``:`` to find their path: under ``a:b/`` they vanished (exit 0)."""
    root = shop(tmp_path / "proj", **{"odd:dir/broken.py": "from shop.tasks import ping\ndef f(:\n"})
    result = cli(root, "-q", "--no-cache", "odd:dir")
    assert "odd:dir/broken.py:2:7: CEL000 cannot parse: " in result.stdout
    assert result.returncode == 1


def test_a_task_decorator_split_by_a_backslash_is_found(tmp_path):
    """``@app.\\`` + newline + ``task`` in a module with no other Celery token was never found."""
    tasks = "from shop.worker import app\n\n\n@app.\\\ntask\ndef ping():\n    return None\n"
    root = shop(tmp_path / "proj", **{"shop/worker.py": APP, "shop/tasks.py": tasks})
    (root / "shop" / "celery.py").unlink()
    result = cli(root, "-q", "--no-cache", ".")
    assert result.stdout == FINDING


def test_a_nul_byte_error_says_where(tmp_path):
    root = shop(tmp_path / "proj", **{"shop/nul.py": "from shop.tasks import ping\nx = 1\x00\n"})
    result = cli(root, "-q", "--no-cache", ".")
    assert "shop/nul.py:2:6: CEL000 cannot parse: source code cannot contain null bytes" in result.stdout


def test_a_newline_in_a_file_name_does_not_split_the_output_line(tmp_path):
    root = shop(tmp_path / "proj", **{"shop/bad\nname.py": "from shop.tasks import ping\ndef f(:\n"})
    result = cli(root, "-q", "--no-cache", ".")
    assert "shop/bad\\nname.py:2:7: CEL000 cannot parse: " in result.stdout


def test_control_characters_in_task_names_are_escaped(tmp_path):
    """A repository must not be able to write terminal escape sequences through a task name."""
    root = shop(tmp_path / "proj", **{"shop/tasks.py": TASKS.replace("@app.task", "@app.task(name='x\\x1b[2Jy')")})
    result = cli(root, "-q", "--no-cache", ".")
    assert "\x1b" not in result.stdout and "'x\\x1b[2Jy'" in result.stdout
