"""``--fix`` never breaks code or loses data (issue 9, group A and the fix output of group D).

Each test states what happened before: a stale fix written over a user's edit, ``--diff`` writing files, a
keyword added to a decorator that takes none, links and owners lost, one file's error cancelling every fix.
"""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys

import pytest

from helpers import NOBODY, as_root, cli, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n"
FIXED_TASKS = TASKS.replace("@app.task\n", "@app.task(ignore_result=True)\n")
VIEWS = "from shop.tasks import ping\n\n\ndef view():\n    ping.delay()\n"


def shop(root, tasks: str = TASKS, **more):
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": tasks,
                        "shop/views.py": VIEWS, **more})


def test_a_file_edited_during_the_run_is_not_written(tmp_path, monkeypatch):
    """A function inserted above the task between analysis and write: the old fix, applied by position,
    wrote ``@functools.lru_cache(ignore_result=True)`` (exit 0), or lost the new function."""
    from click.testing import CliRunner

    from celery_lint import engine
    from celery_lint.frontends import cli as cli_module

    root = shop(tmp_path / "proj")
    tasks = root / "shop" / "tasks.py"
    edited = TASKS.replace("@app.task", "import functools\n\n\n@functools.lru_cache\ndef helper():\n    return 1\n\n\n@app.task")
    real = engine.analyse

    def analyse_then_user_edits(*args, **kwargs):
        reports = real(*args, **kwargs)
        tasks.write_text(edited)
        return reports

    monkeypatch.setattr(engine, "analyse", analyse_then_user_edits)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli_module.main, ["--no-cache", "--fix", "."])
    assert tasks.read_text() == edited
    assert "shop/tasks.py: error: changed since it was analysed; not fixed (run celery-lint again)" in result.output
    assert result.exit_code == 2


def test_fix_and_diff_together_write_nothing(tmp_path):
    root = shop(tmp_path / "proj")
    result = cli(root, "-q", "--no-cache", "--fix", "--diff", ".")
    assert (root / "shop" / "tasks.py").read_text() == TASKS
    assert "+@app.task(ignore_result=True)" in result.stdout
    assert result.returncode == 1


JOBS_PLAIN = "from celery import shared_task\n\n\ndef background_task(func):\n    return shared_task(func)\n"
JOBS_FORWARDING = ("from celery import shared_task\n\n\ndef background_task(*args, **kwargs):\n"
                   "    return shared_task(*args, **kwargs)\n")
JOBS_CALLED_ONLY = ("from celery import shared_task\n\n\ndef background_task(**options):\n"
                    "    def wrap(func):\n        return shared_task(**options)(func)\n    return wrap\n")
DECORATED = "from shop.jobs import background_task\n\n\n@background_task{call}\ndef ping():\n    return None\n"


def decorated_project(root, jobs: str, call: str = ""):
    return write(root, {
        "pyproject.toml": '[tool.celery-lint]\ntask-decorators = ["shop.jobs.background_task"]\n',
        "shop/__init__.py": "", "shop/celery.py": APP, "shop/jobs.py": jobs,
        "shop/tasks.py": DECORATED.format(call=call), "shop/views.py": VIEWS,
    })


def test_a_project_decorator_without_keywords_is_reported_but_not_fixed(tmp_path):
    """``def background_task(func): return shared_task(func)``: the fix wrote ``@background_task(ignore_result=True)``
    and the module no longer imported (TypeError)."""
    root = decorated_project(tmp_path / "proj", JOBS_PLAIN)
    before = (root / "shop" / "tasks.py").read_text()
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert (root / "shop" / "tasks.py").read_text() == before
    assert result.stdout == (
        "shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.ping' is stored but never read (enqueued at 1 place); "
        "fix by hand: background_task does not pass keyword arguments on to Celery, so add ignore_result=True "
        "where it creates the task\n")


