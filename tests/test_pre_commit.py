"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit on a temporary git repository.

pre-commit installs this repository into its own environment (pip, from PyPI), once for the module:
``pre-commit try-repo`` would build a new environment on every call (it uses a throw-away store), so the
tests use what users write instead -- ``repo:``/``rev:`` in .pre-commit-config.yaml -- pointing at a commit
of this working tree (uncommitted files included) with one PRE_COMMIT_HOME shared by the tests.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")
if shutil.which("git") is None:
    pytest.skip("needs git", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
# Run inside a git hook, git's variables would point the commands below at the outer repository.
CLEAN_ENV = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}

TASKS = '''\
from app.celery_app import app


@app.task
def send_email(to):
    return to


@app.task
def compute(x):
    return x * 2
'''

VIEWS = '''\
from app.tasks import compute, send_email


def signup(user):
    send_email.delay(user).get(timeout=5)


def double(x):
    return compute.delay(x).get(timeout=5)
'''

CEL001_SEND_EMAIL = ("app/tasks.py:4:1: CEL001 result of task 'app.tasks.send_email' is stored but never read "
                     "(enqueued at 1 place); add ignore_result=True")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=CLEAN_ENV, check=True, capture_output=True, text=True).stdout


def init_repo(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "celery-lint tests")
    git(path, "config", "user.email", "tests@example.invalid")
    git(path, "config", "commit.gpgsign", "false")


def commit_all(path: Path) -> str:
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "snapshot")
    return git(path, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def hooks_rev(tmp_path_factory) -> tuple:
    """(repository, rev): this working tree, uncommitted and untracked (not ignored) files included."""
    snapshot = tmp_path_factory.mktemp("hooks-repo")
    for relative in git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0"):
        if relative and (ROOT / relative).is_file():
            (snapshot / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, snapshot / relative)
    init_repo(snapshot)
    return str(snapshot), commit_all(snapshot)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path, hooks_rev: tuple) -> Path:
    repo, rev = hooks_rev
    files = {
        ".pre-commit-config.yaml": f"repos:\n- repo: {repo}\n  rev: {rev}\n  hooks:\n"
                                   "  - id: celery-lint\n  - id: celery-lint-fix\n",
        "pyproject.toml": '[project]\nname = "fx"\n',
        "app/__init__.py": "",
        "app/celery_app.py": 'from celery import Celery\n\napp = Celery("fx", backend="redis://")\n',
        "app/tasks.py": TASKS,
        "app/views.py": VIEWS,
        "README.txt": "fixture\n",
    }
    init_repo(tmp_path)
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    commit_all(tmp_path)
    return tmp_path


def pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    # Unbuffered, so that the hook's stdout (findings) and stderr (summary) interleave in a fixed order.
    env = dict(CLEAN_ENV, PRE_COMMIT_HOME=str(home), PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--color", "never", *args], cwd=project,
                          env=env, capture_output=True, text=True, timeout=900)


def hook_output(result: subprocess.CompletedProcess) -> str:
    """What pre-commit printed, without the [INFO] lines of the first environment install."""
    return "".join(line for line in result.stdout.splitlines(keepends=True) if not line.startswith("[INFO]"))


@pytest.mark.slow  # pre-commit builds the hook's environment (celery-lint and its dependencies) first
def test_check_hook_reports_an_unchanged_task_made_unread_by_a_changed_file(project, pre_commit_home) -> None:
    (project / "README.txt").write_text("only a non-Python file changed\n")
    git(project, "add", "README.txt")
    result = pre_commit(project, pre_commit_home, "celery-lint")
    assert hook_output(result) == "celery-lint..........................................(no files to check)Skipped\n"
    assert result.returncode == 0

    # Only views.py changes (and is all pre-commit would pass); the finding is in the unchanged tasks.py.
    (project / "app/views.py").write_text(VIEWS.replace(".delay(user).get(timeout=5)", ".delay(user)"))
    git(project, "add", "app/views.py")
    result = pre_commit(project, pre_commit_home, "celery-lint")
    assert hook_output(result) == (
        "celery-lint..............................................................Failed\n"
        "- hook id: celery-lint\n"
        "- exit code: 1\n"
        "\n"
        f"{CEL001_SEND_EMAIL}\n"
        "Found 1 error.\n"
        "[*] 1 fixable with --fix.\n"
        "\n"
    )
    assert result.returncode == 1


@pytest.mark.slow
def test_fix_hook_rewrites_the_decorator_then_passes(project, pre_commit_home) -> None:
    (project / "app/views.py").write_text(VIEWS.replace(".delay(user).get(timeout=5)", ".delay(user)"))
    commit_all(project)
    result = pre_commit(project, pre_commit_home, "celery-lint-fix", "--all-files")
    assert hook_output(result) == (
        "celery-lint --fix........................................................Failed\n"
        "- hook id: celery-lint-fix\n"
        "- files were modified by this hook\n"
        "\n"
        "Found 1 error (1 fixed, 0 remaining).\n"
        "\n"
    )
    assert result.returncode == 1
    assert (project / "app/tasks.py").read_text() == TASKS.replace("@app.task\ndef send_email",
                                                                   "@app.task(ignore_result=True)\ndef send_email")
    assert git(project, "status", "--porcelain") == " M app/tasks.py\n"  # nothing else: the cache is ignored

    result = pre_commit(project, pre_commit_home, "celery-lint-fix", "--all-files")
    assert hook_output(result) == "celery-lint --fix........................................................Passed\n"
    assert result.returncode == 0


def test_the_readme_local_hook_works_as_written(tmp_path) -> None:
    """README's ``repo: local`` snippet, pasted into a project's .pre-commit-config.yaml, with celery-lint on PATH."""
    readme = (ROOT / "README.md").read_text()
    snippet = next(block for block in readme.split("```yaml\n")[1:] if "repo: local" in block).split("```")[0]
    init_repo(tmp_path)
    files = {".pre-commit-config.yaml": snippet, "pyproject.toml": '[project]\nname = "fx"\n', "app/__init__.py": "",
             "app/celery_app.py": 'from celery import Celery\n\napp = Celery("fx", backend="redis://")\n',
             "app/tasks.py": TASKS, "app/views.py": VIEWS.replace(".delay(user).get(timeout=5)", ".delay(user)")}
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    commit_all(tmp_path)
    env = {**CLEAN_ENV, "PRE_COMMIT_HOME": str(tmp_path / ".pre-commit-home"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert f"{CEL001_SEND_EMAIL}\n" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 1
