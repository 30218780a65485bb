"""The flake8 plugin, through the real ``flake8``: its output must be ``celery-lint``'s, line for line."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

pytest.importorskip("flake8")

TASKS = '''\
from app.celery_app import app


@app.task
def send_email(to):
    return to


@app.task
def compute(x):
    return x * 2


@app.task(ignore_result=True)
def ping():
    return None


@app.task(ignore_result=True)
def build_report(day):
    return day
'''

VIEWS = '''\
from app.tasks import build_report, compute, ping, send_email


def signup(user):
    send_email.delay(user)


def double(x):
    return compute.delay(x).get(timeout=5)


def heartbeat():
    ping.delay()


def report(day):
    return build_report.delay(day).get(timeout=60)
'''

CEL001_SEND_EMAIL = ("app/tasks.py:4:1: CEL001 result of task 'app.tasks.send_email' is stored but never read "
                     "(enqueued at 1 place); add ignore_result=True")
CEL002_BUILD_REPORT = ("app/tasks.py:19:1: CEL002 task 'app.tasks.build_report' ignores its result (set by its "
                       "decorator) but it is read at app/views.py:17 (.get): .get() would return None or hang")
CEL002_COMPUTE = ("app/tasks.py:9:1: CEL002 task 'app.tasks.compute' ignores its result (set by its decorator) "
                  "but it is read at app/views.py:9 (.get): .get() would return None or hang")
EXPECTED = [CEL001_SEND_EMAIL, CEL002_BUILD_REPORT]


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "pyproject.toml", '[project]\nname = "fx"\n\n[tool.celery-lint]\nextend-exclude = ["legacy"]\n')
    write(tmp_path, "app/__init__.py", "")
    write(tmp_path, "app/celery_app.py", 'from celery import Celery\n\napp = Celery("fx", backend="redis://")\n')
    write(tmp_path, "app/tasks.py", TASKS)
    write(tmp_path, "app/views.py", VIEWS)
    # Enough files that a cold analysis parses them in a process pool (parallel.PARALLEL_THRESHOLD).
    for i in range(16):
        write(tmp_path, f"app/steps/step{i}.py", textwrap.dedent(f"""\
            from app.celery_app import app


            @app.task
            def step{i}(x):
                return x


            def run{i}(x):
                return step{i}.delay(x).get(timeout=5)
            """))
    write(tmp_path, "app/steps/__init__.py", "")
    # Excluded from celery-lint's project: its unread task is reported neither by celery-lint nor by flake8.
    write(tmp_path, "legacy/old.py", "from celery import shared_task\n\n\n@shared_task\ndef old():\n    pass\n\n\n"
                                     "def go():\n    old.delay()\n")
    return tmp_path


def run(root: Path, *args: str, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=root, input=stdin, capture_output=True, text=True, timeout=120)


def flake8(root: Path, *args: str, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return run(root, "-m", "flake8", "--select", "CEL", *args, stdin=stdin)


def lines(output: str) -> list:
    return output.splitlines()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8_reports_exactly_what_celery_lint_reports(project: Path, jobs: str) -> None:
    # flake8 first, on a cold cache: with -j 2 each worker process analyses the project itself.
    result = flake8(project, "-j", jobs, "app", "legacy")
    cli = run(project, "-m", "celery_lint", "-q", "app", "legacy")
    assert result.stderr == ""
    assert lines(result.stdout) == EXPECTED
    assert result.stdout == cli.stdout
    assert (result.returncode, cli.returncode) == (1, 1)


@pytest.mark.parametrize("old, new, expected", [
    # The buffer adds ignore_result=True to the unread task: its CEL001 goes, though the file on disk has it.
    ("@app.task\ndef send_email", "@app.task(ignore_result=True)\ndef send_email", [CEL002_BUILD_REPORT]),
    # The buffer ignores a result that views.py (on disk) reads: a new CEL002 for the buffer.
    ("@app.task\ndef compute", "@app.task(ignore_result=True)\ndef compute",
     [CEL001_SEND_EMAIL, CEL002_COMPUTE, CEL002_BUILD_REPORT]),
    # An unchanged buffer reads like the file.
    ("", "", EXPECTED),
])
def test_an_unsaved_buffer_replaces_the_file_on_disk(project: Path, old: str, new: str, expected: list) -> None:
    buffer = TASKS.replace(old, new)
    assert buffer != TASKS or not old
    result = flake8(project, "--stdin-display-name", "app/tasks.py", "-", stdin=buffer)
    assert result.stderr == ""
    assert lines(result.stdout) == expected
    assert (project / "app/tasks.py").read_text() == TASKS


def test_nothing_for_a_file_celery_lint_excludes_even_as_a_buffer(project: Path) -> None:
    buffer = (project / "legacy/old.py").read_text() + "\n\ndef again():\n    old.delay()\n"
    result = flake8(project, "--stdin-display-name", "legacy/old.py", "-", stdin=buffer)
    assert (result.stdout, result.stderr, result.returncode) == ("", "", 0)


def test_one_analysis_per_project_per_run_keyed_by_the_buffer(project: Path) -> None:
    from celery_lint.frontends.flake8_plugin import CeleryLintPlugin

    class Options:
        celery_lint_no_cache, celery_lint_cache_dir, celery_lint_task_decorators = True, None, []

    def codes(relative: str, text: str) -> list:
        plugin = CeleryLintPlugin(None, str(project / relative), text.splitlines(keepends=True))
        return [(line, col, message.split()[0]) for line, col, message, _ in plugin.run()]

    both, ignored = [(4, 0, "CEL001"), (19, 0, "CEL002")], [(19, 0, "CEL002")]
    CeleryLintPlugin.parse_options(Options)
    assert codes("app/tasks.py", TASKS) == both
    assert codes("app/tasks.py", TASKS.replace("@app.task\ndef send_email", "@app.task(ignore_result=True)\n"
                                               "def send_email")) == ignored
    assert codes("app/tasks.py", TASKS) == both  # the buffer's analysis did not replace the disk's
    # Within a run the project is not analysed again; the next run (flake8 calls parse_options) sees the change.
    (project / "app/views.py").write_text(VIEWS.replace("send_email.delay(user)", "send_email.delay(user).get()"))
    assert codes("app/tasks.py", TASKS) == both
    CeleryLintPlugin.parse_options(Options)
    assert codes("app/tasks.py", TASKS) == ignored


def test_a_file_that_does_not_parse(project: Path) -> None:
    write(project, "app/broken.py", "from app.tasks import compute\n\n\ndef broken(:\n    compute.delay(1)\n")
    for jobs in ("1", "2"):
        result = flake8(project, "-j", jobs, "--select", "CEL,E999", "app")
        assert result.stderr == ""
        assert lines(result.stdout) == ["app/broken.py:4:13: E999 SyntaxError: invalid syntax", *EXPECTED]
        assert result.returncode == 1
    cli = run(project, "-m", "celery_lint", "-q", "app")
    assert lines(cli.stdout) == ["app/broken.py:4:12: CEL000 cannot parse: invalid syntax", *EXPECTED]


def test_options_from_the_flake8_config(project: Path) -> None:
    write(project, "app/decorators.py", "from app.celery_app import app\n\n\ndef background(fn):\n"
                                        "    return app.task(fn)\n")
    write(project, "app/nightly.py", "from app.decorators import background\n\n\n@background\ndef cleanup():\n"
                                     "    pass\n\n\ndef schedule():\n    cleanup.delay()\n")
    # ``background(fn)`` takes no keyword arguments: ``@background(ignore_result=True)`` would not import
    cleanup = ("app/nightly.py:4:1: CEL001 result of task 'app.nightly.cleanup' is stored but never read "
               "(enqueued at 1 place); fix by hand: background does not pass keyword arguments on to Celery, "
               "so add ignore_result=True where it creates the task")
    assert lines(flake8(project, "--celery-lint-no-cache", "app").stdout) == EXPECTED
    assert not (project / ".celery_lint_cache").exists()

    write(project, ".flake8", "[flake8]\ncelery-lint-task-decorators = app.decorators.background, other.deco\n"
                              "celery-lint-cache-dir = build/cl-cache\n")
    result = flake8(project, "app")
    assert result.stderr == ""
    assert lines(result.stdout) == [cleanup, *EXPECTED]
    assert (project / "build/cl-cache").is_dir() and not (project / ".celery_lint_cache").exists()


def test_a_bad_celery_lint_config_stops_flake8_with_its_message(project: Path) -> None:
    write(project, "pyproject.toml", "[tool.celery-lint]\nselect = ['CEL999']\n")
    result = flake8(project, "app/tasks.py")
    assert result.stdout == ("There was a critical error during execution of Flake8:\n"
                             f"celery-lint: error: {project / 'pyproject.toml'} [tool.celery-lint]: select: unknown "
                             "rule code 'CEL999' (known: CEL001, CEL002, CEL003, CEL004, CEL000)\n")
    assert result.returncode == 1


@pytest.mark.parametrize("args", [("--select", "E501"), ("--select", "CEL,E", "--extend-ignore", "CEL"),
                                  ("--ignore", "CEL", "--select", "F")])
def test_nothing_at_all_when_no_cel_code_is_selected(project: Path, args) -> None:
    """Issue 22: flake8 runs every plugin whatever --select says; ours then neither analyses nor writes a cache."""
    result = run(project, "-m", "flake8", *args, "app/tasks.py")
    assert "CEL" not in result.stdout and result.stderr == ""
    assert not (project / ".celery_lint_cache").exists()


def test_the_default_selection_and_config_files_select_our_codes(project: Path) -> None:
    assert lines(run(project, "-m", "flake8", "app/tasks.py").stdout)[0].startswith("app/tasks.py:4:1: CEL001")
    write(project, "setup.cfg", "[flake8]\nextend-select = CEL001\nselect = E\n")
    assert lines(run(project, "-m", "flake8", "app/tasks.py").stdout) == [CEL001_SEND_EMAIL]
    write(project, "setup.cfg", "[flake8]\nextend-ignore = CEL\n")
    assert "CEL" not in run(project, "-m", "flake8", "app/tasks.py").stdout


def test_the_plugin_knows_every_code_without_importing_the_rules() -> None:
    from celery_lint.frontends.flake8_plugin import CODES
    from celery_lint.rules import KNOWN_CODES

    assert sorted(CODES) == sorted(KNOWN_CODES)
    imported = subprocess.run([sys.executable, "-c", "import sys, celery_lint.frontends.flake8_plugin; "
                               "print(sorted(m for m in sys.modules if m.startswith('celery_lint')))"],
                              capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "['celery_lint', 'celery_lint.frontends', 'celery_lint.frontends.flake8_plugin']"


def test_a_buffer_with_lines_typed_above_a_task_moves_its_findings(project: Path) -> None:
    """With the answer kept (issue 22's editor case: ``speed.buffer_answer``), the buffer's findings are the
    saved file's, lines moved, and exactly what flake8 says once the buffer is saved."""
    from test_answers import age

    flake8(project, "app")  # the cache and its directory
    age(project)
    flake8(project, "app")  # keeps the answer
    buffer = TASKS.replace("@app.task\ndef send_email", "# typed\n\n@app.task\ndef send_email")
    result = flake8(project, "--stdin-display-name", "app/tasks.py", "-", stdin=buffer)
    moved = [CEL001_SEND_EMAIL.replace("tasks.py:4:", "tasks.py:6:"),
             CEL002_BUILD_REPORT.replace("tasks.py:19:", "tasks.py:21:")]
    assert (result.stderr, lines(result.stdout)) == ("", moved)
    from celery_lint import config, engine

    kept = engine.analyse_root(project, config.load(project), overrides={project / "app/tasks.py": buffer.encode()},
                               findings_only=True)
    assert kept.stored  # the kept answer flake8's runs left, lines moved: no pipeline
    write(project, "app/tasks.py", buffer)
    assert lines(flake8(project, "app/tasks.py").stdout) == moved