@pytest.mark.parametrize("jobs,call,fixed", [
    (JOBS_FORWARDING, "", "@background_task(ignore_result=True)"),  # shared_task(*args, **kwargs): both forms
    (JOBS_CALLED_ONLY, "(queue='mail')", "@background_task(queue='mail', ignore_result=True)"),
])
def test_a_project_decorator_that_forwards_keywords_is_fixed(tmp_path, jobs, call, fixed):
    root = decorated_project(tmp_path / "proj", jobs, call)
    cli(root, "-q", "--no-cache", "--fix", ".")
    assert (root / "shop" / "tasks.py").read_text() == DECORATED.format(call=call).replace(f"@background_task{call}", fixed)


def test_a_bare_decorator_that_needs_its_function_is_not_fixed(tmp_path):
    """``def background_task(**options)`` returns a decorator: used bare it would need the call it lacks."""
    root = decorated_project(tmp_path / "proj", JOBS_CALLED_ONLY.replace("(**options)", "(func, **options)"))
    before = (root / "shop" / "tasks.py").read_text()
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert (root / "shop" / "tasks.py").read_text() == before
    assert "fix by hand" in result.stdout


def test_fix_writes_through_a_symlink_inside_the_project(tmp_path):
    """A symlinked tasks.py became a regular file and its target stayed unfixed."""
    root = shop(tmp_path / "proj")
    real = root / "shop" / "real_tasks.py"
    (root / "shop" / "tasks.py").rename(real)
    (root / "shop" / "tasks.py").symlink_to("real_tasks.py")
    cli(root, "-q", "--no-cache", "--fix", ".")
    assert (root / "shop" / "tasks.py").is_symlink()
    assert real.read_text() == FIXED_TASKS


def test_fix_never_writes_a_link_target_outside_the_project(tmp_path):
    outside = tmp_path / "elsewhere" / "tasks.py"
    outside.parent.mkdir()
    outside.write_text(TASKS)
    root = shop(tmp_path / "proj")
    (root / "shop" / "tasks.py").unlink()
    (root / "shop" / "tasks.py").symlink_to(outside)
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert outside.read_text() == TASKS
    assert f"shop/tasks.py: error: a link to {outside}, outside the project; not fixed" in result.stderr
    assert result.returncode == 2


@pytest.mark.skipif(not as_root(), reason="changing a file's owner needs root")
def test_fix_keeps_owner_group_and_mode(tmp_path):
    root = shop(tmp_path / "proj")
    tasks = root / "shop" / "tasks.py"
    os.chown(tasks, NOBODY, NOBODY)
    tasks.chmod(0o640)
    cli(root, "-q", "--no-cache", "--fix", ".")
    info = tasks.stat()
    assert (tasks.read_text(), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (FIXED_TASKS, NOBODY, NOBODY, 0o640)


def test_a_hard_linked_file_is_left_alone(tmp_path):
    root = shop(tmp_path / "proj")
    other = tmp_path / "backup_tasks.py"
    os.link(root / "shop" / "tasks.py", other)
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert (root / "shop" / "tasks.py").read_text() == TASKS == other.read_text()
    assert os.stat(other).st_nlink == 2
    assert "shop/tasks.py: error: has 2 hard links; not fixed (a fix would break them)" in result.stderr
    assert result.returncode == 2


def test_a_read_only_file_is_left_alone(tmp_path):
    root = shop(tmp_path / "proj")
    tasks = root / "shop" / "tasks.py"
    tasks.chmod(0o444)
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert tasks.read_text() == TASKS and stat.S_IMODE(tasks.stat().st_mode) == 0o444
    assert "shop/tasks.py: error: read-only; not fixed" in result.stderr
    assert result.returncode == 2


@pytest.mark.skipif(not as_root(), reason="needs root to give the directory to another user")
def test_a_read_only_package_directory_is_an_error_line_not_a_traceback(tmp_path):
    """As a non-root user, --fix in a package directory it may not write: a PermissionError traceback.
    (Here: nobody's directory, written by root bound by file modes.)"""
    root = shop(tmp_path / "proj")
    os.chown(root / "shop", NOBODY, NOBODY)
    (root / "shop").chmod(0o755)
    result = cli(root, "-q", "--no-cache", "--fix", ".", bound_by_permissions=True)
    assert "Traceback" not in result.stderr
    assert "shop/tasks.py: error: cannot write: " in result.stderr
    assert (root / "shop" / "tasks.py").read_text() == TASKS
    assert result.returncode == 2


GENERATOR_DECORATOR = "from shop.celery import app\n\n\n@app.task(n for n in ['shop.other'])\ndef other():\n    return None\n"


def test_one_file_that_cannot_be_fixed_does_not_cancel_the_others(tmp_path):
    """``fix not applied: ...`` then ``fixed 0, no findings``, rc 0, while another file's finding was neither
    fixed nor reported. (A generator argument must stay the only argument: adding one cannot compile.)"""
    root = shop(tmp_path / "proj", **{"shop/other.py": GENERATOR_DECORATOR,
                                      "shop/views.py": VIEWS + "\n\nfrom shop.other import other\nother.delay()\n"})
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert (root / "shop" / "tasks.py").read_text() == FIXED_TASKS
    assert (root / "shop" / "other.py").read_text() == GENERATOR_DECORATOR
    assert result.stderr.splitlines()[0].startswith("shop/other.py: error: fix not applied: the fixed file would not ")
    assert result.stdout.startswith("shop/other.py:4:1: CEL001 ")  # still reported: it was not fixed
    assert result.returncode == 2


# ----- what the fix writes (issue 9, D19) -----------------------------------------------------------------------

READER = "from shop.tasks import ping\n\n\ndef view():\n    return ping.delay().get(timeout=5)\n"


def fixed_source(tmp_path, tasks: str, views: str = VIEWS) -> str:
    root = shop(tmp_path / "proj", tasks=tasks, **{"shop/views.py": views})
    result = cli(root, "-q", "--no-cache", "--fix", ".")
    assert "Traceback" not in result.stderr
    return (root / "shop" / "tasks.py").read_text()


HEAD = "from shop.celery import app\n\n\n"
BODY = "def ping():\n    return None\n"


@pytest.mark.parametrize("decorator,expected", [
    # a comment on the removed argument's line stays
    ("@app.task(\n    bind=True,\n    ignore_result=True,  # nobody reads it\n)\n",
     "@app.task(\n    bind=True,\n    # nobody reads it\n)\n"),
    # the comment after the argument before the removed last one stays (with its comma: still valid)
    ("@app.task(bind=True,  # retried by the scheduler\n          ignore_result=True)\n",
     "@app.task(bind=True,  # retried by the scheduler\n          )\n"),
    # comments on both lines stay
    ("@app.task(bind=True,  # retried\n          ignore_result=True)  # fast\n",
     "@app.task(bind=True,  # retried\n          )  # fast\n"),
    # the removed argument first, with its comment
    ("@app.task(\n    ignore_result=True,  # nobody reads it\n    bind=True,\n)\n",
     "@app.task(\n    # nobody reads it\n    bind=True,\n)\n"),
    ("@app.task(ignore_result=True)\n", "@app.task\n"),
    ("@app.task(bind=True, ignore_result=True)\n", "@app.task(bind=True)\n"),
])
def test_removing_ignore_result_keeps_every_comment(tmp_path, decorator, expected):
    assert fixed_source(tmp_path, HEAD + decorator + BODY, READER) == HEAD + expected + BODY


@pytest.mark.parametrize("decorator,expected", [
    ("@app.task(\n)\n", "@app.task(\n    ignore_result=True,\n)\n"),  # it was at column 0
    ("@app.task(  # the worker's default queue\n)\n", "@app.task(  # the worker's default queue\n    ignore_result=True,\n)\n"),
    ("@app.task( )\n", "@app.task(ignore_result=True)\n"),  # it was ``( ignore_result=True)``
    ("@app.task()\n", "@app.task(ignore_result=True)\n"),
])
def test_adding_to_an_empty_call_keeps_its_layout(tmp_path, decorator, expected):
    assert fixed_source(tmp_path, HEAD + decorator + BODY) == HEAD + expected + BODY


@pytest.mark.parametrize("decorator,expected", [  # hunt12b: the comment lines before ``)`` were dropped
    ("@app.task(\n    bind=True,\n    # retried by the scheduler\n)\n",
     "@app.task(\n    bind=True,\n    # retried by the scheduler\n    ignore_result=True,\n)\n"),
    ("@app.task(\n    bind=True,\n    max_retries=3\n    # see ops/retries.md\n)\n",
     "@app.task(\n    bind=True,\n    max_retries=3,\n    # see ops/retries.md\n    ignore_result=True\n)\n"),
    ("@app.task(\n    bind=True  # the task itself\n    # and a note\n)\n",
     "@app.task(\n    bind=True,  # the task itself\n    # and a note\n    ignore_result=True\n)\n"),
])
def test_adding_after_the_last_argument_keeps_the_comment_lines_below_it(tmp_path, decorator, expected):
    assert fixed_source(tmp_path, HEAD + decorator + BODY) == HEAD + expected + BODY


def test_a_nested_decorator_is_fixed_in_the_indentation_of_its_block(tmp_path):
    tasks = HEAD + "class Jobs:\n    @staticmethod\n    @app.task(\n    )\n    def ping():\n        return None\n"
    views = "from shop.tasks import Jobs\n\n\ndef view():\n    Jobs.ping.delay()\n"
    root = shop(tmp_path / "proj", tasks=tasks, **{"shop/views.py": views})
    before = (root / "shop" / "tasks.py").read_text()
    cli(root, "-q", "--no-cache", "--fix", ".")
    after = (root / "shop" / "tasks.py").read_text()
    assert after in (before, before.replace("@app.task(\n    )", "@app.task(\n        ignore_result=True,\n    )"))
    compile(after, "tasks.py", "exec")


def test_diff_of_a_latin1_file_shows_its_characters(tmp_path):
    tasks = "# -*- coding: latin-1 -*-\n" + TASKS.replace("return None", "return 'café'")
    root = shop(tmp_path / "proj")
    (root / "shop" / "tasks.py").write_bytes(tasks.encode("latin-1"))
    result = cli(root, "-q", "--no-cache", "--diff", ".")
    assert " def ping():\n     return 'café'\n" in result.stdout and "\ufffd" not in result.stdout


def test_fixing_keeps_the_bytes_of_an_encoded_file(tmp_path):
    tasks = "# -*- coding: latin-1 -*-\n" + TASKS.replace("return None", "return 'café'")
    root = shop(tmp_path / "proj")
    (root / "shop" / "tasks.py").write_bytes(tasks.encode("latin-1"))
    cli(root, "-q", "--no-cache", "--fix", ".")
    expected = tasks.replace("@app.task\n", "@app.task(ignore_result=True)\n").encode("latin-1")
    assert (root / "shop" / "tasks.py").read_bytes() == expected


def test_fixed_files_are_hashed_as_written(tmp_path):
    """After a fix, a warm run agrees with a cold one (the cache must not keep the pre-fix summary)."""
    root = shop(tmp_path / "proj")
    cli(root, "-q", "--fix", ".")
    warm, cold = cli(root, "-q", "."), cli(root, "-q", "--no-cache", ".")
    assert (warm.stdout, warm.returncode) == (cold.stdout, cold.returncode) == ("", 0)
    digest = hashlib.sha1((root / "shop" / "tasks.py").read_bytes()).hexdigest()
    assert digest == hashlib.sha1(FIXED_TASKS.encode()).hexdigest()


def test_python_still_imports_every_fixed_module(tmp_path):
    """The end of the story: the fixed project imports (Celery's decorators accept what was added)."""
    root = shop(tmp_path / "proj")
    cli(root, "-q", "--no-cache", "--fix", ".")
    probe = "import shop.tasks, shop.views; print(shop.tasks.ping.ignore_result)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr
